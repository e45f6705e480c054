/* Unit tests for store/token: API tokens, their scopes, revocation and the admin file. */
#include "store_testutil.h"

#include <dirent.h>
#include <errno.h>

#include "store/token.h"

/* Creates a token with scopes given as text; returns it (caller frees), id in `id`. */
static char *create(struct store_fixture *f, const char *name, const char *scopes,
                    char id[STORE_TOKEN_ID_LEN + 1])
{
	unsigned bits = 0;
	struct err err;
	char *token = NULL;
	char dummy[STORE_TOKEN_ID_LEN + 1];
	if (store_token_scopes_parse(scopes, &bits, &err) != 0)
		fail_msg("%s", err.msg);
	if (store_token_create(f->st, name, bits, &token, id ? id : dummy, &err) != 0)
		fail_msg("store_token_create: %s", err.msg);
	return token;
}

static int check(struct store_fixture *f, const char *token, unsigned required)
{
	struct err err;
	struct store_token_info info;
	int rc = store_token_check(f->st, token, required, &info, &err);
	if (rc < 0)
		fail_msg("store_token_check: %s", err.msg);
	return rc;
}

static char *admin_path(struct store_fixture *f)
{
	return fs_join(f->data, STORE_TOKEN_ADMIN_FILE);
}

/* A token is "ferry_" + 43 base64url characters, and its id 16 hex digits. */
static void test_created_token_has_the_documented_form(void **state)
{
	struct store_fixture *f = *state;
	char id[STORE_TOKEN_ID_LEN + 1];
	char *token = create(f, "ci-bot", "read", id);
	assert_int_equal(strlen(token), STORE_TOKEN_LEN);
	assert_memory_equal(token, "ferry_", 6);
	assert_int_equal(strspn(token + 6, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                                   "0123456789-_"),
	                 43);
	assert_int_equal(strlen(id), 16);
	assert_int_equal(strspn(id, "0123456789abcdef"), 16);
	char *other = create(f, "ci-bot-2", "read", NULL);
	assert_string_not_equal(token, other);
	store_token_free(token);
	store_token_free(other);
}

static void test_check_fills_who_the_token_is(void **state)
{
	struct store_fixture *f = *state;
	char id[STORE_TOKEN_ID_LEN + 1];
	char *token = create(f, "deployer", "start,approve", id);
	struct store_token_info info;
	struct err err;
	assert_int_equal(store_token_check(f->st, token, STORE_SCOPE_START, &info, &err),
	                 STORE_TOKEN_OK);
	assert_string_equal(info.id, id);
	assert_string_equal(info.name, "deployer");
	assert_int_equal(info.scopes, STORE_SCOPE_START | STORE_SCOPE_APPROVE);
	assert_true(info.created_ms > 0);
	assert_true(info.last_used_ms >= info.created_ms); /* a use is recorded */
	assert_int_equal(info.revoked_ms, 0);
	store_token_free(token);
}

/* A real token without the scope is FORBIDDEN (403), not UNKNOWN (401). */
static void test_missing_scope_is_forbidden(void **state)
{
	struct store_fixture *f = *state;
	char *token = create(f, "viewer", "read", NULL);
	assert_int_equal(check(f, token, STORE_SCOPE_READ), STORE_TOKEN_OK);
	assert_int_equal(check(f, token, STORE_SCOPE_START), STORE_TOKEN_FORBIDDEN);
	assert_int_equal(check(f, token, STORE_SCOPE_APPROVE), STORE_TOKEN_FORBIDDEN);
	assert_int_equal(check(f, token, STORE_SCOPE_ADMIN), STORE_TOKEN_FORBIDDEN);
	assert_int_equal(check(f, token, 0), STORE_TOKEN_OK);
	struct store_token_info info;
	struct err err;
	assert_int_equal(store_token_check(f->st, token, STORE_SCOPE_ADMIN, &info, &err),
	                 STORE_TOKEN_FORBIDDEN);
	assert_string_equal(info.name, "viewer"); /* so the 403 can say whose token */
	store_token_free(token);
}

