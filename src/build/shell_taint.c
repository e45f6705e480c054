/*
 * shell_taint.c — decides from a command's text whether the worker that ran it may
 * hold state a fresh CodeBuild shell would not have (shell.h). A false positive
 * costs one worker start (about a millisecond); a false negative lets a function,
 * trap or array leak into later commands, so the scan errs on the side of "tainted".
 */
#include "build/shell.h"

#include <ctype.h>
#include <string.h>

static int word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.' || c == '/';
}

/* 1 when `w` occurs in `s` as a whole word. */
static int has_word(const char *s, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = strstr(s, w); p; p = strstr(p + 1, w)) {
		int before = p == s || !word_char(p[-1]);
		int after = !word_char(p[n]);
		if (before && after)
			return 1;
	}
	return 0;
}

/* `. file` in command position: after start, newline, ; & | ( { ! or a keyword. */
static int has_dot_command(const char *s)
{
	for (const char *p = strchr(s, '.'); p; p = strchr(p + 1, '.')) {
		if (p[1] != ' ' && p[1] != '\t')
			continue;
		const char *q = p;
		while (q > s && (q[-1] == ' ' || q[-1] == '\t'))
			q--;
		if (q == s || strchr("\n;&|({!", q[-1]))
			return 1;
		static const char *const kw[] = {"then", "do", "else", "time"};
		for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++) {
			size_t k = strlen(kw[i]);
			if ((size_t)(q - s) >= k && !strncmp(q - k, kw[i], k) &&
			    (q - k == s || !word_char(q[-(long)k - 1])))
				return 1;
		}
	}
	return 0;
}

/* `name()` or `name ( )`: a function definition. */
static int has_function_def(const char *s)
{
	for (const char *p = strchr(s, '('); p; p = strchr(p + 1, '(')) {
		const char *q = p + 1;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q != ')')
			continue;
		const char *b = p;
		while (b > s && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		if (b > s && (isalnum((unsigned char)b[-1]) || b[-1] == '_' || b[-1] == '-'))
			return 1;
	}
	return 0;
}

static int bash_array_use(const char *s)
{
	if (strstr(s, "=("))
		return 1;
	static const char *const words[] = {"declare", "typeset", "local", "readarray", "mapfile"};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (has_word(s, words[i]))
			return 1;
	for (const char *p = strstr(s, "read"); p; p = strstr(p + 1, "read")) {
		if ((p != s && word_char(p[-1])) || word_char(p[4]))
			continue;
		const char *end = strpbrk(p, ";\n|&");
		const char *a = strstr(p, " -");
		while (a && (!end || a < end)) {
			size_t k = strcspn(a + 2, " \t;\n");
			if (memchr(a + 2, 'a', k))
				return 1;
			a = strstr(a + 2, " -");
		}
	}
	return 0;
}

int shell_command_taints(const char *command, int is_bash)
{
	static const char *const words[] = {
	        "alias", "unalias", "trap",     "exec", "ulimit", "umask", "readonly",
	        "eval",  "source",  "function", "hash", "enable", "shopt", "builtin",
	};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (has_word(command, words[i]))
			return 1;
	if (has_dot_command(command) || has_function_def(command))
		return 1;
	return is_bash && bash_array_use(command);
}

int shell_command_may_exit(const char *command)
{
	static const char *const words[] = {
	        "exit", "exec", "set",      "errexit", "nounset", "kill",    "logout",  "source",
	        "eval", "trap", "readonly", "shift",   "return",  "suspend", "builtin",
	};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (has_word(command, words[i]))
			return 1;
	return strstr(command, "?}") != NULL || has_dot_command(command);
}
