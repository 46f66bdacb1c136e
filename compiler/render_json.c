/* render_json: plan -> libnftables JSON (schema version 1).
 *
 * The same ruleset as render_nft.c, command by command: replace the table,
 * declare every chain, then sets and maps with their elements, then rules
 * (chains first so that verdict map elements can name them).  Element
 * comments go through buf_nft_quoted(), like the text form.  Declarations
 * keyed by expressions use {"typeof": EXPR}, as nftables >= 1.1 prints. */
#include <string.h>
#include <sys/socket.h>
#include <jansson.h>

#include "lower.h"
#include "util.h"

struct jctx {
	json_t *cmds;
	const struct plan *p;
	const char *table;
	bool fail;
};

/* Helpers that record failure instead of returning it; on failure the
 * value is released (jansson's *_new semantics, also for a NULL container). */
static json_t *push(struct jctx *j, json_t *arr, json_t *v)
{
	if (!v || json_array_append_new(arr, v))
		j->fail = true;
	return arr;
}

static void put(struct jctx *j, json_t *obj, const char *key, json_t *v)
{
	if (!obj || !v || json_object_set_new(obj, key, v))
		j->fail = true;
}

static void command(struct jctx *j, const char *op, const char *what,
		    json_t *body)
{
	push(j, j->cmds, body ? json_pack("{s:{s:o}}", op, what, body) : NULL);
}

/* {"family": "inet", "table": T, KEY: NAME} */
static json_t *object(struct jctx *j, const char *key, const char *name)
{
	return json_pack("{s:s, s:s, s:s}", "family", "inet",
			 "table", j->table, key, name);
}

static json_t *json_ip(const struct ipaddr *a)
{
	char s[64];

	ipaddr_format(a, s, sizeof(s));
	return json_string(s);
}

/* A CIDR as nft lists it: a full-length prefix is the bare address. */
static json_t *json_cidr(const struct svcnft_cidr *c)
{
	struct ipaddr a = { .family = c->family };

	memcpy(a.a, c->addr, 16);
	if (c->plen == (c->family == AF_INET ? 32u : 128u))
		return json_ip(&a);
	return json_pack("{s:{s:o, s:i}}", "prefix", "addr", json_ip(&a),
			 "len", (int)c->plen);
}

/* Expressions. */
static json_t *payload(const char *proto, const char *field)
{
	return json_pack("{s:{s:s, s:s}}", "payload", "protocol", proto,
			 "field", field);
}

static json_t *meta(const char *key)
{
	return json_pack("{s:{s:s}}", "meta", "key", key);
}

static json_t *l4proto(void)
{
	return meta("l4proto");
}

static json_t *numgen(const char *mode, size_t mod, size_t offset)
{
	return json_pack("{s:{s:s, s:I, s:I}}", "numgen", "mode", mode,
			 "mod", (json_int_t)mod, "offset", (json_int_t)offset);
}

static json_t *concat(json_t *list)
{
	return list ? json_pack("{s:o}", "concat", list) : NULL;
}

/* [KW daddr .] meta l4proto . th dport [. LAST] */
static json_t *view_key(struct jctx *j, const struct plan_family *f,
			bool addr, json_t *last)
{
	json_t *l = json_array();

	if (addr)
		push(j, l, payload(f->kw, "daddr"));
	push(j, l, l4proto());
	push(j, l, payload("th", "dport"));
	if (last)
		push(j, l, last);
	return concat(l);
}

/* KW daddr . meta l4proto . th dport [. LAST] */
static json_t *svc_key(struct jctx *j, const struct plan_family *f,
		       json_t *last)
{
	return view_key(j, f, true, last);
}

/* KW saddr . meta mark . LAST (the mark holds the service-port id) */
static json_t *client_key(struct jctx *j, const struct plan_family *f,
			  json_t *last)
{
	json_t *l = json_array();

	push(j, l, payload(f->kw, "saddr"));
	push(j, l, meta("mark"));
	push(j, l, last);
	return concat(l);
}

/* The constant SLOT inside a concatenation, as in render_nft.c. */
static json_t *slot_const(size_t slot)
{
	return numgen("inc", 1, slot);
}

static json_t *match(const char *op, json_t *left, json_t *right)
{
	return json_pack("{s:{s:s, s:o, s:o}}", "match", "op", op,
			 "left", left, "right", right);
}

static json_t *set_ref(const char *name, const struct plan_family *f)
{
	return json_pack("s++", "@", name, f->sfx);
}

static json_t *verdict(const char *kind, const char *chain)
{
	return json_pack("{s:{s:s}}", kind, "target", chain);
}

