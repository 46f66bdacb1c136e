/* changes: compare desired and live elements; the changes, the nft script
 * that makes them, and their unified diff as text. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "changes.h"
#include "render_nft.h"
#include "util.h"

/* Hash sets and maps of strings (open addressing). */

struct hmap {
	const char **key;
	const void **val;
	size_t mask;
};

static size_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)(h ^ (h >> 29));
}

static void hm_init(struct hmap *h, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n + 2)
		cap *= 2;
	h->key = xcalloc(cap, sizeof(*h->key));
	h->val = xcalloc(cap, sizeof(*h->val));
	h->mask = cap - 1;
}

static void hm_free(struct hmap *h)
{
	free(h->key);
	free(h->val);
}

static size_t hm_slot(const struct hmap *h, const char *k)
{
	size_t i = hash(k) & h->mask;

	while (h->key[i] && strcmp(h->key[i], k))
		i = (i + 1) & h->mask;
	return i;
}

/* Insert K (if new) with V; the slot's value. */
static const void *hm_put(struct hmap *h, const char *k, const void *v)
{
	size_t i = hm_slot(h, k);

	if (!h->key[i]) {
		h->key[i] = k;
		h->val[i] = v;
	}
	return h->val[i];
}

static bool hm_get(const struct hmap *h, const char *k, const void **v)
{
	size_t i = hm_slot(h, k);

	if (v)
		*v = h->val[i];
	return h->key[i] != NULL;
}

/* Computing the changes. */

static void push(const char ***v, size_t *n, size_t *cap, const char *s)
{
	*v = grow(*v, cap, *n, sizeof(**v));
	(*v)[(*n)++] = s;
}

struct strv {
	const char **v;
	size_t n, cap;
};

/* Pair the equal strings of A and B walking both in order (one string of
 * either may be skipped to find the next pair); the rest of each into
 * UA and UB.  As a list's strings are distinct, a string of A is in B
 * exactly when it is paired or in UB. */
static void unpaired(const struct el_list *a, const struct el_list *b,
		     struct strv *ua, struct strv *ub)
{
	size_t i = 0, j = 0;

	while (i < a->n && j < b->n) {
		bool skip_b = j + 1 < b->n && !strcmp(a->v[i], b->v[j + 1]);

		if (!strcmp(a->v[i], b->v[j])) {
			i++, j++;
		} else if (skip_b) {
			push(&ub->v, &ub->n, &ub->cap, b->v[j++]);
		} else if (i + 1 < a->n && !strcmp(a->v[i + 1], b->v[j])) {
			push(&ua->v, &ua->n, &ua->cap, a->v[i++]);
		} else {
			push(&ua->v, &ua->n, &ua->cap, a->v[i++]);
			push(&ub->v, &ub->n, &ub->cap, b->v[j++]);
		}
	}
	while (i < a->n)
		push(&ua->v, &ua->n, &ua->cap, a->v[i++]);
	while (j < b->n)
		push(&ub->v, &ub->n, &ub->cap, b->v[j++]);
}

static void strv_all(struct strv *v, const struct el_list *l)
{
	v->v = xmalloc((l->n + 1) * sizeof(*v->v));
	memcpy(v->v, l->v, l->n * sizeof(*v->v));
	v->n = v->cap = l->n;
}

/* Strings of A that are not in B, in A's order.  DISTINCT: each list's
 * strings are distinct (a set's elements); two versions of a table
 * usually list them in the same order (the saved state was formatted
 * from a plan as the new input is), so only the strings that do not pair
 * up in order are hashed. */
