/* engine_batch: engine_prepare, engine_commit, engine_abort (engine.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "engine_int.h"
#include "limits.h"
#include "util.h"
#include "validate.h"

static void claim_key(struct svcnft_buf *b, const struct ipaddr *ip,
		      const struct svc_port *p)
{
	char a[64];

	ipaddr_format(ip, a, sizeof(a));
	b->len = 0;
	buf_printf(b, "%s\x1f%d\x1f%lld", a, (int)p->proto, p->port.v);
}

static void push_str(char ***v, size_t *n, size_t *cap, const char *s)
{
	*v = grow(*v, cap, *n, sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
}

char **claim_keys(const struct svc *s, size_t *n)
{
	struct svcnft_buf b = {0};
	char **v = NULL;
	size_t cap = 0;

	*n = 0;
	if (!svc_has_rules(s))
		return NULL;
	for (size_t j = 0; j < s->n_ports; j++) {
		for (size_t k = 0; k < s->n_vip; k++) {
			claim_key(&b, &s->vip[k], &s->ports[j]);
			push_str(&v, n, &cap, b.data);
		}
		for (size_t k = 0; k < s->n_ext; k++)
			if (!s->ext[k].proxy && svc_has_family(s, s->ext[k].ip.family)) {
				claim_key(&b, &s->ext[k].ip, &s->ports[j]);
				push_str(&v, n, &cap, b.data);
			}
	}
	svcnft_buf_free(&b);
	return v;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The touched services. */

static struct touched *touch(struct engine *e, struct batch_priv *b,
			     const char *key)
{
	bool created;
	struct hent *h = hmap_put(&b->touched, key, &created);

	if (created) {
		struct touched *t = xcalloc(1, sizeof(*t));

		t->key = h->key;
		t->old = hmap_get(&e->objs, key);
		t->now = current(e, key);
		h->val = t;
	}
	return h->val;
}

static void touch_svc_of(struct engine *e, struct batch_priv *b,
			 const struct eobj *src)
{
	struct svcnft_buf k = {0};

	if (!src)
		return;
	key_svc(&k, src->u.src.ns, src->u.src.service);
	touch(e, b, k.data);
	svcnft_buf_free(&k);
}

/* Every service that claims what service O claims. */
static void touch_claimants(struct engine *e, struct batch_priv *b,
			    const struct eobj *o)
{
	struct svcnft_buf k = {0};
	size_t n;
	char **keys;

	if (!o)
		return;
	keys = claim_keys(&o->u.svc, &n);
	for (size_t i = 0; i < n; i++) {
		struct ptrv *v = hmap_get(&e->claims, keys[i]);

		for (size_t j = 0; v && j < v->n; j++) {
			const struct svc *s = &((struct eobj *)v->v[j])->u.svc;

			key_svc(&k, s->ns, s->name);
			touch(e, b, k.data);
		}
	}
	strv_free(keys, n);
	svcnft_buf_free(&k);
}

/* A first batch: the engine holds nothing yet. */
static bool fresh(const struct engine *e)
{
	return !e->committed && !hmap_count(&e->objs);
}

static bool touch_all(struct engine *e, struct batch_priv *b)
{
	struct ptrv first = {0};
	bool cidr = false;

	for (struct hent *h = hmap_next(&e->staged, NULL); h; h = hmap_next(&e->staged, h)) {
		const struct op *op = h->val;

		if (h->key[0] == 'C')
			cidr = true;
		else if (h->key[0] == 'S')
			touch(e, b, h->key);
		else {
			touch_svc_of(e, b, hmap_get(&e->objs, h->key));
			touch_svc_of(e, b, op->obj);
		}
	}
	for (struct hent *h = hmap_next(&b->touched, NULL); h; h = hmap_next(&b->touched, h))
		ptrv_add(&first, h->val);
	for (size_t i = 0; !fresh(e) && i < first.n; i++) {	/* fresh: none stored */
		struct touched *t = first.v[i];

		touch_claimants(e, b, t->old);
		touch_claimants(e, b, t->now);
	}
	free(first.v);
	return !cidr;
}

/* Rules between objects: names, cluster IPs, node ports. */

/* The staged service KEY is refused: in PER_OBJECT mode it is dropped
 * (its stored version stays); returns whether the batch goes on. */