static json_t *drop(void)
{
	return json_pack("{s:n}", "drop");
}

static json_t *chain_ref(const char *kind, const char *name,
			 const struct plan_family *f)
{
	char c[64];

	snprintf(c, sizeof(c), "%s%s", name, f->sfx);
	return verdict(kind, c);
}

static json_t *dport_nonzero(void)
{
	return match("!=", payload("th", "dport"), json_integer(0));
}

/* meta mark & 0x4000 (or meta mark OP VALUE) */
static json_t *mark_op(const char *op, json_int_t value)
{
	return json_pack("{s:[o, I]}", op, meta("mark"), value);
}

/* meta mark set meta mark OP VALUE */
static json_t *mark_set(const char *op, json_int_t value)
{
	return json_pack("{s:{s:o, s:o}}", "mangle", "key", meta("mark"),
			 "value", mark_op(op, value));
}

/* dnat KW to KEY map @BACKENDS of view V, KEY ending with SLOT. */
static json_t *dnat_map(struct jctx *j, const struct plan_family *f,
			enum plan_view v, json_t *slot)
{
	const struct plan_view_info *vi = &plan_views[v];

	return json_pack("{s:{s:s, s:{s:{s:o, s:o}}}}", "dnat",
			 "family", f->kw, "addr", "map",
			 "key", view_key(j, f, !vi->nodeport, slot),
			 "data", set_ref(vi->backends, f));
}

static json_t *masquerade(void)
{
	return json_pack("{s:{s:[s]}}", "masquerade", "flags", "fully-random");
}

/* Commands. */
static void add_chain(struct jctx *j, const char *name)
{
	command(j, "add", "chain", object(j, "name", name));
}

/* Add a rule to CHAIN made of the N statements that follow. */
static void add_rule(struct jctx *j, const char *chain, const char *comment,
		     int n, ...)
{
	json_t *r = object(j, "chain", chain), *expr = json_array();
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		json_t *stmt = va_arg(ap, json_t *);

		if (expr)
			push(j, expr, stmt);
		else
			json_decref(stmt);
	}
	va_end(ap);
	put(j, r, "expr", expr);
	if (comment)
		put(j, r, "comment", json_string(comment));
	command(j, "add", "rule", r);
}

/* Declare WHAT ("set" or "map") NAME<sfx> of TYPE; MAP (the data type) and
 * FLAGS may be NULL, SIZE (size_t)-1 means none.  Values are consumed. */
static void declare(struct jctx *j, const char *what, const char *name,
		    const char *sfx, json_t *type, json_t *map, json_t *flags,
		    size_t size)
{
	char n[64];
	json_t *s;

	snprintf(n, sizeof(n), "%s%s", name, sfx);
	s = object(j, "name", n);
	put(j, s, "type", type);
	if (map)
		put(j, s, "map", map);
	if (flags)
		put(j, s, "flags", flags);
	if (size != (size_t)-1)
		put(j, s, "size", json_integer((json_int_t)size));
	command(j, "add", what, s);
}

/* "add element" for set NAME<sfx> unless ELEMS is empty. */
static void add_elements(struct jctx *j, const char *name, const char *sfx,
			 json_t *elems)
{
	char n[64];
	json_t *e;

	if (!elems || !json_array_size(elems)) {
		if (!elems)
			j->fail = true;
		json_decref(elems);
		return;
	}
	snprintf(n, sizeof(n), "%s%s", name, sfx);
	e = object(j, "name", n);
	put(j, e, "elem", elems);
	command(j, "add", "element", e);
}

/* A concatenation of datatype names (C and D may be NULL). */
static json_t *dtypes(const char *a, const char *b, const char *c,
		      const char *d)
{
	json_t *l = json_pack("[s, s]", a, b);

	if (l && c && json_array_append_new(l, json_string(c)))
		goto fail;
	if (l && d && json_array_append_new(l, json_string(d)))
		goto fail;
	return l;
fail:
	json_decref(l);
	return NULL;
}

static json_t *typeof_expr(json_t *e)
{
	return e ? json_pack("{s:o}", "typeof", e) : NULL;
}

/* Elements. */

/* [VIP .] proto . port [. LAST] of E. */
static json_t *entry_key(struct jctx *j, const struct plan_entry *e,
			 json_t *last)
{
	json_t *l = json_array();

	if (!plan_views[e->view].nodeport)
		push(j, l, json_ip(&e->vip));
	push(j, l, json_string(proto_name(e->proto)));
	push(j, l, json_integer(e->port));
	if (last)
		push(j, l, last);
	return concat(l);
}

