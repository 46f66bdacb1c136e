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
