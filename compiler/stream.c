/* stream: find the extent of each value by bracket depth outside strings,
 * then let jansson decode (and judge) exactly that extent.  The scan
 * resumes where the previous bytes ended, so feeding a byte at a time
 * costs what feeding it whole does.
 *
 * Events: top-level objects one after another.  A List: one top-level
 * object whose members are scanned one by one (key, ':', value, ','), so
 * each element of "items" is decoded as soon as it is whole and only that
 * element's bytes are held. */
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "stream.h"
#include "util.h"

/* Where a List's scan is: what the next byte that is not blank may be. */
enum lstate {
	LS_TOP,		/* the List's '{' */
	LS_KEY,		/* a member's key (or '}' first) */
	LS_COLON,
	LS_VALUE,	/* a member's value */
	LS_AFTER_VALUE,	/* ',' or '}' */
	LS_ITEM,	/* an element of "items" (or ']' first) */
	LS_AFTER_ITEM,	/* ',' or ']' */
	LS_DONE,	/* after the List: nothing more */
};

struct stream {
	char *name;
	char *d;
	size_t len, cap;
	size_t pos;		/* next byte to scan */
	size_t start;		/* first byte of the value being read */
	size_t depth;		/* open brackets in the value being read */
	size_t base;		/* brackets around it */
	bool in_value, scalar, in_str, esc;
	size_t line, line_start;	/* line of byte LINE_START (1-based) */
	size_t obj_line, obj_col;	/* where the value being read starts */
	/* a List */
	bool list, first;	/* first: right after '{' or '[' */
	enum lstate ls;
	char *key;		/* of the member being read */
	json_t *top;		/* its members read so far, "items" left out */
	bool had_items;
};

static struct stream *stream_make(const char *name, bool list)
{
	struct stream *s = xcalloc(1, sizeof(*s));

	s->name = xstrdup(name);
	s->list = list;
	stream_reset(s);
	return s;
}

struct stream *stream_new(const char *name)
{
	return stream_make(name, false);
}

struct stream *stream_new_list(const char *name)
{
	return stream_make(name, true);
}

static void forget_list(struct stream *s)
{
	free(s->key);
	s->key = NULL;
	json_decref(s->top);
	s->top = NULL;
}

void stream_free(struct stream *s)
{
	if (!s)
		return;
	forget_list(s);
	free(s->name);
	free(s->d);
	free(s);
}

void stream_reset(struct stream *s)
{
	forget_list(s);
	s->len = s->pos = s->start = s->depth = s->base = 0;
	s->in_value = s->scalar = s->in_str = s->esc = s->had_items = false;
	s->ls = LS_TOP;
	s->line = 1;
	s->line_start = 0;
}

size_t stream_pending(const struct stream *s)
{
	return s->in_value ? s->len - s->start : 0;
}

/* Drop the bytes before the value being read. */
static void compact(struct stream *s)
{
	size_t drop = s->in_value ? s->start : s->pos;

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

/* MSG at the byte s->pos. */
static int unexpected(struct stream *s, const char *msg, struct svcnft_errors *errs)
{
	return malformed(s, s->line, col_of(s, s->pos), msg, errs);
}

/* Past blanks: the next byte (at s->pos), or -1 when more are needed. */
static int skip_blanks(struct stream *s)
{
	for (; s->pos < s->len; s->pos++) {
		char c = s->d[s->pos];

		if (c == '\n') {
			s->line++;
			s->line_start = s->pos + 1;
		} else if (!strchr(" \t\r", c) || !c) {
			return (unsigned char)c;
		}
	}
	return -1;
}

/* A value starts at s->pos, inside BASE brackets. */
static void start_value(struct stream *s, size_t base)
{
	char c = s->d[s->pos];

	s->start = s->pos;
	s->obj_line = s->line;
	s->obj_col = col_of(s, s->pos);
	s->in_value = true;
	s->base = base;
	s->scalar = c != '{' && c != '[' && c != '"';
}

/* A number, true, false or null ends at a delimiter. */
static int scan_scalar(struct stream *s)
{
	while (s->pos < s->len && !strchr(",:[]{}\" \t\r\n", s->d[s->pos]))
		s->pos++;
	return s->pos < s->len;
}

/* Scan the value that starts at s->start: 1 when its end was reached
 * (s->pos just after it), 0 when more bytes are needed. */
static int scan_value(struct stream *s, struct svcnft_errors *errs)
{
	size_t max_depth = limits_cur()->depth;

	if (s->scalar)
		return scan_scalar(s);
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
			if (!s->in_str && !s->depth)
				break;	/* a string value ends */
			continue;
		}
		if (c == '"') {
			s->in_str = true;
		} else if (c == '{' || c == '[') {
			if (s->base + ++s->depth > max_depth)
				return unexpected(s, "nested deeper than the limit (--limit depth)", errs);
		} else if ((c == '}' || c == ']') && --s->depth == 0) {
			break;
		}
	}
	if (s->pos == s->len)
		return 0;
	s->pos++;
	return 1;
}