static void drop(struct engine *e, const char *key, size_t *n,
		 struct svcnft_errors *errs)
{
	struct op *op = hmap_del(&e->staged, key);
	const struct eobj *o;

	if (!op)
		return;
	if ((o = op->obj) && o->kind == O_SVC)
		skipped(e, errs, key, o->u.svc.file, "Service", o->u.svc.ns, o->u.svc.name);
	else if (o && o->kind == O_SRC)
		skipped(e, errs, key, o->u.src.file, o->u.src.kind == EP_SLICE ?
			"EndpointSlice" : "Endpoints", o->u.src.ns, o->u.src.name);
	op_free(op);
	(*n)++;
}

/* Whether source change OP (of KEY) concerns service NS/NAME. */
static bool src_of(const struct engine *e, const char *key, const struct op *op,
		   const char *ns, const char *name)
{
	const struct eobj *o[2] = { hmap_get(&e->objs, key), op->obj };

	for (int i = 0; i < 2; i++)
		if (o[i] && !strcmp(o[i]->u.src.ns, ns) && !strcmp(o[i]->u.src.service, name))
			return true;
	return false;
}

/* Service KEY is refused: in PER_OBJECT mode its staged version, or else
 * its staged sources, are dropped (what is stored stays); returns whether
 * the batch goes on. */
static bool refuse(struct engine *e, const char *key, enum engine_mode mode,
		   size_t *n_skipped, struct svcnft_errors *errs)
{
	const struct eobj *o = current(e, key);
	size_t before = *n_skipped;
	char **gone = NULL;
	size_t n = 0, cap = 0;

	if (!(mode & ENGINE_PER_OBJECT) || !key)
		return false;
	if (hmap_find(&e->staged, key)) {
		drop(e, key, n_skipped, errs);
		return true;
	}
	if (!o)
		return false;
	for (struct hent *h = hmap_next(&e->staged, NULL); h; h = hmap_next(&e->staged, h))
		if (h->key[0] == 'E' && src_of(e, h->key, h->val, o->u.svc.ns, o->u.svc.name))
			push_str(&gone, &n, &cap, h->key);
	for (size_t i = 0; i < n; i++)
		drop(e, gone[i], n_skipped, errs);
	strv_free(gone, n);
	return *n_skipped > before;
}

static bool is_touched(const struct batch_priv *b, const struct svc *s)
{
	struct svcnft_buf k = {0};
	bool r;

	key_svc(&k, s->ns, s->name);
	r = hmap_find(&b->touched, k.data) != NULL;
	svcnft_buf_free(&k);
	return r;
}

static int hent_cmp(const void *a, const void *b)
{
	return strcmp((*(struct hent *const *)a)->key, (*(struct hent *const *)b)->key);
}

/* Whether staged Service change OP of KEY defines it in another file than
 * the stored one, or more than once. */
static bool twice(const struct engine *e, const char *key, const struct op *op)
{
	const struct eobj *stored = hmap_get(&e->objs, key);

	return op->dups.n || (op->obj && stored && !op->released && !op->any_file &&
			      strcmp(obj_file(stored), obj_file(op->obj)));
}

/* The staged Services defined twice, by key, NULL-terminated (caller
 * frees). */
static struct hent **named_twice(const struct engine *e)
{
	struct hent **v = NULL;
	size_t n = 0, cap = 0;

	for (struct hent *h = hmap_next(&e->staged, NULL); h; h = hmap_next(&e->staged, h))
		if (h->key[0] == 'S' && twice(e, h->key, h->val)) {
			v = grow(v, &cap, n, sizeof(*v));
			v[n++] = h;
		}
	v = grow(v, &cap, n, sizeof(*v));
	v[n] = NULL;
	if (n)
		qsort(v, n, sizeof(*v), hent_cmp);
	return v;
}

/* T is refused by a rule; the first such key in *BAD. */
static void refused(struct touched *t, char **bad)
{
	t->refused = true;
	if (!*bad)
		*bad = xstrdup(t->key);
}

/* A Service defined in another file than the stored one, or twice in the
 * batch (each later definition names the one before it). */
static bool check_name(struct engine *e, const char *key, struct op *op,
		       struct svcnft_errors *errs)
{
	const struct eobj *stored = hmap_get(&e->objs, key);
	const struct eobj *prev = op->obj;
	bool ok = true;

