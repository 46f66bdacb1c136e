/* hmap: a hash map from strings, or byte strings (the _mem functions),
 * to pointers (open addressing, linear probing, deletion by backward
 * shift).
 *
 * Ownership: the map owns a copy of every key (stable while the key is in
 * the map: the entry's key); values belong to the caller. */
#ifndef SVCNFT_HMAP_H
#define SVCNFT_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hent {
	char *key;			/* NULL: free */
	uint32_t h, len;		/* hash and length of the key */
	void *val;
};

struct hmap {
	struct hent *t;
	size_t n, cap;			/* cap: 0 or a power of two */
};

uint64_t hmap_hash(const void *s, size_t n);
void *hmap_get(const struct hmap *m, const char *key);
/* The entry of KEY, or NULL. */
struct hent *hmap_find(const struct hmap *m, const char *key);
/* The entry of KEY, created (value NULL) if absent; *CREATED says which. */
struct hent *hmap_put(struct hmap *m, const char *key, bool *created);
/* As hmap_put, but the map takes KEY (malloc'd): kept if the entry is
 * created, else freed. */
struct hent *hmap_put_take(struct hmap *m, char *key, bool *created);
/* Remove KEY; its value (or NULL) is returned and its key freed. */
void *hmap_del(struct hmap *m, const char *key);

/* Keys of LEN bytes (any bytes): the same. */
struct hent *hmap_find_mem(const struct hmap *m, const void *key, size_t len);
struct hent *hmap_put_mem(struct hmap *m, const void *key, size_t len,
			  bool *created);
struct hent *hmap_put_mem_take(struct hmap *m, void *key, size_t len,
			       bool *created);
void *hmap_del_mem(struct hmap *m, const void *key, size_t len);
void hmap_free(struct hmap *m);
static inline size_t hmap_count(const struct hmap *m)
{
	return m->n;
}

/* for (struct hent *x = hmap_next(m, NULL); x; x = hmap_next(m, x)) */
struct hent *hmap_next(const struct hmap *m, struct hent *prev);

#endif
