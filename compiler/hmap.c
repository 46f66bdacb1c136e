/* hmap: see hmap.h. */
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "util.h"

uint64_t hmap_hash(const void *p, size_t n)
{
	const uint8_t *s = p;
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ull;
	return h ^ (h >> 29);
}

static size_t home(const struct hmap *m, uint32_t h)
{
	return (size_t)h & (m->cap - 1);
}

/* KEY's entry, or the free one where it would go; M has room (cap > 0). */
static struct hent *lookup(const struct hmap *m, const void *key, size_t len,
			   uint32_t h)
{
	for (size_t i = home(m, h);; i = (i + 1) & (m->cap - 1)) {
		struct hent *e = &m->t[i];

		if (!e->key)
			return e;
		if (e->h == h && e->len == len && !memcmp(e->key, key, len))
			return e;
	}
}

struct hent *hmap_find_mem(const struct hmap *m, const void *key, size_t len)
{
	struct hent *e;

	if (!m->cap)
		return NULL;
	e = lookup(m, key, len, (uint32_t)hmap_hash(key, len));
	return e->key ? e : NULL;
}

struct hent *hmap_find(const struct hmap *m, const char *key)
{
	return hmap_find_mem(m, key, strlen(key));
}

void *hmap_get(const struct hmap *m, const char *key)
{
	struct hent *e = hmap_find(m, key);

	return e ? e->val : NULL;
}

static void resize(struct hmap *m, size_t cap)
{
	struct hent *old = m->t;
	size_t n = m->cap;

	m->t = xcalloc(cap, sizeof(*m->t));
	m->cap = cap;
	for (size_t i = 0; i < n; i++)
		if (old[i].key)
			*lookup(m, old[i].key, old[i].len, old[i].h) = old[i];
	free(old);
}

/* The entry of KEY; a new one holds no key yet (the caller sets it). */
static struct hent *slot(struct hmap *m, const void *key, size_t len,
			 bool *created)
{
	uint32_t h = (uint32_t)hmap_hash(key, len);
	struct hent *e;

	if ((m->n + 1) * 4 > m->cap * 3)
		resize(m, m->cap ? m->cap * 2 : 4);
	e = lookup(m, key, len, h);
	*created = !e->key;
	if (*created) {
		*e = (struct hent){ NULL, h, (uint32_t)len, NULL };
		m->n++;
	}
	return e;
}

struct hent *hmap_put(struct hmap *m, const char *key, bool *created)
{
	struct hent *e = slot(m, key, strlen(key), created);

	if (*created)
		e->key = xstrdup(key);
	return e;
}

struct hent *hmap_put_mem(struct hmap *m, const void *key, size_t len,
			  bool *created)
{
	struct hent *e = slot(m, key, len, created);

	if (*created)
		e->key = memcpy(xmalloc(len ? len : 1), key, len);
	return e;
}

struct hent *hmap_put_mem_take(struct hmap *m, void *key, size_t len,
			       bool *created)
{
	struct hent *e = slot(m, key, len, created);

	if (*created)
		e->key = key;
	else
		free(key);
	return e;
}

struct hent *hmap_put_take(struct hmap *m, char *key, bool *created)
{
	return hmap_put_mem_take(m, key, strlen(key), created);
}

void *hmap_del(struct hmap *m, const char *key)
{
	return hmap_del_mem(m, key, strlen(key));
}

void *hmap_del_mem(struct hmap *m, const void *key, size_t len)
{
	struct hent *e = hmap_find_mem(m, key, len);
	size_t i, j;
	void *val;

	if (!e)
		return NULL;
	val = e->val;
	free(e->key);
	i = (size_t)(e - m->t);
	/* shift back the entries of the cluster that may move up */
	for (j = (i + 1) & (m->cap - 1); m->t[j].key; j = (j + 1) & (m->cap - 1)) {
		size_t k = home(m, m->t[j].h);

		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			m->t[i] = m->t[j];
			i = j;
		}
	}
	m->t[i] = (struct hent){ NULL, 0, 0, NULL };
	m->n--;
	return val;
}

void hmap_free(struct hmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->t[i].key);
	free(m->t);
	memset(m, 0, sizeof(*m));
}

struct hent *hmap_next(const struct hmap *m, struct hent *prev)
{
	size_t i = prev ? (size_t)(prev - m->t) + 1 : 0;

	for (; i < m->cap; i++)
		if (m->t[i].key)
			return &m->t[i];
	return NULL;
}