	if (op->obj && stored && !op->released && !op->any_file &&
	    strcmp(obj_file(stored), obj_file(op->obj))) {
		validate_duplicate(errs, &op->obj->u.svc, obj_file(stored));
		ok = false;
	}
	if (!prev)		/* only the duplicates: none to name */
		prev = stored;
	for (size_t i = 0; i < op->dups.n; i++) {
		struct eobj *d = op->dups.v[i];

		validate_duplicate(errs, &d->u.svc, obj_file(prev));
		prev = d;
		ok = false;
	}
	if (op->obj)
		op->obj->u.svc.invalid = false;
	return ok;
}

/* A claim of a touched service on a cluster IP or a node port. */
struct ref {
	struct touched *t;
	struct ipaddr ip;
	long long port;
	size_t idx;			/* in ports[], or SIZE_MAX: healthCheckNodePort */
};

static const struct svc *ref_svc(const struct ref *r)
{
	return &r->t->now->u.svc;
}

/* Services the batch changes come after those it does not. */
static int changed(const struct ref *r)
{
	return r->t->now != r->t->old;
}

static int by_name(const struct svc *x, const struct svc *y)
{
	int c = strcmp(x->ns, y->ns);

	return c ? c : strcmp(x->name, y->name);
}

static int vip_ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	int c = ipaddr_cmp(&x->ip, &y->ip);

	if (!c)
		c = changed(x) - changed(y);
	return c ? c : by_name(ref_svc(x), ref_svc(y));
}

static int np_ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	const struct svc *s = ref_svc(x), *r = ref_svc(y);
	int c;

	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	if ((c = changed(x) - changed(y)))
		return c;
	if (s->seq != r->seq)
		return s->seq < r->seq ? -1 : 1;
	if ((c = by_name(s, r)))
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void ref_add(struct ref **v, size_t *n, size_t *cap, struct ref r)
{
	*v = grow(*v, cap, *n, sizeof(**v));
	(*v)[(*n)++] = r;
}

/* The claims of the touched services not refused yet: cluster IPs (VIPS)
 * or node ports, sorted. */
static struct ref *refs(const struct batch_priv *b, bool vips, size_t *n)
{
	struct ref *v = NULL;
	size_t cap = 0;

	*n = 0;
	for (struct hent *h = hmap_next(&b->touched, NULL); h; h = hmap_next(&b->touched, h)) {
		struct touched *t = h->val;
		const struct svc *s = t->now ? &t->now->u.svc : NULL;

		if (!s || t->refused)
			continue;
		for (size_t i = 0; vips && svc_has_rules(s) && i < s->n_vip; i++)
			ref_add(&v, n, &cap, (struct ref){ t, s->vip[i], 0, 0 });
		for (size_t i = 0; !vips && i < s->n_ports; i++)
			if (s->ports[i].node_port.v > 0 && (s->type == SVC_NODE_PORT ||
							    s->type == SVC_LOAD_BALANCER))
				ref_add(&v, n, &cap, (struct ref){ t, {0}, s->ports[i].node_port.v, i });
		if (!vips && s->hc_port.v > 0 && !s->hc_port.bad_type)
			ref_add(&v, n, &cap, (struct ref){ t, {0}, s->hc_port.v, SIZE_MAX });
	}
	if (*n)
		qsort(v, *n, sizeof(*v), vips ? vip_ref_cmp : np_ref_cmp);
	return v;
}

/* Whether a stored service the batch does not touch holds KEY in IDX. */
static bool held(const struct batch_priv *b, const struct hmap *idx,
		 const char *key)
{
	const struct eobj *o = hmap_get(idx, key);

	return o && !is_touched(b, &o->u.svc);
}

/* A cluster IP belongs to one service: the API server's allocator refuses
 * the next (and a verdict map cannot hold it twice). */
static bool vips_unique(struct batch_priv *b, struct svcnft_errors *errs,
			char **bad)
{
	size_t n;
	struct ref *r = refs(b, true, &n);
	bool ok = true;
	char a[64];

	for (size_t i = 0; i < n; i++) {
		bool taken = i && !ipaddr_cmp(&r[i].ip, &r[i - 1].ip);

		if (!taken && hmap_count(&b->eng->vips)) {	/* none in a first batch */
			ipaddr_format(&r[i].ip, a, sizeof(a));
			taken = held(b, &b->eng->vips, a);
		}
		if (!taken)
			continue;
		validate_vip_taken(errs, &r[i].t->now->u.svc, &r[i].ip);
		refused(r[i].t, bad);
		ok = false;
	}
	free(r);
	return ok;
}

