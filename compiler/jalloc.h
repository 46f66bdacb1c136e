/* jalloc: jansson's allocations for one short-lived value from a block of
 * this thread's, handed out in order and dropped all at once.
 *
 * Decoding, reading and dropping one list item (~3 kB of JSON) mallocs and
 * frees a few hundred small blocks, which otherwise interleave with the
 * model's own allocations; here they cost a pointer bump each.  Outside
 * jalloc_begin .. jalloc_end, and past the block's size, jansson gets the
 * process's malloc as before. */
#ifndef SVCNFT_JALLOC_H
#define SVCNFT_JALLOC_H

/* This thread's jansson allocations come from its block until jalloc_end. */
void jalloc_begin(void);
/* Every value decoded since jalloc_begin is gone (json_decref): the block is
 * reused (one still referenced aborts: the caller's bug). */
void jalloc_end(void);
/* Free this thread's block (after its last jalloc_end). */
void jalloc_release(void);

#endif
