/* stream: find the extent of each value by bracket depth outside strings,
 * then let jansson decode (and judge) exactly that extent.  The scan
 * resumes where the previous bytes ended, so feeding a byte at a time
 * costs what feeding it whole does.  load.c finds its values with the same
 * scanner (jvalue_*).
 *
 * Events: top-level objects one after another.  A List: one top-level
 * object whose members are scanned one by one (key, ':', value, ','), so
 * each element of "items" is decoded as soon as it is whole and only that
 * element's bytes are held. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "stream.h"
#include "util.h"

/* What a byte outside strings is to the scanner. */
enum { C_BARE, C_BLANK, C_QUOTE, C_OPEN, C_CLOSE, C_PUNCT };
static const unsigned char cls[256] = {
	[' '] = C_BLANK, ['\n'] = C_BLANK, ['\t'] = C_BLANK, ['\r'] = C_BLANK,
	['"'] = C_QUOTE, ['{'] = C_OPEN, ['['] = C_OPEN, ['}'] = C_CLOSE,
	[']'] = C_CLOSE, [','] = C_PUNCT, [':'] = C_PUNCT, ['\0'] = C_PUNCT,
};

/* Part of a bare token (1, true): not blank, a bracket, comma, colon,
 * quote or NUL. */
static bool bare(char c)
{
	return cls[(unsigned char)c] == C_BARE;
}

void jvalue_start(struct jvalue *v, char first, size_t base)
{
	v->scanned = v->depth = 0;
	v->base = base;
	v->scalar = first != '{' && first != '[' && first != '"';
	v->in_str = v->esc = v->gap = false;
	v->copy.len = 0;
	v->error = NULL;
}

void jvalue_free(struct jvalue *v)
{
	svcnft_buf_free(&v->copy);
}

/* A number, true, false or null ends at a delimiter. */
static int scan_scalar(struct jvalue *v, const char *d, size_t len)
{
	size_t p = v->scanned;

	while (p < len && bare(d[p]))
		p++;
	buf_add(&v->copy, d + v->scanned, p - v->scanned);
	v->scanned = p;
	return p < len;
}

/* Stop at P with the copy ending at W: R, with MSG when R is -1. */
static int scan_stop(struct jvalue *v, size_t p, char *w, int r, const char *msg)
{
	v->copy.len = (size_t)(w - v->copy.data);
	v->scanned = p;
	v->error = msg;
	return r;
}

/* Past the string's bytes from D[P] up to its closing quote or LEN
 * (ESC: the last byte was a backslash). */
static size_t string_run(const char *d, size_t p, size_t len, bool *esc)
{
	while (p < len) {
		if (*esc) {
			*esc = false;
			p++;
		}
		while (p < len && d[p] != '"' && d[p] != '\\')
			p++;
		if (p == len || d[p] == '"')
			break;
		*esc = true;
		p++;
	}
	return p;
}

/* A string from D[P] (its opening quote, or where the last scan ended in
 * it) copied to *W: past its closing quote, or LEN. */
static size_t copy_string(struct jvalue *v, const char *d, size_t p, size_t len,
			  char **w)
{
	size_t from = p;

	if (!v->in_str) {
		v->in_str = true;
		v->str_start = p++;
	}
	p = string_run(d, p, len, &v->esc);
	if (p < len) {
		v->in_str = false;
		p++;
	}
	memcpy(*w, d + from, p - from);
	*w += p - from;
	return p;
}

/* Scan a container (or string) on from v->scanned, copying to W; see
 * jvalue_scan.  The state is kept in locals: W's stores may alias it. */
static int scan_container(struct jvalue *v, const char *d, size_t len, char *w)
{
	size_t p = v->scanned, depth = v->depth, max = limits_cur()->depth;
	bool gap = v->gap, in_str = v->in_str;

	while (p < len) {
		char c = d[p];
		int k = cls[(unsigned char)c];

		if (in_str || k == C_QUOTE) {
			p = copy_string(v, d, p, len, &w);
			in_str = v->in_str;
			if (p - 1 - v->str_start > limits_cur()->string_bytes)
				return scan_stop(v, v->str_start, w, -1,
						 "string longer than the limit (--limit string-bytes)");
			if (!in_str && !depth)
				return scan_stop(v, p, w, 1, NULL);	/* a string value */
			continue;
		}
		if (k == C_BLANK) {
			p = json_blanks(d, p, len);
			gap = true;
			continue;
		}
		p++;
		if (gap && bare(c) && bare(w[-1]))
			*w++ = ' ';
		gap = false;
		*w++ = c;
		if (k == C_OPEN && v->base + ++depth > max)
			return scan_stop(v, p - 1, w, -1,
					 "nested deeper than the limit (--limit depth)");
		if (k == C_CLOSE && --depth == 0)
			return scan_stop(v, p, w, 1, NULL);
	}
	v->depth = depth;
	v->gap = gap;
	return scan_stop(v, p, w, 0, NULL);
}