/* admin implies every scope; start and approve imply read, and not each other. */
static void test_scope_implication(void **state)
{
	struct store_fixture *f = *state;
	char *admin = create(f, "root", "admin", NULL);
	char *start = create(f, "starter", "start", NULL);
	char *approve = create(f, "approver", "approve", NULL);
	assert_int_equal(check(f, admin, STORE_SCOPE_ALL), STORE_TOKEN_OK);
	assert_int_equal(check(f, start, STORE_SCOPE_READ), STORE_TOKEN_OK);
	assert_int_equal(check(f, start, STORE_SCOPE_START), STORE_TOKEN_OK);
	assert_int_equal(check(f, start, STORE_SCOPE_APPROVE), STORE_TOKEN_FORBIDDEN);
	assert_int_equal(check(f, approve, STORE_SCOPE_READ), STORE_TOKEN_OK);
	assert_int_equal(check(f, approve, STORE_SCOPE_APPROVE), STORE_TOKEN_OK);
	assert_int_equal(check(f, approve, STORE_SCOPE_START), STORE_TOKEN_FORBIDDEN);
	/* several required scopes: all are needed */
	assert_int_equal(check(f, start, STORE_SCOPE_START | STORE_SCOPE_APPROVE),
	                 STORE_TOKEN_FORBIDDEN);
	assert_int_equal(store_token_scopes_effective(STORE_SCOPE_ADMIN), STORE_SCOPE_ALL);
	assert_int_equal(store_token_scopes_effective(STORE_SCOPE_READ), STORE_SCOPE_READ);
	store_token_free(admin);
	store_token_free(start);
	store_token_free(approve);
}

static void test_scope_text(void **state)
{
	unsigned bits = 0;
	struct err err;
	assert_int_equal(store_token_scopes_parse("admin, read start", &bits, &err), 0);
	assert_int_equal(bits, STORE_SCOPE_ADMIN | STORE_SCOPE_READ | STORE_SCOPE_START);
	char text[STORE_TOKEN_SCOPES_TEXT];
	store_token_scopes_format(bits, text);
	assert_string_equal(text, "read,start,admin");
	store_token_scopes_format(STORE_SCOPE_ALL, text);
	assert_string_equal(text, "read,start,approve,admin");
	assert_int_equal(store_token_scopes_parse("read,write", &bits, &err), -1);
	assert_non_null(strstr(err.msg, "\"write\" is not one ferry knows"));
	assert_int_equal(store_token_scopes_parse(" , ", &bits, &err), -1);
	assert_non_null(strstr(err.msg, "no token scope given"));
	assert_int_equal(store_token_scopes_parse("Read", &bits, &err), -1);
}

static void test_unknown_tokens(void **state)
{
	struct store_fixture *f = *state;
	char *token = create(f, "real", "admin", NULL);
	char *forged = xstrdup(token);
	forged[STORE_TOKEN_LEN - 1] = forged[STORE_TOKEN_LEN - 1] == 'A' ? 'B' : 'A';
	assert_int_equal(check(f, forged, 0), STORE_TOKEN_UNKNOWN);
	forged[STORE_TOKEN_LEN - 1] = '\0'; /* a prefix of the real one */
	assert_int_equal(check(f, forged, 0), STORE_TOKEN_UNKNOWN);
	assert_int_equal(check(f, "", 0), STORE_TOKEN_UNKNOWN);
	assert_int_equal(check(f, NULL, 0), STORE_TOKEN_UNKNOWN);
	char *longer = xasprintf("%s%0300d", token, 0);
	assert_int_equal(check(f, longer, 0), STORE_TOKEN_UNKNOWN);
	store_token_free(longer);
	store_token_free(forged);
	store_token_free(token);
}

