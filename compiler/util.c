#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static void oom(void)
{
	fputs("svcnft: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		oom();
	return d;
}

static uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

#define HK1 0x9e3779b97f4a7c15ULL
#define HK2 0xc2b2ae3d27d4eb4fULL

void hash64_init(struct hash64 *s, uint64_t seed)
{
	s->h = seed;
	s->n_tail = 0;
}

/* Eight bytes per step; a partial word waits in the tail. */
void hash64_update(struct hash64 *s, const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t w;

	while (s->n_tail && s->n_tail < 8 && n) {
		s->tail[s->n_tail++] = *b++;
		n--;
	}
	if (s->n_tail == 8) {
		memcpy(&w, s->tail, 8);
		s->h = rotl64(s->h ^ (w * HK2), 31) * HK1;
		s->n_tail = 0;
	}
	for (; n >= 8; b += 8, n -= 8) {
		memcpy(&w, b, 8);
		s->h = rotl64(s->h ^ (w * HK2), 31) * HK1;
	}
	memcpy(s->tail + s->n_tail, b, n);
	s->n_tail += n;
}

/* The tail and its length are mixed in last. */
uint64_t hash64_final(const struct hash64 *s)
{
	uint64_t w = (uint64_t)s->n_tail << 56, h;

	memcpy(&w, s->tail, s->n_tail);
	h = rotl64(s->h ^ (w * HK2), 31) * HK1;
	h ^= h >> 33;
	h *= HK2;
	return h ^ (h >> 29);
}

uint64_t hash64(uint64_t h, const void *p, size_t n)
{
	struct hash64 s;

	hash64_init(&s, h);
	hash64_update(&s, p, n);
	return hash64_final(&s);
}

void *grow(void *v, size_t *cap, size_t n, size_t sz)
{
	if (n + 1 <= *cap)
		return v;
	*cap = *cap ? *cap * 2 : 8;
	while (*cap < n + 1)
		*cap *= 2;
	return xrealloc(v, *cap * sz);
}

void svcnft_buf_free(struct svcnft_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static void buf_reserve(struct svcnft_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	b->cap = b->cap ? b->cap : 4096;
	while (b->cap < need)
		b->cap *= 2;
	b->data = xrealloc(b->data, b->cap);
}

void buf_add(struct svcnft_buf *b, const char *s, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_putu(struct svcnft_buf *b, unsigned long long v)
{
	char s[24], *p = s + sizeof(s);

	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	buf_add(b, p, (size_t)(s + sizeof(s) - p));
}

void buf_puts(struct svcnft_buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_putc(struct svcnft_buf *b, char c)
{
	buf_add(b, &c, 1);
}

void buf_vprintf(struct svcnft_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	buf_reserve(b, 128);
	va_copy(cp, ap);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		buf_reserve(b, (size_t)n);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void buf_printf(struct svcnft_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

static bool nft_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == ' ' || c == '.' || c == '/' ||
	       c == ':' || c == '_' || c == '-';
}

void buf_nft_safe(struct svcnft_buf *b, const char *s, size_t max)
{
	for (; *s && max; s++, max--)
		buf_putc(b, nft_safe((unsigned char)*s) ? *s : '_');
}

void buf_nft_quoted(struct svcnft_buf *b, const char *s)
{
	buf_putc(b, '"');
	buf_nft_safe(b, s, (size_t)-1);
	buf_putc(b, '"');
}

/* The rune of the well-formed UTF-8 sequence at S, and its length; 0 for
 * an ill-formed one (overlong, surrogate, beyond U+10FFFF, truncated). */
static size_t utf8_rune(const unsigned char *s, uint32_t *r)
{
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;

	if (!n || s[0] > 0xf4)
		return 0;
	*r = s[0] & (0x7fu >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*r = *r << 6 | (s[i] & 0x3fu);
	}
	if (*r < min[n] || *r > 0x10ffff || (*r >= 0xd800 && *r <= 0xdfff))
		return 0;
	return n;
}

/* Go's unicode.IsPrint, approximated for runes >= U+0080 (its exact table
 * is large): C1 controls, spaces other than U+0020, format characters
 * (bidi embeddings, overrides and isolates, zero-width ones, tags),
 * line and paragraph separators, private use and noncharacters are not
 * printable; unassigned code points count as printable. */
static bool rune_printable(uint32_t r)
{
	static const uint32_t no[][2] = {
		{ 0x80, 0xa0 }, { 0xad, 0xad }, { 0x600, 0x605 }, { 0x61c, 0x61c },
		{ 0x6dd, 0x6dd }, { 0x70f, 0x70f }, { 0x890, 0x891 },
		{ 0x8e2, 0x8e2 }, { 0x1680, 0x1680 }, { 0x180e, 0x180e },
		{ 0x2000, 0x200f }, { 0x2028, 0x202f }, { 0x205f, 0x206f },
		{ 0x3000, 0x3000 }, { 0xe000, 0xf8ff }, { 0xfdd0, 0xfdef },
		{ 0xfeff, 0xfeff }, { 0xfff9, 0xfffb }, { 0x110bd, 0x110bd },
		{ 0x110cd, 0x110cd }, { 0x13430, 0x1343f }, { 0x1bca0, 0x1bca3 },
		{ 0x1d173, 0x1d17a }, { 0xe0000, 0xe0fff }, { 0xf0000, 0x10ffff },
	};

	if ((r & 0xfffe) == 0xfffe)	/* U+xxFFFE, U+xxFFFF */
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(no) && r >= no[i][0]; i++)
		if (r <= no[i][1])
			return false;
	return true;
}

/* One ASCII byte as Go's %q writes it. */
static void go_quote_ascii(struct svcnft_buf *b, unsigned char c)
{
	const char *esc = c && c < 0x0e ? strchr("\a\b\t\n\v\f\r", c) : NULL;

	if (c == '"' || c == '\\')
		buf_printf(b, "\\%c", c);
	else if (esc)	/* Go's %q names these */
		buf_printf(b, "\\%c", "abtnvfr"[esc - "\a\b\t\n\v\f\r"]);
	else if (c < 0x20 || c == 0x7f)
		buf_printf(b, "\\x%02x", c);
	else
		buf_putc(b, (char)c);
}

void buf_go_quoted(struct svcnft_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	buf_putc(b, '"');
	while (*p) {
		uint32_t r;
		size_t n = *p < 0x80 ? 1 : utf8_rune(p, &r);

		if (*p < 0x80)
			go_quote_ascii(b, *p);
		else if (!n)
			buf_printf(b, "\\x%02x", *p);
		else if (rune_printable(r))
			buf_add(b, (const char *)p, n);
		else
			buf_printf(b, r < 0x10000 ? "\\u%04x" : "\\U%08x", (unsigned int)r);
		p += n ? n : 1;
	}
	buf_putc(b, '"');
}

const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

void errs_vadd(struct svcnft_errors *e, enum svcnft_status st,
	       const char *fmt, va_list ap)
{
	struct svcnft_buf b = {0};

	buf_vprintf(&b, fmt, ap);
	e->v = grow(e->v, &e->cap, e->n, sizeof(*e->v));
	e->v[e->n].status = st;
	e->v[e->n].text = b.data;
	e->n++;
	if (st == SVCNFT_OK)
		e->nwarn++;
}

void errs_add(struct svcnft_errors *e, enum svcnft_status st,
	      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errs_vadd(e, st, fmt, ap);
	va_end(ap);
}

void svcnft_errors_free(struct svcnft_errors *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].text);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

enum svcnft_status svcnft_errors_status(const struct svcnft_errors *e)
{
	enum svcnft_status st = SVCNFT_OK;

	for (size_t i = 0; i < e->n; i++)
		if (e->v[i].status > st)
			st = e->v[i].status;
	return st;
}

void svcnft_errors_print(const struct svcnft_errors *e, FILE *f)
{
	for (size_t i = 0; i < e->n; i++)
		fprintf(f, "%s\n", e->v[i].text);
}
