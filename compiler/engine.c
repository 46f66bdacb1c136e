/* engine: see engine.h.
 *
 * Keys: "S\x1fNS\x1fNAME" a Service, "E\x1fK\x1fNS\x1fNAME" an endpoint
 * source (K: 0 Endpoints, 1 EndpointSlice), "C\x1fNAME" a ServiceCIDR.
 * Items (compiler/item.h): elements as packed records, sets (and maps) and
 * chains by name.  Sources of a service: "NS\x1fSERVICE". */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "diag.h"
#include "engine_int.h"
#include "limits.h"
#include "plan_records.h"
#include "util.h"
#include "validate.h"

/* Keys. */

void key_join(struct svcnft_buf *b, const char *pfx, const char *x,
	      const char *y)
{
	b->len = 0;
	if (pfx) {
		buf_puts(b, pfx);
		buf_putc(b, '\x1f');
	}
	buf_puts(b, x);
	buf_putc(b, '\x1f');
	buf_puts(b, y);
}

void key_svc(struct svcnft_buf *b, const char *ns, const char *name)
{
	key_join(b, "S", ns, name);
}

static void key_src(struct svcnft_buf *b, enum ep_kind k, const char *ns,
		    const char *name)
{
	key_join(b, k == EP_SLICE ? "E\x1f" "1" : "E\x1f" "0", ns, name);
}

static void key_cidr(struct svcnft_buf *b, const char *name)
{
	b->len = 0;
	buf_printf(b, "C\x1f%s", name);
}

void obj_key(struct svcnft_buf *b, const struct eobj *o)
{
	if (o->kind == O_SVC)
		key_svc(b, o->u.svc.ns, o->u.svc.name);
	else if (o->kind == O_SRC)
		key_src(b, o->u.src.kind, o->u.src.ns, o->u.src.name);
	else
		key_cidr(b, o->u.cidr.name);
}

const char *obj_file(const struct eobj *o)
{
	return o->kind == O_SVC ? o->u.svc.file : o->kind == O_SRC ?
	       o->u.src.file : o->u.cidr.file;
}

void obj_free(struct eobj *o)
{
	if (!o)
		return;
	if (o->kind == O_SVC)
		model_svc_free(&o->u.svc);
	else if (o->kind == O_SRC)
		model_source_free(&o->u.src);
	else
		model_cidr_free(&o->u.cidr);
	if (o->health)
		health_free(o->health);
	free(o->health);
	free(o->items);
	free(o);
}

void ptrv_add(struct ptrv *v, void *p)
{
	v->v = grow(v->v, &v->cap, v->n, sizeof(*v->v));
	v->v[v->n++] = p;
}

void ptrv_remove(struct ptrv *v, const void *p)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->v[i] == p) {
			v->v[i] = v->v[--v->n];
			return;
		}
}

struct ptrv *ptrv_at(struct hmap *m, const char *key)
{
	bool created;
	struct hent *h = hmap_put(m, key, &created);

	if (created)
		h->val = xcalloc(1, sizeof(struct ptrv));
	return h->val;
}

void ptrv_map_free(struct hmap *m)
{
	for (struct hent *h = hmap_next(m, NULL); h; h = hmap_next(m, h)) {
		struct ptrv *v = h->val;

		free(v->v);
		free(v);
	}
	hmap_free(m);
}

/* Counting items. */

uintptr_t count_of(const struct hmap *m, const char *key)
{
	return (uintptr_t)hmap_get(m, key);
}

void count_add(struct hmap *m, const char *key, intptr_t d)
{
	bool created;
	struct hent *h = hmap_put(m, key, &created);

	h->val = (void *)((intptr_t)h->val + d);
	if (!h->val)
		hmap_del(m, key);
}

void delta_add(struct hmap *m, const struct item *it, intptr_t d)
{
	bool created;
	struct hent *h = hmap_put_mem(m, it, item_size(it), &created);

	h->val = (void *)((intptr_t)h->val + d);
}

uintptr_t item_count_of(const struct hmap *m, const struct item *it)
{
	const struct hent *h = hmap_find_mem(m, it, item_size(it));

	return h ? (uintptr_t)h->val : 0;
}