static const char **minus(const struct el_list *a, const struct el_list *b,
			  bool distinct, size_t *n)
{
	struct strv ua = {0}, ub = {0}, out = {0};
	struct hmap h;

	*n = 0;
	if (!a || !a->n)
		return NULL;
	if (!b || !b->n) {	/* all of A: a fresh table needs no hashing */
		strv_all(&out, a);
		*n = out.n;
		return out.v;
	}
	if (distinct) {
		unpaired(a, b, &ua, &ub);
	} else {
		strv_all(&ua, a);
		strv_all(&ub, b);
	}
	hm_init(&h, ub.n);
	for (size_t i = 0; i < ub.n; i++)
		hm_put(&h, ub.v[i], NULL);
	for (size_t i = 0; i < ua.n; i++)
		if (!hm_get(&h, ua.v[i], NULL))
			push(&out.v, &out.n, &out.cap, ua.v[i]);
	hm_free(&h);
	free(ua.v);
	free(ub.v);
	*n = out.n;
	return out.v;
}

static bool has_chain(const struct elements *els, const char *name)
{
	for (size_t i = 0; i < els->chains.n; i++)
		if (!strcmp(els->chains.v[i], name))
			return true;
	return false;
}

/* The element strings of a set change, before they become items. */
struct texts {
	const char **del, **add;
};

static void set_changes(struct changes *c, struct texts **t, const struct el_set *w,
			const struct el_set *l)
{
	struct set_change sc = { .name = w ? w->name : l->name };
	struct texts x;
	size_t cap = c->n_sets;

	x.del = minus(l ? &l->el : NULL, w ? &w->el : NULL, true, &sc.n_del);
	x.add = minus(w ? &w->el : NULL, l ? &l->el : NULL, true, &sc.n_add);
	if (w && l && l->size && w->el.n > l->size && !c->full)
		c->full = "a set would exceed the size it was created with";
	if (!sc.n_del && !sc.n_add) {
		free(x.del);
		free(x.add);
		return;
	}
	c->n_elems += sc.n_del + sc.n_add;
	c->sets = grow(c->sets, &cap, c->n_sets, sizeof(*c->sets));
	cap = c->n_sets;
	*t = grow(*t, &cap, c->n_sets, sizeof(**t));
	(*t)[c->n_sets] = x;
	c->sets[c->n_sets++] = sc;
}

/* The items of the N element strings V of set SET (V freed); an element
 * that does not parse is left out and makes the change a full replace. */
static const struct item **to_items(struct changes *c, const char *set,
				    const char **v, size_t *n)
{
	const struct item **out = *n ? xcalloc(*n, sizeof(*out)) : NULL;
	struct el_record r;
	size_t w = 0;

	rec_init(&r, set);
	for (size_t i = 0; i < *n; i++) {
		if (rec_parse(&r, v[i], false))
			out[w++] = item_pack(&r);
		else if (!c->full)
			c->full = "the table has an element svcnft cannot read";
	}
	c->n_elems -= *n - w;
	*n = w;
	free(v);
	return out;
}

static void all_items(struct changes *c, struct texts *t)
{
	for (size_t i = 0; i < c->n_sets; i++) {
		struct set_change *sc = &c->sets[i];

		sc->del = to_items(c, sc->name, t[i].del, &sc->n_del);
		sc->add = to_items(c, sc->name, t[i].add, &sc->n_add);
	}
	free(t);
	c->owns = true;
}

static void structure(struct changes *c, const struct elements *want,
		      const struct elements *live)
{
	size_t cap_new = 0, cap_old = 0;

	for (size_t i = 0; i < want->chains.n; i++) {
		const char *n = want->chains.v[i];

		if (has_chain(live, n))
			continue;
		if (el_dynamic_chain(n))
			push(&c->new_objs, &c->n_new, &cap_new, n);
		else if (!c->full)
			c->full = "a fixed chain is missing";
	}
	for (size_t i = 0; i < live->chains.n; i++) {
		const char *n = live->chains.v[i];

		if (has_chain(want, n))
			continue;
		if (el_dynamic_chain(n))
			push(&c->old_objs, &c->n_old, &cap_old, n);
		else if (!c->full)
			c->full = "the table has a chain svcnft does not know";
	}
	for (size_t i = 0; i < want->n_sets; i++)
		if (!elements_find(live, want->sets[i].name) && el_dynamic_set(want->sets[i].name))
			push(&c->new_objs, &c->n_new, &cap_new, want->sets[i].name);
	for (size_t i = 0; i < live->n_sets; i++)
		if (!elements_find(want, live->sets[i].name) && el_dynamic_set(live->sets[i].name))
			push(&c->old_objs, &c->n_old, &cap_old, live->sets[i].name);
}