static void test_revoke_by_id_and_by_name(void **state)
{
	struct store_fixture *f = *state;
	char id[STORE_TOKEN_ID_LEN + 1];
	char *a = create(f, "alpha", "read", id);
	char *b = create(f, "beta", "start", NULL);
	struct store_token_info info;
	struct err err;
	assert_int_equal(store_token_revoke(f->st, id, &info, &err), 0);
	assert_string_equal(info.name, "alpha");
	assert_true(info.revoked_ms > 0);
	assert_int_equal(store_token_revoke(f->st, "beta", &info, &err), 0);
	assert_int_equal(check(f, a, STORE_SCOPE_READ), STORE_TOKEN_REVOKED);
	assert_int_equal(check(f, b, 0), STORE_TOKEN_REVOKED);
	/* twice, or a name nobody has: not found */
	assert_int_equal(store_token_revoke(f->st, id, NULL, &err), STORE_NOT_FOUND);
	assert_non_null(strstr(err.msg, "revoked already"));
	assert_int_equal(store_token_revoke(f->st, "beta", NULL, &err), STORE_NOT_FOUND);
	assert_int_equal(store_token_revoke(f->st, "gamma", NULL, &err), STORE_NOT_FOUND);
	assert_non_null(strstr(err.msg, "no live token with id or name \"gamma\""));
	store_token_free(a);
	store_token_free(b);
}

/* One live token per name; once revoked, the name is free again. */
static void test_names_are_unique_among_live_tokens(void **state)
{
	struct store_fixture *f = *state;
	char *first = create(f, "ci", "read", NULL);
	char *token = NULL;
	char id[STORE_TOKEN_ID_LEN + 1];
	struct err err;
	assert_int_equal(store_token_create(f->st, "ci", STORE_SCOPE_READ, &token, id, &err), -1);
	assert_null(token);
	assert_non_null(strstr(err.msg, "a live token named \"ci\" exists already"));
	assert_int_equal(store_token_revoke(f->st, "ci", NULL, &err), 0);
	char *second = create(f, "ci", "read", NULL);
	assert_int_equal(check(f, second, 0), STORE_TOKEN_OK);
	assert_int_equal(check(f, first, 0), STORE_TOKEN_REVOKED);
	store_token_free(first);
	store_token_free(second);
}

static void test_bad_names_and_scopes_are_refused(void **state)
{
	struct store_fixture *f = *state;
	char *token = NULL;
	char id[STORE_TOKEN_ID_LEN + 1];
	struct err err;
	assert_int_equal(store_token_create(f->st, "has space", STORE_SCOPE_READ, &token, id, &err),
	                 -1);
	assert_non_null(strstr(err.msg, "at position 4"));
	assert_int_equal(store_token_create(f->st, "", STORE_SCOPE_READ, &token, id, &err), -1);
	assert_int_equal(
	        store_token_create(f->st, "0123456789abcdef", STORE_SCOPE_READ, &token, id, &err),
	        -1);
	assert_non_null(strstr(err.msg, "looks like a token id"));
	char longname[STORE_TOKEN_NAME_MAX + 2];
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_int_equal(store_token_create(f->st, longname, STORE_SCOPE_READ, &token, id, &err),
	                 -1);
	assert_int_equal(store_token_create(f->st, "ok", 0, &token, id, &err), -1);
	assert_int_equal(store_token_create(f->st, "ok", 1u << 9, &token, id, &err), -1);
	assert_null(token);
}

static void test_list_shows_every_token_without_secrets(void **state)
{
	struct store_fixture *f = *state;
	char id_a[STORE_TOKEN_ID_LEN + 1], id_b[STORE_TOKEN_ID_LEN + 1];
	store_token_free(create(f, "a", "read", id_a));
	store_token_free(create(f, "b", "admin", id_b));
	struct err err;
	assert_int_equal(store_token_revoke(f->st, "a", NULL, &err), 0);
	struct store_token_info *items = NULL;
	size_t n = 0;
	assert_int_equal(store_token_list(f->st, &items, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(items[0].id, id_a);
	assert_string_equal(items[0].name, "a");
	assert_int_equal(items[0].scopes, STORE_SCOPE_READ);
	assert_true(items[0].revoked_ms > 0);
	assert_string_equal(items[1].id, id_b);
	assert_int_equal(items[1].scopes, STORE_SCOPE_ADMIN);
	assert_int_equal(items[1].revoked_ms, 0);
	assert_int_equal(items[1].last_used_ms, 0);
	free(items);
}

/* Every byte under the data directory except admin.token, appended. */
static void read_data_files(struct store_fixture *f, struct buf *all)
{
	DIR *d = opendir(f->data);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, STORE_TOKEN_ADMIN_FILE))
			continue;
		char *p = fs_join(f->data, e->d_name);
		char *data = NULL;
		size_t len = 0;
		struct err err;
		if (fs_read_file(p, 64 << 20, &data, &len, &err) != 0)
			fail_msg("%s", err.msg);
		assert_int_equal(buf_append(all, data, len), 0);
		free(data);
		free(p);
	}
	closedir(d);
}