const struct item *item_take(struct engine *e, struct item *it)
{
	bool created;
	struct hent *h = hmap_put_mem_take(&e->items, it, item_size(it), &created);
	const struct item *kept = (const struct item *)h->key;

	if (created && kept->kind == ITEM_ELEM)
		count_add(&e->counts, item_name(kept), 1);
	h->val = (void *)((uintptr_t)h->val + 1);
	return kept;
}

void item_unref(struct engine *e, const struct item *it)
{
	struct hent *h = hmap_find_mem(&e->items, it, item_size(it));

	if (h && !(h->val = (void *)((uintptr_t)h->val - 1))) {
		if (it->kind == ITEM_ELEM)
			count_add(&e->counts, item_name(it), -1);
		hmap_del_mem(&e->items, h->key, h->len);
	}
}

struct itemv {
	struct item **v;
	size_t n, cap;
};

static void push_item(struct itemv *v, struct item *it)
{
	v->v = grow(v->v, &v->cap, v->n, sizeof(*v->v));
	v->v[v->n++] = it;
}

static void rec_item(const struct el_record *r, void *arg)
{
	push_item(arg, item_pack(r));
}

static void obj_item(const char *name, bool set, void *arg)
{
	push_item(arg, item_named(set ? ITEM_SET : ITEM_CHAIN, name));
}

/* Every element of plan P, and its dynamic chains and maps, into V. */
static void plan_items(struct itemv *v, const struct plan *p)
{
	plan_records(p, true, rec_item, v);
	plan_objects(p, obj_item, v);
}

struct item **lower_items(const struct engine *e, const struct svcnft_model *m,
			  size_t *n)
{
	struct itemv v = {0};
	struct plan p;
	size_t w = 0;

	plan_build(&p, m, &e->eff);
	plan_items(&v, &p);
	plan_free(&p);
	for (size_t i = 0; i < v.n; i++) {
		if (hmap_find_mem(&e->base, v.v[i], item_size(v.v[i])))
			free(v.v[i]);
		else
			v.v[w++] = v.v[i];
	}
	*n = w;
	return v.v;
}

static void set_ranges(struct engine *e, struct svcnft_cidr *ranges, size_t n)
{
	free(e->ranges);
	e->ranges = ranges;
	e->eff = *e->cfg;
	e->eff.n_service_cidrs = n;
	e->eff.service_cidrs = ranges;
}

/* The empty table's items under CFG: every set and chain, the elements
 * the options give (CIDR sets); the sets' declared sizes into ELS. */
static void empty_items(const struct svcnft_config *cfg, struct itemv *v,
			struct elements *els)
{
	struct svcnft_model empty = { .sorted = true };
	struct plan p;

	plan_build(&p, &empty, cfg);
	elements_from_plan(els, &p);
	plan_records(&p, true, rec_item, v);
	for (size_t i = 0; i < els->n_sets; i++)
		obj_item(els->sets[i].name, true, v);
	for (size_t i = 0; i < els->chains.n; i++)
		obj_item(els->chains.v[i], false, v);
	plan_free(&p);
}

/* The empty table under the engine's configuration becomes its base. */
static void base_items(struct engine *e)
{
	struct itemv v = {0};
	struct elements els;
	bool created;

	empty_items(&e->eff, &v, &els);
	for (size_t i = 0; i < v.n; i++) {
		hmap_put_mem(&e->base, v.v[i], item_size(v.v[i]), &created);
		item_take(e, v.v[i]);
	}
	free(v.v);
	for (size_t i = 0; i < els.n_sets; i++)
		if (els.sets[i].size)
			hmap_put(&e->base_sizes, els.sets[i].name, &created)->val =
				(void *)(uintptr_t)els.sets[i].size;
	elements_free(&els);
}

static void cidr_push(struct svcnft_model *m, const struct svc_cidr_obj *c)
{
	m->svc_cidrs = grow(m->svc_cidrs, &m->cap_svc_cidrs, m->n_svc_cidrs,
			    sizeof(*m->svc_cidrs));
	m->svc_cidrs[m->n_svc_cidrs++] = *c;
}

size_t ranges_after(const struct engine *e, struct svcnft_cidr **out)
{
	struct svcnft_model m = { .sorted = true };
	size_t n;

	for (struct hent *h = hmap_next(&e->objs, NULL); h; h = hmap_next(&e->objs, h))
		if (h->key[0] == 'C' && !hmap_find(&e->staged, h->key))
			cidr_push(&m, &((const struct eobj *)h->val)->u.cidr);
	for (struct hent *h = hmap_next(&e->staged, NULL); h; h = hmap_next(&e->staged, h))
		if (h->key[0] == 'C' && ((const struct op *)h->val)->obj)
			cidr_push(&m, &((const struct op *)h->val)->obj->u.cidr);
	n = model_service_cidrs(&m, e->cfg, out);
	free(m.svc_cidrs);
	return n;
}

