/* yaml: YAML input -> the same jansson items the JSON path yields.
 *
 * libyaml's event parser: go-yaml v2, which kubectl uses through
 * sigs.k8s.io/yaml, is a port of it, so the same syntax is accepted.  The
 * root of each document (`---`) is an object, an array of objects or a List
 * whose items are built and parsed one at a time, as in load.c.  Scalars are
 * typed the way kubectl's YAML-to-JSON step types them (see yaml_scalar.c).
 * Aliases are refused (no expansion bomb); nesting and string length are
 * limited as for JSON. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "limits.h"
#include "model.h"
#include "parse.h"
#include "util.h"
#include "yaml_scalar.h"

/* jansson's own nesting limit; also bounds this file's recursion. */
#define MAX_DEPTH 2048

struct yl {
	yaml_parser_t p;
	const char *file, *data;
	size_t len, depth, max_depth, docs;
	struct svcnft_model *m;
	struct svcnft_errors *errs;
	bool failed;
};

/* An item of a List read before the List's kind (kubectl -o yaml sorts
 * "items" before "kind"); only items without a kind of their own wait. */
struct pending {
	json_t **v;
	size_t *idx;
	size_t n, cap, cap2;
};

static void PRINTF(4, 5) yerr(struct yl *y, size_t line, size_t col,
			      const char *fmt, ...)
{
	struct svcnft_buf b = {0};
	va_list ap;

	if (y->failed)
		return;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	errs_add(y->errs, SVCNFT_EUSAGE, "%s:%zu:%zu: malformed YAML: %s",
		 y->file, line + 1, col + 1, b.data);
	svcnft_buf_free(&b);
	y->failed = true;
}

#define YERR(y, mark, ...) yerr(y, (mark).line, (mark).column, __VA_ARGS__)

/* Reader errors carry a byte offset, not a mark. */
static void reader_error(struct yl *y)
{
	size_t off = y->p.problem_offset < y->len ? y->p.problem_offset : y->len;
	size_t line = 0, ls = 0;

	for (size_t i = 0; i < off; i++)
		if (y->data[i] == '\n') {
			line++;
			ls = i + 1;
		}
	yerr(y, line, off - ls, "%s", y->p.problem ? y->p.problem : "cannot read");
}

static bool next(struct yl *y, yaml_event_t *ev)
{
	const yaml_parser_t *p = &y->p;

	if (y->failed)
		return false;
	if (yaml_parser_parse(&y->p, ev))
		return true;
	if (p->error == YAML_READER_ERROR)
		reader_error(y);
	else if (p->problem_mark.index < y->len && y->data[p->problem_mark.index] == '\t')
		YERR(y, p->problem_mark, "%s (hint: YAML indents with spaces, not tabs)",
		     p->problem ? p->problem : "cannot parse");
	else if (p->context)
		YERR(y, p->problem_mark, "%s (%s at line %zu)",
		     p->problem ? p->problem : "cannot parse", p->context,
		     p->context_mark.line + 1);
	else
		YERR(y, p->problem_mark, "%s", p->problem ? p->problem : "out of memory");
	return false;
}

static json_t *node(struct yl *y, yaml_event_t *ev);

static json_t *scalar(struct yl *y, yaml_event_t *ev)
{
	const char *err = NULL;
	json_t *v;

	if (ev->data.scalar.length > limits_cur()->string_bytes) {
		YERR(y, ev->start_mark, "string longer than the limit (--limit string-bytes)");
		return NULL;
	}
	v = yaml_scalar_json((const char *)ev->data.scalar.value,
			     ev->data.scalar.length, (const char *)ev->data.scalar.tag,
			     ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE, &err);
	if (!v)
		YERR(y, ev->start_mark, "%s", err);
	return v;
}

/* A mapping key as a string (go-yaml's key conversion); NULL if reported. */
static char *key(struct yl *y, yaml_event_t *ev)
{
	json_t *v;
	char *k;

	if (ev->type != YAML_SCALAR_EVENT) {
		YERR(y, ev->start_mark, ev->type == YAML_ALIAS_EVENT ?
		     "aliases (*name) are not supported" :
		     "a mapping key must be a scalar");
		return NULL;
	}
	v = scalar(y, ev);
	if (!v)
		return NULL;
	k = yaml_key_string(v);
	json_decref(v);
	if (!k)
		YERR(y, ev->start_mark, "a null mapping key is not supported");
	else if (!strcmp(k, "<<") && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		YERR(y, ev->start_mark, "merge keys (<<) are not supported");
		free(k);
		k = NULL;
	}
	return k;
}

