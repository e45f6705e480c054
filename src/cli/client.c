/*
 * client.c — see client.h: the daemon's address and token, one API call, and the
 * argument parser the client commands share.
 */
#include "cli/client.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/fs.h"
#include "util/zipdir.h"

/* The first line of a small file, trimmed; NULL when missing or empty. */
static char *first_line(const char *path, size_t max)
{
	char *data = NULL;
	size_t len = 0;
	if (fs_read_file(path, max, &data, &len, NULL) < 0)
		return NULL;
	data[strcspn(data, "\r\n")] = '\0';
	char *p = data;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	char *out = n ? xstrndup(p, n) : NULL;
	sodium_memzero(data, len);
	free(data);
	return out;
}

static char *trim_url(const char *u)
{
	size_t n = strlen(u);
	while (n && u[n - 1] == '/')
		n--;
	return xstrndup(u, n);
}

void cli_client_init(struct cli_client *c, const char *data_flag, const char *url_flag)
{
	memset(c, 0, sizeof *c);
	c->data = cli_data_dir(data_flag);
	const char *env = getenv("FERRY_URL");
	if (url_flag && *url_flag) {
		c->url = trim_url(url_flag);
	} else if (env && *env) {
		c->url = trim_url(env);
	} else {
		char *path = fs_join(c->data, CLI_URL_FILE);
		char *u = first_line(path, CLI_URL_MAX);
		free(path);
		c->url = trim_url(u ? u : CLI_URL_DEFAULT);
		free(u);
	}
	env = getenv("FERRY_TOKEN");
	if (env && *env) {
		c->token = xstrdup(env);
		c->token_from = xstrdup("$FERRY_TOKEN");
	} else {
		char *path = fs_join(c->data, "admin.token");
		c->token = first_line(path, CLI_TOKEN_MAX);
		c->token_from = path;
	}
}

void cli_client_free(struct cli_client *c)
{
	if (c->token) {
		sodium_memzero(c->token, strlen(c->token));
		free(c->token);
	}
	free(c->url);
	free(c->data);
	free(c->token_from);
	memset(c, 0, sizeof *c);
}

/* The API's {"error": {"message"}}, else NULL. */
static const char *api_message(const json_t *answer)
{
	json_t *e = json_object_get(answer, "error");
	return json_string_value(json_object_get(e, "message"));
}

int cli_call(struct cli_client *c, const struct cli_req *r, json_t **out)
{
	if (out)
		*out = NULL;
	char *url = xasprintf("%s%s", c->url, r->path);
	struct http_call call = {.method = r->method,
	                         .url = url,
	                         .token = c->token,
	                         .json = r->json,
	                         .body = r->body,
	                         .body_len = r->body_len,
	                         .content_type = r->content_type,
	                         .timeout_ms = r->timeout_ms,
	                         .refused_hint = HTTP_CLIENT_HINT_SERVE,
	                         .on_chunk = r->on_chunk,
	                         .ctx = r->ctx};
	struct http_reply rep = {0};
	struct err err;
	int status = 1;
	json_t *answer = NULL;
	if (http_call(&call, &rep, &err) < 0) {
		fprintf(stderr, "ferry: %s\n", err.msg);
		goto out;
	}
	if (rep.status < 200 || rep.status > 299) {
		answer = json_loadb(rep.body, rep.len, 0, NULL);
		const char *msg = api_message(answer);
		if (msg)
			fprintf(stderr, "ferry: %s\n", msg);
		else if (http_reply_check(url, &rep, &err) < 0)
			fprintf(stderr, "ferry: %s\n", err.msg);
		if (rep.status == 401 && !c->token)
			fprintf(stderr,
			        "ferry: no token was sent: set FERRY_TOKEN, or run where %s is "
			        "readable\n",
			        c->token_from);
		goto out;
	}
	if (out && !r->on_chunk && rep.len) {
		answer = http_reply_json(&rep, url, &err);
		if (!answer) {
			fprintf(stderr, "ferry: %s\n", err.msg);
			goto out;
		}
		*out = answer;
		answer = NULL;
	}
	status = 0;
out:
	json_decref(answer);
	http_reply_free(&rep);
	free(url);
	return status;
}

/* RFC 3986 unreserved characters pass; everything else is %XX. */
char *cli_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b;
	buf_init(&b, CLI_TEXT_MAX);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			if (buf_append(&b, p, 1) < 0)
				abort();
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			if (buf_append(&b, e, 3) < 0)
				abort();
		}
	}
	return buf_detach(&b);
}

char *cli_path(const char *first, ...)
{
	struct buf b;
	buf_init(&b, CLI_TEXT_MAX);
	va_list ap;
	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *)) {
		char *e = cli_escape(s);
		if (buf_puts(&b, "/") < 0 || buf_puts(&b, e) < 0)
			abort();
		free(e);
	}
	va_end(ap);
	return buf_detach(&b);
}

/* ---- arguments ---- */

int cli_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "ferry %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	fputs(usage, stderr);
	return 2;
}

int cli_int(const char *s, long min, long max, long *out)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int take(const struct cli_opt *o, const char *v)
{
	if (o->value)
		*o->value = v;
	if (o->list)
		strv_push(o->list, v);
	return 0;
}