void base_delta(const struct engine *e, const struct svcnft_config *eff,
		struct hmap *delta)
{
	struct itemv v = {0};
	struct elements els;
	struct hmap now = {0};
	bool created;

	empty_items(eff, &v, &els);
	elements_free(&els);
	for (size_t i = 0; i < v.n; i++) {
		hmap_put_mem(&now, v.v[i], item_size(v.v[i]), &created);
		if (!hmap_find_mem(&e->base, v.v[i], item_size(v.v[i])))
			delta_add(delta, v.v[i], 1);
		free(v.v[i]);
	}
	free(v.v);
	for (struct hent *h = hmap_next(&e->base, NULL); h; h = hmap_next(&e->base, h))
		if (!hmap_find_mem(&now, h->key, h->len))
			delta_add(delta, (const struct item *)h->key, -1);
	hmap_free(&now);
}

void ranges_commit(struct engine *e, struct batch_priv *b)
{
	for (struct hent *h = hmap_next(&e->base, NULL); h; h = hmap_next(&e->base, h))
		item_unref(e, (const struct item *)h->key);
	hmap_free(&e->base);
	hmap_free(&e->base_sizes);
	set_ranges(e, b->ranges, b->eff.n_service_cidrs);
	b->ranges = NULL;
	base_items(e);
}

struct engine *engine_new(const struct svcnft_config *cfg)
{
	struct engine *e = xcalloc(1, sizeof(*e));
	struct svcnft_cidr *ranges;
	size_t n = model_service_cidrs(&(struct svcnft_model){ .sorted = true }, cfg, &ranges);

	e->cfg = cfg;
	set_ranges(e, ranges, n);
	base_items(e);
	return e;
}

void op_free(struct op *op)
{
	obj_free(op->obj);
	for (size_t i = 0; i < op->dups.n; i++)
		obj_free(op->dups.v[i]);
	free(op->dups.v);
	free(op);
}

void staged_free(struct hmap *staged)
{
	for (struct hent *h = hmap_next(staged, NULL); h; h = hmap_next(staged, h))
		op_free(h->val);
	hmap_free(staged);
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	if (e->batch)
		engine_abort(e, e->batch);
	staged_free(&e->staged);
	for (struct hent *h = hmap_next(&e->objs, NULL); h; h = hmap_next(&e->objs, h))
		obj_free(h->val);
	hmap_free(&e->objs);
	for (struct hent *h = hmap_next(&e->files, NULL); h; h = hmap_next(&e->files, h)) {
		hmap_free(h->val);
		free(h->val);
	}
	hmap_free(&e->files);
	ptrv_map_free(&e->by_svc);
	ptrv_map_free(&e->claims);
	hmap_free(&e->vips);
	hmap_free(&e->nodeports);
	hmap_free(&e->items);
	hmap_free(&e->sizes);
	hmap_free(&e->checks);
	hmap_free(&e->base_sizes);
	hmap_free(&e->counts);
	hmap_free(&e->base);
	free(e->ranges);
	free(e);
}

/* Object KIND NS/NAME of FILE is left out; warn what stays instead. */
void skipped(const struct engine *e, struct svcnft_errors *errs, const char *key,
	     const char *file, const char *kind, const char *ns, const char *name)
{
	struct objref o = { errs, file, kind, ns, !ns, name };

	if (hmap_find(&e->objs, key))
		obj_warn(&o, "this version is skipped; the last valid version stays");
	else
		obj_warn(&o, "skipped: no valid version of it was seen");
}

void engine_validate(const struct engine *e, struct svcnft_model *m,
		     enum engine_mode mode, struct svcnft_errors *errs)
{
	struct svcnft_buf k = {0};

