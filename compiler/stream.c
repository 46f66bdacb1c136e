/* stream: find each top-level object of a watch stream by bracket depth
 * outside strings, then let jansson decode (and judge) exactly that
 * extent.  The scan resumes where the previous bytes ended, so feeding a
 * byte at a time costs what feeding it whole does. */
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "stream.h"
#include "util.h"

struct stream {
	char *name;
	char *d;
	size_t len, cap;
	size_t pos;		/* next byte to scan */
	size_t start;		/* first byte of the object being read */
	size_t depth;		/* 0: between objects */
	bool in_str, esc;
	size_t line, line_start;	/* line of byte LINE_START (1-based) */
	size_t obj_line, obj_col;	/* where the object being read starts */
};

struct stream *stream_new(const char *name)
{
	struct stream *s = xcalloc(1, sizeof(*s));

	s->name = xstrdup(name);
	stream_reset(s);
	return s;
}

void stream_free(struct stream *s)
{
	if (!s)
		return;
	free(s->name);
	free(s->d);
	free(s);
}

void stream_reset(struct stream *s)
{
	s->len = s->pos = s->start = s->depth = 0;
	s->in_str = s->esc = false;
	s->line = 1;
	s->line_start = 0;
}

size_t stream_pending(const struct stream *s)
{
	return s->depth ? s->len - s->start : 0;
}

/* Drop the bytes before the object being read. */
static void compact(struct stream *s)
{
	size_t drop = s->depth ? s->start : s->pos;

	if (!drop)
		return;
	memmove(s->d, s->d + drop, s->len - drop);
	s->len -= drop;
	s->pos -= drop;
	s->start = s->start > drop ? s->start - drop : 0;
	s->line_start = s->line_start > drop ? s->line_start - drop : 0;
}

bool stream_feed(struct stream *s, const char *data, size_t n,
		 struct svcnft_errors *errs)
{
	compact(s);
	if (s->len + n > limits_cur()->input_bytes) {
		errs_add(errs, SVCNFT_EUSAGE, "%s:%zu:%zu: an object larger than %zu bytes (--limit input-bytes)",
			 s->name, s->obj_line, s->obj_col, limits_cur()->input_bytes);
		return false;
	}
	if (s->len + n + 1 > s->cap) {
		s->cap = (s->len + n + 1) * 2;
		s->d = xrealloc(s->d, s->cap);
	}
	memcpy(s->d + s->len, data, n);
	s->len += n;
	s->d[s->len] = '\0';
	return true;
}

/* An EUSAGE record at LINE:COL; MSG (jansson's, quoting the input) made
 * safe: no raw control or non-ASCII byte reaches a terminal. */
static int malformed(struct stream *s, size_t line, size_t col, const char *msg,
		     struct svcnft_errors *errs)
{
	struct svcnft_buf t = {0};

	buf_puts(&t, "");
	for (const char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			buf_printf(&t, "\\x%02x", (unsigned char)*c);
		else
			buf_putc(&t, *c);
	errs_add(errs, SVCNFT_EUSAGE, "%s:%zu:%zu: malformed JSON: %s", s->name,
		 line, col, t.data);
	svcnft_buf_free(&t);
	return -1;
}

static size_t col_of(const struct stream *s, size_t p)
{
	return p - s->line_start + 1;
}

/* Between objects: whitespace, then '{'.  1: an object starts at s->pos. */
static int skip_to_object(struct stream *s, struct svcnft_errors *errs)
{
	for (; s->pos < s->len; s->pos++) {
		char c = s->d[s->pos];

		if (c == '\n') {
			s->line++;
			s->line_start = s->pos + 1;
		} else if (c == '{') {
			s->start = s->pos;
			s->obj_line = s->line;
			s->obj_col = col_of(s, s->pos);
			return 1;
		} else if (!strchr(" \t\r", c) || !c) {
			return malformed(s, s->line, col_of(s, s->pos),
					 "expected '{' (a watch event object)", errs);
		}
	}
	return 0;
}

/* Scan the object that starts at s->start: 1 when its closing brace was
 * reached (s->pos just after it), 0 when more bytes are needed. */
static int scan_object(struct stream *s, struct svcnft_errors *errs)
{
	size_t max_depth = limits_cur()->depth;

	for (; s->pos < s->len; s->pos++) {
		char c = s->d[s->pos];

		if (c == '\n') {
			s->line++;
			s->line_start = s->pos + 1;
		}
		if (s->in_str) {
			if (s->esc)
				s->esc = false;
			else if (c == '\\')
				s->esc = true;
			else if (c == '"')
				s->in_str = false;
			continue;
		}
		if (c == '"') {
			s->in_str = true;
		} else if (c == '{' || c == '[') {
			if (++s->depth > max_depth)
				return malformed(s, s->line, col_of(s, s->pos),
						 "nested deeper than the limit (--limit depth)", errs);
		} else if ((c == '}' || c == ']') && --s->depth == 0) {
			s->pos++;
			return 1;
		}
	}
	return 0;
}

int stream_next(struct stream *s, json_t **out, struct svcnft_errors *errs)
{
	json_error_t je;
	int r;

	*out = NULL;
	if (!s->depth) {
		if ((r = skip_to_object(s, errs)) <= 0)
			return r;
		s->depth = 1;
		s->pos++;
	}
	if ((r = scan_object(s, errs)) <= 0)
		return r;
	*out = json_loadb(s->d + s->start, s->pos - s->start, 0, &je);
	if (!*out)
		return malformed(s, s->obj_line + (size_t)(je.line > 1 ? je.line - 1 : 0),
				 je.line > 1 ? (size_t)je.column : s->obj_col + (size_t)je.column - 1,
				 je.text, errs);
	s->start = s->pos;
	return 1;
}

static const char *const type_names[] = { "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR" };

const char *watch_type_name(enum watch_type t)
{
	return type_names[t];
}

bool watch_event_parse(json_t *v, const char *name, struct watch_event *ev,
		       struct svcnft_errors *errs)
{
	const char *type = json_string_value(json_object_get(v, "type"));
	json_t *obj = json_object_get(v, "object");

	for (size_t i = 0; type && i < ARRAY_SIZE(type_names); i++)
		if (!strcmp(type, type_names[i]) && json_is_object(obj)) {
			ev->type = (enum watch_type)i;
			ev->object = json_incref(obj);
			return true;
		}
	errs_add(errs, SVCNFT_EUSAGE, "%s: not a watch event: want {\"type\": ADDED, MODIFIED, DELETED, BOOKMARK or ERROR, \"object\": {...}}",
		 name);
	return false;
}
