/* json_fast: a fast decoder of one JSON value for load.c (json_fast.c). */
#ifndef SVCNFT_JSON_FAST_H
#define SVCNFT_JSON_FAST_H

#include <jansson.h>

/* The value in [P, P + LEN) (surrounding blanks allowed), new reference,
 * equal in types, order and content to what json_loadb(JSON_DECODE_ANY)
 * returns; NULL for anything it does not decode itself (any error,
 * non-ASCII text, \u0000, an integer out of range...): then the caller
 * asks jansson, which also words the errors. */
json_t *json_fast_decode(const char *p, size_t len);

#endif