	svcnft_model_validate(m, &e->eff, errs);
	if (!(mode & ENGINE_PER_OBJECT))
		return;
	for (size_t i = 0; i < m->n_svcs; i++) {
		const struct svc *s = &m->svcs[i];

		if (!s->invalid && !s->parse_failed)
			continue;
		key_svc(&k, s->ns, s->name);
		skipped(e, errs, k.data, s->file, "Service", s->ns, s->name);
	}
	for (size_t i = 0; i < m->n_eps; i++) {
		const struct ep_source *s = &m->eps[i];

		if (!s->invalid && !s->parse_failed)
			continue;
		key_src(&k, s->kind, s->ns, s->name);
		skipped(e, errs, k.data, s->file, s->kind == EP_SLICE ? "EndpointSlice" :
			"Endpoints", s->ns, s->name);
	}
	for (size_t i = 0; i < m->n_svc_cidrs; i++) {
		const struct svc_cidr_obj *c = &m->svc_cidrs[i];

		if (!c->invalid && !c->parse_failed)
			continue;
		key_cidr(&k, c->name);
		skipped(e, errs, k.data, c->file, "ServiceCIDR", NULL, c->name);
	}
	svcnft_buf_free(&k);
}

/* Staging. */

static struct op *stage(struct engine *e, const char *key)
{
	bool created;
	struct hent *h = hmap_put(&e->staged, key, &created);

	if (created)
		h->val = xcalloc(1, sizeof(struct op));
	return h->val;
}

/* Stage O, whose key is KEY. */
static void stage_put(struct engine *e, const char *key, struct eobj *o,
		      bool any_file)
{
	struct op *op = stage(e, key);

	if (op->obj && o->kind == O_SVC && !any_file && !op->any_file) {
		ptrv_add(&op->dups, o);		/* defined twice */
	} else {
		obj_free(op->obj);
		op->obj = o;
		op->any_file = any_file;
	}
}

/* The object KEY holds once the staged changes are made. */
struct eobj *current(const struct engine *e, const char *key)
{
	const struct op *op = hmap_get(&e->staged, key);

	return op ? op->obj : hmap_get(&e->objs, key);
}

static void stage_del(struct engine *e, const char *key, const char *file)
{
	const struct eobj *cur = current(e, key);
	const struct eobj *stored = hmap_get(&e->objs, key);
	struct op *op;

	if (!cur || (file && strcmp(obj_file(cur), file))) {
		/* another file's version is staged: note the release */
		op = hmap_get(&e->staged, key);
		if (op && stored && file && !strcmp(obj_file(stored), file))
			op->released = true;
		return;
	}
	op = stage(e, key);
	obj_free(op->obj);
	op->obj = NULL;
	if (op->dups.n) {	/* another definition stays */
		op->obj = op->dups.v[0];
		memmove(op->dups.v, op->dups.v + 1, --op->dups.n * sizeof(*op->dups.v));
	}
	op->released = true;
}

static struct eobj *obj_new(enum okind kind)
{
	static const size_t size[] = { sizeof(struct svc), sizeof(struct ep_source),
				       sizeof(struct svc_cidr_obj) };
	struct eobj *o = xcalloc(1, offsetof(struct eobj, u) + size[kind]);

	o->kind = kind;
	return o;
}

/* Object I of M (services, sources, ServiceCIDRs in a row) is invalid:
 * freed here, never staged. */
static bool invalid(struct svcnft_model *m, size_t i)
{
	if (i < m->n_svcs) {
		if (!m->svcs[i].invalid && !m->svcs[i].parse_failed)
			return false;
		model_svc_free(&m->svcs[i]);
	} else if (i < m->n_svcs + m->n_eps) {
		struct ep_source *e = &m->eps[i - m->n_svcs];

		if (!e->invalid && !e->parse_failed)
			return false;
		model_source_free(e);
	} else {
		struct svc_cidr_obj *c = &m->svc_cidrs[i - m->n_svcs - m->n_eps];

		if (!c->invalid && !c->parse_failed)
			return false;
		model_cidr_free(c);
	}
	return true;
}

/* Move the valid objects out of M (the rest are freed); with KEYS, note
 * each one's key there.  ANY_FILE: each replaces the object of its key
 * (else a Service staged twice is a duplicate). */
