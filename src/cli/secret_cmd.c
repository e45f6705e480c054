/*
 * secret_cmd.c — `ferry secret set|list|rm`: the user's side of ferry's secret
 * store. There is deliberately no `get`: a value, once stored, is readable only
 * by the builds that name it, so a stolen shell session cannot list them out.
 *
 * A value comes from standard input (a terminal: one line, not echoed; a pipe or
 * file: all of it, minus one trailing newline, because `echo "$T" | ferry secret
 * set X` must store the token and not the newline echo adds) or from --value.
 * Every buffer that held a value is wiped before it is freed.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "store/store.h"
#include "util/buf.h"
#include "util/timeutil.h"

static const char usage_text[] =
        "usage: ferry secret set NAME [--data DIR] [--value VALUE]\n"
        "       ferry secret list [--data DIR]\n"
        "       ferry secret rm NAME [--data DIR]\n"
        "\n"
        "ferry's secret store: values encrypted at rest in the data directory, handed to\n"
        "builds whose buildspec names them in env.parameter-store or env.secrets-manager.\n"
        "Both read the same names, so `ferry secret set /CodeBuild/token` serves a\n"
        "parameter-store name and `ferry secret set prod/db` a secrets-manager id.\n"
        "\n"
        "  set NAME         store (or replace) a value read from standard input: from a\n"
        "                   terminal, one line, not echoed; from a pipe or a file, all of\n"
        "                   it, minus one trailing newline (so `echo \"$TOKEN\" | ferry secret\n"
        "                   set NAME` stores the token alone; end the input with two\n"
        "                   newlines to keep one)\n"
        "  --value VALUE    take the value from the command line instead: it lands in your\n"
        "                   shell history and the process list, so prefer standard input\n"
        "  list             print each name and when it was last set (never values)\n"
        "  rm NAME          delete a secret\n"
        "  --data DIR       data directory (default: $FERRY_DATA, else $XDG_DATA_HOME/ferry,\n"
        "                   else ~/.local/share/ferry)\n"
        "\n"
        "There is no `ferry secret get`: values are only readable by builds.\n";

struct secret_args {
	const char *sub;
	const char *name;
	const char *value;
	const char *data;
	int help;
};

FERRY_PRINTF(1, 2)
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("ferry secret: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	fputs(usage_text, stderr);
	return 2;
}

/* Takes the value of `--flag VALUE` or `--flag=VALUE`; 1 if argv[*i] is that flag. */
static int take_flag(const char *flag, int argc, char **argv, int *i, const char **out, int *bad)
{
	size_t n = strlen(flag);
	const char *a = argv[*i];
	if (strncmp(a, flag, n))
		return 0;
	if (a[n] == '=') {
		*out = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		*bad = 1;
		return 1;
	}
	*out = argv[++*i];
	return 1;
}

/* 0, or an exit status (2) after printing why. */
static int parse_args(int argc, char **argv, struct secret_args *a)
{
	int only_positional = 0;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		int bad = 0;
		if (!only_positional && arg[0] == '-' && arg[1] != '\0') {
			if (!strcmp(arg, "--")) {
				only_positional = 1;
			} else if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
				a->help = 1;
			} else if (take_flag("--data", argc, argv, &i, &a->data, &bad) ||
			           take_flag("--value", argc, argv, &i, &a->value, &bad)) {
				if (bad)
					return usage_error("%s needs a value", arg);
			} else {
				return usage_error("unknown option %s", arg);
			}
			continue;
		}
		if (!a->sub)
			a->sub = arg;
		else if (!a->name)
			a->name = arg;
		else
			return usage_error("unexpected argument \"%s\"", arg);
	}
	return 0;
}

/* Reads one line from the terminal with echo off; returns bytes read or -1. */
static ssize_t read_tty_line(const char *name, char *buf, size_t cap)
{
	fprintf(stderr, "value for %s (input is not shown): ", name);
	fflush(stderr);
	struct termios old, quiet;
	int restore = tcgetattr(STDIN_FILENO, &old) == 0;
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	size_t len = 0;
	ssize_t rc = 0;
	while (len < cap) {
		ssize_t n = read(STDIN_FILENO, buf + len, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -1;
			break;
		}
		if (n == 0 || buf[len] == '\n')
			break;
		len++;
	}
	if (restore)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	return rc < 0 ? -1 : (ssize_t)len;
}

