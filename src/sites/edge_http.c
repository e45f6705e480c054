/*
 * edge_http.c — the HTTP details of serving files: content types, dates, entity tags,
 * byte ranges, Accept-Encoding and Cache-Control, each as RFC 9110/9111 has them and
 * as browsers and CDNs expect. Pure functions: no I/O, no state.
 */
#include "sites/edge_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sites/edge.h"
#include "util/buf.h"

static const struct {
	const char *ext;
	const char *type;
} types[] = {
        {"html", "text/html; charset=utf-8"},
        {"htm", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"},
        {"cjs", "text/javascript; charset=utf-8"},
        {"json", "application/json"},
        {"map", "application/json"},
        {"webmanifest", "application/manifest+json"},
        {"xml", "application/xml"},
        {"rss", "application/rss+xml"},
        {"atom", "application/atom+xml"},
        {"txt", "text/plain; charset=utf-8"},
        {"md", "text/markdown; charset=utf-8"},
        {"csv", "text/csv; charset=utf-8"},
        {"svg", "image/svg+xml"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"webp", "image/webp"},
        {"avif", "image/avif"},
        {"ico", "image/x-icon"},
        {"bmp", "image/bmp"},
        {"wasm", "application/wasm"},
        {"woff", "font/woff"},
        {"woff2", "font/woff2"},
        {"ttf", "font/ttf"},
        {"otf", "font/otf"},
        {"eot", "application/vnd.ms-fontobject"},
        {"pdf", "application/pdf"},
        {"mp4", "video/mp4"},
        {"webm", "video/webm"},
        {"ogv", "video/ogg"},
        {"mp3", "audio/mpeg"},
        {"ogg", "audio/ogg"},
        {"wav", "audio/wav"},
        {"m4a", "audio/mp4"},
        {"zip", "application/zip"},
        {"gz", "application/gzip"},
        {"br", "application/x-brotli"},
        {"tar", "application/x-tar"},
        {"wat", "text/plain; charset=utf-8"},
};

const char *edge_content_type(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *base = slash ? slash + 1 : name;
	const char *dot = strrchr(base, '.');
	if (!dot || dot == base)
		return "application/octet-stream";
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (!strcasecmp(dot + 1, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

/* ---- lists of tokens ---- */

/* The next comma-separated element of *p, blanks trimmed: [*start, *start + *len). */
static bool next_element(const char **p, const char **start, size_t *len)
{
	const char *s = *p;
	while (*s == ' ' || *s == '\t' || *s == ',')
		s++;
	if (!*s)
		return false;
	const char *e = strchr(s, ',');
	if (!e)
		e = s + strlen(s);
	*p = e;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*start = s;
	*len = (size_t)(e - s);
	return true;
}

/* q=0 (with any number of zeros after a point) refuses an encoding. */
static bool q_zero(const char *params, size_t len)
{
	for (const char *p = params; p < params + len; p++) {
		if (*p != ';')
			continue;
		const char *q = p + 1;
		while (q < params + len && (*q == ' ' || *q == '\t'))
			q++;
		if (q + 2 <= params + len && (q[0] == 'q' || q[0] == 'Q') && q[1] == '=') {
			q += 2;
			if (q < params + len && *q == '0') {
				for (q++; q < params + len && (*q == '.' || *q == '0'); q++)
					;
				return q == params + len || *q == ';' || *q == ' ';
			}
			return false;
		}
	}
	return false;
}

unsigned edge_accept_encoding(const char *value)
{
	unsigned bits = 0, refused = 0;
	const char *p = value ? value : "", *s;
	size_t len;
	while (next_element(&p, &s, &len)) {
		size_t tok = strcspn(s, "; \t");
		if (tok > len)
			tok = len;
		unsigned b = 0;
		if (tok == 2 && !strncasecmp(s, "br", 2))
			b = EDGE_ACCEPT_BR;
		else if ((tok == 4 && !strncasecmp(s, "gzip", 4)) ||
		         (tok == 6 && !strncasecmp(s, "x-gzip", 6)))
			b = EDGE_ACCEPT_GZIP;
		else if (tok == 1 && *s == '*')
			b = EDGE_ACCEPT_BR | EDGE_ACCEPT_GZIP;
		if (q_zero(s + tok, len - tok))
			refused |= b;
		else
			bits |= b;
	}
	return bits & ~refused;
}

/* ---- dates ---- */

static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Spelled out here rather than with strftime(), whose names follow the locale. */
void edge_http_date(int64_t epoch_s, char *out, size_t n)
{
	time_t t = (time_t)epoch_s;
	struct tm tm;
	if (!gmtime_r(&t, &tm)) {
		snprintf(out, n, "Thu, 01 Jan 1970 00:00:00 GMT");
		return;
	}
	snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
	         months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int edge_parse_http_date(const char *s, int64_t *out)
{
	char wday[4], mon[4];
	int day, year, h, m, sec, used = 0;
	if (!s ||
	    sscanf(s, "%3s, %d %3s %d %d:%d:%d GMT%n", wday, &day, mon, &year, &h, &m, &sec,
	           &used) != 7 ||
	    !used || s[used] != '\0' || strlen(wday) != 3 || s[3] != ',')
		return -1;
	int mi = -1;
	for (int i = 0; i < 12; i++)
		if (!strcmp(mon, months[i]))
			mi = i;
	if (mi < 0 || day < 1 || day > 31 || year < 1970 || h > 23 || m > 59 || sec > 60)
		return -1;
	struct tm tm = {.tm_year = year - 1900,
	                .tm_mon = mi,
	                .tm_mday = day,
	                .tm_hour = h,
	                .tm_min = m,
	                .tm_sec = sec};
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = (int64_t)t;
	return 0;
}

/* ---- entity tags ---- */

/* The opaque part of a tag, without W/ and quotes. */
static void tag_core(const char *s, size_t len, const char **core, size_t *core_len)
{
	if (len >= 2 && s[0] == 'W' && s[1] == '/') {
		s += 2;
		len -= 2;
	}
	if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
		s++;
		len -= 2;
	}
	*core = s;
	*core_len = len;
}

bool edge_etag_matches(const char *if_none_match, const char *etag)
{
	const char *mine;
	size_t mine_len;
	tag_core(etag, strlen(etag), &mine, &mine_len);
	const char *p = if_none_match, *s;
	size_t len;
	while (next_element(&p, &s, &len)) {
		if (len == 1 && *s == '*')
			return true;
		const char *core;
		size_t core_len;
		tag_core(s, len, &core, &core_len);
		if (core_len == mine_len && !memcmp(core, mine, mine_len))
			return true;
	}
	return false;
}

/* ---- ranges ---- */

static bool parse_u64(const char **p, uint64_t *out)
{
	const char *s = *p;
	if (!isdigit((unsigned char)*s))
		return false;
	uint64_t v = 0;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*out = v;
	return true;
}

enum edge_range edge_parse_range(const char *value, uint64_t size, uint64_t *first, uint64_t *last)
{
	if (!value || strncasecmp(value, "bytes=", 6))
		return EDGE_RANGE_NONE;
	const char *p = value + 6;
	while (*p == ' ')
		p++;
	if (strchr(p, ','))
		return EDGE_RANGE_NONE; /* several ranges: the whole object is a valid answer */
	uint64_t a = 0, b = 0;
	bool has_a = parse_u64(&p, &a);
	if (*p++ != '-')
		return EDGE_RANGE_NONE;
	bool has_b = parse_u64(&p, &b);
	while (*p == ' ')
		p++;
	if (*p || (!has_a && !has_b) || (has_a && has_b && b < a))
		return EDGE_RANGE_NONE;
	if (!has_a) { /* the last b bytes */
		if (b == 0 || size == 0)
			return EDGE_RANGE_UNSATISFIABLE;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return EDGE_RANGE_OK;
	}
	if (a >= size)
		return EDGE_RANGE_UNSATISFIABLE;
	*first = a;
	*last = has_b && b < size ? b : size - 1;
	return EDGE_RANGE_OK;
}

/* ---- Cache-Control ---- */

static bool directive_is(const char *s, size_t len, const char *name)
{
	size_t n = strlen(name);
	return len >= n && !strncasecmp(s, name, n) &&
	       (len == n || s[n] == '=' || s[n] == ' ' || s[n] == '\t');
}

/* The number of "name=N" (quotes allowed), or -1. */
static int64_t directive_seconds(const char *s, size_t len, const char *name)
{
	size_t n = strlen(name);
	if (!directive_is(s, len, name) || len <= n || s[n] != '=')
		return -1;
	const char *p = s + n + 1;
	if (*p == '"')
		p++;
	uint64_t v = 0;
	if (!parse_u64(&p, &v))
		return -1;
	return v > EDGE_TTL_MAX_S ? EDGE_TTL_MAX_S : (int64_t)v;
}

int64_t edge_ttl(const char *cache_control, int64_t default_ttl)
{
	int64_t smax = -1, max = -1;
	const char *p = cache_control ? cache_control : "", *s;
	size_t len;
	while (next_element(&p, &s, &len)) {
		if (directive_is(s, len, "no-store") || directive_is(s, len, "no-cache") ||
		    directive_is(s, len, "private"))
			return 0;
		int64_t v = directive_seconds(s, len, "s-maxage");
		if (v >= 0)
			smax = v;
		v = directive_seconds(s, len, "max-age");
		if (v >= 0)
			max = v;
	}
	if (smax >= 0)
		return smax;
	if (max >= 0)
		return max;
	return default_ttl > 0 ? default_ttl : 0;
}

/* ---- percent-decoding ---- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

char *edge_pct_decode(const char *s)
{
	size_t n = strlen(s);
	char *out = xmalloc(n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		/* a NUL ends the string before any escape runs past it */
		int hi = s[i] == '%' ? hexval((unsigned char)s[i + 1]) : -1;
		int lo = hi >= 0 ? hexval((unsigned char)s[i + 2]) : -1;
		if (hi >= 0 && lo >= 0 && (hi || lo)) {
			*o++ = (char)(hi * 16 + lo);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}
