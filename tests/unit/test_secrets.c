/*
 * Unit tests for ferry's secret store (store/secret.c), the buildspec reference
 * resolver (build/secrets.c) and `ferry secret` (cli/secret_cmd.c).
 */
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include "build/secrets.h"
#include "cli/cli.h"
#include "store/store.h"

struct fixture {
	char *tmp;
	char *data;
	struct store *st;
};

static struct store *open_ok(const char *dir)
{
	struct store *st = NULL;
	struct err err;
	if (store_open(dir, &st, &err) != 0)
		fail_msg("store_open: %s", err.msg);
	return st;
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	f->tmp = tu_mkdtemp();
	f->data = fs_join(f->tmp, "data");
	f->st = open_ok(f->data);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_close(f->st);
	free(f->data);
	tu_rmdir(f->tmp);
	free(f);
	return 0;
}

static void reopen(struct fixture *f)
{
	store_close(f->st);
	f->st = open_ok(f->data);
}

static void set_ok(struct store *st, const char *name, const char *value)
{
	struct err err;
	if (store_secret_set(st, name, value, strlen(value), &err) != 0)
		fail_msg("store_secret_set %s: %s", name, err.msg);
}

/* The stored value of `name` as a string (caller frees); fails the test when absent. */
static char *get_ok(struct store *st, const char *name)
{
	char *v = NULL;
	size_t len = 0;
	struct err err;
	if (store_secret_get(st, name, &v, &len, &err) != 0)
		fail_msg("store_secret_get %s: %s", name, err.msg);
	assert_int_equal(strlen(v), len);
	return v;
}

static char *key_path(const struct fixture *f)
{
	return fs_join(f->data, "secret.key");
}

/* 1 if the file at dir/rel (missing: 0) contains `needle`. */
static int file_contains(const char *dir, const char *rel, const char *needle)
{
	char *p = fs_join(dir, rel);
	char *data = NULL;
	size_t len = 0;
	struct err err;
	int found = 0;
	if (fs_read_file(p, 1 << 26, &data, &len, &err) == 0)
		found = memmem(data, len, needle, strlen(needle)) != NULL;
	free(data);
	free(p);
	return found;
}

static void db_exec(const struct fixture *f, const char *sql)
{
	char *path = fs_join(f->data, "ferry.db");
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	free(path);
}

/* ---- the store ---- */

static void test_secret_round_trip(void **state)
{
	struct fixture *f = *state;
	set_ok(f->st, "/CodeBuild/token", "ghp_abc123");
	char *v = get_ok(f->st, "/CodeBuild/token");
	assert_string_equal(v, "ghp_abc123");
	store_secret_value_free(v, strlen(v));
	reopen(f);
	v = get_ok(f->st, "/CodeBuild/token");
	assert_string_equal(v, "ghp_abc123");
	store_secret_value_free(v, strlen(v));
}