static bool in_map(const struct plan_entry *e, const char *map)
{
	return !strcmp(plan_views[e->view].map, map) && plan_entry_dispatched(e);
}

/* Cluster IP ports the reject check lets through. */
static bool is_port(const struct plan_entry *e)
{
	return e->view == VIEW_CLUSTER && plan_entry_dispatched(e);
}

static json_t *dispatch_elem(struct jctx *j, const struct plan_family *f,
			     const struct plan_entry *e)
{
	struct plan_group g = plan_entry_group(e);
	struct svcnft_buf c = {0};
	char chain[64];
	json_t *el, *v;

	plan_entry_comment(&c, e);
	if (e->n) {
		plan_chain_lb(chain, sizeof(chain), f, &g);
		v = verdict("goto", chain);
	} else {
		v = e->reject ? verdict("goto", "reject-service") : drop();
	}
	el = json_pack("[{s:{s:o, s:s}}, o]", "elem", "val", entry_key(j, e, NULL),
		       "comment", c.data, v);
	svcnft_buf_free(&c);
	return el;
}

/* A verdict map of entries, keyed with or without the address. */
static void vmap(struct jctx *j, const struct plan_family *f, const char *name,
		 bool addr)
{
	json_t *el = json_array();
	size_t n = 0;

	for (size_t i = 0; el && i < f->n_e; i++)
		if (in_map(&f->e[i], name)) {
			push(j, el, dispatch_elem(j, f, &f->e[i]));
			n++;
		}
	declare(j, "map", name, f->sfx,
		addr ? dtypes(f->addr_type, "inet_proto", "inet_service", NULL) :
		       dtypes("inet_proto", "inet_service", NULL, NULL),
		json_string("verdict"), NULL, plan_set_size(n));
	add_elements(j, name, f->sfx, el);
}

static void service_sets(struct jctx *j, const struct plan_family *f)
{
	json_t *vips = json_array(), *ports = json_array();
	size_t n = 0;

	for (size_t i = 0; vips && i < f->n_vips; i++)
		push(j, vips, json_ip(&f->vips[i]));
	for (size_t i = 0; ports && i < f->n_e; i++)
		if (is_port(&f->e[i])) {
			push(j, ports, entry_key(j, &f->e[i], NULL));
			n++;
		}
	declare(j, "set", "cluster-ips", f->sfx, json_string(f->addr_type),
		NULL, NULL, plan_set_size(f->n_vips));
	add_elements(j, "cluster-ips", f->sfx, vips);
	declare(j, "set", "service-ports", f->sfx,
		dtypes(f->addr_type, "inet_proto", "inet_service", NULL),
		NULL, NULL, plan_set_size(n));
	add_elements(j, "service-ports", f->sfx, ports);
	vmap(j, f, "service-ips", true);
	vmap(j, f, "external-local", true);
	vmap(j, f, "nodeports", false);
	vmap(j, f, "nodeports-local", false);
}

/* An interval set of CIDRs. */
static void cidr_set(struct jctx *j, const struct plan_family *f,
		     const char *name, const struct svcnft_cidr *c, size_t n)
{
	json_t *el = json_array();

	for (size_t i = 0; el && i < n; i++)
		push(j, el, json_cidr(&c[i]));
	declare(j, "set", name, f->sfx, json_string(f->addr_type),
		NULL, json_pack("[s]", "interval"), (size_t)-1);
	add_elements(j, name, f->sfx, el);
}

/* Load-balancer IPs with source ranges, and the ranges allowed. */
static void firewall_sets(struct jctx *j, const struct plan_family *f)
{
	json_t *fw = json_array(), *allow = json_array();

	for (size_t i = 0; fw && allow && i < f->n_fw; i++) {
		const struct plan_entry *e = &f->e[f->fw[i].e];

		push(j, fw, entry_key(j, e, NULL));
		for (size_t r = 0; r < f->fw[i].n_ranges; r++)
			if (f->fw[i].ranges[r].family == f->family)
				push(j, allow, entry_key(j, e, json_cidr(&f->fw[i].ranges[r])));
	}
	declare(j, "set", "firewall", f->sfx,
		dtypes(f->addr_type, "inet_proto", "inet_service", NULL),
		NULL, NULL, plan_set_size(f->n_fw));
	add_elements(j, "firewall", f->sfx, fw);
	declare(j, "set", "firewall-allow", f->sfx,
		dtypes(f->addr_type, "inet_proto", "inet_service", f->addr_type),
		NULL, json_pack("[s]", "interval"), (size_t)-1);
	add_elements(j, "firewall-allow", f->sfx, allow);
}

