/* json_fast: one JSON value into jansson values without jansson's lexer
 * (see json_fast.h).  It accepts a strict subset of what json_loadb
 * accepts: ASCII strings (escapes \uXXXX only up to U+007F, never
 * U+0000), integers that fit json_int_t, finite reals; everything else
 * makes it give up (NULL), and the caller decodes with jansson. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_fast.h"
#include "util.h"

#define MAX_DEPTH 512	/* jansson's own limit is 2048 */

struct jf {
	const char *p, *end;
	unsigned depth;
	struct svcnft_buf tmp;	/* a string with escapes, decoded */
};

static void ws(struct jf *d)
{
	while (d->p < d->end && (*d->p == ' ' || *d->p == '\t' || *d->p == '\n' ||
				 *d->p == '\r'))
		d->p++;
}

static int hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* One escape at d->p (after the backslash) into d->tmp. */
static bool escape(struct jf *d)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	int v = 0;

	if (d->p >= d->end)
		return false;
	if (*d->p != 'u') {
		if (!*d->p || !(e = strchr(from, *d->p)))
			return false;
		buf_putc(&d->tmp, to[e - from]);
		d->p++;
		return true;
	}
	if (d->end - d->p < 5)
		return false;
	for (int i = 1; i <= 4; i++) {
		int h = hex(d->p[i]);

		if (h < 0)
			return false;
		v = v * 16 + h;
	}
	if (v == 0 || v > 0x7f)	/* U+0000 and non-ASCII: jansson decides */
		return false;
	buf_putc(&d->tmp, (char)v);
	d->p += 5;
	return true;
}

/* The string at d->p (a '"'): *S and *N point into the input or d->tmp. */
static bool string(struct jf *d, const char **s, size_t *n)
{
	const char *start = ++d->p;
	bool esc = false;

	d->tmp.len = 0;
	for (;;) {
		const char *q = d->p;

		while (q < d->end && *q != '"' && *q != '\\' &&
		       (unsigned char)*q >= 0x20 && (unsigned char)*q < 0x80)
			q++;
		if (q >= d->end || (*q != '"' && *q != '\\'))
			return false;	/* unterminated, control or non-ASCII */
		if (esc || *q == '\\')
			buf_add(&d->tmp, d->p, (size_t)(q - d->p));
		d->p = q + 1;
		if (*q == '"')
			break;
		esc = true;
		if (!escape(d))
			return false;
	}
	*s = esc ? d->tmp.data : start;
	*n = esc ? d->tmp.len : (size_t)(d->p - 1 - start);
	if (esc)
		buf_putc(&d->tmp, '\0');	/* tmp.data set even when empty */
	return true;
}

static const char *digits(const char *p, const char *end)
{
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p;
}

/* A number as jansson's lexer reads it: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static json_t *number(struct jf *d)
{
	const char *p = d->p, *q;
	char buf[64], *endp;
	bool real = false;

	if (p < d->end && *p == '-')
		p++;
	if (p >= d->end || *p < '0' || *p > '9')
		return NULL;
	q = digits(p, d->end);
	if (*p == '0' && q - p > 1)
		return NULL;
	if (q < d->end && *q == '.') {
		real = true;
		p = q + 1;
		if ((q = digits(p, d->end)) == p)
			return NULL;
	}
	if (q < d->end && (*q == 'e' || *q == 'E')) {
		real = true;
		p = q + 1;
		if (p < d->end && (*p == '+' || *p == '-'))
			p++;
		if ((q = digits(p, d->end)) == p)
			return NULL;
	}
	if ((size_t)(q - d->p) >= sizeof(buf))
		return NULL;
	memcpy(buf, d->p, (size_t)(q - d->p));
	buf[q - d->p] = '\0';
	d->p = q;
	if (!real) {
		long long v;

		errno = 0;
		v = strtoll(buf, &endp, 10);
		return errno || *endp ? NULL : json_integer(v);
	} else {
		double v = strtod(buf, &endp);

		return *endp || !isfinite(v) ? NULL : json_real(v);
	}
}

static bool word(struct jf *d, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(d->end - d->p) < n || memcmp(d->p, w, n))
		return false;
	d->p += n;
	/* jansson reads a run of letters as one word */
	return d->p >= d->end || !((*d->p >= 'a' && *d->p <= 'z') ||
				  (*d->p >= 'A' && *d->p <= 'Z'));
}

static json_t *value(struct jf *d);

static json_t *object(struct jf *d)
{
	json_t *o = json_object(), *v;
	const char *k;
	size_t n;

	d->p++;
	ws(d);
	if (d->p < d->end && *d->p == '}') {
		d->p++;
		return o;
	}
	for (;;) {
		char *key;

		if (d->p >= d->end || *d->p != '"' || !string(d, &k, &n))
			break;
		key = k == d->tmp.data ? xstrdup(k) : NULL;	/* value() reuses tmp */
		ws(d);
		if (d->p >= d->end || *d->p++ != ':' || !(v = value(d))) {
			free(key);
			break;
		}
		if (json_object_setn_new_nocheck(o, key ? key : k, n, v)) {
			free(key);
			break;
		}
		free(key);
		ws(d);
		if (d->p < d->end && *d->p == '}') {
			d->p++;
			return o;
		}
		if (d->p >= d->end || *d->p++ != ',')
			break;
		ws(d);
	}
	json_decref(o);
	return NULL;
}

static json_t *array(struct jf *d)
{
	json_t *a = json_array(), *v;

	d->p++;
	ws(d);
	if (d->p < d->end && *d->p == ']') {
		d->p++;
		return a;
	}
	for (;;) {
		if (!(v = value(d)) || json_array_append_new(a, v))
			break;
		ws(d);
		if (d->p < d->end && *d->p == ']') {
			d->p++;
			return a;
		}
		if (d->p >= d->end || *d->p++ != ',')
			break;
	}
	json_decref(a);
	return NULL;
}

static json_t *value(struct jf *d)
{
	const char *s;
	json_t *v = NULL;
	size_t n;

	ws(d);
	if (d->p >= d->end || ++d->depth > MAX_DEPTH)
		return NULL;
	switch (*d->p) {
	case '{': v = object(d); break;
	case '[': v = array(d); break;
	case '"': v = string(d, &s, &n) ? json_stringn_nocheck(s, n) : NULL; break;
	case 't': v = word(d, "true") ? json_true() : NULL; break;
	case 'f': v = word(d, "false") ? json_false() : NULL; break;
	case 'n': v = word(d, "null") ? json_null() : NULL; break;
	default: v = number(d); break;
	}
	d->depth--;
	return v;
}

json_t *json_fast_decode(const char *p, size_t len)
{
	struct jf d = { .p = p, .end = p + len };
	json_t *v = value(&d);

	ws(&d);
	if (v && d.p != d.end) {
		json_decref(v);
		v = NULL;
	}
	svcnft_buf_free(&d.tmp);
	return v;
}