/* The same strings in L and M, in any order. */
static bool same_list(const struct el_list *l, const struct el_list *m)
{
	if (l->n != m->n)
		return false;
	for (size_t i = 0; i < l->n; i++) {
		size_t j = 0;

		while (j < m->n && strcmp(l->v[i], m->v[j]))
			j++;
		if (j == m->n)
			return false;
	}
	return true;
}

void changes_compute(struct changes *c, const struct elements *want,
		     const struct elements *live)
{
	struct texts *t = NULL;

	memset(c, 0, sizeof(*c));
	if (!live->exists)
		c->full = "the table does not exist";
	else if (live->layout != want->layout)
		c->full = "the table has another layout version";
	else if (live->dormant)
		c->full = "the table was made dormant";
	else if (!same_list(&live->base, &want->base))
		c->full = "a base chain's type, hook, priority or policy was changed";
	else if (!*live->masq[0] && !*live->masq[1])
		c->full = "the table's rules are gone (flushed?)";
	else if (strcmp(live->masq[0], want->masq[0]) || strcmp(live->masq[1], want->masq[1]))
		c->full = "the masquerade options changed";
	for (size_t i = 0; i < want->n_sets; i++) {
		const struct el_set *l = elements_find(live, want->sets[i].name);

		if (!l && !el_dynamic_set(want->sets[i].name) && !c->full)
			c->full = "a fixed set is missing";
		set_changes(c, &t, &want->sets[i], l);
	}
	for (size_t i = 0; i < live->n_sets; i++) {
		const char *n = live->sets[i].name;

		if (elements_find(want, n))
			continue;
		if (!el_dynamic_set(n) && !c->full)
			c->full = "the table has a set svcnft does not know";
	}
	if (live->exists)
		structure(c, want, live);
	all_items(c, t);
}

void changes_free(struct changes *c)
{
	for (size_t i = 0; i < c->n_sets; i++) {
		const struct set_change *sc = &c->sets[i];

		for (size_t j = 0; c->owns && j < sc->n_del + sc->n_add; j++)
			free((void *)(uintptr_t)(j < sc->n_del ? sc->del[j] :
						 sc->add[j - sc->n_del]));
		free(sc->del);
		free(sc->add);
	}
	free(c->sets);
	free(c->new_objs);
	free(c->old_objs);
	memset(c, 0, sizeof(*c));
}

/* The transaction: new objects, element deletes, element adds, then the
 * objects nothing refers to any more. */

static bool is_old(const struct changes *c, const char *name)
{
	for (size_t i = 0; i < c->n_old; i++)
		if (!strcmp(c->old_objs[i], name))
			return true;
	return false;
}

static bool is_new(const struct changes *c, const char *name)
{
	for (size_t i = 0; i < c->n_new; i++)
		if (!strcmp(c->new_objs[i], name))
			return true;
	return false;
}

/* The key of element S: without its comment and data. */
static size_t key_len(const char *s)
{
	const char *e = strstr(s, " comment \"");

	if (!e)
		e = strstr(s, " : ");
	return e ? (size_t)(e - s) : strlen(s);
}

/* Element IT's text in B (emptied first). */
static const char *text_of(struct svcnft_buf *b, const struct item *it)
{
	b->len = 0;
	buf_puts(b, "");
	item_format(b, it);
	return b->data;
}

