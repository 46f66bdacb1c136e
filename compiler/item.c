/* item: see item.h. */
#include <stdlib.h>
#include <string.h>

#include "item.h"
#include "util.h"

static size_t verdict_len(const struct item *it)
{
	return it->flags & ITEM_VERDICT ? 4 : 0;
}

size_t item_size(const struct item *it)
{
	return sizeof(*it) + it->name_len + 1u + it->klen + it->kelen + it->dlen +
	       verdict_len(it) + it->chain_len + it->comment_len;
}

static uint8_t *put(uint8_t *p, const void *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

static struct item *alloc(const struct item *head)
{
	struct item *it = xmalloc(item_size(head));

	*it = *head;
	return it;
}

struct item *item_pack(const struct el_record *r)
{
	struct item h = {
		.kind = ITEM_ELEM,
		.flags = (uint8_t)((r->has_verdict ? ITEM_VERDICT : 0) |
				   (r->interval_end ? ITEM_INTERVAL_END : 0)),
		.name_len = (uint8_t)strlen(r->set), .klen = (uint8_t)r->klen,
		.kelen = (uint8_t)r->kelen, .dlen = (uint8_t)r->dlen,
		.chain_len = (uint8_t)(r->has_verdict ? strlen(r->chain) : 0),
		.comment_len = (uint8_t)strlen(r->comment),
	};
	struct item *it = alloc(&h);
	uint8_t *p = it->b;

	p = put(p, r->set, h.name_len + 1u);
	p = put(p, r->key, r->klen);
	p = put(p, r->key_end, r->kelen);
	p = put(p, r->data, r->dlen);
	if (r->has_verdict)
		p = put(p, &r->verdict, 4);
	p = put(p, r->chain, h.chain_len);
	put(p, r->comment, h.comment_len);
	return it;
}

struct item *item_named(enum item_kind kind, const char *name)
{
	struct item h = { .kind = (uint8_t)kind, .name_len = (uint8_t)strlen(name) };
	struct item *it = alloc(&h);

	put(it->b, name, h.name_len + 1u);
	return it;
}

static const uint8_t *get(void *d, const uint8_t *p, size_t n)
{
	memcpy(d, p, n);
	return p + n;
}

void item_unpack(const struct item *it, struct el_record *r)
{
	const uint8_t *p = get(r->set, it->b, it->name_len + 1u);

	r->klen = it->klen;
	r->kelen = it->kelen;
	r->dlen = it->dlen;
	r->has_verdict = it->flags & ITEM_VERDICT;
	r->interval_end = it->flags & ITEM_INTERVAL_END;
	p = get(r->key, p, it->klen);
	p = get(r->key_end, p, it->kelen);
	p = get(r->data, p, it->dlen);
	r->verdict = 0;
	if (r->has_verdict)
		p = get(&r->verdict, p, 4);
	p = get(r->chain, p, it->chain_len);
	r->chain[it->chain_len] = '\0';
	get(r->comment, p, it->comment_len);
	r->comment[it->comment_len] = '\0';
}

bool item_format(struct svcnft_buf *b, const struct item *it)
{
	struct el_record r;

	item_unpack(it, &r);
	return rec_format(b, &r);
}