static void source_sets(struct jctx *j, const struct plan_family *f)
{
	json_t *hp = json_array();

	for (size_t i = 0; hp && i < f->n_hairpin; i++)
		push(j, hp, json_pack("{s:[o, o]}", "concat",
				      json_ip(&f->hairpin[i]),
				      json_ip(&f->hairpin[i])));
	declare(j, "set", "hairpin", f->sfx,
		dtypes(f->addr_type, f->addr_type, NULL, NULL),
		NULL, NULL, plan_set_size(f->n_hairpin));
	add_elements(j, "hairpin", f->sfx, hp);
	cidr_set(j, f, "pod-cidrs", f->pod_cidrs, f->n_pod_cidrs);
	cidr_set(j, f, "service-cidrs", f->svc_cidrs, f->n_svc_cidrs);
}

/* Backend map NAME ("backends" or "nodeport-backends") with COUNT elements. */
static void backends(struct jctx *j, const struct plan_family *f,
		     const char *name, size_t count)
{
	bool np = !strcmp(name, "nodeport-backends");
	json_t *el = json_array();

	for (size_t i = 0; el && i < f->n_e; i++) {
		const struct plan_entry *e = &f->e[i];
		size_t off = plan_views[e->view].offset;

		if (strcmp(plan_views[e->view].backends, name))
			continue;
		for (size_t s = 0; s < e->n; s++)
			push(j, el, json_pack("[o, {s:[o, I]}]",
					      entry_key(j, e, json_integer((json_int_t)(off + s))),
					      "concat", json_ip(&e->backends[s].ip),
					      (json_int_t)e->backends[s].port));
	}
	declare(j, "map", name, f->sfx,
		typeof_expr(view_key(j, f, !np, numgen("random", 1, 0))),
		dtypes(f->addr_type, "inet_service", NULL, NULL), NULL,
		plan_set_size(count));
	add_elements(j, name, f->sfx, el);
}

/* The id maps (keyed like the dispatch maps) and the saved marks. */
static void id_maps(struct jctx *j, const struct plan_family *f)
{
	for (int np = 0; np < 2; np++) {
		const char *name = np ? "nodeport-affinity-ids" : "affinity-ids";
		json_t *el = json_array();
		size_t n = 0;

		for (size_t i = 0; el && i < f->n_e; i++) {
			const struct plan_entry *e = &f->e[i];

			if (!plan_entry_has_id(e) || plan_views[e->view].nodeport != np)
				continue;
			push(j, el, json_pack("[o, I]", entry_key(j, e, NULL),
					      (json_int_t)e->aff_id));
			n++;
		}
		declare(j, "map", name, f->sfx,
			np ? dtypes("inet_proto", "inet_service", NULL, NULL) :
			     dtypes(f->addr_type, "inet_proto", "inet_service", NULL),
			json_string("mark"), NULL, plan_set_size(n));
		add_elements(j, name, f->sfx, el);
	}
	declare(j, "map", "affinity-marks", f->sfx,
		typeof_expr(json_pack("{s:{s:s}}", "ct", "key", "id")),
		json_string("mark"), json_pack("[s, s]", "timeout", "dynamic"),
		PLAN_AFFINITY_SIZE);
}

/* A slot verdict map NAME with its elements EL. */
static void slot_map(struct jctx *j, const char *name, json_t *el)
{
	declare(j, "map", name, "", typeof_expr(numgen("random", 1, 0)),
		json_string("verdict"), NULL, (size_t)-1);
	add_elements(j, name, "", el);
}

static void affinity_sets(struct jctx *j, const struct plan_family *f)
{
	char name[64];

	id_maps(j, f);
	for (int p = 0; p < PLAN_N_PROTOS; p++) {
		plan_affinity_set(name, sizeof(name), f, (enum proto)p);
		declare(j, "set", name, "",
			typeof_expr(client_key(j, f, numgen("random", 1, 0))), NULL,
			json_pack("[s, s]", "timeout", "dynamic"), PLAN_AFFINITY_SIZE);
	}
	for (size_t t = 0; t < f->n_affs; t++) {
		const struct plan_aff *a = &f->affs[t];
		json_t *el = json_array();

		for (size_t i = 0; el && i < a->slots; i++) {
			plan_chain_slot(name, sizeof(name), f, a, i);
			push(j, el, json_pack("[I, o]", (json_int_t)i,
					      verdict("goto", name)));
		}
		plan_slot_map(name, sizeof(name), f, a);
		slot_map(j, name, el);
	}
	for (int v = 0; v < PLAN_N_VIEWS; v++) {
		json_t *el = f->backend_slots[v] ? json_array() : NULL;

		for (size_t i = 0; el && i < f->backend_slots[v]; i++) {
			plan_chain_backend(name, sizeof(name), f, (enum plan_view)v, i);
			push(j, el, json_pack("[I, o]", (json_int_t)i,
					      verdict("goto", name)));
		}
		plan_backend_map(name, sizeof(name), f, (enum plan_view)v);
		if (el)
			slot_map(j, name, el);
	}
}



