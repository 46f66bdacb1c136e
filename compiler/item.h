/* item: what the engine counts and struct changes carries: a set element
 * as a packed, immutable record (compiler/record.h), or a chain or a set
 * (or map) by name.
 *
 * An item is one allocation of item_size() bytes holding all its fields,
 * so it is hashed and compared as bytes (hmap's _mem keys); its text
 * view is rec_format()'s.  Ownership: item_pack and item_named return
 * malloc'd items the caller frees (free()); an item points at nothing. */
#ifndef SVCNFT_ITEM_H
#define SVCNFT_ITEM_H

#include <stdint.h>

#include "record.h"

enum item_kind { ITEM_ELEM, ITEM_CHAIN, ITEM_SET };

struct item {
	uint8_t kind;			/* enum item_kind */
	uint8_t flags;			/* ITEM_VERDICT, ITEM_INTERVAL_END */
	uint8_t name_len, klen, kelen, dlen, chain_len, comment_len;
	/* the set (chain, map) name and its NUL, key, key_end, data, the
	 * verdict code (4 bytes, when ITEM_VERDICT), chain, comment */
	uint8_t b[];
};

#define ITEM_VERDICT 1
#define ITEM_INTERVAL_END 2

struct item *item_pack(const struct el_record *r);
struct item *item_named(enum item_kind kind, const char *name);
size_t item_size(const struct item *it);
/* The set of an element, or the chain's or set's name. */
static inline const char *item_name(const struct item *it)
{
	return (const char *)it->b;
}
/* The record of element IT into R. */
void item_unpack(const struct item *it, struct el_record *r);
/* Append element IT's canonical text (rec_format) to B; false as there. */
bool item_format(struct svcnft_buf *b, const struct item *it);

#endif