static void take(struct engine *e, struct svcnft_model *m, struct hmap *keys,
		 bool any_file)
{
	struct svcnft_buf k = {0};
	bool created;

	for (size_t i = 0; i < m->n_svcs + m->n_eps + m->n_svc_cidrs; i++) {
		struct eobj *o;

		if (invalid(m, i)) {
			e->dropped++;
			continue;
		}
		if (i < m->n_svcs) {
			o = obj_new(O_SVC);
			o->u.svc = m->svcs[i];
		} else if (i < m->n_svcs + m->n_eps) {
			o = obj_new(O_SRC);
			o->u.src = m->eps[i - m->n_svcs];
		} else {
			o = obj_new(O_CIDR);
			o->u.cidr = m->svc_cidrs[i - m->n_svcs - m->n_eps];
		}
		obj_key(&k, o);
		if (keys)
			hmap_put(keys, k.data, &created);
		stage_put(e, k.data, o, any_file);
	}
	free(m->svcs);		/* moved: M holds nothing */
	free(m->eps);
	free(m->svc_cidrs);
	m->svcs = NULL;
	m->eps = NULL;
	m->svc_cidrs = NULL;
	m->n_svcs = m->n_eps = m->n_svc_cidrs = 0;
	m->cap_svcs = m->cap_eps = m->cap_svc_cidrs = 0;
	svcnft_buf_free(&k);
}

void engine_each(const struct engine *e, enum engine_kind kind,
		 void (*each)(const char *ns, const char *name, void *arg),
		 void *arg)
{
	for (struct hent *h = hmap_next(&e->objs, NULL); h; h = hmap_next(&e->objs, h)) {
		const struct eobj *o = h->val;

		if (kind == ENGINE_SERVICE && o->kind == O_SVC)
			each(o->u.svc.ns, o->u.svc.name, arg);
		else if (kind == ENGINE_SERVICE_CIDR && o->kind == O_CIDR)
			each("", o->u.cidr.name, arg);
		else if ((kind == ENGINE_SLICE || kind == ENGINE_ENDPOINTS) && o->kind == O_SRC &&
			 (o->u.src.kind == EP_SLICE) == (kind == ENGINE_SLICE))
			each(o->u.src.ns, o->u.src.name, arg);
	}
}

void engine_stage_objects(struct engine *e, struct svcnft_model *m)
{
	take(e, m, NULL, true);
}

struct engine *engine_snapshot(const struct svcnft_config *cfg,
			       struct svcnft_model *m, enum engine_mode mode,
			       struct svcnft_errors *errs)
{
	struct engine *e = engine_new(cfg);
	struct engine_batch *b;

	engine_validate(e, m, ENGINE_ALL_OR_NOTHING, errs);
	take(e, m, NULL, false);
	b = engine_prepare(e, ENGINE_ALL_OR_NOTHING | ENGINE_WHOLE | mode, errs);
	if (b && !b->rebuild && svcnft_errors_status(errs) == SVCNFT_OK) {
		engine_commit(e, b);
		return e;
	}
	engine_abort(e, b);
	engine_free(e);
	return NULL;
}

void engine_stage_file(struct engine *e, const char *file,
		       struct svcnft_model *m)
{
	struct hmap keep = {0}, *had = hmap_get(&e->files, file);
	char **gone = NULL;
	size_t n = 0, cap = 0;

	if (m)
		take(e, m, &keep, false);
	for (struct hent *h = had ? hmap_next(had, NULL) : NULL; h; h = hmap_next(had, h))
		if (!hmap_find(&keep, h->key)) {
			gone = grow(gone, &cap, n, sizeof(*gone));
			gone[n++] = xstrdup(h->key);
		}
	for (size_t i = 0; i < n; i++) {
		stage_del(e, gone[i], file);
		free(gone[i]);
	}
	free(gone);
	hmap_free(&keep);
}

void engine_stage_delete(struct engine *e, enum engine_kind kind,
			 const char *ns, const char *name)
{
	struct svcnft_buf k = {0};

	if (kind == ENGINE_SERVICE)
		key_svc(&k, ns, name);
	else if (kind == ENGINE_SERVICE_CIDR)
		key_cidr(&k, name);
	else
		key_src(&k, kind == ENGINE_SLICE ? EP_SLICE : EP_ENDPOINTS, ns, name);
	stage_del(e, k.data, NULL);
	svcnft_buf_free(&k);
}


/* Indexes. */

