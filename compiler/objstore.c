/* objstore: a chained hash table of objects by "KIND/NS/NAME". */
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "model.h"
#include "objstore.h"
#include "util.h"

struct entry {
	struct entry *next;
	char *key;
	size_t kind_len;	/* KIND is key[0 .. kind_len) */
	char *good;		/* the last version that validated, or NULL */
	char *pending;		/* a newer version not validated yet, or NULL */
	const char *source;
	bool marked;
	bool use;		/* objstore_model: load the new version */
};

struct objstore {
	struct entry **b;
	size_t n_b, n;
	char **changed;
	size_t n_changed, cap_changed;
};

struct objstore *objstore_new(void)
{
	struct objstore *st = xcalloc(1, sizeof(*st));

	st->n_b = 1024;
	st->b = xcalloc(st->n_b, sizeof(*st->b));
	return st;
}

static void entry_free(struct entry *e)
{
	free(e->key);
	free(e->good);
	free(e->pending);
	free(e);
}

static void forget_changed(struct objstore *st)
{
	for (size_t i = 0; i < st->n_changed; i++)
		free(st->changed[i]);
	st->n_changed = 0;
}

void objstore_free(struct objstore *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n_b; i++)
		for (struct entry *e = st->b[i], *nx; e; e = nx) {
			nx = e->next;
			entry_free(e);
		}
	forget_changed(st);
	free(st->changed);
	free(st->b);
	free(st);
}