/* Sets and maps of one family, in the text form's order. */
static void family_sets(struct jctx *j, const struct plan_family *f)
{
	service_sets(j, f);
	cidr_set(j, f, "nodeport-addresses", f->np_cidrs, f->n_np_cidrs);
	firewall_sets(j, f);
	source_sets(j, f);
	backends(j, f, "backends", f->n_backends);
	backends(j, f, "nodeport-backends", f->n_np_backends);
	affinity_sets(j, f);
}

/* Chains of one family, in the text form's order. */
static void family_chains(struct jctx *j, const struct plan_family *f)
{
	char c[64];

	for (size_t i = 0; i < f->n_groups; i++) {
		plan_chain_lb(c, sizeof(c), f, &f->groups[i]);
		add_chain(j, c);
	}
	for (size_t t = 0; t < f->n_affs; t++)
		for (size_t i = 0; i < f->affs[t].slots; i++) {
			plan_chain_slot(c, sizeof(c), f, &f->affs[t], i);
			add_chain(j, c);
		}
	for (int v = 0; v < PLAN_N_VIEWS; v++)
		for (size_t i = 0; i < f->backend_slots[v]; i++) {
			plan_chain_backend(c, sizeof(c), f, (enum plan_view)v, i);
			add_chain(j, c);
		}
	snprintf(c, sizeof(c), "masquerade%s", f->sfx);
	add_chain(j, c);
	snprintf(c, sizeof(c), "service-check%s", f->sfx);
	add_chain(j, c);
}

/* update @affinity-marksF { ct id timeout 1s : meta mark }, in the map
 * statement of nftables >= 1.1's JSON (1.0.6 has none). */
static json_t *save_mark(const struct plan_family *f)
{
	return json_pack("{s:{s:s, s:{s:{s:{s:{s:s}}, s:i}}, s:o, s:s+}}", "map",
			 "op", "update", "elem", "elem", "val", "ct", "key", "id",
			 "timeout", PLAN_MARKS_TIMEOUT, "data", meta("mark"),
			 "map", "@affinity-marks", f->sfx);
}

/* meta mark set ct id map @affinity-marksF */
static json_t *restore_mark(const struct plan_family *f)
{
	return json_pack("{s:{s:o, s:{s:{s:{s:{s:s}}, s:s+}}}}", "mangle",
			 "key", meta("mark"), "value", "map", "key", "ct", "key",
			 "id", "data", "@affinity-marks", f->sfx);
}

/* Affinity lb chain C of group G: a remembered slot, else a random one. */
static void affinity_rules(struct jctx *j, const struct plan_family *f,
			   const struct plan_group *g, const char *c)
{
	const struct plan_aff *aff = plan_group_aff(f, g);
	char slot[64], set[64], vmap[64] = "@";

	plan_affinity_set(set, sizeof(set), f, g->proto);
	add_rule(j, c, NULL, 2, save_mark(f),
		 json_pack("{s:{s:o, s:{s:{s:o, s:s++}}}}", "mangle", "key", meta("mark"),
			   "value", "map", "key",
			   view_key(j, f, !plan_views[g->view].nodeport, NULL),
			   "data", "@", plan_ids_map(g->view), f->sfx));
	for (size_t s = 0; s < g->n; s++) {
		plan_chain_slot(slot, sizeof(slot), f, aff, s);
		add_rule(j, c, NULL, 2,
			 match("==", client_key(j, f, slot_const(plan_views[aff->view].offset + s)),
			       json_pack("s+", "@", set)),
			 verdict("goto", slot));
	}
	plan_slot_map(vmap + 1, sizeof(vmap) - 1, f, aff);
	add_rule(j, c, NULL, 1,
		 json_pack("{s:{s:o, s:s}}", "vmap", "key",
			   numgen("random", g->n, 0), "data", vmap));
}

/* ip saddr != @pod-cidrs4 */
static json_t *not_pod(const struct plan_family *f)
{
	return match("!=", payload(f->kw, "saddr"), set_ref("pod-cidrs", f));
}

