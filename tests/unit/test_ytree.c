/* Unit tests for spec/ytree: the YAML/JSON tree that keeps source text and positions. */
#include "testutil.h"

#include "spec/ytree.h"

static struct ynode *parse_ok(const char *yaml)
{
	struct ynode *root = NULL;
	struct err err = {{0}};
	if (ytree_parse(yaml, strlen(yaml), "t.yml", &root, &err) != 0)
		fail_msg("unexpected error: %s", err.msg);
	return root;
}

/* Returns the error message (static storage) of a parse that must fail. */
static const char *parse_err(const char *yaml)
{
	static struct err err;
	struct ynode *root = NULL;
	memset(&err, 0, sizeof err);
	assert_int_equal(ytree_parse(yaml, strlen(yaml), "t.yml", &root, &err), -1);
	assert_null(root);
	return err.msg;
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

/* Scalars keep their text: no YAML 1.1 bool/float coercion (spec §1.2, checklist 6). */
static void test_scalars_keep_source_text(void **state)
{
	(void)state;
	struct ynode *r = parse_ok("a: NO\nb: 1.20\nc: 3.10\nd: yes\ne: 0x1F\nf: 'quoted'\n");
	assert_string_equal(ytree_get(r, "a")->text, "NO");
	assert_string_equal(ytree_get(r, "b")->text, "1.20");
	assert_string_equal(ytree_get(r, "c")->text, "3.10");
	assert_string_equal(ytree_get(r, "d")->text, "yes");
	assert_string_equal(ytree_get(r, "e")->text, "0x1F");
	assert_int_equal(ytree_get(r, "a")->quoted, 0);
	assert_int_equal(ytree_get(r, "f")->quoted, 1);
	ytree_free(r);
}

/* Empty plain values, `~` and `null` are NULL nodes; quoted "null" is a string. */
static void test_null_forms(void **state)
{
	(void)state;
	struct ynode *r = parse_ok("a:\nb: ~\nc: null\nd: 'null'\ne: \"\"\n");
	assert_int_equal(ytree_get(r, "a")->kind, YNODE_NULL);
	assert_int_equal(ytree_get(r, "b")->kind, YNODE_NULL);
	assert_int_equal(ytree_get(r, "c")->kind, YNODE_NULL);
	assert_int_equal(ytree_get(r, "d")->kind, YNODE_SCALAR);
	assert_int_equal(ytree_get(r, "e")->kind, YNODE_SCALAR);
	assert_string_equal(ytree_get(r, "e")->text, "");
	ytree_free(r);
}

/* Block scalars are marked quoted and keep their lines (spec §4.3). */
static void test_block_scalar_is_quoted(void **state)
{
	(void)state;
	struct ynode *r = parse_ok("cmd: |\n  set -e\n  make\n");
	const struct ynode *c = ytree_get(r, "cmd");
	assert_int_equal(c->quoted, 1);
	assert_string_equal(c->text, "set -e\nmake\n");
	ytree_free(r);
}

/* Every node carries a 1-based line and column. */
static void test_positions_are_one_based(void **state)
{
	(void)state;
	struct ynode *r = parse_ok("top:\n  - one\n  - two\n");
	assert_int_equal(r->line, 1);
	assert_int_equal(r->col, 1);
	const struct ynode *seq = ytree_get(r, "top");
	assert_int_equal(seq->kind, YNODE_SEQ);
	assert_int_equal(seq->n, 2);
	assert_int_equal(seq->items[1]->line, 3);
	assert_int_equal(seq->items[1]->col, 5);
	ytree_free(r);
}

/* Mappings keep the order keys were written in. */
static void test_mapping_keeps_order(void **state)
{
	(void)state;
	struct ynode *r = parse_ok("z: 1\na: 2\nm: 3\n");
	assert_int_equal(r->n, 6);
	assert_string_equal(r->items[0]->text, "z");
	assert_string_equal(r->items[2]->text, "a");
	assert_string_equal(r->items[4]->text, "m");
	ytree_free(r);
}

/* A tab in the indentation is libyaml's "cannot start any token", with line:col (checklist 4). */
static void test_tab_indentation_error(void **state)
{
	(void)state;
	const char *msg = parse_err("version: 0.2\nphases:\n\tbuild:\n");
	assert_contains(msg, "t.yml:3:1: ");
	assert_contains(msg, "found character that cannot start any token");
	assert_contains(msg, "tab");
}

/* Syntax errors name the file, line and column. */
static void test_flow_error_has_position(void **state)
{
	(void)state;
	const char *msg = parse_err("a: [1, 2\nb: 3\n");
	assert_true(strncmp(msg, "t.yml:", 6) == 0);
	assert_contains(msg, "did not find expected ',' or ']'");
}

/* A key written twice is an error at the second one. */
static void test_duplicate_key(void **state)
{
	(void)state;
	const char *msg = parse_err("a: 1\nb: 2\na: 3\n");
	assert_string_equal(msg, "t.yml:3:1: duplicate key \"a\" (first at line 1, column 1)");
}

/* Aliases are expanded as copies. */
static void test_alias_expanded(void **state)
{
	(void)state;
	struct ynode *r = parse_ok("x: &c [make, test]\ny: *c\n");
	const struct ynode *y = ytree_get(r, "y");
	assert_int_equal(y->kind, YNODE_SEQ);
	assert_int_equal(y->n, 2);
	assert_string_equal(y->items[1]->text, "test");
	assert_int_equal(y->line, 2);
	ytree_free(r);
}

/* The billion-laughs alias bomb is refused at YTREE_NODES_MAX, quickly. */
static void test_alias_bomb_refused(void **state)
{
	(void)state;
	const char *msg = parse_err("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	                            "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	                            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	                            "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	                            "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	                            "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	                            "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
	                            "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
	                            "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n");
	assert_contains(msg, "YTREE_NODES_MAX");
	assert_true(strncmp(msg, "t.yml:", 6) == 0);
}

/* An alias to an anchor not yet closed (a cycle) is refused, not followed. */
static void test_recursive_alias_refused(void **state)
{
	(void)state;
	assert_contains(parse_err("a: &a [1, *a]\n"), "unknown anchor \"a\"");
}

/* Nesting past YTREE_DEPTH_MAX is refused. */
static void test_depth_bounded(void **state)
{
	(void)state;
	char deep[2 * YTREE_DEPTH_MAX + 8];
	size_t n = 0;
	for (int i = 0; i <= YTREE_DEPTH_MAX; i++)
		deep[n++] = '[';
	for (int i = 0; i <= YTREE_DEPTH_MAX; i++)
		deep[n++] = ']';
	deep[n] = '\0';
	assert_contains(parse_err(deep), "YTREE_DEPTH_MAX");
}

/* A second document in the stream is an error. */
static void test_second_document_refused(void **state)
{
	(void)state;
	const char *msg = parse_err("a: 1\n---\nb: 2\n");
	assert_contains(msg, "t.yml:2:1: ");
	assert_contains(msg, "second YAML document");
}

/* An empty file gives a NULL root. */
static void test_empty_document_is_null(void **state)
{
	(void)state;
	struct ynode *r = parse_ok("# only a comment\n");
	assert_int_equal(r->kind, YNODE_NULL);
	ytree_free(r);
}

/* JSON is YAML: CDK emits JSON buildspecs (spec §1.2). */
static void test_json_document(void **state)
{
	(void)state;
	struct ynode *r = parse_ok("{\"version\": \"0.2\", \"n\": 1.50, \"l\": [\"a\", null]}");
	assert_string_equal(ytree_get(r, "version")->text, "0.2");
	assert_int_equal(ytree_get(r, "version")->quoted, 1);
	assert_string_equal(ytree_get(r, "n")->text, "1.50");
	assert_int_equal(ytree_get(r, "l")->items[1]->kind, YNODE_NULL);
	ytree_free(r);
}

/* `<<` merges keys from an anchored mapping; keys written in place win. */
static void test_merge_key(void **state)
{
	(void)state;
	struct ynode *r = parse_ok("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n");
	const struct ynode *u = ytree_get(r, "use");
	assert_int_equal(u->n, 4);
	assert_string_equal(ytree_get(u, "x")->text, "1");
	assert_string_equal(ytree_get(u, "y")->text, "3");
	assert_null(ytree_get(u, "<<"));
	ytree_free(r);
}

/* Merging an empty mapping leaves an empty mapping (found by fuzz_buildspec: the
 * empty merge used to hand qsort a NULL array, undefined behaviour). */
static void test_merge_of_empty_mapping(void **state)
{
	(void)state;
	struct ynode *r = parse_ok("use:\n  <<: {}\n");
	const struct ynode *u = ytree_get(r, "use");
	assert_int_equal(u->kind, YNODE_MAP);
	assert_int_equal(u->n, 0);
	ytree_free(r);
}

/* Invalid UTF-8 is a reader error with a position. */
static void test_invalid_utf8(void **state)
{
	(void)state;
	const char *msg = parse_err("a: 1\nb: \xff\n");
	assert_contains(msg, "t.yml:2:4: ");
}

/* A mapping used as a key is refused (keys are plain values). */
static void test_complex_key_refused(void **state)
{
	(void)state;
	assert_contains(parse_err("? [a, b]\n: c\n"), "a mapping key must be a plain value");
}

/* ytree_get() and ytree_kind_name() on odd inputs. */
static void test_get_and_kind_names(void **state)
{
	(void)state;
	struct ynode *r = parse_ok("- a\n");
	assert_null(ytree_get(r, "a"));
	assert_null(ytree_get(NULL, "a"));
	assert_string_equal(ytree_kind_name(r), "a list");
	assert_string_equal(ytree_kind_name(r->items[0]), "a string");
	ytree_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_scalars_keep_source_text),
	        cmocka_unit_test(test_null_forms),
	        cmocka_unit_test(test_block_scalar_is_quoted),
	        cmocka_unit_test(test_positions_are_one_based),
	        cmocka_unit_test(test_mapping_keeps_order),
	        cmocka_unit_test(test_tab_indentation_error),
	        cmocka_unit_test(test_flow_error_has_position),
	        cmocka_unit_test(test_duplicate_key),
	        cmocka_unit_test(test_alias_expanded),
	        cmocka_unit_test(test_alias_bomb_refused),
	        cmocka_unit_test(test_recursive_alias_refused),
	        cmocka_unit_test(test_depth_bounded),
	        cmocka_unit_test(test_second_document_refused),
	        cmocka_unit_test(test_empty_document_is_null),
	        cmocka_unit_test(test_json_document),
	        cmocka_unit_test(test_merge_key),
	        cmocka_unit_test(test_merge_of_empty_mapping),
	        cmocka_unit_test(test_invalid_utf8),
	        cmocka_unit_test(test_complex_key_refused),
	        cmocka_unit_test(test_get_and_kind_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