static size_t hash(const char *s)
{
	size_t h = 14695981039346656037u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static struct entry **slot(const struct objstore *st, const char *key)
{
	struct entry **p = &st->b[hash(key) & (st->n_b - 1)];

	while (*p && strcmp((*p)->key, key))
		p = &(*p)->next;
	return p;
}

static void rehash(struct objstore *st)
{
	size_t old_n = st->n_b;
	struct entry **old = st->b;

	st->n_b *= 2;
	st->b = xcalloc(st->n_b, sizeof(*st->b));
	for (size_t i = 0; i < old_n; i++)
		for (struct entry *e = old[i], *nx; e; e = nx) {
			struct entry **p = &st->b[hash(e->key) & (st->n_b - 1)];

			nx = e->next;
			e->next = *p;
			*p = e;
		}
	free(old);
}

static void note_changed(struct objstore *st, const char *key)
{
	st->changed = grow(st->changed, &st->cap_changed, st->n_changed,
			   sizeof(*st->changed));
	st->changed[st->n_changed++] = xstrdup(key);
}

/* "KIND/NS/NAME" of OBJ into B; false without metadata.name. */
static bool obj_key(json_t *obj, const char *dflt_kind, struct svcnft_buf *b)
{
	json_t *md = json_object_get(obj, "metadata");
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	const char *name = json_string_value(json_object_get(md, "name"));

	if (!name || !*name)
		return false;
	buf_printf(b, "%s/%s/%s", kind ? kind : dflt_kind, ns && *ns ? ns : "default", name);
	return true;
}

/* OBJ as compact text, without what only costs memory. */
static char *obj_text(json_t *obj, const char *dflt_kind)
{
	json_t *c = json_deep_copy(obj);
	json_t *md = json_object_get(c, "metadata");
	char *t;

	json_object_del(md, "managedFields");
	json_object_del(json_object_get(md, "annotations"),
			"kubectl.kubernetes.io/last-applied-configuration");
	if (!json_object_get(c, "kind"))
		json_object_set_new(c, "kind", json_string(dflt_kind));
	t = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	if (!t)
		abort();	/* out of memory */
	return t;
}

static struct entry *insert(struct objstore *st, const char *key)
{
	struct entry *e = xcalloc(1, sizeof(*e)), **p;

	if (st->n >= st->n_b)
		rehash(st);
	p = slot(st, key);
	e->key = xstrdup(key);
	e->kind_len = strcspn(key, "/");
	*p = e;
	st->n++;
	return e;
}

int objstore_put(struct objstore *st, json_t *obj, const char *dflt_kind,
		 const char *source, struct svcnft_errors *errs)
{
	struct svcnft_buf key = {0};
	struct entry *e;
	char *t;
	int rc = 0;

	if (!obj_key(obj, dflt_kind, &key)) {
		errs_add(errs, SVCNFT_EUSAGE, "%s: %s without metadata.name", source, dflt_kind);
		svcnft_buf_free(&key);
		return -1;
	}
	e = *slot(st, key.data);
	if (!e)
		e = insert(st, key.data);
	e->marked = true;
	e->source = source;
	t = obj_text(obj, dflt_kind);
	if (!strcmp(t, e->pending ? e->pending : e->good ? e->good : "")) {
		free(t);
	} else {
		free(e->pending);
		e->pending = t;
		note_changed(st, key.data);
		rc = 1;
	}
	svcnft_buf_free(&key);
	return rc;
}

static void remove_entry(struct objstore *st, struct entry **p)
{
	struct entry *e = *p;

	note_changed(st, e->key);
	*p = e->next;
	entry_free(e);
	st->n--;
}

bool objstore_delete(struct objstore *st, json_t *obj, const char *dflt_kind)
{
	struct svcnft_buf key = {0};
	struct entry **p;
	bool found = false;

	if (obj_key(obj, dflt_kind, &key) && *(p = slot(st, key.data))) {
		remove_entry(st, p);
		found = true;
	}
	svcnft_buf_free(&key);
	return found;
}

static bool of_kind(const struct entry *e, const char *kind)
{
	return strlen(kind) == e->kind_len && !strncmp(e->key, kind, e->kind_len);
}

void objstore_unmark(struct objstore *st, const char *kind)
{
	for (size_t i = 0; i < st->n_b; i++)
		for (struct entry *e = st->b[i]; e; e = e->next)
			if (of_kind(e, kind))
				e->marked = false;
}

size_t objstore_sweep(struct objstore *st, const char *kind)
{
	size_t n = 0;

	for (size_t i = 0; i < st->n_b; i++)
		for (struct entry **p = &st->b[i]; *p;)
			if (of_kind(*p, kind) && !(*p)->marked) {
				remove_entry(st, p);
				n++;
			} else {
				p = &(*p)->next;
			}
	return n;
}

size_t objstore_count(const struct objstore *st, const char *kind)
{
	size_t n = 0;

	for (size_t i = 0; i < st->n_b; i++)
		for (struct entry *e = st->b[i]; e; e = e->next)
			n += of_kind(e, kind);
	return n;
}

char *const *objstore_changed(const struct objstore *st, size_t *n)
{
	*n = st->n_changed;
	return st->changed;
}

/* Append the records of FROM that TO does not hold yet. */
static void merge_errs(struct svcnft_errors *to, const struct svcnft_errors *from)
{
	for (size_t i = 0; i < from->n; i++) {
		bool seen = false;

		for (size_t j = 0; j < to->n && !seen; j++)
			seen = !strcmp(to->v[j].text, from->v[i].text);
		if (!seen)
			errs_add(to, from->v[i].status, "%s", from->v[i].text);
	}
}

/* Load every object, the new version of those that have one and use it:
 * those without one first (a new version that claims what another object
 * holds is then the later one). */
static struct svcnft_model *load_all(const struct objstore *st,
				     struct svcnft_errors *errs)
{
	struct svcnft_model *m = svcnft_model_new();

	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < st->n_b; i++)
			for (struct entry *e = st->b[i]; e; e = e->next) {
				bool new = e->pending && e->use;
				const char *t = new ? e->pending : e->good;

				if (t && new == (pass == 1))
					svcnft_model_load_buffer(m, e->source, t, strlen(t), errs);
			}
	return m;
}

/* Load and validate; the records into ERRS (once each). */
static struct svcnft_model *build(const struct objstore *st,
				  const struct svcnft_config *cfg,
				  struct svcnft_errors *errs)
{
	struct svcnft_errors round = {0};
	struct svcnft_model *m = load_all(st, &round);

	svcnft_model_validate(m, cfg, &round);
	merge_errs(errs, &round);
	svcnft_errors_free(&round);
	return m;
}

static struct entry *find(const struct objstore *st, const char *kind,
			  const char *ns, const char *name)
{
	struct svcnft_buf key = {0};
	struct entry *e;

	buf_printf(&key, "%s/%s/%s", kind, ns ? ns : "default", name ? name : "");
	e = *slot(st, key.data);
	svcnft_buf_free(&key);
	return e;
}

