/* load: bytes -> decoded objects, one list item at a time.
 *
 * A kubectl List of 10k services is ~35 MB; decoding it whole with jansson
 * costs ~180 MB.  Instead stream.c's scanner (jvalue) finds the extent of
 * each value in the top-level object and the elements of "items" are
 * decoded one by one with jansson, so only one item is ever held as a jansson
 * tree; a regular JSON file is read through a window that slides between
 * items, so neither is the file held whole.  YAML files go to yaml.c,
 * which yields the same items. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jalloc.h"
#include "limits.h"
#include "model.h"
#include "parse.h"
#include "stream.h"
#include "util.h"

#define WINDOW_READ ((size_t)1 << 18)	/* bytes read at a time */

/* Where a window's bytes come from: a file read piece by piece. */
struct source {
	const struct svcnft_reader *r;
	struct svcnft_buf b;
	struct hash64 digest;	/* of every byte read */
	size_t total;
	bool eof;
};

struct scan {
	const char *d;
	size_t len, pos;
	struct jlines lines;	/* shift: bytes of the file before the window */
	struct source *src;	/* NULL: all of the input is in d */
	const char *file;
	struct svcnft_errors *errs;
	bool failed;
	size_t depth;		/* open containers around s->pos */
	struct jvalue v;	/* the value being read */
};

static void too_large(struct svcnft_errors *errs, const char *name)
{
	errs_add(errs, SVCNFT_EUSAGE, "%s: larger than %zu bytes (--limit input-bytes)",
		 name, limits_cur()->input_bytes);
}

/* Read more of the source into the window (at least as much as it holds:
 * a value that spans it is scanned again only log(size) times); with
 * SLIDE first drop what lies before s->pos.  False at the end. */
static bool more(struct scan *s, bool slide)
{
	struct source *src = s->src;
	size_t want;
	ssize_t n;

	if (!src || src->eof)
		return false;
	if (slide) {
		jlines_drop(&s->lines, s->d, s->pos);
		memmove(src->b.data, src->b.data + s->pos, src->b.len - s->pos);
		src->b.len -= s->pos;
		s->pos = 0;
	}
	want = src->b.len > WINDOW_READ ? src->b.len : WINDOW_READ;
	if (src->b.cap < src->b.len + want + 1)
		src->b.data = xrealloc(src->b.data, src->b.cap = src->b.len + want + 1);
	n = src->r->read(src->r->arg, src->b.data + src->b.len, want);
	if (n > 0) {
		hash64_update(&src->digest, src->b.data + src->b.len, (size_t)n);
		src->b.len += (size_t)n;
		src->total += (size_t)n;
	}
	src->eof = n <= 0 || src->total > limits_cur()->input_bytes;
	if (n < 0 || src->total > limits_cur()->input_bytes) {
		if (n < 0)
			errs_add(s->errs, SVCNFT_EUSAGE, "%s: %s", s->file, strerror(errno));
		else
			too_large(s->errs, s->file);
		s->failed = true;
	}
	src->b.data[src->b.len] = '\0';
	s->d = src->b.data;
	s->len = src->b.len;
	return n > 0;
}

static void skip_ws(struct scan *s)
{
	while ((s->pos = json_blanks(s->d, s->pos, s->len)) == s->len && more(s, false))
		;
}

/* A hint when the line around POS holds typographic quotes (text pasted
 * from a web page or a word processor): U+2018-U+201D. */
static const char *quote_hint(const struct scan *s, size_t pos)
{
	size_t a = pos < s->len ? pos : s->len, b = a;

	while (a > 0 && s->d[a - 1] != '\n')
		a--;
	while (b < s->len && s->d[b] != '\n')
		b++;
	for (size_t i = a; i + 2 < b; i++)
		if ((unsigned char)s->d[i] == 0xe2 && (unsigned char)s->d[i + 1] == 0x80 &&
		    (unsigned char)s->d[i + 2] >= 0x98 && (unsigned char)s->d[i + 2] <= 0x9d)
			return " (hint: this line has typographic quotes; JSON needs straight \" quotes)";
	return "";
}