/* A node port number belongs to one service, whatever the protocol; one
 * service may use it for TCP and UDP.  A healthCheckNodePort comes from
 * the same allocator, after the service's own node ports. */
static bool node_ports_unique(struct batch_priv *b, struct svcnft_errors *errs,
			      char **bad)
{
	size_t n;
	struct ref *r = refs(b, false, &n);
	bool ok = true;
	char a[32];

	for (size_t i = 0; i < n; i++) {
		if (i && r[i].port == r[i - 1].port) {
			if (r[i].t == r[i - 1].t && r[i].idx != SIZE_MAX)
				continue;
		} else {
			snprintf(a, sizeof(a), "%lld", r[i].port);
			if (!hmap_count(&b->eng->nodeports) || !held(b, &b->eng->nodeports, a))
				continue;
		}
		validate_node_port_taken(errs, &r[i].t->now->u.svc, r[i].idx);
		refused(r[i].t, bad);
		ok = false;
	}
	free(r);
	return ok;
}

/* Run the rules in a snapshot's order: names (by namespace/name), then
 * cluster IPs, then node ports; the key of the first refused service in
 * *BAD. */
static bool check_rules(struct engine *e, struct batch_priv *b,
			struct svcnft_errors *errs, char **bad)
{
	struct hent **v = named_twice(e);
	bool ok = true;

	for (size_t i = 0; v[i]; i++)
		if (!check_name(e, v[i]->key, v[i]->val, errs)) {
			if (ok && !*bad)
				*bad = xstrdup(v[i]->key);
			ok = false;
		}
	free(v);
	ok &= vips_unique(b, errs, bad);
	ok &= node_ports_unique(b, errs, bad);
	for (struct hent *h = hmap_next(&b->touched, NULL); h; h = hmap_next(&b->touched, h)) {
		struct touched *t = h->val;

		if (t->now)	/* the stored version never is */
			t->now->u.svc.invalid = false;
	}
	return ok;
}


/* The view: copies of the touched services and their sources. */

static void add_src(struct svcnft_model *v, size_t *cap, const struct eobj *o)
{
	v->eps = grow(v->eps, cap, v->n_eps, sizeof(*v->eps));
	v->eps[v->n_eps++] = o->u.src;
}

/* The sources service S has after the batch: stored ones not replaced or
 * deleted, and the staged ones (STAGED: by service). */
static void add_sources(struct engine *e, struct svcnft_model *v, size_t *cap,
			const struct svc *s, const struct hmap *staged)
{
	struct svcnft_buf k = {0};
	struct ptrv *have, *add;

	key_join(&k, NULL, s->ns, s->name);
	have = hmap_get(&e->by_svc, k.data);
	add = hmap_get(staged, k.data);
	for (size_t i = 0; have && i < have->n; i++) {
		const struct eobj *o = have->v[i];

		obj_key(&k, o);
		if (!hmap_find(&e->staged, k.data))
			add_src(v, cap, o);
	}
	for (size_t i = 0; add && i < add->n; i++)
		add_src(v, cap, add->v[i]);
	svcnft_buf_free(&k);
}

static void staged_by_svc(struct engine *e, struct hmap *out)
{
	struct svcnft_buf k = {0};

	for (struct hent *h = hmap_next(&e->staged, NULL); h; h = hmap_next(&e->staged, h)) {
		const struct op *op = h->val;

		if (h->key[0] != 'E' || !op->obj)
			continue;
		key_join(&k, NULL, op->obj->u.src.ns, op->obj->u.src.service);
		ptrv_add(ptrv_at(out, k.data), op->obj);
	}
	svcnft_buf_free(&k);
}