static json_t *mapping(struct yl *y)
{
	json_t *o = json_object(), *v;
	yaml_event_t ev;
	char *k;

	while (next(y, &ev)) {
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return o;
		}
		k = key(y, &ev);
		yaml_event_delete(&ev);
		if (!k || !next(y, &ev)) {
			free(k);
			break;
		}
		v = node(y, &ev);
		if (v)
			json_object_set_new(o, k, v);
		free(k);
		if (!v)
			break;
	}
	json_decref(o);
	return NULL;
}

static json_t *sequence(struct yl *y)
{
	json_t *a = json_array(), *v;
	yaml_event_t ev;

	while (next(y, &ev)) {
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return a;
		}
		v = node(y, &ev);
		if (!v)
			break;
		json_array_append_new(a, v);
	}
	json_decref(a);
	return NULL;
}

/* Open a container at EV: false (reported) beyond the depth limit. */
static bool enter(struct yl *y, const yaml_event_t *ev)
{
	if (++y->depth <= y->max_depth)
		return true;
	YERR(y, ev->start_mark, "nested deeper than the limit (--limit depth)");
	return false;
}

/* The value that starts with EV (deleted here); NULL if reported. */
static json_t *node(struct yl *y, yaml_event_t *ev)
{
	json_t *v = NULL;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		v = scalar(y, ev);
		break;
	case YAML_MAPPING_START_EVENT:
		if (enter(y, ev))
			v = mapping(y);
		y->depth--;
		break;
	case YAML_SEQUENCE_START_EVENT:
		if (enter(y, ev))
			v = sequence(y);
		y->depth--;
		break;
	case YAML_ALIAS_EVENT:
		YERR(y, ev->start_mark, "aliases (*%s) are not supported",
		     (const char *)ev->data.alias.anchor);
		break;
	default:
		YERR(y, ev->start_mark, "unexpected event");
		break;
	}
	yaml_event_delete(ev);
	return v;
}

static void parse_one(struct yl *y, const char *where, json_t *v,
		      const char *dflt_kind)
{
	size_t nsvc = y->m->n_svcs, neps = y->m->n_eps;

	parse_object(y->m, y->file, where, v, dflt_kind, y->errs);
	if (!limits_after_object(y->m, y->file, nsvc, neps, y->errs))
		y->failed = true;
}

static void parse_item(struct yl *y, size_t i, json_t *v, const char *dflt_kind)
{
	char where[48];

	snprintf(where, sizeof(where), "items[%zu]", i);
	parse_one(y, where, v, dflt_kind);
}

/* The elements of the sequence just opened, parsed one by one.  With KIND
 * unknown yet (P not NULL), items without a kind wait in P. */
static void stream_items(struct yl *y, const char *kind, struct pending *p)
{
	const char *dflt = list_item_kind(kind);
	yaml_event_t ev;
	json_t *v;

	for (size_t i = 0; next(y, &ev); i++) {
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return;
		}
		v = node(y, &ev);
		if (!v)
			return;
		if (p && json_is_object(v) && !json_is_string(json_object_get(v, "kind"))) {
			p->v = grow(p->v, &p->cap, p->n, sizeof(*p->v));
			p->idx = grow(p->idx, &p->cap2, p->n, sizeof(*p->idx));
			p->idx[p->n] = i;
			p->v[p->n++] = v;
			continue;
		}
		parse_item(y, i, v, dflt);
		json_decref(v);
		if (y->failed)
			return;
	}
}

static void flush_pending(struct yl *y, struct pending *p, const char *kind)
{
	for (size_t i = 0; i < p->n; i++) {
		if (!y->failed)
			parse_item(y, p->idx[i], p->v[i], list_item_kind(kind));
		json_decref(p->v[i]);
	}
	free(p->v);
	free(p->idx);
}

