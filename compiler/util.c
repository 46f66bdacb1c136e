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

bool buf_read_file(struct svcnft_buf *b, const char *path)
{
	FILE *f = fopen(path, "r");
	char chunk[65536];
	size_t n;

	if (!f)
		return false;
	buf_puts(b, "");
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(b, chunk, n);
	n = (size_t)ferror(f);
	fclose(f);
	return !n;
}

bool write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
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

void buf_go_quoted(struct svcnft_buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		const char *esc = c && c < 0x0e ? strchr("\a\b\t\n\v\f\r", c) : NULL;

		if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (esc)	/* Go's %q names these */
			buf_printf(b, "\\%c", "abtnvfr"[esc - "\a\b\t\n\v\f\r"]);
		else if (c < 0x20 || c >= 0x7f)
			buf_printf(b, "\\x%02x", c);
		else
			buf_putc(b, (char)c);
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