static void build_view(struct engine *e, struct batch_priv *b)
{
	struct svcnft_model *v = &b->view;
	struct hmap staged = {0};
	struct svcnft_buf k = {0};
	size_t cap_e = 0;

	staged_by_svc(e, &staged);
	v->svcs = xcalloc(hmap_count(&b->touched) + 1, sizeof(*v->svcs));
	for (struct hent *h = hmap_next(&b->touched, NULL); h; h = hmap_next(&b->touched, h)) {
		struct touched *t = h->val;
		struct svc *c;

		if (!t->now)
			continue;
		c = &v->svcs[v->n_svcs++];
		*c = t->now->u.svc;
		c->invalid = t->refused;
		c->ext = xcalloc(c->n_ext + 1, sizeof(*c->ext));
		for (size_t i = 0; i < c->n_ext; i++) {
			c->ext[i] = t->now->u.svc.ext[i];
			c->ext[i].ignored = xcalloc(c->n_ports + 1, sizeof(bool));
		}
		add_sources(e, v, &cap_e, c, &staged);
	}
	ptrv_map_free(&staged);
	model_sort(v);
	for (size_t i = 0; i < v->n_svcs; i++) {
		key_svc(&k, v->svcs[i].ns, v->svcs[i].name);
		((struct touched *)hmap_get(&b->touched, k.data))->copy = &v->svcs[i];
	}
	svcnft_buf_free(&k);
}

/* Claims on address . protocol . port (check_ext_unique's order): cluster
 * IPs first, then services by namespace/name, then external addresses in
 * order. */
struct rank {
	const struct svc *s;
	bool ext;
	size_t idx;
};

static bool best_claim(const struct svc *s, const char *key, struct rank *r)
{
	struct svcnft_buf b = {0};
	bool found = false;

	for (size_t j = 0; !found && j < s->n_ports; j++)
		for (size_t k = 0; !found && k < s->n_vip; k++) {
			claim_key(&b, &s->vip[k], &s->ports[j]);
			found = !strcmp(b.data, key);
		}
	*r = (struct rank){ s, false, 0 };
	for (size_t k = 0; !found && k < s->n_ext; k++)
		for (size_t j = 0; !found && j < s->n_ports; j++) {
			if (s->ext[k].proxy || !svc_has_family(s, s->ext[k].ip.family))
				continue;
			claim_key(&b, &s->ext[k].ip, &s->ports[j]);
			if ((found = !strcmp(b.data, key)))
				*r = (struct rank){ s, true, k };
		}
	svcnft_buf_free(&b);
	return found;
}

static bool rank_less(const struct rank *x, const struct rank *y)
{
	int c;

	if (x->ext != y->ext)
		return !x->ext;
	c = strcmp(x->s->ns, y->s->ns);
	if (!c)
		c = strcmp(x->s->name, y->s->name);
	return c ? c < 0 : x->idx < y->idx;
}

/* The owner of claim KEY after the batch (NOW: the touched services'
 * claims, by key). */
static struct rank owner_of(const struct batch_priv *b, const struct hmap *now,
			    const char *key)
{
	const struct ptrv *stored = hmap_get(&b->eng->claims, key);
	const struct ptrv *mine = hmap_get(now, key);
	struct rank best = { NULL, true, 0 }, r;

	for (size_t i = 0; stored && i < stored->n; i++) {
		const struct svc *s = &((const struct eobj *)stored->v[i])->u.svc;

		if (!is_touched(b, s) && best_claim(s, key, &r) &&
		    (!best.s || rank_less(&r, &best)))
			best = r;
	}
	for (size_t i = 0; mine && i < mine->n; i++)
		if (best_claim(mine->v[i], key, &r) && (!best.s || rank_less(&r, &best)))
			best = r;
	return best;
}

/* An external address . port of a changed service that another claim
 * owns: a warning, in the order of the claims (address, protocol, port,
 * service, external address). */
struct taken {
	struct svc *s;
	size_t x, j;
	const struct svc *owner;
};

static int taken_cmp(const void *a, const void *b)
{
	const struct taken *p = a, *q = b;
	const struct svc_port *u = &p->s->ports[p->j], *w = &q->s->ports[q->j];
	int c = ipaddr_cmp(&p->s->ext[p->x].ip, &q->s->ext[q->x].ip);

	if (c)
		return c;
	if (u->proto != w->proto)
		return u->proto < w->proto ? -1 : 1;
	if (u->port.v != w->port.v)
		return u->port.v < w->port.v ? -1 : 1;
	if ((c = by_name(p->s, q->s)))
		return c;
	return p->x < q->x ? -1 : p->x > q->x;
}