static void file_keys(struct engine *e, const char *file, const char *key,
		      bool add)
{
	bool created;
	struct hent *h = add ? hmap_put(&e->files, file, &created) :
			       hmap_find(&e->files, file);

	if (!h)
		return;
	if (add) {
		if (created)
			h->val = xcalloc(1, sizeof(struct hmap));
		hmap_put(h->val, key, &created);
		return;
	}
	hmap_del(h->val, key);
	if (!hmap_count(h->val)) {
		hmap_free(h->val);
		free(h->val);
		hmap_del(&e->files, file);
	}
}

static void ptrv_unlink(struct hmap *m, const char *key, const void *p)
{
	struct ptrv *v = hmap_get(m, key);

	if (!v)
		return;
	ptrv_remove(v, p);
	if (!v->n) {
		free(v->v);
		free(v);
		hmap_del(m, key);
	}
}

static void owned(struct hmap *m, const char *key, struct eobj *o, bool add)
{
	bool created;

	if (add)
		hmap_put(m, key, &created)->val = o;
	else if (hmap_get(m, key) == o)
		hmap_del(m, key);
}

static void index_svc(struct engine *e, struct eobj *o, bool add)
{
	const struct svc *s = &o->u.svc;
	size_t n;
	char **keys = claim_keys(s, &n);
	char a[64];

	for (size_t i = 0; i < n; i++) {
		if (add)
			ptrv_add(ptrv_at(&e->claims, keys[i]), o);
		else
			ptrv_unlink(&e->claims, keys[i], o);
		free(keys[i]);
	}
	free(keys);
	for (size_t i = 0; !s->headless && s->type != SVC_EXTERNAL_NAME && i < s->n_vip; i++) {
		ipaddr_format(&s->vip[i], a, sizeof(a));
		owned(&e->vips, a, o, add);
	}
	for (size_t i = 0; i < s->n_ports; i++) {
		if (s->ports[i].node_port.v <= 0 || (s->type != SVC_NODE_PORT &&
						     s->type != SVC_LOAD_BALANCER))
			continue;
		snprintf(a, sizeof(a), "%lld", s->ports[i].node_port.v);
		owned(&e->nodeports, a, o, add);
	}
	if (s->hc_port.v > 0 && !s->hc_port.bad_type) {
		snprintf(a, sizeof(a), "%lld", s->hc_port.v);
		owned(&e->nodeports, a, o, add);
	}
	e->n_svcs = add ? e->n_svcs + 1 : e->n_svcs - 1;
}

static void index_obj(struct engine *e, const char *key, struct eobj *o,
		      bool add)
{
	struct svcnft_buf k = {0};

	file_keys(e, obj_file(o), key, add);
	if (o->kind == O_SVC) {
		index_svc(e, o, add);
	} else if (o->kind == O_SRC) {
		key_join(&k, NULL, o->u.src.ns, o->u.src.service);
		if (add)
			ptrv_add(ptrv_at(&e->by_svc, k.data), o);
		else
			ptrv_unlink(&e->by_svc, k.data, o);
	}
	svcnft_buf_free(&k);
}

/* Commit. */

static void keep_ignored(struct svc *to, const struct svc *from)
{
	for (size_t x = 0; x < to->n_ext; x++) {
		free(to->ext[x].ignored);
		to->ext[x].ignored = xcalloc(to->n_ports + 1, sizeof(bool));
		memcpy(to->ext[x].ignored, from->ext[x].ignored, to->n_ports * sizeof(bool));
	}
}

static void new_contribution(struct engine *e, struct touched *t)
{
	const struct item **v = xcalloc(t->n_items + 1, sizeof(*v));
	const struct item **old = t->old ? t->old->items : NULL;
	size_t n_old = t->old ? t->old->n_items : 0;

	for (size_t i = 0; i < t->n_items; i++) {
		v[i] = item_take(e, t->items[i]);
		t->items[i] = NULL;
	}
	for (size_t i = 0; i < n_old; i++)
		item_unref(e, old[i]);
	if (t->old) {
		free(t->old->items);
		t->old->items = NULL;
		t->old->n_items = 0;
	}
	if (t->now) {
		t->now->items = v;
		t->now->n_items = t->n_items;
		keep_ignored(&t->now->u.svc, t->copy);
	} else {
		free(v);
	}
}

static void count_health(struct engine *e, const struct svcnft_health *h,
			 int sign)
{
	if (!h)
		return;
	e->totals.services += (size_t)sign * h->services;
	e->totals.service_ports += (size_t)sign * h->service_ports;
	e->totals.endpoints += (size_t)sign * h->endpoints;
}