static void element_cmd(struct svcnft_buf *b, const char *verb,
			const char *table, const char *set,
			const struct item **v, size_t n, bool keys)
{
	struct svcnft_buf t = {0};

	if (!n)
		return;
	buf_printf(b, "%s element inet %s %s {\n", verb, table, set);
	for (size_t i = 0; i < n; i++) {
		const char *e = text_of(&t, v[i]);

		buf_puts(b, "\t");
		buf_add(b, e, keys ? key_len(e) : strlen(e));
		buf_puts(b, i + 1 < n ? ",\n" : "\n");
	}
	buf_puts(b, "}\n");
	svcnft_buf_free(&t);
}

/* When dynamic object NAME can go: after what refers to it (lb chains,
 * then slot maps, affinity slot chains, backend slot chains). */
static int delete_pass(const char *name)
{
	if (el_dynamic_set(name))
		return 1;
	if (el_backend_chain(name))
		return 3;
	return strstr(name, "-slot-") ? 2 : 0;
}

void changes_each_old(const struct changes *c,
		      void (*each)(const char *name, bool map, void *arg),
		      void *arg)
{
	for (int pass = 0; pass < 4; pass++)
		for (size_t i = 0; i < c->n_old; i++) {
			const char *n = c->old_objs[i];

			if (delete_pass(n) == pass)
				each(n, el_dynamic_set(n), arg);
		}
}

struct del_ctx {
	struct svcnft_buf *b;
	const char *table;
};

static void delete_obj(const char *name, bool map, void *arg)
{
	struct del_ctx *d = arg;

	buf_printf(d->b, "delete %s inet %s %s\n", map ? "map" : "chain",
		   d->table, name);
}

static void delete_objs(struct svcnft_buf *b, const struct changes *c,
			const char *table)
{
	struct del_ctx d = { b, table };

	changes_each_old(c, delete_obj, &d);
}

/* The `typeof` maps of backends: nft 1.0.6 parses their elements only
 * after a declaration in the same script. */
static bool backend_map(const char *name)
{
	return !strncmp(name, "backends", 8) || !strncmp(name, "nodeport-backends", 17);
}

bool changes_script(struct svcnft_buf *b, const struct changes *c,
		    const struct plan *p, const char *table)
{
	buf_printf(b, "table inet %s {\n", table);
	for (size_t i = 0; i < c->n_new; i++)
		if (!render_nft_object(b, p, c->new_objs[i]))
			return false;
	for (size_t i = 0; i < c->n_sets; i++) {
		const char *n = c->sets[i].name;

		if ((backend_map(n) || el_dynamic_set(n)) && !is_new(c, n) &&
		    !is_old(c, n) && !render_nft_object(b, p, n))
			return false;
	}
	buf_puts(b, "}\n");
	for (size_t i = 0; i < c->n_sets; i++)
		if (!is_old(c, c->sets[i].name))
			element_cmd(b, "delete", table, c->sets[i].name,
				    c->sets[i].del, c->sets[i].n_del, true);
	for (size_t i = 0; i < c->n_sets; i++)
		element_cmd(b, "add", table, c->sets[i].name, c->sets[i].add,
			    c->sets[i].n_add, false);
	delete_objs(b, c, table);
	return true;
}

/* Printing: one unified diff per changed service. */

struct owner {
	const char *label;
	struct el_list lines[2];	/* [0] live, [1] desired */
	bool in[2];
};

struct printer {
	struct hmap vip_label;		/* owner key (el_owner_key) -> label */
	struct hmap by_label;		/* label -> struct owner * */
	struct owner **owners;
	size_t n_owners, cap_owners;
	struct el_list labels;		/* storage for made-up labels */
	struct svcnft_buf line, key, text;
};

/* The owner of element ELEM of service set SET. */
static const char *label_of(struct printer *pr, const char *set,
			    const char *elem)
{
	const void *v;
	bool found;

	pr->key.len = 0;
	buf_add(&pr->key, elem, el_owner_key(set, elem));
	found = hm_get(&pr->vip_label, pr->key.data, &v);
	return found ? v : NULL;
}