static bool any_ext(const struct svcnft_model *v)
{
	for (size_t i = 0; i < v->n_svcs; i++)
		if (v->svcs[i].n_ext && svc_has_rules(&v->svcs[i]))
			return true;
	return false;
}

/* Mark the external address . ports of the view's services that another
 * claim owns; a warning for each of the changed services'. */
static void mark_ignored(struct batch_priv *b, struct svcnft_errors *errs)
{
	struct hmap now = {0};
	struct svcnft_buf k = {0};
	struct taken *w = NULL;
	size_t n, n_w = 0, cap = 0;
	char **keys;

	if (!any_ext(&b->view))
		return;
	for (size_t i = 0; i < b->view.n_svcs; i++) {
		keys = claim_keys(&b->view.svcs[i], &n);
		for (size_t j = 0; j < n; j++)
			ptrv_add(ptrv_at(&now, keys[j]), &b->view.svcs[i]);
		strv_free(keys, n);
	}
	for (size_t i = 0; i < b->view.n_svcs; i++) {
		struct svc *s = &b->view.svcs[i];
		bool changed = hmap_find(&b->eng->staged, (key_svc(&k, s->ns, s->name), k.data));

		for (size_t x = 0; svc_has_rules(s) && x < s->n_ext; x++)
			for (size_t j = 0; j < s->n_ports; j++) {
				struct rank o;

				if (s->ext[x].proxy || !svc_has_family(s, s->ext[x].ip.family))
					continue;
				claim_key(&k, &s->ext[x].ip, &s->ports[j]);
				o = owner_of(b, &now, k.data);
				if (o.s == s && o.ext && o.idx == x)
					continue;
				s->ext[x].ignored[j] = true;
				w = changed ? grow(w, &cap, n_w, sizeof(*w)) : w;
				if (changed)
					w[n_w++] = (struct taken){ s, x, j, o.s };
			}
	}
	if (n_w)
		qsort(w, n_w, sizeof(*w), taken_cmp);
	for (size_t i = 0; i < n_w; i++)
		validate_ext_taken(errs, w[i].s, w[i].x, w[i].j, w[i].owner);
	free(w);
	svcnft_buf_free(&k);
	ptrv_map_free(&now);
}

/* The sources of view service I: [*LO, return) of the view's sources
 * (sorted alike), from *LO on. */
static size_t sources_of(const struct svcnft_model *v, size_t i, size_t *lo)
{
	const struct svc *s = &v->svcs[i];
	size_t hi;

	while (*lo < v->n_eps && (strcmp(v->eps[*lo].ns, s->ns) ||
				  strcmp(v->eps[*lo].service, s->name)) &&
	       (strcmp(v->eps[*lo].ns, s->ns) < 0 ||
		(!strcmp(v->eps[*lo].ns, s->ns) &&
		 strcmp(v->eps[*lo].service, s->name) < 0)))
		(*lo)++;
	for (hi = *lo; hi < v->n_eps && !strcmp(v->eps[hi].ns, s->ns) &&
		       !strcmp(v->eps[hi].service, s->name); hi++)
		;
	return hi;
}

/* Check every service of the view for its endpoint limit; while all is
 * well and LOWER, lower each alone.  False (first key in *BAD) if one is
 * refused. */
static bool lower_all(struct engine *e, struct batch_priv *b, bool lower,
		      struct svcnft_errors *errs, char **bad)
{
	struct svcnft_model *v = &b->view;
	struct svcnft_buf k = {0};
	bool ok = !*bad;
	size_t lo = 0;

	for (size_t i = 0; i < v->n_svcs; i++) {
		struct svcnft_model one = { .svcs = &v->svcs[i], .n_svcs = 1, .sorted = true };
		bool was = v->svcs[i].invalid;
		size_t hi = sources_of(v, i, &lo);
		struct touched *t;

		one.eps = hi > lo ? v->eps + lo : NULL;
		one.n_eps = hi - lo;
		lo = hi;
		key_svc(&k, v->svcs[i].ns, v->svcs[i].name);
		t = hmap_get(&b->touched, k.data);
		limits_validate(&one, errs);
		if (!was && v->svcs[i].invalid) {
			refused(t, bad);
			ok = false;
		}
		if (!ok || !lower)
			continue;
		t->items = lower_items(e, &one, &t->n_items);
		health_build(&one, &e->eff, &t->health);
	}
	svcnft_buf_free(&k);
	return ok;
}