/* numgen random mod N vmap @backend-slotsF */
static json_t *random_slot(const struct plan_family *f,
			   const struct plan_group *g)
{
	char map[64] = "@";

	plan_backend_map(map + 1, sizeof(map) - 1, f, plan_slot_view(g->view));
	return json_pack("{s:{s:o, s:s}}", "vmap", "key",
			 numgen("random", g->n, 0), "data", map);
}

static void lb_rules(struct jctx *j, const struct plan_family *f)
{
	char c[64];

	for (size_t i = 0; i < f->n_groups; i++) {
		const struct plan_group *g = &f->groups[i];
		const struct plan_view_info *v = &plan_views[g->view];

		plan_chain_lb(c, sizeof(c), f, g);
		if (v->mark == MARK_ALL)
			add_rule(j, c, NULL, 1, mark_set("|", PLAN_MASQ_MARK));
		else if (v->mark == MARK_NOT_POD)
			add_rule(j, c, NULL, 2, not_pod(f),
				 mark_set("|", PLAN_MASQ_MARK));
		if (g->affinity)
			affinity_rules(j, f, g, c);
		else
			add_rule(j, c, NULL, 1, random_slot(f, g));
	}
}

static void slot_rules(struct jctx *j, const struct plan_family *f)
{
	char c[64], set[64], to[64];

	for (size_t t = 0; t < f->n_affs; t++) {
		const struct plan_aff *a = &f->affs[t];
		size_t off = plan_views[a->view].offset;

		plan_affinity_set(set, sizeof(set), f, a->proto);
		for (size_t i = 0; i < a->slots; i++) {
			plan_chain_slot(c, sizeof(c), f, a, i);
			add_rule(j, c, NULL, 1,
				 json_pack("{s:{s:s, s:{s:{s:o, s:I}}, s:s+}}",
					   "set", "op", "update", "elem", "elem",
					   "val", client_key(j, f, slot_const(off + i)),
					   "timeout", (json_int_t)a->timeout,
					   "set", "@", set));
			add_rule(j, c, NULL, 1, restore_mark(f));
			plan_chain_backend(to, sizeof(to), f, a->view, i);
			add_rule(j, c, NULL, 1, verdict("goto", to));
		}
	}
}

/* Backend slot chain I of view V: dnat to slot I of the backend map. */
static void backend_rules(struct jctx *j, const struct plan_family *f)
{
	char c[64];

	for (int v = 0; v < PLAN_N_VIEWS; v++)
		for (size_t i = 0; i < f->backend_slots[v]; i++) {
			plan_chain_backend(c, sizeof(c), f, (enum plan_view)v, i);
			add_rule(j, c, NULL, 2, dport_nonzero(),
				 dnat_map(j, f, (enum plan_view)v,
					  slot_const(plan_views[v].offset + i)));
		}
}

/* ip saddr . ip daddr @hairpin4 */
static json_t *hairpin_match(struct jctx *j, const struct plan_family *f)
{
	json_t *pair = json_array();

	if (pair) {
		push(j, pair, payload(f->kw, "saddr"));
		push(j, pair, payload(f->kw, "daddr"));
	}
	return match("==", concat(pair), set_ref("hairpin", f));
}

static void masquerade_rules(struct jctx *j, const struct plan_family *f)
{
	char c[64];

	snprintf(c, sizeof(c), "masquerade%s", f->sfx);
	add_rule(j, c, "hairpin", 2, hairpin_match(j, f), masquerade());
	if (j->p->cfg->masquerade_all)
		add_rule(j, c, "masquerade-all", 1, masquerade());
	else if (f->n_pod_cidrs)
		add_rule(j, c, "from outside the pod network", 2,
			 match("!=", payload(f->kw, "saddr"),
			       set_ref("pod-cidrs", f)),
			 masquerade());
}

static void check_rules(struct jctx *j, const struct plan_family *f)
{
	char c[64];

	snprintf(c, sizeof(c), "service-check%s", f->sfx);
	add_rule(j, c, NULL, 2,
		 match("==", svc_key(j, f, NULL), set_ref("service-ports", f)),
		 json_pack("{s:n}", "return"));
	add_rule(j, c, NULL, 1, verdict("goto", "reject-service"));
}

static void family_rules(struct jctx *j, const struct plan_family *f)
{
	lb_rules(j, f);
	slot_rules(j, f);
	backend_rules(j, f);
	masquerade_rules(j, f);
	check_rules(j, f);
}