/* Owners named by the comments of the live dispatch maps: the service
 * port's key, and for service-ips also its address (cluster-ips). */
static void learn_live_labels(struct printer *pr, const struct elements *live)
{
	for (size_t s = 0; s < live->n_sets; s++) {
		const struct el_set *set = &live->sets[s];
		bool addr = !strncmp(set->name, "service-ips", 11);

		if (!el_dispatch_set(set->name))
			continue;
		for (size_t i = 0; i < set->el.n; i++) {
			const char *e = set->el.v[i], *c = strstr(e, " comment \"");
			size_t label;

			if (!c)
				continue;
			label = strcspn(c + 10, ":\"");
			el_add(&pr->labels, e, el_owner_key(set->name, e));
			el_add(&pr->labels, c + 10, label);
			if (!addr)
				continue;
			el_add(&pr->labels, e, strcspn(e, " "));
			el_add(&pr->labels, c + 10, label);
		}
	}
}

/* Labels: desired names first, then the live comments, else the key. */
static void learn_labels(struct printer *pr, const struct elements *want,
			 const struct elements *live, const struct changes *c)
{
	size_t n = want->owners.n;

	learn_live_labels(pr, live);
	for (size_t i = 0; i < c->n_sets; i++)
		if (el_service_set(c->sets[i].name))
			for (size_t j = 0; j < c->sets[i].n_del; j++) {
				const char *e = text_of(&pr->text, c->sets[i].del[j]);
				size_t k = el_owner_key(c->sets[i].name, e);

				pr->line.len = 0;
				if (memchr(e, ' ', k))	/* a service port */
					buf_add(&pr->line, e, k);
				else
					buf_printf(&pr->line, "cluster IP %.*s", (int)k, e);
				el_add(&pr->labels, e, k);
				el_add(&pr->labels, pr->line.data, pr->line.len);
			}
	el_finish(&pr->labels);
	hm_init(&pr->vip_label, n + pr->labels.n);
	for (size_t i = 0; i + 1 < n; i += 2)
		hm_put(&pr->vip_label, want->owners.v[i], want->owners.v[i + 1]);
	for (size_t i = 0; i + 1 < pr->labels.n; i += 2)
		hm_put(&pr->vip_label, pr->labels.v[i], pr->labels.v[i + 1]);
}

static struct owner *owner(struct printer *pr, const char *label, bool create)
{
	const void *v;
	struct owner *o;

	if (hm_get(&pr->by_label, label, &v) || !create)
		return (struct owner *)(uintptr_t)v;
	o = xcalloc(1, sizeof(*o));
	o->label = label;
	hm_put(&pr->by_label, label, o);
	pr->owners = grow(pr->owners, &pr->cap_owners, pr->n_owners, sizeof(*pr->owners));
	pr->owners[pr->n_owners++] = o;
	return o;
}

static void add_line(struct printer *pr, struct el_list *l, const char *set,
		     const char *e)
{
	pr->line.len = 0;
	buf_printf(&pr->line, "%s: %s", set, e);
	el_add(l, pr->line.data, pr->line.len);
}

/* Every line of the changed services, on side SIDE. */
static void collect(struct printer *pr, const struct elements *els, int side)
{
	for (size_t s = 0; s < els->n_sets; s++) {
		const struct el_set *set = &els->sets[s];

		if (!el_service_set(set->name))
			continue;
		for (size_t i = 0; i < set->el.n; i++) {
			const char *l = label_of(pr, set->name, set->el.v[i]);
			struct owner *o = l ? owner(pr, l, false) : NULL;

			if (!o)
				continue;
			add_line(pr, &o->lines[side], set->name, set->el.v[i]);
			if (!strncmp(set->name, "cluster-ips", 11))
				o->in[side] = true;
		}
	}
}

/* Lines "SET: element" of service sets in declaration order, then the rest. */
static int set_rank(const char *line)
{
	char name[64];
	int r;

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(line, ":"), line);
	r = el_service_rank(name);
	return r < 0 ? 1000 : r;
}