/* The changes of the table. */

static void deltas(struct batch_priv *b)
{
	for (struct hent *h = hmap_next(&b->touched, NULL); h; h = hmap_next(&b->touched, h)) {
		const struct touched *t = h->val;

		for (size_t i = 0; t->old && i < t->old->n_items; i++)
			delta_add(&b->delta, t->old->items[i], -1);
		for (size_t i = 0; i < t->n_items; i++)
			delta_add(&b->delta, t->items[i], 1);
	}
}

/* Append P to *V, an array of *N pointers (names or items); the array
 * doubles at powers of two. */
static void push(void *v, size_t *n, const void *p)
{
	const void ***a = v;

	if (!(*n & (*n - 1)))
		*a = xrealloc(*a, (*n ? 2 * *n : 1) * sizeof(**a));
	(*a)[(*n)++] = p;
}

static struct set_change *set_of(struct changes *c, struct hmap *idx,
				 const char *name)
{
	bool created;
	struct hent *h = hmap_put(idx, name, &created);

	if (created) {
		if (!(c->n_sets & (c->n_sets - 1)))
			c->sets = xrealloc(c->sets, (c->n_sets ? 2 * c->n_sets : 1) *
					   sizeof(*c->sets));
		memset(&c->sets[c->n_sets], 0, sizeof(*c->sets));
		h->val = (void *)(uintptr_t)c->n_sets++;
	}
	c->sets[(uintptr_t)h->val].name = h->key;
	return &c->sets[(uintptr_t)h->val];
}

/* An item that appears or disappears (IT: the delta map's key, which
 * lives as long as the batch). */
static void change(struct changes *c, struct hmap *idx, const struct item *it,
		   bool add)
{
	const char *name = item_name(it);
	struct set_change *sc;

	if (it->kind != ITEM_ELEM) {
		bool dyn = it->kind == ITEM_CHAIN ? el_dynamic_chain(name) :
			   el_dynamic_set(name);

		if (dyn && add)
			push(&c->new_objs, &c->n_new, name);
		else if (dyn)
			push(&c->old_objs, &c->n_old, name);
		return;
	}
	sc = set_of(c, idx, name);
	if (add)
		push(&sc->add, &sc->n_add, it);
	else
		push(&sc->del, &sc->n_del, it);
	c->n_elems++;
}

static size_t pair(const struct hmap *counts, const char *base)
{
	char a[64], b[64];

	snprintf(a, sizeof(a), "%s4", base);
	snprintf(b, sizeof(b), "%s6", base);
	return count_of(counts, a) + count_of(counts, b);
}

static size_t pair_after(const struct changes *c, const struct hmap *counts,
			 const char *base)
{
	size_t n = pair(counts, base);

	for (size_t i = 0; i < c->n_sets; i++)
		if (!strncmp(c->sets[i].name, base, strlen(base)) &&
		    strlen(c->sets[i].name) == strlen(base) + 1)
			n = n + c->sets[i].n_add - c->sets[i].n_del;
	return n;
}

static void compute_changes(struct engine *e, struct batch_priv *b)
{
	struct hmap *idx = &b->setidx;
	struct changes *c = &b->pub.changes;

	for (struct hent *h = hmap_next(&b->delta, NULL); h; h = hmap_next(&b->delta, h)) {
		const struct item *it = (const struct item *)h->key;
		uintptr_t cur = item_count_of(&e->items, it);
		intptr_t d = (intptr_t)h->val;

		if (!cur && d > 0)
			change(c, idx, it, true);
		else if (cur && (intptr_t)cur + d == 0)
			change(c, idx, it, false);
	}
	for (size_t i = 0; i < c->n_sets; i++) {
		const struct set_change *sc = &c->sets[i];
		uintptr_t size = count_of(&e->sizes, sc->name);

		if (size && count_of(&e->counts, sc->name) + sc->n_add - sc->n_del > size &&
		    !c->full)
			c->full = "a set would exceed the size it was created with";
	}
	b->pub.guard = (struct guard_counts){
		.live_services = pair(&e->counts, "cluster-ips"),
		.want_services = pair_after(c, &e->counts, "cluster-ips"),
		.live_served = pair(&e->counts, "service-ports"),
		.want_served = pair_after(c, &e->counts, "service-ports"),
	};
}