static const struct {
	const char *name, *type, *hook;
	int prio;
} fixed[] = {
	{ "services", NULL, NULL, 0 },
	{ "external-local", NULL, NULL, 0 },
	{ "reject-service", NULL, NULL, 0 },
	{ "service-check", NULL, NULL, 0 },
	{ "firewall-check", NULL, NULL, 0 },
	{ "filter-prerouting", "filter", "prerouting", -110 },	/* dstnat - 10 */
	{ "filter-output", "filter", "output", -110 },
	{ "nat-prerouting", "nat", "prerouting", -100 },	/* dstnat */
	{ "nat-output", "nat", "output", -100 },
	{ "masquerade-external", NULL, NULL, 0 },
	{ "nat-postrouting", "nat", "postrouting", 100 },	/* srcnat */
};

static void fixed_chains(struct jctx *j)
{
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++) {
		json_t *c = object(j, "name", fixed[i].name);

		if (fixed[i].type) {
			put(j, c, "type", json_string(fixed[i].type));
			put(j, c, "hook", json_string(fixed[i].hook));
			put(j, c, "prio", json_integer(fixed[i].prio));
			put(j, c, "policy", json_string("accept"));
		}
		command(j, "add", "chain", c);
	}
}

static json_t *ct_state_new(void)
{
	return match("in", json_pack("{s:{s:s}}", "ct", "key", "state"),
		     json_string("new"));
}

/* KW daddr != loopback, KW daddr @nodeport-addresses, fib daddr type
 * local: the packet is for a node port of this node. */
static void add_nodeport_rule(struct jctx *j, const char *chain,
			      const struct plan_family *f, json_t *from,
			      const char *map)
{
	json_t *lo = f->family == AF_INET ?
		json_pack("{s:{s:s, s:i}}", "prefix", "addr", "127.0.0.0", "len", 8) :
		json_string("::1");
	json_t *local = match("==", json_pack("{s:{s:s, s:[s]}}", "fib",
					      "result", "type", "flags", "daddr"),
			      json_string("local"));
	json_t *v = json_pack("{s:{s:o, s:o}}", "vmap", "key",
			      view_key(j, f, false, NULL), "data", set_ref(map, f));
	json_t *lo_m = match("!=", payload(f->kw, "daddr"), lo);
	json_t *np = match("==", payload(f->kw, "daddr"),
			   set_ref("nodeport-addresses", f));

	if (from)
		add_rule(j, chain, NULL, 5, from, lo_m, np, local, v);
	else
		add_rule(j, chain, NULL, 4, lo_m, np, local, v);
}

static void dispatch_rules(struct jctx *j)
{
	for (size_t i = 0; i < 2; i++) {
		const struct plan_family *f = &j->p->fam[i];

		add_rule(j, "services", NULL, 1,
			 json_pack("{s:{s:o, s:o}}", "vmap", "key",
				   svc_key(j, f, NULL),
				   "data", set_ref("service-ips", f)));
	}
	for (size_t i = 0; i < 2; i++)
		add_nodeport_rule(j, "services", &j->p->fam[i], NULL, "nodeports");
	for (size_t i = 0; i < 2; i++) {
		const struct plan_family *f = &j->p->fam[i];

		add_rule(j, "services", "unallocated service address", 2,
			 match("==", payload(f->kw, "daddr"), set_ref("service-cidrs", f)),
			 drop());
	}
	for (size_t i = 0; i < 2; i++) {
		const struct plan_family *f = &j->p->fam[i];

		add_rule(j, "external-local", NULL, 2, not_pod(f),
			 json_pack("{s:{s:o, s:o}}", "vmap", "key",
				   svc_key(j, f, NULL),
				   "data", set_ref("external-local", f)));
	}
	for (size_t i = 0; i < 2; i++)
		add_nodeport_rule(j, "external-local", &j->p->fam[i],
				  not_pod(&j->p->fam[i]), "nodeports-local");
}

static void check_chains(struct jctx *j)
{
	const struct plan_family *f4 = &j->p->fam[0], *f6 = &j->p->fam[1];

	add_rule(j, "reject-service", NULL, 2,
		 match("==", l4proto(), json_string("tcp")),
		 json_pack("{s:{s:s}}", "reject", "type", "tcp reset"));
	add_rule(j, "reject-service", NULL, 1,
		 json_pack("{s:{s:s, s:s}}", "reject", "type", "icmpx",
			   "expr", "port-unreachable"));
	add_rule(j, "service-check", NULL, 2,
		 match("==", payload("ip", "daddr"), set_ref("cluster-ips", f4)),
		 chain_ref("goto", "service-check", f4));
	add_rule(j, "service-check", NULL, 2,
		 match("==", payload("ip6", "daddr"), set_ref("cluster-ips", f6)),
		 chain_ref("goto", "service-check", f6));
	for (size_t i = 0; i < 2; i++) {
		const struct plan_family *f = &j->p->fam[i];

		add_rule(j, "firewall-check", NULL, 3,
			 match("==", svc_key(j, f, NULL), set_ref("firewall", f)),
			 match("!=", svc_key(j, f, payload(f->kw, "saddr")),
			       set_ref("firewall-allow", f)),
			 drop());
	}
}