/* The members of a root mapping that starts at START; "items" (a
 * sequence) streamed.  A List whose items is missing or no sequence is
 * malformed, as in JSON (load.c). */
static void root_mapping(struct yl *y, yaml_mark_t start)
{
	json_t *top = json_object(), *v;
	struct pending p = {0};
	bool had_items = false;
	yaml_event_t ev;
	char *k;

	while (next(y, &ev) && ev.type != YAML_MAPPING_END_EVENT) {
		k = key(y, &ev);
		yaml_event_delete(&ev);
		if (!k || !next(y, &ev)) {
			free(k);
			break;
		}
		if (!strcmp(k, "items") && ev.type == YAML_SEQUENCE_START_EVENT &&
		    enter(y, &ev)) {
			const char *kind = json_string_value(json_object_get(top, "kind"));

			had_items = true;
			yaml_event_delete(&ev);
			stream_items(y, kind, kind ? NULL : &p);
			y->depth--;
		} else if (!strcmp(k, "items")) {
			YERR(y, ev.start_mark, "\"items\" is not an array");
			json_decref(node(y, &ev));
		} else if ((v = node(y, &ev)) != NULL) {
			json_object_set_new(top, k, v);
		}
		free(k);
	}
	if (!y->failed)
		yaml_event_delete(&ev);
	flush_pending(y, &p, json_string_value(json_object_get(top, "kind")));
	if (!y->failed && !had_items &&
	    parse_is_list_kind(json_string_value(json_object_get(top, "kind"))))
		YERR(y, start, "a List without \"items\"");
	else if (!y->failed && !had_items)
		parse_one(y, "object", top, NULL);
	json_decref(top);
}

/* One document: its root, then DOCUMENT-END. */
static void document(struct yl *y)
{
	yaml_event_t ev;

	if (!next(y, &ev))
		return;
	if (ev.type == YAML_MAPPING_START_EVENT) {
		y->docs++;
		if (enter(y, &ev))
			root_mapping(y, ev.start_mark);
		y->depth--;
	} else if (ev.type == YAML_SEQUENCE_START_EVENT) {
		y->docs++;
		if (enter(y, &ev))
			stream_items(y, NULL, NULL);
		y->depth--;
	} else if (ev.type == YAML_SCALAR_EVENT) {
		json_t *v = scalar(y, &ev);

		/* an empty document (comments, a stray ---) is skipped */
		if (v && !json_is_null(v))
			YERR(y, ev.start_mark, "expected a mapping or a sequence");
		json_decref(v);
	} else {
		json_decref(node(y, &ev));
		return;
	}
	yaml_event_delete(&ev);
	if (next(y, &ev))
		yaml_event_delete(&ev);	/* DOCUMENT-END */
}

void svcnft_model_load_yaml(struct svcnft_model *m, const char *name,
			    const char *data, size_t len,
			    struct svcnft_errors *errs)
{
	struct yl y = { .file = name, .data = data, .len = len, .m = m,
			.errs = errs };
	yaml_event_t ev;

	m->sorted = false;
	if (len > limits_cur()->input_bytes) {
		errs_add(errs, SVCNFT_EUSAGE, "%s: larger than %zu bytes (--limit input-bytes)",
			 name, limits_cur()->input_bytes);
		return;
	}
	y.max_depth = limits_cur()->depth < MAX_DEPTH ? limits_cur()->depth : MAX_DEPTH;
	if (!yaml_parser_initialize(&y.p)) {
		errs_add(errs, SVCNFT_EUSAGE, "%s: out of memory", name);
		return;
	}
	yaml_parser_set_input_string(&y.p, (const unsigned char *)data, len);
	while (next(&y, &ev)) {
		yaml_event_type_t t = ev.type;

		yaml_event_delete(&ev);
		if (t == YAML_STREAM_END_EVENT)
			break;
		if (t == YAML_DOCUMENT_START_EVENT)
			document(&y);
	}
	yaml_parser_delete(&y.p);
	/* a truncated or half-written file must not read as "no services" */
	if (!y.failed && !y.docs)
		errs_add(errs, SVCNFT_EUSAGE, "%s: empty input: no YAML document", name);
}