static void syntax_error(struct scan *s, size_t pos, const char *msg)
{
	jlines_count(&s->lines, s->d, pos);
	json_malformed(s->errs, s->file, s->lines.line, jlines_col(&s->lines, pos), msg,
		       quote_hint(s, pos));
	s->failed = true;
}

/* Decode [s->pos, end) with jansson; errors mapped to file positions. */
static json_t *decode(struct scan *s, size_t end)
{
	json_error_t je;
	json_t *v = jvalue_decode(&s->v, s->d + s->pos, end - s->pos, &je);

	if (!v) {
		jlines_count(&s->lines, s->d, s->pos);
		json_refused(s->errs, s->file, s->lines.line, jlines_col(&s->lines, s->pos),
			     &je, quote_hint(s, s->pos + (size_t)je.position));
		s->failed = true;
	}
	s->pos = end;
	return v;
}

/* Decode the value at s->pos; NULL (reported) on error. */
static json_t *next_value(struct scan *s)
{
	size_t end;
	int r;

	jvalue_start(&s->v, s->pos < s->len ? s->d[s->pos] : '\0', s->depth);
	while ((r = jvalue_scan(&s->v, s->d + s->pos, s->len - s->pos)) == 0 &&
	       !s->failed && more(s, false))
		;	/* the value may go on past the window */
	if (r < 0)
		syntax_error(s, s->pos + s->v.scanned, s->v.error);
	if (s->failed)
		return NULL;
	end = r ? s->pos + s->v.scanned : s->len;	/* 0: let jansson say what is wrong */
	if (end == s->pos) {
		syntax_error(s, s->pos, "unexpected character");
		return NULL;
	}
	return decode(s, end);
}

static bool expect(struct scan *s, char c)
{
	skip_ws(s);
	if (s->pos < s->len && s->d[s->pos] == c) {
		s->pos++;
		return true;
	}
	syntax_error(s, s->pos, c == ',' ? "expected ',' or closing bracket"
					 : "unexpected character");
	return false;
}

/* V read from FILE at WHERE into M, then the limits checked: false when
 * the caller stops (recorded). */
static bool load_value(struct svcnft_model *m, const char *file, const char *where,
		       json_t *v, const char *dflt_kind, struct svcnft_errors *errs)
{
	size_t nsvc = m->n_svcs, neps = m->n_eps;

	parse_object(m, file, where, v, dflt_kind, errs);
	return limits_after_object(m, file, nsvc, neps, errs);
}

/* Elements of an array at s->pos, each decoded and handed to load_value. */
static void stream_items(struct scan *s, struct svcnft_model *m,
			 const char *dflt_kind)
{
	char where[48];
	size_t i = 0;

	s->pos++;		/* '[' */
	skip_ws(s);
	if (s->pos < s->len && s->d[s->pos] == ']') {
		s->pos++;
		return;
	}
	for (s->depth++;; i++) {
		json_t *v;
		bool ok;

		if (s->pos >= WINDOW_READ)	/* between items: slide */
			more(s, true);
		skip_ws(s);
		jalloc_begin();	/* the item lives until its json_decref */
		v = next_value(s);
		ok = false;
		if (v) {
			snprintf(where, sizeof(where), "items[%zu]", i);
			ok = load_value(m, s->file, where, v, dflt_kind, s->errs);
			json_decref(v);
		}
		jalloc_end();
		if (!v)
			break;
		if (!ok) {
			s->failed = true;
			break;
		}
		skip_ws(s);
		if (s->pos < s->len && s->d[s->pos] == ']') {
			s->pos++;
			break;
		}
		if (!expect(s, ','))
			break;
	}
	s->depth--;
	jalloc_release();
}