/* Touched service KEY's health replaces its old one. */
static void new_health(struct engine *e, const char *key, struct touched *t)
{
	bool created;

	count_health(e, t->old ? t->old->health : NULL, -1);
	if (t->old) {
		if (t->old->health)
			health_free(t->old->health);
		free(t->old->health);
		t->old->health = NULL;
	}
	hmap_del(&e->checks, key);
	if (!t->now)
		return;
	t->now->health = xmalloc(sizeof(*t->now->health));
	*t->now->health = t->health;
	memset(&t->health, 0, sizeof(t->health));
	count_health(e, t->now->health, 1);
	if (t->now->health->n_checks)
		hmap_put(&e->checks, key, &created)->val = t->now;
}

void engine_health(const struct engine *e, struct svcnft_health *out)
{
	size_t cap = 0;

	*out = e->totals;
	out->checks = NULL;
	out->n_checks = 0;
	for (struct hent *h = hmap_next(&e->checks, NULL); h; h = hmap_next(&e->checks, h)) {
		const struct svcnft_health *s = ((const struct eobj *)h->val)->health;

		for (size_t i = 0; i < s->n_checks; i++) {
			struct health_check c = s->checks[i];

			c.ns = xstrdup(c.ns);
			c.name = xstrdup(c.name);
			out->checks = grow(out->checks, &cap, out->n_checks, sizeof(*out->checks));
			out->checks[out->n_checks++] = c;
		}
	}
	health_sort(out);
}

/* OP's object becomes KEY's, in the indexes too. */
static void install(struct engine *e, const char *key, struct op *op)
{
	struct eobj *old = hmap_get(&e->objs, key);
	bool created;

	if (old) {
		index_obj(e, key, old, false);
		hmap_del(&e->objs, key);
	}
	if (op->obj) {
		hmap_put(&e->objs, key, &created)->val = op->obj;
		index_obj(e, key, op->obj, true);
		op->obj = NULL;
	}
	obj_free(old);
}

/* A one-shot engine's first batch (it takes no more: no indexes): the
 * staged map becomes the objects' map, its values the objects.  Moving
 * them entry by entry cost more than the batch's checks: inserting a
 * map's keys in its own hash order into a smaller map of the same hash
 * makes linear probing's runs long (72 M instructions at 10k services). */
static void adopt_staged(struct engine *e)
{
	size_t n_gone = 0;

	for (struct hent *h = hmap_next(&e->staged, NULL); h; h = hmap_next(&e->staged, h)) {
		struct op *op = h->val;

		h->val = op->obj;
		op->obj = NULL;
		n_gone += !h->val;
		e->n_svcs += h->val && ((struct eobj *)h->val)->kind == O_SVC;
		op_free(op);
	}
	hmap_free(&e->objs);
	e->objs = e->staged;
	memset(&e->staged, 0, sizeof(e->staged));
	while (n_gone--)	/* a deleted key: none in a fresh batch */
		for (struct hent *h = hmap_next(&e->objs, NULL); h; h = hmap_next(&e->objs, h))
			if (!h->val) {
				hmap_del(&e->objs, h->key);
				break;
			}
}

void engine_commit(struct engine *e, struct engine_batch *pub)
{
	struct batch_priv *b = (struct batch_priv *)pub;

	for (struct hent *h = hmap_next(&b->touched, NULL); h; h = hmap_next(&b->touched, h)) {
		struct touched *t = h->val;

		if (!b->check_only) {
			new_contribution(e, t);
			new_health(e, h->key, t);
		} else if (t->now) {
			keep_ignored(&t->now->u.svc, t->copy);
		}
	}
	if (b->check_only && !hmap_count(&e->objs))
		adopt_staged(e);
	for (struct hent *h = hmap_next(&e->staged, NULL); h; h = hmap_next(&e->staged, h))
		install(e, h->key, h->val);
	if (b->ranges)
		ranges_commit(e, b);
	staged_free(&e->staged);
	e->dropped = 0;
	e->committed = true;
	e->batch = NULL;
	batch_free(e, b);
}

void engine_abort(struct engine *e, struct engine_batch *pub)
{
	staged_free(&e->staged);
	e->dropped = 0;
	e->batch = NULL;
	if (pub)
		batch_free(e, (struct batch_priv *)pub);
}

/* Views. */