void batch_free(struct engine *e, struct batch_priv *b)
{
	(void)e;
	for (struct hent *h = hmap_next(&b->touched, NULL); h; h = hmap_next(&b->touched, h)) {
		struct touched *t = h->val;

		for (size_t i = 0; i < t->n_items; i++)
			free(t->items[i]);
		free(t->items);
		health_free(&t->health);
		free(t);
	}
	hmap_free(&b->touched);
	for (size_t i = 0; i < b->view.n_svcs; i++) {
		for (size_t x = 0; x < b->view.svcs[i].n_ext; x++)
			free(b->view.svcs[i].ext[x].ignored);
		free(b->view.svcs[i].ext);
	}
	free(b->view.svcs);
	free(b->view.eps);
	hmap_free(&b->delta);
	hmap_free(&b->setidx);
	free(b->ranges);
	changes_free(&b->pub.changes);
	plan_free(&b->pub.plan);
	free(b);
}

static size_t services_after(const struct engine *e)
{
	size_t n = e->n_svcs;

	for (struct hent *h = hmap_next(&e->staged, NULL); h; h = hmap_next(&e->staged, h)) {
		const struct op *op = h->val;
		bool stored = hmap_find(&e->objs, h->key) != NULL;

		if (h->key[0] != 'S')
			continue;
		if (op->obj && !stored)
			n++;
		else if (!op->obj && stored)
			n--;
	}
	return n;
}

/* A ServiceCIDR changed: the service CIDRs after B, and the elements of
 * the service-cidrs sets that appear or go (the base's delta).  Services
 * are lowered as before: what they contribute does not depend on them. */
static void new_ranges(struct engine *e, struct batch_priv *b)
{
	b->eff = *e->cfg;
	b->eff.n_service_cidrs = ranges_after(e, &b->ranges);
	b->eff.service_cidrs = b->ranges;
	base_delta(e, &b->eff, &b->delta);
}

/* One attempt in MODE; NULL with *BAD set when a service is refused.  An
 * ALL_OR_NOTHING batch runs every rule first (every message is said). */
static struct batch_priv *attempt(struct engine *e, enum engine_mode mode,
				  struct svcnft_errors *errs, char **bad)
{
	struct batch_priv *b = xcalloc(1, sizeof(*b));
	bool ok;

	b->eng = e;
	b->check_only = mode & ENGINE_CHECK_ONLY;
	b->eff = e->eff;
	if (!touch_all(e, b)) {
		/* the validity of every stored service depends on the ranges,
		 * unless the API server allocated their cluster IPs */
		if (!fresh(e) && !e->cfg->api_allocated) {
			b->pub.rebuild = true;
			return b;
		}
		new_ranges(e, b);
	}
	ok = check_rules(e, b, errs, bad);
	if (!ok && (mode & ENGINE_PER_OBJECT))
		goto fail;
	build_view(e, b);
	mark_ignored(b, errs);
	if (!lower_all(e, b, !(mode & ENGINE_CHECK_ONLY), errs, bad) || !ok)
		goto fail;
	if (mode & ENGINE_WHOLE) {
		b->pub.changes.full = "the whole table is applied";
	} else {
		deltas(b);
		compute_changes(e, b);
		plan_build(&b->pub.plan, &b->view, &b->eff);
	}
	b->pub.services_touched = hmap_count(&b->touched);
	b->pub.services_after = services_after(e);
	return b;
fail:
	batch_free(e, b);
	return NULL;
}

struct engine_batch *engine_prepare(struct engine *e, enum engine_mode mode,
				    struct svcnft_errors *errs)
{
	size_t skipped = 0;

	for (;;) {
		char *bad = NULL;
		struct batch_priv *b = attempt(e, mode, errs, &bad);

		if (b) {
			b->pub.objects_skipped = skipped + e->dropped;
			e->batch = &b->pub;
			return &b->pub;
		}
		if (!refuse(e, bad, mode, &skipped, errs)) {
			free(bad);
			staged_free(&e->staged);
			return NULL;
		}
		free(bad);
	}
}
