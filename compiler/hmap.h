/* hmap: a hash map from strings to pointers (open addressing, linear
 * probing, deletion by backward shift).
 *
 * Ownership: the map owns a copy of every key (stable while the key is in
 * the map: hmap_key returns it); values belong to the caller. */
#ifndef SVCNFT_HMAP_H
#define SVCNFT_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hent {
	char *key;			/* NULL: free */
	uint64_t h;
	void *val;
};

struct hmap {
	struct hent *t;
	size_t n, cap;			/* cap: 0 or a power of two */
};

uint64_t hmap_hash(const char *s, size_t n);
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
void hmap_free(struct hmap *m);
static inline size_t hmap_count(const struct hmap *m)
{
	return m->n;
}

/* for (struct hent *x = hmap_next(m, NULL); x; x = hmap_next(m, x)) */
struct hent *hmap_next(const struct hmap *m, struct hent *prev);

#endif