/* The database (and its WAL) never hold a token, nor its random part, in any form
 * the token is presented in. */
static void test_database_never_contains_the_plaintext(void **state)
{
	struct store_fixture *f = *state;
	char *tokens[4];
	tokens[0] = create(f, "t0", "read", NULL);
	tokens[1] = create(f, "t1", "admin", NULL);
	char *admin = NULL;
	struct err err;
	assert_int_equal(store_token_ensure_admin_file(f->st, NULL, &admin, &err), 0);
	tokens[2] = admin;
	tokens[3] = create(f, "t3", "approve", NULL);
	for (int i = 0; i < 4; i++)
		assert_int_equal(check(f, tokens[i], STORE_SCOPE_READ), STORE_TOKEN_OK);
	assert_int_equal(store_token_revoke(f->st, "t0", NULL, &err), 0);

	for (int pass = 0; pass < 2; pass++) {
		/* pass 0: with the WAL as it is; pass 1: after close has checkpointed it */
		if (pass == 1) {
			store_close(f->st);
			assert_int_equal(store_open(f->data, &f->st, &err), 0);
		}
		struct buf all;
		buf_init(&all, 256 << 20);
		read_data_files(f, &all);
		assert_true(all.len > 0);
		for (int i = 0; i < 4; i++) {
			assert_null(memmem(all.data, all.len, tokens[i], strlen(tokens[i])));
			/* the random part alone, and its first 16 characters */
			assert_null(
			        memmem(all.data, all.len, tokens[i] + 6, strlen(tokens[i]) - 6));
			assert_null(memmem(all.data, all.len, tokens[i] + 6, 16));
		}
		buf_free(&all);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(check(f, tokens[i], 0),
		                 i == 0 ? STORE_TOKEN_REVOKED : STORE_TOKEN_OK);
		store_token_free(tokens[i]);
	}
}

static void test_tokens_survive_a_reopen(void **state)
{
	struct store_fixture *f = *state;
	char *token = create(f, "durable", "start", NULL);
	store_close(f->st);
	struct err err;
	assert_int_equal(store_open(f->data, &f->st, &err), 0);
	assert_int_equal(check(f, token, STORE_SCOPE_START), STORE_TOKEN_OK);
	store_token_free(token);
}

/* First start: the admin token file is made, private, holding a working admin token. */
static void test_admin_file_is_created_private(void **state)
{
	struct store_fixture *f = *state;
	char *token = NULL;
	struct err err;
	if (store_token_ensure_admin_file(f->st, f->data, &token, &err) != 0)
		fail_msg("%s", err.msg);
	assert_non_null(token);
	char *path = admin_path(f);
	struct stat sb;
	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0600);
	char *content = tu_read(f->data, STORE_TOKEN_ADMIN_FILE);
	char *want = xasprintf("%s\n", token);
	assert_string_equal(content, want);
	struct store_token_info info;
	assert_int_equal(store_token_check(f->st, token, STORE_SCOPE_ALL, &info, &err),
	                 STORE_TOKEN_OK);
	assert_string_equal(info.name, STORE_TOKEN_ADMIN_NAME);
	/* no temporary file is left beside it */
	DIR *d = opendir(f->data);
	struct dirent *e;
	while ((e = readdir(d)))
		assert_null(strstr(e->d_name, ".admin.token."));
	closedir(d);
	free(want);
	free(content);
	free(path);
	store_token_free(token);
}