static int line_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	int rx = set_rank(x), ry = set_rank(y);

	return rx != ry ? rx - ry : strverscmp(x, y);
}

static void sort_lines(struct el_list *l)
{
	el_finish(l);
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), line_cmp);
}

#define CTX 3

static void hunk(struct svcnft_buf *f, const char *ops, size_t from, size_t to,
		 const char **a, const char **b, size_t ia, size_t ib, bool color)
{
	size_t na = 0, nb = 0, i, ja = ia, jb = ib;

	for (i = from; i < to; i++) {
		na += ops[i] != '+';
		nb += ops[i] != '-';
	}
	buf_printf(f, "%s@@ -%zu,%zu +%zu,%zu @@%s\n", color ? "\033[36m" : "",
		na ? ia + 1 : ia, na, nb ? ib + 1 : ib, nb, color ? "\033[0m" : "");
	for (i = from; i < to; i++) {
		const char *s = ops[i] == '+' ? b[jb] : a[ja];
		const char *col = ops[i] == '+' ? "\033[32m" : ops[i] == '-' ? "\033[31m" : "";

		buf_printf(f, "%s%c%s%s\n", color ? col : "", ops[i] == '=' ? ' ' : ops[i], s,
			color && *col ? "\033[0m" : "");
		ja += ops[i] != '+';
		jb += ops[i] != '-';
	}
}

/* Edit script of A -> B by longest common subsequence ('=', '-', '+'). */
static char *edit_script(const char **a, size_t na, const char **b, size_t nb,
			 size_t *n)
{
	char *ops = xmalloc(na + nb + 1);
	uint32_t *t = NULL;
	size_t i = 0, j = 0, w = nb + 1;

	if (na * nb <= 4000000)
		t = xcalloc((na + 1) * (nb + 1), sizeof(*t));
	for (size_t x = na; t && x-- > 0;)
		for (size_t y = nb; y-- > 0;)
			t[x * w + y] = !strcmp(a[x], b[y]) ? t[(x + 1) * w + y + 1] + 1 :
				       t[(x + 1) * w + y] > t[x * w + y + 1] ?
				       t[(x + 1) * w + y] : t[x * w + y + 1];
	*n = 0;
	while (i < na || j < nb) {
		if (t && i < na && j < nb && !strcmp(a[i], b[j])) {
			ops[(*n)++] = '=';
			i++, j++;
		} else if (i < na && (j == nb || !t || t[(i + 1) * w + j] >= t[i * w + j + 1])) {
			ops[(*n)++] = '-';
			i++;
		} else {
			ops[(*n)++] = '+';
			j++;
		}
	}
	free(t);
	return ops;
}

static void udiff(struct svcnft_buf *f, const char *label, const struct el_list *a,
		  const struct el_list *b, bool color)
{
	size_t n, ia = 0, ib = 0;
	char *ops = edit_script(a->v, a->n, b->v, b->n, &n);

	buf_printf(f, "%s--- live/%s\n+++ desired/%s%s\n", color ? "\033[1m" : "",
		label, label, color ? "\033[0m" : "");
	for (size_t i = 0; i < n;) {
		size_t from, to, last;

		if (ops[i] == '=') {
			ia++, ib++, i++;
			continue;
		}
		from = i > CTX ? i - CTX : 0;
		for (size_t k = from; k < i; k++)
			ia--, ib--;
		last = i;
		for (to = i; to < n && to <= last + 2 * CTX; to++)
			if (ops[to] != '=')
				last = to;
		to = last + CTX + 1 < n ? last + CTX + 1 : n;
		hunk(f, ops, from, to, a->v, b->v, ia, ib, color);
		for (size_t k = from; k < to; k++) {
			ia += ops[k] != '+';
			ib += ops[k] != '-';
		}
		i = to;
	}
	free(ops);
}

