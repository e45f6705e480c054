/*
 * http_client.c — see http_client.h.
 *
 * One easy handle per call: the client's callers (CLI commands, notifications) make
 * a few calls each, so a connection cache would buy nothing and would need locking.
 */
#include "net/http_client.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* util/libcurl.h turns curl's functions into macros that go through the lazily loaded
 * table; curl.h already made curl_easy_setopt and curl_easy_getinfo macros (argument
 * count or type checks), which must go first. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#undef curl_easy_setopt
#undef curl_easy_getinfo

#include "util/buf.h"
#include "util/libcurl.h"

#define URL_SHOWN_MAX  512 /* of a URL quoted in an error */
#define BODY_QUOTE_MAX 200 /* of a non-JSON error body quoted in an error */

struct call_state {
	const struct http_call *call;
	CURL *h;
	struct buf body;
	struct buf head; /* header lines of the current answer, for their cap */
	struct http_reply *reply;
	bool over_cap, headers_over_cap, stopped;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* The URL for messages: without "user:password@", bounded. */
static void shown_url(const char *url, char *out, size_t size)
{
	const char *scheme = strstr(url, "://");
	size_t o = 0;
	const char *p = url;
	if (scheme) {
		const char *host = scheme + 3;
		const char *slash = strchr(host, '/');
		const char *at = strchr(host, '@');
		if (at && (!slash || at < slash)) {
			size_t n = (size_t)(host - url);
			if (n >= size)
				n = size - 1;
			memcpy(out, url, n);
			o = n;
			p = at + 1;
		}
	}
	size_t n = strlen(p);
	if (n > URL_SHOWN_MAX)
		n = URL_SHOWN_MAX;
	if (o + n >= size)
		n = size - o - 1;
	memcpy(out + o, p, n);
	out[o + n] = '\0';
}

static void reply_clear_headers(struct http_reply *r)
{
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	r->headers = NULL;
	r->nheaders = 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
	struct call_state *st = ctx;
	size_t len = size * n;
	if (len >= 5 && !memcmp(data, "HTTP/", 5)) {
		/* a new answer begins (after a 100 Continue): keep only the last one's */
		reply_clear_headers(st->reply);
		buf_reset(&st->head);
		return len;
	}
	if (buf_append(&st->head, data, len) < 0 ||
	    st->reply->nheaders >= HTTP_CLIENT_HEADER_COUNT_MAX) {
		st->headers_over_cap = true;
		return 0;
	}
	const char *colon = memchr(data, ':', len);
	if (!colon)
		return len; /* the blank line that ends the head */
	const char *v = colon + 1, *end = data + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	struct http_reply *r = st->reply;
	r->headers = xrealloc(r->headers, (r->nheaders + 1) * sizeof *r->headers);
	r->headers[r->nheaders].name = xstrndup(data, (size_t)(colon - data));
	r->headers[r->nheaders].value = xstrndup(v, (size_t)(end - v));
	r->nheaders++;
	return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct call_state *st = ctx;
	size_t len = size * n;
	long status = 0;
	curl_easy_getinfo(st->h, CURLINFO_RESPONSE_CODE, &status);
	if (st->call->on_chunk && status >= 200 && status < 300) {
		if (st->call->on_chunk(st->call->ctx, data, len)) {
			st->stopped = true;
			return 0;
		}
		return len;
	}
	if (buf_append(&st->body, data, len) < 0) {
		st->over_cap = true;
		return 0;
	}
	return len;
}

static int set_body(struct call_state *st, struct curl_slist **hdrs, char **owned, struct err *err,
                    const char *url)
{
	const struct http_call *c = st->call;
	const char *data = NULL;
	size_t len = 0;
	const char *ctype = NULL;
	if (c->json) {
		*owned = json_dumps(c->json, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!*owned)
			return err_set(err, "%s: the request body cannot be written as JSON", url);
		data = *owned;
		len = strlen(data);
		ctype = "application/json";
	} else if (c->body) {
		data = c->body;
		len = c->body_len;
		ctype = c->content_type ? c->content_type : "application/octet-stream";
	}
	if (!data)
		return 0;
	char *line = xasprintf("Content-Type: %s", ctype);
	*hdrs = curl_slist_append(*hdrs, line);
	free(line);
	curl_easy_setopt(st->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(st->h, CURLOPT_POSTFIELDS, data);
	return 0;
}

/* What went wrong, for a person: "URL: connection refused (is `ferry serve` running?)". */
static int call_error(struct call_state *st, CURLcode rc, const char *errbuf, const char *url,
                      long timeout_ms, struct err *err)
{
	const struct http_call *c = st->call;
	long os_errno = 0;
	curl_easy_getinfo(st->h, CURLINFO_OS_ERRNO, &os_errno);
	const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		if (os_errno == ECONNREFUSED)
			return err_set(err, "%s: connection refused%s%s%s", url,
			               c->refused_hint ? " (" : "",
			               c->refused_hint ? c->refused_hint : "",
			               c->refused_hint ? ")" : "");
		return err_set(err, "%s: cannot connect: %s", url, detail);
	case CURLE_COULDNT_RESOLVE_HOST:
		return err_set(err, "%s: cannot resolve the host name", url);
	case CURLE_OPERATION_TIMEDOUT:
		return err_set(err, "%s: no complete answer within %ld ms", url, timeout_ms);
	case CURLE_WRITE_ERROR:
		if (st->over_cap)
			return err_set(err, "%s: the answer is larger than %zu bytes", url,
			               st->body.max);
		break;
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
		return err_set(err,
		               "%s: the server closed the connection before its answer was "
		               "complete (%s)",
		               url, detail);
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return err_set(err, "%s: not an http:// or https:// URL (%s)", url, detail);
	default:
		break;
	}
	if (st->headers_over_cap)
		return err_set(err, "%s: the answer's headers are over %u bytes", url,
		               HTTP_CLIENT_HEADERS_MAX);
	return err_set(err, "%s: %s", url, detail);
}

int http_call(const struct http_call *c, struct http_reply *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	char url[URL_SHOWN_MAX + 64];
	shown_url(c->url ? c->url : "", url, sizeof url);
	if (!c->url)
		return err_set(err, "http: no URL");
	if (c->token && strpbrk(c->token, "\r\n"))
		return err_set(err, "%s: the token has a line break", url);
	pthread_once(&curl_once, curl_init_once);

	struct call_state st = {.call = c, .reply = out};
	buf_init(&st.body, c->response_max ? c->response_max : HTTP_CLIENT_BODY_MAX);
	buf_init(&st.head, HTTP_CLIENT_HEADERS_MAX);
	st.h = curl_easy_init();
	if (!st.h) {
		buf_free(&st.body);
		buf_free(&st.head);
		return err_set(err, "%s: libcurl could not start a transfer", url);
	}
	struct curl_slist *hdrs = NULL;
	char *owned = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	int rc = -1;
	const char *method = c->method ? c->method : "GET";
	bool streaming = c->on_chunk != NULL;
	long timeout = c->timeout_ms ? c->timeout_ms : streaming ? -1 : HTTP_CLIENT_TIMEOUT_MS;
	long connect_timeout = HTTP_CLIENT_CONNECT_TIMEOUT_MS;
	if (timeout > 0 && timeout < connect_timeout)
		connect_timeout = timeout;

	CURL *h = st.h;
	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "ferry");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout);
	if (timeout > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
	/* a following client may wait hours for output: notice a dead peer through TCP */
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &st);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &st);
	if (c->token) {
		char *line = xasprintf("Authorization: Bearer %s", c->token);
		hdrs = curl_slist_append(hdrs, line);
		explicit_bzero(line, strlen(line));
		free(line);
	}
	for (const char *const *x = c->headers; x && *x; x++)
		hdrs = curl_slist_append(hdrs, *x);
	if (set_body(&st, &hdrs, &owned, err, url) < 0)
		goto out;
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else if (!strcmp(method, "POST") && !c->json && !c->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "POST"))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	else if (!strcmp(method, "GET") && (c->json || c->body))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "GET");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

	CURLcode code = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && st.stopped)) {
		call_error(&st, code, errbuf, url, timeout, err);
		goto out;
	}
	rc = 0;