/* Later starts leave the file, and the token in it, alone. */
static void test_admin_file_is_idempotent(void **state)
{
	struct store_fixture *f = *state;
	char *first = NULL, *again = NULL;
	struct err err;
	assert_int_equal(store_token_ensure_admin_file(f->st, NULL, &first, &err), 0);
	char *before = tu_read(f->data, STORE_TOKEN_ADMIN_FILE);
	assert_int_equal(store_token_ensure_admin_file(f->st, NULL, &again, &err), 1);
	assert_null(again);
	store_close(f->st);
	assert_int_equal(store_open(f->data, &f->st, &err), 0);
	assert_int_equal(store_token_ensure_admin_file(f->st, NULL, &again, &err), 1);
	assert_null(again);
	char *after = tu_read(f->data, STORE_TOKEN_ADMIN_FILE);
	assert_string_equal(before, after);
	assert_int_equal(check(f, first, STORE_SCOPE_ADMIN), STORE_TOKEN_OK);
	struct store_token_info *items = NULL;
	size_t n = 0;
	assert_int_equal(store_token_list(f->st, &items, &n, &err), 0);
	assert_int_equal(n, 1);
	free(items);
	free(before);
	free(after);
	store_token_free(first);
}

/* Deleting the file and starting again rotates the admin token. */
static void test_deleted_admin_file_is_replaced_and_old_token_revoked(void **state)
{
	struct store_fixture *f = *state;
	char *old = NULL, *fresh = NULL;
	struct err err;
	assert_int_equal(store_token_ensure_admin_file(f->st, NULL, &old, &err), 0);
	char *path = admin_path(f);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(store_token_ensure_admin_file(f->st, NULL, &fresh, &err), 0);
	assert_string_not_equal(old, fresh);
	assert_int_equal(check(f, old, 0), STORE_TOKEN_REVOKED);
	assert_int_equal(check(f, fresh, STORE_SCOPE_ADMIN), STORE_TOKEN_OK);
	free(path);
	store_token_free(old);
	store_token_free(fresh);
}

/* A file whose token the database never saw (a start killed between writing the file
 * and committing) is replaced; one whose token was revoked on purpose is kept. */
static void test_stale_admin_file_is_replaced_revoked_one_kept(void **state)
{
	struct store_fixture *f = *state;
	tu_write(f->data, STORE_TOKEN_ADMIN_FILE, "ferry_neverCommittedToTheDatabase\n");
	char *path = admin_path(f);
	assert_int_equal(chmod(path, 0600), 0);
	char *token = NULL, *again = NULL;
	struct err err;
	assert_int_equal(store_token_ensure_admin_file(f->st, NULL, &token, &err), 0);
	char *content = tu_read(f->data, STORE_TOKEN_ADMIN_FILE);
	assert_memory_equal(content, token, strlen(token));
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);

	assert_int_equal(store_token_revoke(f->st, STORE_TOKEN_ADMIN_NAME, NULL, &err), 0);
	assert_int_equal(store_token_ensure_admin_file(f->st, NULL, &again, &err), 1);
	assert_null(again);
	free(content);
	free(path);
	store_token_free(token);
}

static void test_admin_file_symlink_is_refused(void **state)
{
	struct store_fixture *f = *state;
	char *path = admin_path(f);
	char *target = fs_join(f->tmp, "elsewhere");
	assert_int_equal(symlink(target, path), 0);
	char *token = NULL;
	struct err err;
	assert_int_equal(store_token_ensure_admin_file(f->st, NULL, &token, &err), -1);
	assert_null(token);
	assert_non_null(strstr(err.msg, "symbolic link"));
	assert_int_equal(access(target, F_OK), -1); /* nothing written through it */
	free(target);
	free(path);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, tu_store_setup, tu_store_teardown)
	const struct CMUnitTest tests[] = {
	        T(test_created_token_has_the_documented_form),
	        T(test_check_fills_who_the_token_is),
	        T(test_missing_scope_is_forbidden),
	        T(test_scope_implication),
	        cmocka_unit_test(test_scope_text),
	        T(test_unknown_tokens),
	        T(test_revoke_by_id_and_by_name),
	        T(test_names_are_unique_among_live_tokens),
	        T(test_bad_names_and_scopes_are_refused),
	        T(test_list_shows_every_token_without_secrets),
	        T(test_database_never_contains_the_plaintext),
	        T(test_tokens_survive_a_reopen),
	        T(test_admin_file_is_created_private),
	        T(test_admin_file_is_idempotent),
	        T(test_deleted_admin_file_is_replaced_and_old_token_revoked),
	        T(test_stale_admin_file_is_replaced_revoked_one_kept),
	        T(test_admin_file_symlink_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
