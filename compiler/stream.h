/* stream: kubectl's watch output (`get --watch --output-watch-events -o
 * json`), pretty-printed JSON objects one after another, fed in pieces as
 * they arrive from a pipe; yields each whole object, then its event.  Or
 * its List (`get -o json`): yields each element of "items" as it arrives.
 *
 * Ownership: a stream owns its buffered bytes; objects and events handed
 * out belong to the caller (json_decref). */
#ifndef SVCNFT_STREAM_H
#define SVCNFT_STREAM_H

#include <jansson.h>
#include "svcnft.h"

/* The one scanner of JSON value extents (load.c's files, kubectl's
 * streams): a value is found by bracket depth outside strings, a piece at a
 * time, and jansson decodes (and judges) exactly that extent, copied
 * without the blanks outside strings, which cost jansson
 * ~5 ns a byte (a pretty-printed list is 2/3 blanks); blanks between two
 * bare tokens ("1 2") stay one space, so no two tokens merge.  The value
 * owns its copy (jvalue_free). */
struct jvalue {
	size_t scanned;		/* bytes of the value scanned so far */
	size_t depth, base;	/* open brackets in it; brackets around it */
	size_t str_start;	/* of the string being scanned */
	bool scalar, in_str, esc, gap;
	struct svcnft_buf copy;	/* the value without its blanks */
	const char *error;	/* why jvalue_scan refused (-1) */
};

/* A value whose first byte is FIRST starts, inside BASE brackets. */
void jvalue_start(struct jvalue *v, char first, size_t base);
/* Scan on, D being the value's first byte and LEN bytes there: 1 when it
 * ends at D[v->scanned]; 0 when more bytes are needed; -1 when a limit is
 * hit (v->error at D[v->scanned]: --limit depth or string-bytes). */
int jvalue_scan(struct jvalue *v, const char *d, size_t len);
/* The N bytes at D, the value scanned: decoded (the copy first; on an
 * error the bytes as they are, for jansson's positions), or NULL and JE. */
json_t *jvalue_decode(struct jvalue *v, const char *d, size_t n, json_error_t *je);
void jvalue_free(struct jvalue *v);

/* Line and column of a byte of a stream, counted only up to where they are
 * asked for.  SHIFT: bytes dropped before the buffer. */
struct jlines {
	size_t line, line_start, counted, shift;
};
#define JLINES_INIT { .line = 1 }
/* Count up to byte POS of D (D's bytes from l->counted not counted yet). */
void jlines_count(struct jlines *l, const char *d, size_t pos);
/* The column of POS, counted. */
size_t jlines_col(const struct jlines *l, size_t pos);
/* The first N bytes of D are dropped from the buffer. */
void jlines_drop(struct jlines *l, const char *d, size_t n);
/* Past the blanks from POS: the first other byte, or LEN. */
size_t json_blanks(const char *d, size_t pos, size_t len);

/* An EUSAGE record NAME:LINE:COL: malformed JSON: MSG HINT, MSG made safe
 * (jansson quotes the input: no control or non-ASCII byte goes out raw). */
void json_malformed(struct svcnft_errors *errs, const char *name, size_t line,
		    size_t col, const char *msg, const char *hint);
/* jansson's JE on a value that starts at LINE:COL, as json_malformed. */
void json_refused(struct svcnft_errors *errs, const char *name, size_t line,
		  size_t col, const json_error_t *je, const char *hint);

struct stream;

/* NAME names the stream in messages ("kubectl get services --watch"). */
struct stream *stream_new(const char *name);
/* One List instead: stream_next yields each element of its "items" array
 * once whole (1), then at its closing brace STREAM_LIST_END with *OUT its
 * other members (kind, apiVersion, metadata) and "items": [] if "items"
 * was an array (else it is not a List).  A second List is an EUSAGE
 * record "NAME: more than one List" (-1). */
struct stream *stream_new_list(const char *name);
#define STREAM_LIST_END 2
void stream_free(struct stream *s);
/* Forget every buffered byte: a restarted stream. */
void stream_reset(struct stream *s);

/* Append N bytes.  False (an EUSAGE record; reset before feeding again)
 * when the object being read grows past --limit input-bytes. */
bool stream_feed(struct stream *s, const char *data, size_t n,
		 struct svcnft_errors *errs);

/* The next whole top-level object into *OUT: 1; 0 when more bytes are
 * needed; -1 on malformed input (an EUSAGE record FILE:LINE:COLUMN:
 * malformed JSON: ...; reset before feeding again). */
int stream_next(struct stream *s, json_t **out, struct svcnft_errors *errs);

/* Bytes buffered of a value that is not whole yet (only whitespace: 0). */
size_t stream_pending(const struct stream *s);

enum watch_type { WATCH_ADDED, WATCH_MODIFIED, WATCH_DELETED, WATCH_BOOKMARK,
		  WATCH_ERROR };

struct watch_event {
	enum watch_type type;
	json_t *object;		/* a reference of its own */
};

/* EV from a decoded watch event {"type": ..., "object": {...}}; false (an
 * EUSAGE record naming NAME) when it is not one. */
bool watch_event_parse(json_t *v, const char *name, struct watch_event *ev,
		       struct svcnft_errors *errs);
const char *watch_type_name(enum watch_type t);

#endif