/* Drop E's new version, saying which one stays. */
static void drop_pending(struct entry *e, const struct objref *o)
{
	free(e->pending);
	e->pending = NULL;
	if (e->good)
		obj_warn(o, "this version is skipped; the last valid version stays");
	else
		obj_warn(o, "skipped: no valid version of it was seen");
}

/* The invalid objects of M: with DROP, the new versions among them are
 * dropped (*DROPPED counts them).  Returns how many invalid objects were
 * not new versions in use. */
static size_t sweep_invalid(const struct objstore *st, const struct svcnft_model *m,
			    bool drop, size_t *dropped, struct svcnft_errors *errs)
{
	size_t old = 0;

	*dropped = 0;
	for (size_t i = 0; i < m->n_svcs + m->n_eps; i++) {
		bool svc = i < m->n_svcs;
		const struct svc *s = svc ? &m->svcs[i] : NULL;
		const struct ep_source *p = svc ? NULL : &m->eps[i - m->n_svcs];
		struct objref o = { .errs = errs, .file = svc ? s->file : p->file,
				    .kind = svc ? "Service" : p->kind == EP_SLICE ?
					    "EndpointSlice" : "Endpoints",
				    .ns = svc ? s->ns : p->ns, .name = svc ? s->name : p->name };
		struct entry *e;

		if (svc ? !s->invalid && !s->parse_failed : !p->invalid && !p->parse_failed)
			continue;
		e = find(st, o.kind, o.ns, o.name);
		if (!e || !e->pending || !e->use) {
			old++;
		} else if (drop) {
			drop_pending(e, &o);
			(*dropped)++;
		}
	}
	return old;
}

/* The slow way, when new versions made an older valid object invalid
 * (validation blames the first by name, the API server refuses the
 * later): add the new versions one at a time, each kept only if it makes
 * nothing invalid. */
static void one_by_one(struct objstore *st, const struct svcnft_config *cfg,
		       struct svcnft_errors *errs)
{
	struct svcnft_errors quiet = {0};
	struct svcnft_model *m;
	size_t base, dropped;

	for (size_t i = 0; i < st->n_b; i++)
		for (struct entry *e = st->b[i]; e; e = e->next)
			e->use = false;
	m = build(st, cfg, &quiet);
	base = sweep_invalid(st, m, false, &dropped, &quiet);
	svcnft_model_free(m);
	svcnft_errors_free(&quiet);
	for (size_t i = 0; i < st->n_b; i++)
		for (struct entry *e = st->b[i]; e; e = e->next) {
			struct svcnft_errors trial = {0};
			char *k = xstrdup(e->key), *ns = strchr(k, '/') + 1;
			char *name = strchr(ns, '/') + 1;
			struct objref o = { .errs = errs, .file = e->source, .kind = k,
					    .ns = ns, .name = name };

			ns[-1] = name[-1] = '\0';
			if (!e->pending) {
				free(k);
				continue;
			}
			e->use = true;
			m = build(st, cfg, &trial);
			if (sweep_invalid(st, m, false, &dropped, &trial) > base) {
				merge_errs(errs, &trial);
				drop_pending(e, &o);
			}
			free(k);
			svcnft_errors_free(&trial);
			svcnft_model_free(m);
		}
}

struct svcnft_model *objstore_model(struct objstore *st,
				    const struct svcnft_config *cfg,
				    struct svcnft_errors *errs)
{
	struct svcnft_model *m;
	size_t dropped, old;

	for (size_t i = 0; i < st->n_b; i++)
		for (struct entry *e = st->b[i]; e; e = e->next)
			e->use = true;
	do {
		m = build(st, cfg, errs);
		old = sweep_invalid(st, m, true, &dropped, errs);
		if (dropped || old)
			svcnft_model_free(m);
	} while (dropped);
	if (old) {
		one_by_one(st, cfg, errs);
		m = build(st, cfg, errs);
	}
	for (size_t i = 0; i < st->n_b; i++)
		for (struct entry *e = st->b[i]; e; e = e->next)
			if (e->pending) {
				free(e->good);
				e->good = e->pending;
				e->pending = NULL;
			}
	forget_changed(st);
	return m;
}