/* One member "key": value of the top-level object. */
static bool top_member(struct scan *s, struct svcnft_model *m, json_t *top,
		       bool *had_items)
{
	json_t *key, *v;

	skip_ws(s);
	if (s->pos >= s->len || s->d[s->pos] != '"') {
		syntax_error(s, s->pos, "expected a string key");
		return false;
	}
	key = next_value(s);
	if (!key || !expect(s, ':')) {
		json_decref(key);
		return false;
	}
	skip_ws(s);
	if (!strcmp(json_string_value(key), "items") &&
	    (s->pos >= s->len || s->d[s->pos] != '[')) {
		/* not "an unknown kind": a List that lists nothing readable */
		syntax_error(s, s->pos, "\"items\" is not an array");
	} else if (!strcmp(json_string_value(key), "items")) {
		*had_items = true;
		/* the API server writes "kind" before "items" */
		stream_items(s, m, list_item_kind(json_string_value(
					   json_object_get(top, "kind"))));
	} else if ((v = next_value(s)) != NULL) {
		json_object_set_new(top, json_string_value(key), v);
	}
	json_decref(key);
	return !s->failed;
}

/* The top-level object at s->pos: its items streamed, or itself parsed. */
static void top_object(struct scan *s, struct svcnft_model *m)
{
	json_t *top = json_object();
	bool had_items = false;
	size_t start = s->pos;

	s->depth++;
	s->pos++;		/* '{' */
	skip_ws(s);
	if (s->pos < s->len && s->d[s->pos] == '}')
		s->pos++;
	else
		while (top_member(s, m, top, &had_items)) {
			skip_ws(s);
			if (s->pos < s->len && s->d[s->pos] == '}') {
				s->pos++;
				break;
			}
			if (!expect(s, ','))
				break;
		}
	if (!s->failed && !had_items &&
	    parse_is_list_kind(json_string_value(json_object_get(top, "kind")))) {
		syntax_error(s, start, "a List without \"items\"");
	} else if (!s->failed && !had_items &&
		   !load_value(m, s->file, "object", top, NULL, s->errs)) {
		s->failed = true;
	}
	json_decref(top);
	s->depth--;
}

/* The documents of S (its first window read). */
static void scan_documents(struct scan *s, struct svcnft_model *m)
{
	if (s->len >= 3 && !memcmp(s->d, "\xef\xbb\xbf", 3)) {
		errs_add(s->errs, SVCNFT_EUSAGE, "%s:1:1: malformed JSON: the input starts with a byte order mark (BOM); save it as UTF-8 without BOM",
			 s->file);
		return;
	}
	skip_ws(s);
	if (s->pos == s->len) {
		/* a truncated or half-written file must not read as "no services" */
		errs_add(s->errs, SVCNFT_EUSAGE, "%s: empty input: no JSON document", s->file);
		return;
	}
	for (; s->pos < s->len && !s->failed; skip_ws(s)) {
		if (s->d[s->pos] == '{') {
			top_object(s, m);
		} else if (s->d[s->pos] == '[') {
			stream_items(s, m, NULL);
		} else {
			syntax_error(s, s->pos, "expected an object or an array");
		}
	}
}

void svcnft_model_load_buffer(struct svcnft_model *m, const char *name,
			      const char *data, size_t len,
			      struct svcnft_errors *errs)
{
	struct scan s = { .d = data, .len = len, .lines = JLINES_INIT, .file = name,
			  .errs = errs };

	m->sorted = false;
	if (len > limits_cur()->input_bytes)
		too_large(errs, name);
	else
		scan_documents(&s, m);
	jvalue_free(&s.v);
}

void svcnft_model_load_json(struct svcnft_model *m, const char *name,
			    json_t *v, struct svcnft_errors *errs)
{
	json_t *items = json_is_array(v) ? v : json_object_get(v, "items");
	const char *kind = json_string_value(json_object_get(v, "kind"));
	char where[48];
	size_t i;
	json_t *it;

	m->sorted = false;
	if (!json_is_object(v) && !json_is_array(v)) {
		errs_add(errs, SVCNFT_EUSAGE, "%s: malformed JSON: expected an object or an array", name);
	} else if (items && !json_is_array(items)) {
		errs_add(errs, SVCNFT_EUSAGE, "%s: malformed JSON: \"items\" is not an array", name);
	} else if (items) {
		json_array_foreach(items, i, it) {
			snprintf(where, sizeof(where), "items[%zu]", i);
			if (!load_value(m, name, where, it, list_item_kind(kind), errs))
				break;
		}
	} else if (parse_is_list_kind(kind)) {
		errs_add(errs, SVCNFT_EUSAGE, "%s: malformed JSON: a List without \"items\"", name);
	} else {
		load_value(m, name, "object", v, NULL, errs);
	}
}

