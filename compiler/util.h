/* Small helpers: buffers, error records, allocation. */
#ifndef SVCNFT_UTIL_H
#define SVCNFT_UTIL_H

#include <stdarg.h>
#include <stdint.h>
#include "svcnft.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PRINTF(a, b) __attribute__((format(printf, a, b)))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* Grow *V (of *CAP elements of SZ bytes) to hold at least N + 1. */
void *grow(void *v, size_t *cap, size_t n, size_t sz);

void buf_add(struct svcnft_buf *b, const char *s, size_t n);
void buf_puts(struct svcnft_buf *b, const char *s);
void buf_printf(struct svcnft_buf *b, const char *fmt, ...) PRINTF(2, 3);
void buf_vprintf(struct svcnft_buf *b, const char *fmt, va_list ap) PRINTF(2, 0);
void buf_putc(struct svcnft_buf *b, char c);
/* V in decimal (buf_printf's "%llu" without its cost, per element). */
void buf_putu(struct svcnft_buf *b, unsigned long long v);
/* Append at most MAX bytes of S made safe for an nft string: only
 * [A-Za-z0-9 ./:_-] pass, anything else becomes '_'.  The single escaping
 * path of text into nft scripts; buf_nft_quoted() adds the quotes. */
void buf_nft_safe(struct svcnft_buf *b, const char *s, size_t max);
void buf_nft_quoted(struct svcnft_buf *b, const char *s);

/* Append S in double quotes for messages, as Go's %q (strconv.Quote):
 * printable UTF-8 runes as they are ("café"), quote and backslash
 * escaped, \n \t ... named, other controls and ill-formed bytes as \xNN,
 * non-printable runes as \uNNNN / \UNNNNNNNN.  Printable is Go's
 * unicode.IsPrint approximated (see rune_printable): every control, bidi
 * and zero-width format character is escaped, so no input can forge a
 * line, a terminal sequence or reordered text. */
void buf_go_quoted(struct svcnft_buf *b, const char *s);

/* A fast 64-bit hash of N bytes at P continuing from H (not
 * cryptographic): input digests and the saved state's body hash. */
#define HASH64_INIT 0xcbf29ce484222325ULL
uint64_t hash64(uint64_t h, const void *p, size_t n);
/* The same in pieces: init with H, update with each, final. */
struct hash64 {
	uint64_t h;
	unsigned char tail[8];
	size_t n_tail;
};
void hash64_init(struct hash64 *s, uint64_t h);
void hash64_update(struct hash64 *s, const void *p, size_t n);
uint64_t hash64_final(const struct hash64 *s);

/* "s" unless N is 1: "%zu service%s", n, plural(n). */
const char *plural(size_t n);

void errs_add(struct svcnft_errors *e, enum svcnft_status st,
	      const char *fmt, ...) PRINTF(3, 4);
void errs_vadd(struct svcnft_errors *e, enum svcnft_status st,
	       const char *fmt, va_list ap) PRINTF(3, 0);

#endif