/* Service ports by key: the comment of every dispatch map element. */
struct ports {
	struct el_list text;
	struct hmap by_key;
};

static void ports_init(struct ports *p, const struct elements *want,
		       const struct elements *live)
{
	const struct elements *side[2] = { want, live };

	memset(p, 0, sizeof(*p));
	for (int k = 0; k < 2; k++)
		for (size_t s = 0; s < side[k]->n_sets; s++) {
			const struct el_set *set = &side[k]->sets[s];

			if (!el_dispatch_set(set->name))
				continue;
			for (size_t i = 0; i < set->el.n; i++) {
				const char *e = set->el.v[i], *c = strstr(e, " comment \"");

				if (!c)
					continue;
				el_add(&p->text, e, el_owner_key(set->name, e));
				el_add(&p->text, c + 10, strcspn(c + 10, "\""));
			}
		}
	el_finish(&p->text);
	hm_init(&p->by_key, p->text.n);
	for (size_t i = 0; i + 1 < p->text.n; i += 2)
		hm_put(&p->by_key, p->text.v[i], p->text.v[i + 1]);
}

static void ports_free(struct ports *p)
{
	hm_free(&p->by_key);
	svcnft_buf_free(&p->text.text);
	free(p->text.v);
}

/* The endpoints of ELS: "service port : address . port" of every backend
 * element, once however many views (cluster IP, external IPs, node port,
 * local) carry it. */
static void endpoints(struct el_list *out, const struct elements *els,
		      const struct ports *pt)
{
	struct svcnft_buf t = {0}, k = {0};
	const void *port;

	for (size_t i = 0; i < els->n_sets; i++) {
		const struct el_set *s = &els->sets[i];

		if (!backend_map(s->name))
			continue;
		for (size_t j = 0; j < s->el.n; j++) {
			const char *e = s->el.v[j], *data = strstr(e, " : ");

			k.len = 0;
			buf_add(&k, e, el_owner_key(s->name, e));
			t.len = 0;
			buf_puts(&t, hm_get(&pt->by_key, k.data, &port) ? port : k.data);
			buf_puts(&t, data ? data : "");
			el_add(out, t.data, t.len);
		}
	}
	svcnft_buf_free(&t);
	svcnft_buf_free(&k);
	el_finish(out);
}

/* Endpoints of the desired table that the live one lacks (ADDED), or the
 * other way round. */
static size_t endpoint_moves(const struct elements *want,
			     const struct elements *live,
			     const struct ports *pt, bool added)
{
	struct el_list a = {0}, b = {0};
	const char **only;
	struct hmap seen;
	size_t n = 0, count = 0;

	endpoints(&a, live, pt);
	endpoints(&b, want, pt);
	only = added ? minus(&b, &a, false, &n) : minus(&a, &b, false, &n);
	hm_init(&seen, n);
	for (size_t i = 0; i < n; i++)
		if (!hm_get(&seen, only[i], NULL)) {
			hm_put(&seen, only[i], NULL);
			count++;
		}
	hm_free(&seen);
	free(only);
	svcnft_buf_free(&a.text), free(a.v);
	svcnft_buf_free(&b.text), free(b.v);
	return count;
}