int jvalue_scan(struct jvalue *v, const char *d, size_t len)
{
	if (v->scalar)
		return scan_scalar(v, d, len);
	v->copy.data = grow(v->copy.data, &v->copy.cap, v->copy.len + len - v->scanned, 1);
	return scan_container(v, d, len, v->copy.data + v->copy.len);
}

json_t *jvalue_decode(struct jvalue *v, const char *d, size_t n, json_error_t *je)
{
	json_t *j = json_loadb(v->copy.data, v->copy.len, JSON_DECODE_ANY, je);

	if (!j)		/* the bytes as they are: jansson's error positions */
		j = json_loadb(d, n, JSON_DECODE_ANY, je);
	return j;
}

void jlines_count(struct jlines *l, const char *d, size_t pos)
{
	while (l->counted < pos) {
		const char *nl = memchr(d + l->counted, '\n', pos - l->counted);

		if (!nl) {
			l->counted = pos;
			break;
		}
		l->line++;
		l->counted = (size_t)(nl - d) + 1;
		l->line_start = l->shift + l->counted;
	}
}

size_t jlines_col(const struct jlines *l, size_t pos)
{
	return l->shift + pos - l->line_start + 1;
}

void jlines_drop(struct jlines *l, const char *d, size_t n)
{
	jlines_count(l, d, n);
	l->counted -= n;
	l->shift += n;
}

size_t json_blanks(const char *d, size_t pos, size_t len)
{
	uint64_t x;

	while (pos < len && cls[(unsigned char)d[pos]] == C_BLANK) {
		pos++;	/* and kubectl's indentation 8 spaces at a time */
		while (pos + 8 <= len && (memcpy(&x, d + pos, 8), x == 0x2020202020202020u))
			pos += 8;
	}
	return pos;
}

void json_malformed(struct svcnft_errors *errs, const char *name, size_t line,
		    size_t col, const char *msg, const char *hint)
{
	struct svcnft_buf t = {0};

	buf_puts(&t, "");
	for (const char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			buf_printf(&t, "\\x%02x", (unsigned char)*c);
		else
			buf_putc(&t, *c);
	errs_add(errs, SVCNFT_EUSAGE, "%s:%zu:%zu: malformed JSON: %s%s", name,
		 line, col, t.data, hint);
	svcnft_buf_free(&t);
}

void json_refused(struct svcnft_errors *errs, const char *name, size_t line,
		  size_t col, const json_error_t *je, const char *hint)
{
	col = je->line > 1 ? (size_t)je->column : col + (size_t)je->column - 1;
	line += (size_t)(je->line > 1 ? je->line - 1 : 0);
	json_malformed(errs, name, line, col ? col : 1, je->text, hint);
}

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
	struct jvalue v;	/* its scan */
	bool in_value;
	struct jlines lines;
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
	jvalue_free(&s->v);
	free(s);
}

void stream_reset(struct stream *s)
{
	forget_list(s);
	s->len = s->pos = s->start = 0;
	s->in_value = s->had_items = false;
	s->ls = LS_TOP;
	s->lines = (struct jlines)JLINES_INIT;
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
	jlines_drop(&s->lines, s->d, drop);
	memmove(s->d, s->d + drop, s->len - drop);
	s->len -= drop;
	s->pos -= drop;
	s->start -= drop;
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

/* MSG at the byte s->pos. */
static int unexpected(struct stream *s, const char *msg, struct svcnft_errors *errs)
{
	jlines_count(&s->lines, s->d, s->pos);
	json_malformed(errs, s->name, s->lines.line, jlines_col(&s->lines, s->pos),
		       msg, "");
	return -1;
}

/* Past blanks: the next byte (at s->pos), or -1 when more are needed. */
static int skip_blanks(struct stream *s)
{
	s->pos = json_blanks(s->d, s->pos, s->len);
	return s->pos < s->len ? (unsigned char)s->d[s->pos] : -1;
}

/* A value starts at s->pos, inside BASE brackets. */
static void start_value(struct stream *s, size_t base)
{
	s->start = s->pos;
	jlines_count(&s->lines, s->d, s->pos);
	s->obj_line = s->lines.line;
	s->obj_col = jlines_col(&s->lines, s->pos);
	s->in_value = true;
	jvalue_start(&s->v, s->d[s->pos], base);
}

/* The value being read, scanned and decoded: 1 (*OUT), 0 or -1. */
static int read_value(struct stream *s, json_t **out, struct svcnft_errors *errs)
{
	int r = jvalue_scan(&s->v, s->d + s->start, s->len - s->start);
	json_error_t je;

	s->pos = s->start + s->v.scanned;
	if (r < 0)
		return unexpected(s, s->v.error, errs);
	if (r == 0)
		return 0;
	if (s->pos == s->start)		/* a scalar of no byte: ',' or ']' */
		return unexpected(s, "unexpected character", errs);
	s->in_value = false;
	*out = jvalue_decode(&s->v, s->d + s->start, s->pos - s->start, &je);
	if (!*out)
		json_refused(errs, s->name, s->obj_line, s->obj_col, &je, "");
	s->start = s->pos;
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