out:
	out->len = st.body.len;
	out->body = buf_detach(&st.body);
	buf_free(&st.body);
	buf_free(&st.head);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	free(owned);
	return rc;
}

void http_reply_free(struct http_reply *r)
{
	if (!r)
		return;
	reply_clear_headers(r);
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

const char *http_reply_header(const struct http_reply *r, const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (!strcasecmp(r->headers[i].name, name))
			return r->headers[i].value;
	return NULL;
}

json_t *http_reply_json(const struct http_reply *r, const char *url, struct err *err)
{
	char shown[URL_SHOWN_MAX + 64];
	shown_url(url ? url : "", shown, sizeof shown);
	json_error_t jerr;
	json_t *j = json_loadb(r->body ? r->body : "", r->len, 0, &jerr);
	if (!j)
		err_set(err, "%s: the answer is not JSON (line %d, column %d: %s)", shown,
		        jerr.line, jerr.column, jerr.text);
	return j;
}

int http_reply_check(const char *url, const struct http_reply *r, struct err *err)
{
	if (r->status >= 200 && r->status < 300)
		return 0;
	char shown[URL_SHOWN_MAX + 64];
	shown_url(url ? url : "", shown, sizeof shown);
	json_t *j = json_loadb(r->body ? r->body : "", r->len, 0, NULL);
	const char *code = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
	const char *msg =
	        json_string_value(json_object_get(json_object_get(j, "error"), "message"));
	if (code && msg)
		err_set(err, "%s: %ld %s: %s", shown, r->status, code, msg);
	else {
		/* one line, printable: the body may be anything (an HTML page from a proxy) */
		char quote[BODY_QUOTE_MAX + 1];
		size_t n = 0;
		for (size_t i = 0; r->body && i < r->len && n < BODY_QUOTE_MAX; i++) {
			unsigned char ch = (unsigned char)r->body[i];
			quote[n++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
		}
		quote[n] = '\0';
		err_set(err, "%s: %ld: %s", shown, r->status, n ? quote : "(no body)");
	}
	json_decref(j);
	return -1;
}