/* Values are bytes: a NUL inside survives, and the result is NUL-terminated. */
static void test_secret_binary_value(void **state)
{
	struct fixture *f = *state;
	struct err err;
	assert_int_equal(store_secret_set(f->st, "bin", "a\0b\n", 4, &err), 0);
	char *v = NULL;
	size_t len = 0;
	assert_int_equal(store_secret_get(f->st, "bin", &v, &len, &err), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(v, "a\0b\n", 5);
	store_secret_value_free(v, len);
}

static void test_secret_set_replaces(void **state)
{
	struct fixture *f = *state;
	set_ok(f->st, "prod/db", "old");
	set_ok(f->st, "prod/db", "new-value");
	char *v = get_ok(f->st, "prod/db");
	assert_string_equal(v, "new-value");
	store_secret_value_free(v, strlen(v));
	struct store_secret_info *items;
	size_t n;
	struct err err;
	assert_int_equal(store_secret_list(f->st, &items, &n, &err), 0);
	assert_int_equal(n, 1);
	store_secret_list_free(items, n);
}

/* Encrypted at rest: neither the database nor its WAL holds the plaintext. */
static void test_database_never_holds_plaintext(void **state)
{
	struct fixture *f = *state;
	const char *plain = "PLAINTEXT-MARKER-7f3a9c1e-do-not-store";
	set_ok(f->st, "marker", plain);
	set_ok(f->st, "marker", plain); /* a replaced row must not leave it either */
	assert_false(file_contains(f->data, "ferry.db", plain));
	assert_false(file_contains(f->data, "ferry.db-wal", plain));
	store_close(f->st); /* checkpoints the WAL into the main file */
	f->st = NULL;
	assert_false(file_contains(f->data, "ferry.db", plain));
	assert_false(file_contains(f->data, "ferry.db-wal", plain));
	/* the marker is findable when present: the scan itself works */
	assert_true(file_contains(f->data, "ferry.db", "marker"));
	f->st = open_ok(f->data);
}

/* The key is made on first use: 32 bytes, mode 0600, in the data directory. */
static void test_key_file_created_private_on_first_use(void **state)
{
	struct fixture *f = *state;
	char *kp = key_path(f);
	assert_false(fs_exists(kp));
	set_ok(f->st, "a", "1");
	struct stat sb;
	assert_int_equal(lstat(kp, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(sb.st_size, 32);
	/* the same key is used from then on: another handle reads what this one wrote */
	struct store *other = open_ok(f->data);
	char *v = get_ok(other, "a");
	assert_string_equal(v, "1");
	store_secret_value_free(v, 1);
	store_close(other);
	free(kp);
}

/* Processes racing to make the key end up sharing one: every value decrypts. */
static void test_racing_first_use_shares_one_key(void **state)
{
	struct fixture *f = *state;
	enum { N = 6 };
	pid_t kids[N];
	int gate[2]; /* children wait for EOF on it, then all set at once */
	assert_int_equal(pipe(gate), 0);
	for (int i = 0; i < N; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (kids[i] == 0) {
			struct store *st = NULL;
			struct err err;
			char name[16], c;
			snprintf(name, sizeof name, "racer%d", i);
			close(gate[1]);
			int ok = store_open(f->data, &st, &err) == 0;
			while (read(gate[0], &c, 1) > 0)
				;
			ok = ok && store_secret_set(st, name, name, strlen(name), &err) == 0;
			if (!ok)
				fprintf(stderr, "racer %d: %s\n", i, err.msg);
			store_close(st);
			_exit(ok ? 0 : 1);
		}
	}
	close(gate[0]);
	usleep(200 * 1000); /* let every child reach the gate */
	close(gate[1]);
	for (int i = 0; i < N; i++) {
		int status = 0;
		assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	DIR *d = opendir(f->data);
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d));)
		if (strstr(e->d_name, ".secret.key."))
			fail_msg("temporary key file left behind: %s", e->d_name);
	closedir(d);
	reopen(f);
	for (int i = 0; i < N; i++) {
		char name[16];
		snprintf(name, sizeof name, "racer%d", i);
		char *v = get_ok(f->st, name);
		assert_string_equal(v, name);
		store_secret_value_free(v, strlen(v));
	}
}

/* A key file others can read is refused with a message that says what to do. */
static void test_world_readable_key_is_refused(void **state)
{
	struct fixture *f = *state;
	set_ok(f->st, "a", "1");
	char *kp = key_path(f);
	assert_int_equal(chmod(kp, 0644), 0);
	reopen(f);
	char *v = NULL;
	size_t len = 0;
	struct err err;
	assert_int_equal(store_secret_get(f->st, "a", &v, &len, &err), -1);
	assert_null(v);
	assert_non_null(strstr(err.msg, kp));
	assert_non_null(strstr(err.msg, "0644"));
	assert_non_null(strstr(err.msg, "chmod 600"));
	assert_int_equal(store_secret_set(f->st, "b", "2", 1, &err), -1);
	assert_non_null(strstr(err.msg, "0644"));
	free(kp);
}

static void test_group_readable_key_is_refused(void **state)
{
	struct fixture *f = *state;
	set_ok(f->st, "a", "1");
	char *kp = key_path(f);
	assert_int_equal(chmod(kp, 0640), 0);
	reopen(f);
	struct err err;
	assert_int_equal(store_secret_set(f->st, "b", "2", 1, &err), -1);
	assert_non_null(strstr(err.msg, "0640"));
	free(kp);
}

/* A symbolic link in place of the key file is not followed. */
static void test_symlinked_key_is_refused(void **state)
{
	struct fixture *f = *state;
	tu_write(f->tmp, "elsewhere.key", "0123456789abcdef0123456789abcdef");
	char *target = fs_join(f->tmp, "elsewhere.key");
	assert_int_equal(chmod(target, 0600), 0);
	char *kp = key_path(f);
	assert_int_equal(symlink(target, kp), 0);
	struct err err;
	assert_int_equal(store_secret_set(f->st, "a", "1", 1, &err), -1);
	assert_non_null(strstr(err.msg, "symbolic link"));
	free(kp);
	free(target);
}

/* Losing the key is said plainly rather than reported as "not found". */
static void test_missing_key_with_secrets_is_an_error(void **state)
{
	struct fixture *f = *state;
	set_ok(f->st, "a", "1");
	char *kp = key_path(f);
	assert_int_equal(unlink(kp), 0);
	reopen(f);
	char *v = NULL;
	size_t len = 0;
	struct err err;
	assert_int_equal(store_secret_get(f->st, "a", &v, &len, &err), -1);
	assert_non_null(strstr(err.msg, "missing"));
	assert_false(fs_exists(kp)); /* a read never makes a new key */
	free(kp);
}

/* A sealed value moved to another name's row does not open under that name. */
static void test_box_moved_to_another_name_does_not_open(void **state)
{
	struct fixture *f = *state;
	set_ok(f->st, "prod/db", "the-prod-password");
	set_ok(f->st, "public", "nothing-much");
	db_exec(f, "UPDATE secrets SET"
	           " nonce = (SELECT nonce FROM secrets WHERE name = 'prod/db'),"
	           " box = (SELECT box FROM secrets WHERE name = 'prod/db')"
	           " WHERE name = 'public'");
	char *v = NULL;
	size_t len = 0;
	struct err err;
	assert_int_equal(store_secret_get(f->st, "public", &v, &len, &err), -1);
	assert_null(v);
	assert_non_null(strstr(err.msg, "cannot be decrypted"));
	assert_null(strstr(err.msg, "the-prod-password"));
}

static void test_list_and_delete(void **state)
{
	struct fixture *f = *state;
	set_ok(f->st, "zeta", "1");
	set_ok(f->st, "/CodeBuild/alpha", "2");
	set_ok(f->st, "prod/db", "3");
	struct store_secret_info *items;
	size_t n;
	struct err err;
	assert_int_equal(store_secret_list(f->st, &items, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(items[0].name, "/CodeBuild/alpha");
	assert_string_equal(items[1].name, "prod/db");
	assert_string_equal(items[2].name, "zeta");
	assert_true(items[0].updated_ms > 1600000000000LL); /* epoch milliseconds */
	store_secret_list_free(items, n);

	assert_int_equal(store_secret_delete(f->st, "prod/db", &err), 0);
	assert_int_equal(store_secret_delete(f->st, "prod/db", &err), STORE_NOT_FOUND);
	char *v = NULL;
	size_t len = 0;
	assert_int_equal(store_secret_get(f->st, "prod/db", &v, &len, &err), STORE_NOT_FOUND);
	assert_int_equal(store_secret_list(f->st, &items, &n, &err), 0);
	assert_int_equal(n, 2);
	store_secret_list_free(items, n);
}

/* Parameter Store names, Secrets Manager ids and ARNs share one namespace. */
static void test_names_from_both_aws_services_are_accepted(void **state)
{
	struct fixture *f = *state;
	set_ok(f->st, "/CodeBuild/token", "1");
	set_ok(f->st, "prod/db", "2");
	set_ok(f->st, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf", "3");
	set_ok(f->st, "my_param.v2+x=y@z-1", "4");
}

static void test_bad_names_are_refused(void **state)
{
	struct fixture *f = *state;
	struct err err;
	char long_name[SECRET_NAME_MAX + 2];
	memset(long_name, 'n', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	assert_int_equal(store_secret_set(f->st, "", "v", 1, &err), -1);
	assert_non_null(strstr(err.msg, "empty"));
	assert_int_equal(store_secret_set(f->st, "two words", "v", 1, &err), -1);
	assert_non_null(strstr(err.msg, "space at position 4"));
	assert_int_equal(store_secret_set(f->st, "tab\there", "v", 1, &err), -1);
	assert_non_null(strstr(err.msg, "0x09"));
	assert_int_equal(store_secret_set(f->st, "caf\xc3\xa9", "v", 1, &err), -1);
	assert_int_equal(store_secret_set(f->st, long_name, "v", 1, &err), -1);
	assert_non_null(strstr(err.msg, "longer than"));
	long_name[SECRET_NAME_MAX] = '\0'; /* exactly the maximum is fine */
	set_ok(f->st, long_name, "v");
}

static void test_value_sizes(void **state)
{
	struct fixture *f = *state;
	struct err err;
	assert_int_equal(store_secret_set(f->st, "a", "", 0, &err), -1);
	assert_non_null(strstr(err.msg, "empty"));
	char *big = xmalloc(SECRET_VALUE_MAX + 1);
	memset(big, 'x', SECRET_VALUE_MAX + 1);
	assert_int_equal(store_secret_set(f->st, "a", big, SECRET_VALUE_MAX + 1, &err), -1);
	assert_non_null(strstr(err.msg, "limit"));
	assert_int_equal(store_secret_set(f->st, "a", big, SECRET_VALUE_MAX, &err), 0);
	char *v = NULL;
	size_t len = 0;
	assert_int_equal(store_secret_get(f->st, "a", &v, &len, &err), 0);
	assert_int_equal(len, SECRET_VALUE_MAX);
	assert_memory_equal(v, big, SECRET_VALUE_MAX);
	store_secret_value_free(v, len);
	free(big);
}

/* ---- resolving buildspec references ---- */

/* The resolved value, or NULL with the error in `err` (caller frees). */
static char *resolve(struct fixture *f, const char *kind, const char *ref, struct err *err)
{
	char *v = NULL;
	size_t len = 0;
	if (build_secret_resolve(f->st, kind, ref, &v, &len, err) != 0) {
		assert_null(v);
		return NULL;
	}
	assert_non_null(v);
	assert_int_equal(strlen(v), len);
	char *copy = xstrdup(v);
	store_secret_value_free(v, len);
	return copy;
}

static void expect_resolved(struct fixture *f, const char *kind, const char *ref, const char *want)
{
	struct err err;
	char *v = resolve(f, kind, ref, &err);
	if (!v)
		fail_msg("%s %s: %s", kind, ref, err.msg);
	assert_string_equal(v, want);
	free(v);
}

static void expect_refused(struct fixture *f, const char *kind, const char *ref, const char *part)
{
	struct err err;
	char *v = resolve(f, kind, ref, &err);
	if (v)
		fail_msg("%s %s: resolved to a value, expected an error with \"%s\"", kind, ref,
		         part);
	if (!strstr(err.msg, part))
		fail_msg("%s %s: error \"%s\" lacks \"%s\"", kind, ref, err.msg, part);
}

static const char db_json[] = "{\"username\":\"admin\",\"password\":\"s3cr3t-pw\",\"port\":5432,"
                              "\"opts\":{\"ssl\":true},\"empty\":\"\"}";

static void test_parameter_store_by_name(void **state)
{
	struct fixture *f = *state;
	set_ok(f->st, "/CodeBuild/token", "tok-123");
	expect_resolved(f, "parameter-store", "/CodeBuild/token", "tok-123");
}

static void test_parameter_store_missing_says_how_to_set_it(void **state)
{
	struct fixture *f = *state;
	struct err err;
	assert_null(resolve(f, "parameter-store", "/x", &err));
	assert_string_equal(err.msg, "parameter-store: parameter \"/x\" does not exist (set it "
	                             "with: ferry secret set /x)");
}

static void test_secrets_manager_whole_value(void **state)
{
	struct fixture *f = *state;
	set_ok(f->st, "prod/db", db_json);
	expect_resolved(f, "secrets-manager", "prod/db", db_json);
}

/* With a json-key: strings come out bare, anything else as compact JSON. */
static void test_secrets_manager_json_key(void **state)
{
	struct fixture *f = *state;
	set_ok(f->st, "prod/db", db_json);
	expect_resolved(f, "secrets-manager", "prod/db:password", "s3cr3t-pw");
	expect_resolved(f, "secrets-manager", "prod/db:port", "5432");
	expect_resolved(f, "secrets-manager", "prod/db:opts", "{\"ssl\":true}");
	expect_refused(f, "secrets-manager", "prod/db:nope", "has no JSON key \"nope\"");
}

/* An empty string under the key resolves to an empty value, as in AWS. */
static void test_secrets_manager_empty_string_key(void **state)
{
	struct fixture *f = *state;
	set_ok(f->st, "prod/db", db_json);
	expect_resolved(f, "secrets-manager", "prod/db:empty", "");
}

/* A value that is not JSON gets an error that does not quote the value. */
static void test_secrets_manager_json_key_on_plain_value(void **state)
{
	struct fixture *f = *state;
	set_ok(f->st, "plain", "not-json-hunter2");
	struct err err;
	assert_null(resolve(f, "secrets-manager", "plain:password", &err));
	assert_non_null(strstr(err.msg, "is not a JSON object"));
	assert_null(strstr(err.msg, "hunter2"));
}

/* Only the current version exists in ferry (AWSCURRENT is what a bare id means). */
static void test_secrets_manager_versions(void **state)
{
	struct fixture *f = *state;
	set_ok(f->st, "prod/db", db_json);
	expect_resolved(f, "secrets-manager", "prod/db:password:AWSCURRENT", "s3cr3t-pw");
	expect_resolved(f, "secrets-manager", "prod/db::AWSCURRENT", db_json);
	expect_refused(f, "secrets-manager", "prod/db:password:AWSPREVIOUS",
	               "ferry keeps only the current version of a secret");
	expect_refused(f, "secrets-manager", "prod/db:password::0f1e2d3c-aaaa",
	               "ferry keeps only the current version of a secret");
	expect_refused(f, "secrets-manager", "prod/db:password:AWSCURRENT:v1:extra",
	               "too many ':'-separated fields");
}

#define ARN "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf"

/* An ARN's seven fields are the id; what follows is json-key, stage, version. */
static void test_secrets_manager_arn_fields(void **state)
{
	struct fixture *f = *state;
	set_ok(f->st, ARN, db_json);
	expect_resolved(f, "secrets-manager", ARN, db_json);
	expect_resolved(f, "secrets-manager", ARN ":username", "admin");
	expect_resolved(f, "secrets-manager", ARN ":username:AWSCURRENT", "admin");
	expect_refused(f, "secrets-manager", ARN ":username:AWSPENDING",
	               "ferry keeps only the current version of a secret");
}

/* An ARN finds a secret stored under its plain name (with or without AWS's suffix). */
static void test_secrets_manager_arn_falls_back_to_name(void **state)
{
	struct fixture *f = *state;
	set_ok(f->st, "prod/db", db_json);
	expect_resolved(f, "secrets-manager", ARN ":password", "s3cr3t-pw");
	set_ok(f->st, "prod/db-AbCdEf", "{\"password\":\"suffixed\"}");
	expect_resolved(f, "secrets-manager", ARN ":password", "suffixed");
}

static void test_secrets_manager_bad_arns(void **state)
{
	struct fixture *f = *state;
	expect_refused(f, "secrets-manager", "arn:aws:secretsmanager:eu-west-1:123",
	               "seven ':'-separated fields");
	expect_refused(f, "secrets-manager", "arn:aws:ssm:eu-west-1:123456789012:parameter:x",
	               "not the ARN of a Secrets Manager secret");
}

static void test_secrets_manager_missing_says_how_to_set_it(void **state)
{
	struct fixture *f = *state;
	struct err err;
	assert_null(resolve(f, "secrets-manager", "prod/db:password", &err));
	assert_string_equal(err.msg, "secrets-manager: secret \"prod/db\" does not exist (set it "
	                             "with: ferry secret set prod/db)");
	assert_null(resolve(f, "secrets-manager", ARN, &err));
	assert_non_null(strstr(err.msg, "ferry secret set prod/db)"));
}

static void test_unknown_kind(void **state)
{
	struct fixture *f = *state;
	expect_refused(f, "vault", "x", "unknown kind \"vault\"");
}

/* ---- `ferry secret` ---- */

/* Runs cli_secret() with `input` on standard input; returns its exit status. */
static int run_cli(struct fixture *f, const char *input, char **argv)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	tu_write(f->tmp, "stdin.txt", input);
	char *in = fs_join(f->tmp, "stdin.txt");
	int fd = open(in, O_RDONLY);
	assert_true(fd >= 0);
	int saved = dup(STDIN_FILENO);
	assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);
	store_close(f->st); /* the command opens its own handle */
	f->st = NULL;
	int rc = cli_secret(argc, argv);
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
	free(in);
	f->st = open_ok(f->data);
	return rc;
}

/* `echo "$T" | ferry secret set X` stores the token without echo's newline. */
static void test_cli_set_strips_one_trailing_newline(void **state)
{
	struct fixture *f = *state;
	char *argv[] = {"secret", "set", "/CodeBuild/token", "--data", f->data, NULL};
	assert_int_equal(run_cli(f, "tok-abc\n", argv), 0);
	char *v = get_ok(f->st, "/CodeBuild/token");
	assert_string_equal(v, "tok-abc");
	store_secret_value_free(v, strlen(v));
	assert_int_equal(run_cli(f, "line1\nline2\n\n", argv), 0);
	v = get_ok(f->st, "/CodeBuild/token");
	assert_string_equal(v, "line1\nline2\n");
	store_secret_value_free(v, strlen(v));
	assert_int_equal(run_cli(f, "no-newline", argv), 0);
	v = get_ok(f->st, "/CodeBuild/token");
	assert_string_equal(v, "no-newline");
	store_secret_value_free(v, strlen(v));
}

static void test_cli_set_value_flag_is_taken_as_is(void **state)
{
	struct fixture *f = *state;
	char value[] = "with-newline\n";
	char *argv[] = {"secret", "set", "prod/db", "--value", value, "--data", f->data, NULL};
	assert_int_equal(run_cli(f, "", argv), 0);
	char *v = get_ok(f->st, "prod/db");
	assert_string_equal(v, "with-newline\n");
	store_secret_value_free(v, strlen(v));
}

static void test_cli_set_empty_input_stores_nothing(void **state)
{
	struct fixture *f = *state;
	char *argv[] = {"secret", "set", "x", "--data", f->data, NULL};
	assert_int_equal(run_cli(f, "\n", argv), 2);
	char *v = NULL;
	size_t len = 0;
	struct err err;
	assert_int_equal(store_secret_get(f->st, "x", &v, &len, &err), STORE_NOT_FOUND);
}

static void test_cli_exit_statuses(void **state)
{
	struct fixture *f = *state;
	char *rm[] = {"secret", "rm", "nope", "--data", f->data, NULL};
	assert_int_equal(run_cli(f, "", rm), 1);
	char *get[] = {"secret", "get", "x", "--data", f->data, NULL};
	assert_int_equal(run_cli(f, "", get), 2);
	char *unknown[] = {"secret", "frob", NULL};
	assert_int_equal(run_cli(f, "", unknown), 2);
	char *no_name[] = {"secret", "set", "--data", f->data, NULL};
	assert_int_equal(run_cli(f, "v\n", no_name), 2);
	char *none[] = {"secret", NULL};
	assert_int_equal(run_cli(f, "", none), 2);
	char *flag_without_value[] = {"secret", "list", "--data", NULL};
	assert_int_equal(run_cli(f, "", flag_without_value), 2);
	char *help[] = {"secret", "--help", NULL};
	assert_int_equal(run_cli(f, "", help), 0);
}

/* --data wins over $FERRY_DATA, which wins over the XDG default. */
static void test_data_dir_precedence(void **state)
{
	(void)state;
	setenv("FERRY_DATA", "/from/env", 1);
	setenv("XDG_DATA_HOME", "/xdg", 1);
	char *d = cli_data_dir("/from/flag");
	assert_string_equal(d, "/from/flag");
	free(d);
	d = cli_data_dir(NULL);
	assert_string_equal(d, "/from/env");
	free(d);
	unsetenv("FERRY_DATA");
	d = cli_data_dir(NULL);
	assert_string_equal(d, "/xdg/ferry");
	free(d);
	setenv("XDG_DATA_HOME", "relative", 1); /* XDG: ignore relative paths */
	setenv("HOME", "/home/u", 1);
	d = cli_data_dir(NULL);
	assert_string_equal(d, "/home/u/.local/share/ferry");
	free(d);
	unsetenv("XDG_DATA_HOME");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_secret_round_trip),
	        T(test_secret_binary_value),
	        T(test_secret_set_replaces),
	        T(test_database_never_holds_plaintext),
	        T(test_key_file_created_private_on_first_use),
	        T(test_racing_first_use_shares_one_key),
	        T(test_world_readable_key_is_refused),
	        T(test_group_readable_key_is_refused),
	        T(test_symlinked_key_is_refused),
	        T(test_missing_key_with_secrets_is_an_error),
	        T(test_box_moved_to_another_name_does_not_open),
	        T(test_list_and_delete),
	        T(test_names_from_both_aws_services_are_accepted),
	        T(test_bad_names_are_refused),
	        T(test_value_sizes),
	        T(test_parameter_store_by_name),
	        T(test_parameter_store_missing_says_how_to_set_it),
	        T(test_secrets_manager_whole_value),
	        T(test_secrets_manager_json_key),
	        T(test_secrets_manager_empty_string_key),
	        T(test_secrets_manager_json_key_on_plain_value),
	        T(test_secrets_manager_versions),
	        T(test_secrets_manager_arn_fields),
	        T(test_secrets_manager_arn_falls_back_to_name),
	        T(test_secrets_manager_bad_arns),
	        T(test_secrets_manager_missing_says_how_to_set_it),
	        T(test_unknown_kind),
	        T(test_cli_set_strips_one_trailing_newline),
	        T(test_cli_set_value_flag_is_taken_as_is),
	        T(test_cli_set_empty_input_stores_nothing),
	        T(test_cli_exit_statuses),
	        cmocka_unit_test(test_data_dir_precedence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