/* Reads a pipe or file to its end; returns bytes read (cap means "too much") or -1. */
static ssize_t read_all_stdin(char *buf, size_t cap)
{
	size_t len = 0;
	while (len < cap) {
		ssize_t n = read(STDIN_FILENO, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (ssize_t)len;
}

/* Fills *value (to wipe and free) from standard input; 0 or an exit status. */
static int value_from_stdin(const char *name, char **value, size_t *len)
{
	/* Room for the largest value, its newline, and one byte to notice more. */
	size_t cap = SECRET_VALUE_MAX + 2;
	char *buf = xmalloc(cap);
	int tty = isatty(STDIN_FILENO);
	ssize_t n = tty ? read_tty_line(name, buf, cap) : read_all_stdin(buf, cap);
	int status = 0;
	if (n < 0) {
		perror("ferry secret set: reading standard input");
		status = 1;
	} else {
		size_t got = (size_t)n;
		if (!tty && got > 0 && got < cap && buf[got - 1] == '\n')
			got--;
		if (got > SECRET_VALUE_MAX) {
			fprintf(stderr,
			        "ferry secret set: the value is larger than the limit of %d "
			        "bytes\n",
			        SECRET_VALUE_MAX);
			status = 2;
		} else if (got == 0) {
			fputs("ferry secret set: the value is empty; nothing stored\n", stderr);
			status = 2;
		} else {
			*len = got;
		}
	}
	if (status) {
		sodium_memzero(buf, cap);
		free(buf);
		return status;
	}
	*value = buf;
	return 0;
}

static int open_store(const char *cmd, const char *dir_flag, struct store **st)
{
	char *dir = cli_data_dir(dir_flag);
	struct err err;
	int rc = store_open(dir, st, &err);
	free(dir);
	if (rc < 0)
		fprintf(stderr, "ferry secret %s: %s\n", cmd, err.msg);
	return rc;
}

static int cmd_set(const struct secret_args *a)
{
	char *value = NULL;
	size_t len = 0;
	int from_flag = a->value != NULL;
	if (from_flag) {
		fputs("ferry secret set: warning: --value leaves the secret in your shell history "
		      "and the process list; prefer piping it on standard input\n",
		      stderr);
		len = strlen(a->value);
		if (len == 0) {
			fputs("ferry secret set: the value is empty; nothing stored\n", stderr);
			return 2;
		}
		value = (char *)a->value;
	} else {
		int status = value_from_stdin(a->name, &value, &len);
		if (status)
			return status;
	}
	struct store *st = NULL;
	int status = 1;
	if (open_store("set", a->data, &st) == 0) {
		struct err err;
		if (store_secret_set(st, a->name, value, len, &err) < 0) {
			fprintf(stderr, "ferry secret set: %s\n", err.msg);
		} else {
			fprintf(stderr, "ferry: secret \"%s\" stored\n", a->name);
			status = 0;
		}
		store_close(st);
	}
	/* The argv copy too: /proc/PID/cmdline shows it for as long as we run. */
	sodium_memzero(value, len);
	if (!from_flag)
		free(value);
	return status;
}

static int cmd_list(const struct secret_args *a)
{
	struct store *st = NULL;
	if (open_store("list", a->data, &st) < 0)
		return 1;
	struct store_secret_info *items = NULL;
	size_t n = 0;
	struct err err;
	int rc = store_secret_list(st, &items, &n, &err);
	store_close(st);
	if (rc < 0) {
		fprintf(stderr, "ferry secret list: %s\n", err.msg);
		return 1;
	}
	int width = 0;
	for (size_t i = 0; i < n; i++) {
		int w = (int)strlen(items[i].name);
		width = w > width ? w : width;
	}
	for (size_t i = 0; i < n; i++) {
		char when[32];
		time_iso8601(items[i].updated_ms, when, sizeof when);
		printf("%-*s  %s\n", width, items[i].name, when);
	}
	store_secret_list_free(items, n);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_rm(const struct secret_args *a)
{
	struct store *st = NULL;
	if (open_store("rm", a->data, &st) < 0)
		return 1;
	struct err err;
	int rc = store_secret_delete(st, a->name, &err);
	store_close(st);
	if (rc == STORE_NOT_FOUND) {
		fprintf(stderr, "ferry secret rm: no secret named \"%s\"\n", a->name);
		return 1;
	}
	if (rc < 0) {
		fprintf(stderr, "ferry secret rm: %s\n", err.msg);
		return 1;
	}
	fprintf(stderr, "ferry: secret \"%s\" removed\n", a->name);
	return 0;
}

int cli_secret(int argc, char **argv)
{
	struct secret_args a = {0};
	int status = parse_args(argc, argv, &a);
	if (status)
		return status;
	if (a.help) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!a.sub)
		return usage_error("missing subcommand (set, list or rm)");
	if (!strcmp(a.sub, "get"))
		return usage_error(
		        "there is no \"get\": secret values are only readable by builds");
	int is_set = !strcmp(a.sub, "set"), is_rm = !strcmp(a.sub, "rm");
	if (!is_set && !is_rm && strcmp(a.sub, "list"))
		return usage_error("unknown subcommand \"%s\" (set, list or rm)", a.sub);
	if ((is_set || is_rm) && !a.name)
		return usage_error("%s needs a secret NAME", a.sub);
	if (!is_set && !is_rm && a.name)
		return usage_error("list takes no NAME (got \"%s\")", a.name);
	if (!is_set && a.value)
		return usage_error("--value only goes with set");
	if (is_set)
		return cmd_set(&a);
	return is_rm ? cmd_rm(&a) : cmd_list(&a);
}
