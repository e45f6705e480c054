/* Unit tests for build/outstream: log lines with every secret value masked (spec §2.1). */
#include "testutil.h"

#include "build/outstream.h"

struct capture {
	struct strv lines;
};

static void on_line(void *ctx, const char *line)
{
	struct capture *c = ctx;
	strv_push(&c->lines, line);
}

static char *joined(const struct capture *c)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	for (size_t i = 0; i < c->lines.n; i++)
		assert_int_equal(buf_printf(&b, "%s|", c->lines.v[i]), 0);
	return buf_detach(&b);
}

#define WITH_STREAM(secret)                                                                        \
	struct capture cap = {STRV_INIT};                                                          \
	struct logsink sink = {on_line, &cap};                                                     \
	struct outstream *o = outstream_new(&sink);                                                \
	outstream_add_secret(o, secret)

#define EXPECT_LINES(want)                                                                         \
	do {                                                                                       \
		char *got = joined(&cap);                                                          \
		assert_string_equal(got, want);                                                    \
		free(got);                                                                         \
	} while (0)

static void done(struct outstream *o, struct capture *cap)
{
	outstream_free(o);
	strv_free(&cap->lines);
}

/* A secret split across two reads of the pipe is still masked. */
static void test_secret_split_across_reads(void **state)
{
	(void)state;
	WITH_STREAM("hunter2");
	outstream_feed(o, "token=hun", 9);
	outstream_feed(o, "ter2 ok\n", 8);
	EXPECT_LINES("token=*** ok|");
	done(o, &cap);
}

/* A quiet partial line is shown, but never the beginning of a secret. */
static void test_partial_flush_holds_a_secret_prefix(void **state)
{
	(void)state;
	WITH_STREAM("hunter2");
	outstream_feed(o, "password: hunt", 14);
	outstream_flush_partial(o);
	EXPECT_LINES("password: |");
	outstream_feed(o, "er2 accepted\n", 13);
	EXPECT_LINES("password: |*** accepted|");
	done(o, &cap);
}

/* A partial line holding a whole secret is shown masked. */
static void test_partial_flush_masks_whole_secrets(void **state)
{
	(void)state;
	WITH_STREAM("hunter2");
	outstream_feed(o, "hunter2 waiting", 15);
	outstream_flush_partial(o);
	EXPECT_LINES("*** waiting|");
	done(o, &cap);
}

/* Each line of a multi-line secret is masked. */
static void test_multiline_secret_masked_line_by_line(void **state)
{
	(void)state;
	WITH_STREAM("-----BEGIN KEY-----\nAAAAsecretline\n-----END KEY-----");
	const char *out = "-----BEGIN KEY-----\nAAAAsecretline\n-----END KEY-----\n";
	outstream_feed(o, out, strlen(out));
	EXPECT_LINES("***|***|***|");
	done(o, &cap);
}

/* A secret containing another is masked whole, not left half visible. */
static void test_longer_secret_masked_first(void **state)
{
	(void)state;
	WITH_STREAM("abc");
	outstream_add_secret(o, "abcdef-long");
	outstream_line(o, "x abcdef-long y abc");
	EXPECT_LINES("x *** y ***|");
	done(o, &cap);
}

/* Empty secrets mask nothing (they would match everywhere). */
static void test_empty_secret_ignored(void **state)
{
	(void)state;
	WITH_STREAM("");
	outstream_line(o, "plain text");
	EXPECT_LINES("plain text|");
	done(o, &cap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_secret_split_across_reads),
	        cmocka_unit_test(test_partial_flush_holds_a_secret_prefix),
	        cmocka_unit_test(test_partial_flush_masks_whole_secrets),
	        cmocka_unit_test(test_multiline_secret_masked_line_by_line),
	        cmocka_unit_test(test_longer_secret_masked_first),
	        cmocka_unit_test(test_empty_secret_ignored),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