void svcnft_model_load_stream(struct svcnft_model *m, const char *path,
			      uint64_t size, const struct svcnft_reader *r,
			      struct svcnft_errors *errs)
{
	struct source src = { .r = r };
	struct scan s = { .lines = JLINES_INIT, .file = path, .errs = errs, .src = &src };

	hash64_init(&src.digest, hash64(m->input_digest, path, strlen(path) + 1));
	m->sorted = false;
	if (size > limits_cur()->input_bytes) {
		too_large(errs, path);
		return;
	}
	more(&s, false);
	if (!s.failed)
		scan_documents(&s, m);
	m->input_digest = hash64_final(&src.digest);
	svcnft_buf_free(&src.b);
	jvalue_free(&s.v);
}

void svcnft_model_hash_stream(struct svcnft_model *m, const char *path,
			      const struct svcnft_reader *r,
			      struct svcnft_errors *errs)
{
	char *buf = xmalloc(WINDOW_READ);
	struct hash64 h;
	ssize_t n;

	hash64_init(&h, hash64(m->input_digest, path, strlen(path) + 1));
	while ((n = r->read(r->arg, buf, WINDOW_READ)) != 0) {
		if (n < 0) {
			errs_add(errs, SVCNFT_EUSAGE, "%s: %s", path, strerror(errno));
			break;
		}
		hash64_update(&h, buf, (size_t)n);
	}
	m->input_digest = hash64_final(&h);
	free(buf);
}

static bool suffix_ci(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);

	return n > k && !strcasecmp(name + n - k, suffix);
}

/* Whether D (not blank) starts like JSON: '{' and a quoted key or '}',
 * or '[' and a JSON value.  Flow-style YAML ({a: 1}, [{a: 1}]) is YAML. */
static bool json_start(const char *d)
{
	if (*d != '{' && *d != '[')
		return false;
	d += strspn(d, " \t\r\n[");
	if (*d == '{') {
		d += 1 + strspn(d + 1, " \t\r\n");
		return *d == '"' || *d == '}';
	}
	return *d && strchr("\"]-0123456789tfn", *d);
}

/* YAML when named *.yaml or *.yml; JSON when named *.json; otherwise
 * (stdin) JSON if it starts like JSON after blanks and a BOM, or is blank. */
static bool is_yaml(const char *name, const struct svcnft_buf *b)
{
	const char *d = b->data;

	if (suffix_ci(name, ".yaml") || suffix_ci(name, ".yml"))
		return true;
	if (svcnft_json_name(name))
		return false;
	if (b->len >= 3 && !memcmp(d, "\xef\xbb\xbf", 3))
		d += 3;
	d += strspn(d, " \t\r\n");
	return *d && !json_start(d);
}

void svcnft_model_load_file(struct svcnft_model *m, const char *name,
			    const struct svcnft_buf *b, struct svcnft_errors *errs)
{
	m->input_digest = hash64(m->input_digest, name, strlen(name) + 1);
	m->input_digest = hash64(m->input_digest, b->data, b->len);
	svcnft_model_load_named(m, name, b, errs);
}

void svcnft_model_load_named(struct svcnft_model *m, const char *name,
			     const struct svcnft_buf *b, struct svcnft_errors *errs)
{
	if (is_yaml(name, b))
		svcnft_model_load_yaml(m, name, b->data, b->len, errs);
	else
		svcnft_model_load_buffer(m, name, b->data, b->len, errs);
}

bool svcnft_json_name(const char *name)
{
	return suffix_ci(name, ".json");
}

bool svcnft_manifest_name(const char *n)
{
	size_t k = strlen(n);

	return n[0] != '.' && ((k > 5 && !strcmp(n + k - 5, ".json")) ||
	       (k > 5 && !strcmp(n + k - 5, ".yaml")) ||
	       (k > 4 && !strcmp(n + k - 4, ".yml")));
}

uint64_t svcnft_model_input_digest(const struct svcnft_model *m)
{
	return m->read_stdin ? 0 : m->input_digest;
}