static void hook_rules(struct jctx *j)
{
	add_rule(j, "filter-prerouting", NULL, 2, ct_state_new(),
		 verdict("jump", "service-check"));
	add_rule(j, "filter-prerouting", NULL, 1, verdict("jump", "firewall-check"));
	add_rule(j, "filter-output", NULL, 2, ct_state_new(),
		 verdict("jump", "service-check"));
	add_rule(j, "filter-output", NULL, 1, verdict("jump", "firewall-check"));
	add_rule(j, "nat-prerouting", NULL, 1, verdict("jump", "external-local"));
	add_rule(j, "nat-prerouting", NULL, 1, verdict("jump", "services"));
	add_rule(j, "nat-output", NULL, 1, verdict("jump", "services"));
}

static void masquerade_external(struct jctx *j)
{
	add_rule(j, "masquerade-external", NULL, 1,
		 mark_set("&", (json_int_t)(~PLAN_MASQ_MARK & 0xffffffffu)));
	add_rule(j, "masquerade-external", "external", 1, masquerade());
}

static void postrouting(struct jctx *j)
{
	for (size_t i = 0; i < 2; i++) {
		const struct plan_family *f = &j->p->fam[i];
		char key[16];

		snprintf(key, sizeof(key), "%s daddr", f->kw);
		add_rule(j, "nat-postrouting", NULL, 3,
			 match("in", json_pack("{s:{s:s}}", "ct", "key", "status"),
			       json_string("dnat")),
			 match("==", json_pack("{s:{s:s, s:s}}", "ct", "key", key,
					       "dir", "original"),
			       set_ref("cluster-ips", f)),
			 chain_ref("jump", "masquerade", f));
	}
	add_rule(j, "nat-postrouting", NULL, 2,
		 match("==", mark_op("&", PLAN_MASQ_MARK),
		       json_integer(PLAN_MASQ_MARK)),
		 verdict("jump", "masquerade-external"));
	for (size_t i = 0; i < 2; i++)
		add_rule(j, "nat-postrouting", "hairpin", 3,
			 match("in", json_pack("{s:{s:s}}", "ct", "key", "status"),
			       json_string("dnat")),
			 hairpin_match(j, &j->p->fam[i]), masquerade());
}

/* Rules of the fixed chains, in their declaration order. */
static void fixed_rules(struct jctx *j)
{
	dispatch_rules(j);
	check_chains(j);
	hook_rules(j);
	masquerade_external(j);
	postrouting(j);
}

static void table(struct jctx *j)
{
	char comment[64];
	json_t *t;

	snprintf(comment, sizeof(comment), "svcnft layout %d",
		 SVCNFT_LAYOUT_VERSION);
	push(j, j->cmds, json_pack("{s:{s:I}}", "metainfo",
				   "json_schema_version", (json_int_t)1));
	command(j, "add", "table", json_pack("{s:s, s:s}", "family", "inet",
					     "name", j->table));
	command(j, "delete", "table", json_pack("{s:s, s:s}", "family", "inet",
						"name", j->table));
	t = json_pack("{s:s, s:s}", "family", "inet", "name", j->table);
	put(j, t, "comment", json_string(comment));
	command(j, "add", "table", t);
}

static int dump_cb(const char *s, size_t n, void *data)
{
	buf_add(data, s, n);
	return 0;
}

bool svcnft_render_json(const struct svcnft_model *m,
			const struct svcnft_config *cfg, struct svcnft_buf *out)
{
	struct plan p;
	struct jctx j = { .cmds = json_array(), .p = &p, .table = cfg->table };
	json_t *root;
	bool ok;

	if (!j.cmds)
		return false;
	plan_build(&p, m, cfg);
	table(&j);
	for (size_t i = 0; i < 2; i++)
		family_chains(&j, &p.fam[i]);
	fixed_chains(&j);
	for (size_t i = 0; i < 2; i++)
		family_sets(&j, &p.fam[i]);
	for (size_t i = 0; i < 2; i++)
		family_rules(&j, &p.fam[i]);
	fixed_rules(&j);
	plan_free(&p);
	root = json_pack("{s:o}", "nftables", j.cmds);
	ok = root && !j.fail &&
	     !json_dump_callback(root, dump_cb, out, JSON_COMPACT) &&
	     !dump_cb("\n", 1, out);
	json_decref(root);
	return ok;
}