struct svcnft_model *engine_view(const struct engine *e)
{
	struct svcnft_model *m = svcnft_model_new();
	size_t n[3] = {0};

	for (struct hent *h = hmap_next(&e->objs, NULL); h; h = hmap_next(&e->objs, h))
		n[((const struct eobj *)h->val)->kind]++;
	m->svcs = xcalloc(m->cap_svcs = n[O_SVC] + 1, sizeof(*m->svcs));
	m->eps = xcalloc(m->cap_eps = n[O_SRC] + 1, sizeof(*m->eps));
	m->svc_cidrs = xcalloc(m->cap_svc_cidrs = n[O_CIDR] + 1, sizeof(*m->svc_cidrs));
	for (struct hent *h = hmap_next(&e->objs, NULL); h; h = hmap_next(&e->objs, h)) {
		const struct eobj *o = h->val;

		if (o->kind == O_SVC)
			m->svcs[m->n_svcs++] = o->u.svc;
		else if (o->kind == O_SRC)
			m->eps[m->n_eps++] = o->u.src;
		else
			m->svc_cidrs[m->n_svc_cidrs++] = o->u.cidr;
	}
	model_sort(m);
	return m;
}

struct svcnft_model *engine_release(struct engine *e)
{
	struct svcnft_model *m = engine_view(e);

	for (struct hent *h = hmap_next(&e->objs, NULL); h; h = hmap_next(&e->objs, h)) {
		struct eobj *o = h->val;	/* its contents are the model's */

		if (o->health)
			health_free(o->health);
		free(o->health);
		free(o->items);
		free(o);
	}
	hmap_free(&e->objs);
	engine_free(e);
	return m;
}

void engine_view_free(struct svcnft_model *m)
{
	if (!m)
		return;
	free(m->svcs);
	free(m->eps);
	free(m->svc_cidrs);
	free(m);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Item IT as text: "SET\x1fELEMENT", "\x1dSET" or "\x1cCHAIN" (built in
 * B); NULL if an element does not print. */
static char *item_text(struct svcnft_buf *b, const struct item *it)
{
	b->len = 0;
	if (it->kind != ITEM_ELEM) {
		buf_printf(b, "%c%s", it->kind == ITEM_SET ? '\x1d' : '\x1c', item_name(it));
		return xstrdup(b->data);
	}
	buf_printf(b, "%s\x1f", item_name(it));
	return item_format(b, it) ? xstrdup(b->data) : NULL;
}

void engine_elements(const struct engine *e, struct elements *out)
{
	char **v = xcalloc(hmap_count(&e->items) + 1, sizeof(*v));
	struct svcnft_buf b = {0};
	size_t n = 0;

	for (struct hent *h = hmap_next(&e->items, NULL); h; h = hmap_next(&e->items, h))
		if ((v[n] = item_text(&b, (const struct item *)h->key)))
			n++;
	svcnft_buf_free(&b);
	qsort(v, n, sizeof(*v), str_cmp);
	elements_init(out);
	out->exists = out->ours = true;
	out->layout = SVCNFT_LAYOUT_VERSION;
	for (size_t i = 0; i < n; i++)
		if (v[i][0] == '\x1d')
			elements_add_set(out, v[i] + 1, count_of(&e->sizes, v[i] + 1));
		else if (v[i][0] == '\x1c')
			el_add(&out->chains, v[i] + 1, strlen(v[i] + 1));
	for (size_t i = 0; i < n; i++) {
		const char *sep = strchr(v[i], '\x1f');
		char name[64];
		struct el_set *s;

		if (v[i][0] == '\x1d' || v[i][0] == '\x1c' || !sep)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(sep - v[i]), v[i]);
		if ((s = elements_find(out, name)))
			el_add(&s->el, sep + 1, strlen(sep + 1));
	}
	elements_finish(out);
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

size_t engine_services(const struct engine *e)
{
	return e->n_svcs;
}

void engine_fix_sizes(struct engine *e)
{
	bool created;

	for (struct hent *h = hmap_next(&e->base_sizes, NULL); h;
	     h = hmap_next(&e->base_sizes, h)) {
		uintptr_t size = (uintptr_t)h->val;

		if (size != PLAN_AFFINITY_SIZE)
			size = plan_set_size(count_of(&e->counts, h->key));
		hmap_put(&e->sizes, h->key, &created)->val = (void *)size;
	}
}