/* Decode the value just scanned; NULL (a record) when jansson refuses it. */
static json_t *decode(struct stream *s, struct svcnft_errors *errs)
{
	json_error_t je;
	json_t *v = json_loadb(s->d + s->start, s->pos - s->start, JSON_DECODE_ANY, &je);

	s->in_value = false;
	if (!v)
		malformed(s, s->obj_line + (size_t)(je.line > 1 ? je.line - 1 : 0),
			  je.line > 1 ? (size_t)je.column : s->obj_col + (size_t)je.column - 1,
			  je.text, errs);
	s->start = s->pos;
	return v;
}

/* The value being read, scanned and decoded: 1 (*OUT), 0 or -1. */
static int read_value(struct stream *s, json_t **out, struct svcnft_errors *errs)
{
	int r = scan_value(s, errs);

	if (r <= 0)
		return r;
	if (s->pos == s->start)		/* a scalar of no byte: ',' or ']' */
		return unexpected(s, "unexpected character", errs);
	*out = decode(s, errs);
	return *out ? 1 : -1;
}

static int next_event(struct stream *s, json_t **out, struct svcnft_errors *errs)
{
	int c;

	if (!s->in_value) {
		if ((c = skip_blanks(s)) < 0)
			return 0;
		if (c != '{')
			return unexpected(s, "expected '{' (a watch event object)", errs);
		start_value(s, 0);
	}
	return read_value(s, out, errs);
}

/* The List's closing brace: its members, "items" an empty array if it was
 * one. */
static int list_end(struct stream *s, json_t **out)
{
	s->pos++;
	s->ls = LS_DONE;
	if (s->had_items)
		json_object_set_new(s->top, "items", json_array());
	*out = s->top;
	s->top = NULL;
	return STREAM_LIST_END;
}

/* A whole value in state s->ls: a key, a member's value or an item. */
static int list_value(struct stream *s, json_t *v, json_t **out)
{
	switch (s->ls) {
	case LS_KEY:
		free(s->key);
		s->key = xstrdup(json_string_value(v));
		json_decref(v);
		s->ls = LS_COLON;
		return 0;
	case LS_VALUE:
		if (!strcmp(s->key, "items"))
			s->had_items = false;	/* the last one counts */
		json_object_set_new(s->top, s->key, v);
		s->ls = LS_AFTER_VALUE;
		return 0;
	default:
		*out = v;
		s->ls = LS_AFTER_ITEM;
		return 1;
	}
}

/* The byte C (not blank) at s->pos in state s->ls: 0 when taken, 1 when a
 * value starts there, STREAM_LIST_END (*OUT) or -1. */
static int list_byte(struct stream *s, int c, json_t **out,
		     struct svcnft_errors *errs)
{
	bool first = s->first;

	s->first = false;
	switch (s->ls) {
	case LS_TOP:
		if (c != '{')
			return unexpected(s, "expected '{' (a List)", errs);
		s->top = json_object();
		s->ls = LS_KEY;
		s->first = true;
		break;
	case LS_KEY:
		if (c == '}' && first)
			return list_end(s, out);
		if (c != '"')
			return unexpected(s, "expected a string key", errs);
		return 1;
	case LS_COLON:
		if (c != ':')
			return unexpected(s, "expected ':'", errs);
		s->ls = LS_VALUE;
		break;
	case LS_VALUE:
		if (c != '[' || strcmp(s->key, "items"))
			return 1;
		json_object_del(s->top, "items");
		s->had_items = s->first = true;
		s->ls = LS_ITEM;
		break;
	case LS_AFTER_VALUE:
		if (c == '}')
			return list_end(s, out);
		if (c != ',')
			return unexpected(s, "expected ',' or '}'", errs);
		s->ls = LS_KEY;
		break;
	case LS_ITEM:
		if (c != ']' || !first)
			return 1;
		s->ls = LS_AFTER_VALUE;
		break;
	case LS_AFTER_ITEM:
		if (c != ',' && c != ']')
			return unexpected(s, "expected ',' or ']'", errs);
		s->ls = c == ',' ? LS_ITEM : LS_AFTER_VALUE;
		break;
	case LS_DONE:
		if (c != '{')
			return unexpected(s, "expected nothing after the List", errs);
		errs_add(errs, SVCNFT_EUSAGE, "%s: more than one List", s->name);
		return -1;
	}
	s->pos++;
	return 0;
}

static int next_item(struct stream *s, json_t **out, struct svcnft_errors *errs)
{
	json_t *v;
	int c, r;

	for (;;) {
		if (s->in_value) {
			if ((r = read_value(s, &v, errs)) <= 0)
				return r;
			if (list_value(s, v, out))
				return 1;
		} else if ((c = skip_blanks(s)) < 0) {
			return 0;
		} else if ((r = list_byte(s, c, out, errs)) == 1) {
			start_value(s, s->ls == LS_ITEM ? 2 : 1);
		} else if (r) {
			return r;
		}
	}
}

int stream_next(struct stream *s, json_t **out, struct svcnft_errors *errs)
{
	*out = NULL;
	return s->list ? next_item(s, out, errs) : next_event(s, out, errs);
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