/* Lines of the shared parts (not owned by a service) that changed. */
static void shared_lines(struct printer *pr, const struct changes *c,
			 const struct elements *want, const struct elements *live,
			 struct el_list l[2])
{
	for (size_t i = 0; i < c->n_sets; i++) {
		const struct set_change *s = &c->sets[i];

		if (el_service_set(s->name))
			continue;
		for (size_t j = 0; j < s->n_del; j++)
			add_line(pr, &l[0], s->name, text_of(&pr->text, s->del[j]));
		for (size_t j = 0; j < s->n_add; j++)
			add_line(pr, &l[1], s->name, text_of(&pr->text, s->add[j]));
	}
	for (int side = 0; side < 2; side++) {
		const char **v = side ? c->new_objs : c->old_objs;

		for (size_t j = 0; j < (side ? c->n_new : c->n_old); j++)
			add_line(pr, &l[side], el_dynamic_set(v[j]) ? "map" : "chain", v[j]);
	}
	for (int fam = 0; fam < 2 && live->exists; fam++)
		if (strcmp(live->masq[fam], want->masq[fam])) {
			const char *name = fam ? "masquerade6 rules" : "masquerade4 rules";

			add_line(pr, &l[0], name, live->masq[fam]);
			add_line(pr, &l[1], name, want->masq[fam]);
		}
	if (live->exists && live->layout != want->layout) {
		pr->line.len = 0;
		buf_printf(&pr->line, "%d", live->layout);
		add_line(pr, &l[0], "layout", pr->line.data);
		pr->line.len = 0;
		buf_printf(&pr->line, "%d", want->layout);
		add_line(pr, &l[1], "layout", pr->line.data);
	}
}

static int owner_cmp(const void *a, const void *b)
{
	return strcmp((*(struct owner *const *)a)->label, (*(struct owner *const *)b)->label);
}

static void find_owners(struct printer *pr, const struct changes *c)
{
	for (size_t i = 0; i < c->n_sets; i++) {
		const struct set_change *s = &c->sets[i];

		if (!el_service_set(s->name))
			continue;
		for (int side = 0; side < 2; side++)
			for (size_t j = 0; j < (side ? s->n_add : s->n_del); j++) {
				const char *l = label_of(pr, s->name, text_of(&pr->text, side ?
								 s->add[j] : s->del[j]));

				if (l)
					owner(pr, l, true);
			}
	}
}

void diff_print(struct svcnft_buf *f, const struct changes *c, const struct elements *want,
		const struct elements *live, bool color, struct diff_summary *sum)
{
	struct printer pr = {0};
	struct el_list shared[2];
	struct ports pt;

	memset(shared, 0, sizeof(shared));

	memset(sum, 0, sizeof(*sum));
	buf_puts(&pr.line, "");
	buf_puts(&pr.key, "");
	learn_labels(&pr, want, live, c);
	hm_init(&pr.by_label, c->n_elems);
	find_owners(&pr, c);
	collect(&pr, live, 0);
	collect(&pr, want, 1);
	if (pr.n_owners)
		qsort(pr.owners, pr.n_owners, sizeof(*pr.owners), owner_cmp);
	for (size_t i = 0; i < pr.n_owners; i++) {
		struct owner *o = pr.owners[i];

		sort_lines(&o->lines[0]);
		sort_lines(&o->lines[1]);
		udiff(f, o->label, &o->lines[0], &o->lines[1], color);
		sum->svc_added += !o->in[0] && o->in[1];
		sum->svc_removed += o->in[0] && !o->in[1];
		sum->svc_changed += o->in[0] && o->in[1];
		for (int s = 0; s < 2; s++)
			svcnft_buf_free(&o->lines[s].text), free(o->lines[s].v);
		free(o);
	}
	shared_lines(&pr, c, want, live, shared);
	sort_lines(&shared[0]);
	sort_lines(&shared[1]);
	if (shared[0].n || shared[1].n)
		udiff(f, "(shared)", &shared[0], &shared[1], color);
	for (int s = 0; s < 2; s++)
		svcnft_buf_free(&shared[s].text), free(shared[s].v);
	ports_init(&pt, want, live);
	sum->ep_added = endpoint_moves(want, live, &pt, true);
	sum->ep_removed = endpoint_moves(want, live, &pt, false);
	ports_free(&pt);
	free(pr.owners);
	hm_free(&pr.vip_label);
	hm_free(&pr.by_label);
	svcnft_buf_free(&pr.labels.text);
	free(pr.labels.v);
	svcnft_buf_free(&pr.line);
	svcnft_buf_free(&pr.key);
	svcnft_buf_free(&pr.text);
}

