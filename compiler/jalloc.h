/* jalloc: jansson's memory for a list's items, and the thread that decodes
 * them.
 *
 * Decoding, reading and dropping one list item (~3 kB of JSON) mallocs and
 * frees a few hundred small blocks, which otherwise interleave with the
 * model's own allocations.  Here each queued item is decoded into an arena
 * of its own: allocations cost a pointer bump, and the arena is reused at
 * once when the item is dropped.  Past an arena's size, and for any other
 * jansson value, jansson gets the process's malloc as before.
 *
 * jansson is ~half of a compile's CPU: the decoder's thread decodes the
 * next items while the caller loads the one before (decoded in order).
 *
 * Ownership: the decoder owns the bytes put and the values until
 * decoder_get hands one out; the caller gives it back with decoder_drop,
 * which reuses its arena (a value still referenced aborts: the caller's
 * bug), before the next decoder_get or decoder_free. */
#ifndef SVCNFT_JALLOC_H
#define SVCNFT_JALLOC_H

#include <jansson.h>
#include <stdbool.h>
#include "svcnft.h"

struct decoder;

/* A decoder.  Its thread starts at the 17th item put (before, and if it
 * cannot start, decoder_put decodes at once). */
struct decoder *decoder_new(void);
/* Drops what was not handed out, stops the thread. */
void decoder_free(struct decoder *d);
/* Whether another item can be put before one is got. */
bool decoder_room(const struct decoder *d);
/* Items put and not got yet. */
size_t decoder_queued(const struct decoder *d);
/* Decode BUF's bytes (BUF is swapped with an empty buffer of the
 * decoder's); TAG[2] comes back with the value. */
void decoder_put(struct decoder *d, struct svcnft_buf *buf, const size_t tag[2]);
/* The oldest item put (one must be queued): its value, or NULL when
 * jansson refused it (why in JE); its TAG. */
json_t *decoder_get(struct decoder *d, size_t tag[2], json_error_t *je);
/* Done with V, the value decoder_get handed out (NULL: none, or it failed;
 * a value of the caller's own is just json_decref'd). */
void decoder_drop(struct decoder *d, json_t *v);

#endif