int cli_args(int argc, char **argv, const struct cli_opt *opts, size_t nopts, struct strv *pos,
             unsigned *seen, const char *cmd, const char *usage)
{
	int only_pos = 0;
	*seen = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (only_pos || a[0] != '-' || a[1] == '\0') {
			strv_push(pos, a);
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = 1;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return 3;
		size_t i_opt = nopts;
		const char *eq = strchr(a, '=');
		size_t name_len = eq ? (size_t)(eq - a) : strlen(a);
		for (size_t k = 0; k < nopts; k++)
			if (strlen(opts[k].name) == name_len && !strncmp(opts[k].name, a, name_len))
				i_opt = k;
		if (i_opt == nopts)
			return cli_usage_error(cmd, usage, "unknown option %.*s", (int)name_len, a);
		const struct cli_opt *o = &opts[i_opt];
		*seen |= 1u << i_opt;
		if (!o->arg) {
			if (eq)
				return cli_usage_error(cmd, usage, "%s takes no value", o->name);
			if (o->flag)
				*o->flag = 1;
			continue;
		}
		if (eq) {
			take(o, eq + 1);
			continue;
		}
		if (i + 1 >= argc)
			return cli_usage_error(cmd, usage, "%s needs a value (%s %s)", o->name,
			                       o->name, o->arg);
		take(o, argv[++i]);
	}
	return 0;
}

int cli_parse(int argc, char **argv, const struct cli_opt *opts, size_t nopts, struct strv *pos,
              unsigned *seen, const char *cmd, const char *usage)
{
	int rc = cli_args(argc, argv, opts, nopts, pos, seen, cmd, usage);
	if (rc == 3) {
		fputs(usage, stdout);
		return 0;
	}
	return rc ? rc : -1;
}

int cli_sub_args(const struct cli_cmd *cmd, int argc, char **argv, struct strv *args,
                 unsigned *seen, const struct cli_sub **sub)
{
	struct strv pos = STRV_INIT;
	const struct cli_sub *s = NULL;
	char name[64];
	int rc = cli_parse(argc, argv, cmd->opts, cmd->nopts, &pos, seen, cmd->name, cmd->usage);
	if (rc >= 0)
		goto out;
	if (!pos.n) {
		rc = cli_usage_error(cmd->name, cmd->usage, "missing subcommand");
		goto out;
	}
	for (size_t i = 0; i < cmd->nsubs && !s; i++) {
		const struct cli_sub *e =
		        (const struct cli_sub *)((const char *)cmd->subs + i * cmd->sub_size);
		if (!strcmp(e->name, pos.v[0]))
			s = e;
	}
	if (!s) {
		rc = cli_usage_error(cmd->name, cmd->usage, "unknown subcommand \"%s\"", pos.v[0]);
		goto out;
	}
	for (size_t i = 1; i < pos.n; i++)
		strv_push(args, pos.v[i]);
	snprintf(name, sizeof name, "%s %s", cmd->name, s->name);
	if (args->n < s->min_pos) {
		const char *missing = s->args; /* the words not given */
		for (size_t i = 0; i < args->n && !cmd->missing_all; i++)
			missing += strcspn(missing, " ") + 1;
		rc = cli_usage_error(name, cmd->usage, "missing %s (ferry %s %s %s)", missing,
		                     cmd->name, s->name, s->args);
		goto out;
	}
	if (args->n > s->max_pos) {
		rc = cli_usage_error(name, cmd->usage, "unexpected argument \"%s\"",
		                     args->v[s->max_pos]);
		goto out;
	}
	unsigned extra = *seen & ~(s->allowed | cmd->always);
	for (size_t i = 0; i < cmd->nopts; i++)
		if (extra & (1u << i)) {
			rc = cli_usage_error(name, cmd->usage, "%s does not go with `ferry %s %s`",
			                     cmd->opts[i].name, cmd->name, s->name);
			goto out;
		}
	*sub = s;
	rc = -1;
out:
	strv_free(&pos);
	return rc;
}

int cli_list_call(struct cli_client *c, const char *path, int json, json_t **out)
{
	*out = NULL;
	int rc = cli_call(c, &(struct cli_req){.path = path}, out);
	if (rc == 0 && json) {
		cli_print_json(*out);
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

int cli_read_upload(const char *src, unsigned zip_flags, size_t max, char **data, size_t *len)
{
	struct err err;
	char *tmp = NULL;
	if (fs_is_dir(src)) {
		const char *t = getenv("TMPDIR");
		tmp = xasprintf("%s/ferry-upload-XXXXXX.zip", t && *t ? t : "/tmp");
		int fd = mkostemps(tmp, 4, O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "ferry: %s: %s\n", tmp, strerror(errno));
			free(tmp);
			return 2;
		}
		close(fd);
	}
	int rc = tmp ? zipdir_write(src, tmp, zip_flags, NULL, &err) : 0;
	if (rc == 0)
		rc = fs_read_file(tmp ? tmp : src, max, data, len, &err);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	if (rc < 0) {
		fprintf(stderr, "ferry: %s\n", err.msg);
		return 2;
	}
	return 0;
}

int cli_post_upload(struct cli_client *c, const char *path, const char *src, unsigned zip_flags,
                    size_t max, json_t **out)
{
	char *data = NULL;
	size_t len = 0;
	int rc = cli_read_upload(src, zip_flags, max, &data, &len);
	if (rc)
		return rc;
	rc = cli_call(c,
	              &(struct cli_req){.method = "POST",
	                                .path = path,
	                                .body = data,
	                                .body_len = len,
	                                .content_type = "application/zip",
	                                .timeout_ms = -1},
	              out);
	free(data);
	return rc;
}
