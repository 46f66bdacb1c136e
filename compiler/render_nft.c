/* render_nft: plan -> nft script replacing the table in one transaction.
 *
 * User-controlled text reaches the script only through buf_nft_quoted();
 * everything else is numbers, addresses and our own identifiers. */
#include <string.h>
#include <sys/socket.h>

#include "elements.h"
#include "render_nft.h"
#include "util.h"


struct out {
	struct svcnft_buf *b;
	const struct plan *p;
	const char *table;
	bool skeleton;		/* leave out the elements of direct sets */
	bool omit;		/* the set being declared is one of them */
	/* svcnft_render_nft_stream: hands over each MiB written */
	bool (*sink)(void *arg, const char *data, size_t len);
	void *arg;
	bool failed;		/* the sink did */
};

/* Between elements: pass what the buffer holds to the sink, if any. */
static void drain(struct out *o)
{
	if (!o->sink || o->b->len < ((size_t)1 << 20))
		return;
	if (!o->failed && !o->sink(o->arg, o->b->data, o->b->len))
		o->failed = true;
	o->b->len = 0;
}

/* "elements = { ... }", one element per line: EACH(i) for i < N, skipping
 * those for which SKIP (if given) says so. */
static void elements(struct out *o, size_t n, const struct plan_family *f,
		     void (*each)(struct out *, const struct plan_family *, size_t),
		     bool (*skip)(const struct plan_family *, size_t))
{
	bool first = true;

	if (o->omit)
		return;
	for (size_t i = 0; i < n; i++) {
		if (skip && skip(f, i))
			continue;
		buf_puts(o->b, first ? "\t\telements = {\n\t\t\t" : ",\n\t\t\t");
		each(o, f, i);
		first = false;
		drain(o);
	}
	if (!first)
		buf_puts(o->b, "\n\t\t}\n");
}

static void el_vip(struct out *o, const struct plan_family *f, size_t i)
{
	el_fmt_ip(o->b, &f->vips[i]);
}

static void el_hairpin(struct out *o, const struct plan_family *f, size_t i)
{
	el_fmt_hairpin(o->b, &f->hairpin[i]);
}

static void el_podcidr(struct out *o, const struct plan_family *f, size_t i)
{
	el_fmt_cidr(o->b, &f->pod_cidrs[i]);
}

static void el_svccidr(struct out *o, const struct plan_family *f, size_t i)
{
	el_fmt_cidr(o->b, &f->svc_cidrs[i]);
}

static size_t count_in(const struct plan_family *f, const char *map)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n_e; i++)
		n += plan_entry_in_map(&f->e[i], map);
	return n;
}

static bool not_port(const struct plan_family *f, size_t i)
{
	return !plan_entry_is_port(&f->e[i]);
}

static bool not_service_ips(const struct plan_family *f, size_t i)
{
	return !plan_entry_in_map(&f->e[i], "service-ips");
}

static bool not_external_local(const struct plan_family *f, size_t i)
{
	return !plan_entry_in_map(&f->e[i], "external-local");
}

static bool not_nodeports(const struct plan_family *f, size_t i)
{
	return !plan_entry_in_map(&f->e[i], "nodeports");
}

static bool not_nodeports_local(const struct plan_family *f, size_t i)
{
	return !plan_entry_in_map(&f->e[i], "nodeports-local");
}

static size_t n_ports(const struct plan_family *f)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n_e; i++)
		n += !not_port(f, i);
	return n;
}

static void el_port(struct out *o, const struct plan_family *f, size_t k)
{
	el_fmt_key(o->b, &f->e[k]);
}

static void el_dispatch(struct out *o, const struct plan_family *f, size_t k)
{
	el_fmt_dispatch(o->b, f, &f->e[k]);
}

static void el_npcidr(struct out *o, const struct plan_family *f, size_t i)
{
	el_fmt_cidr(o->b, &f->np_cidrs[i]);
}

static void el_fw(struct out *o, const struct plan_family *f, size_t i)
{
	el_fmt_key(o->b, &f->e[f->fw[i].e]);
}

static void declare(struct out *o, const char *what, const char *name,
		    const struct plan_family *f, const char *type, size_t n)
{
	o->omit = o->skeleton && el_direct_set(name);
	buf_printf(o->b, "\t%s %s%s {\n\t\t%s\n", what, name, f->sfx, type);
	if (n != (size_t)-1)
		buf_printf(o->b, "\t\tsize %zu\n", plan_set_size(n));
}

static void end(struct out *o)
{
	buf_puts(o->b, "\t}\n\n");
}

/* A verdict map of entries, keyed with or without the address. */
static void vmap(struct out *o, const struct plan_family *f, const char *name,
		 bool (*skip)(const struct plan_family *, size_t), bool addr)
{
	struct svcnft_buf t = {0};

	buf_printf(&t, "type %s%sinet_proto . inet_service : verdict",
		   addr ? f->addr_type : "", addr ? " . " : "");
	declare(o, "map", name, f, t.data, count_in(f, name));
	elements(o, f->n_e, f, el_dispatch, skip);
	end(o);
	svcnft_buf_free(&t);
}

/* Every source range of a firewalled load-balancer IP, in this family. */
static void fw_allow(struct out *o, const struct plan_family *f)
{
	bool first = true;

	buf_printf(o->b, "\tset firewall-allow%s {\n\t\ttype %s . inet_proto . inet_service . %s\n\t\tflags interval\n",
		   f->sfx, f->addr_type, f->addr_type);
	for (size_t i = 0; i < f->n_fw; i++)
		for (size_t r = 0; r < f->fw[i].n_ranges; r++) {
			if (f->fw[i].ranges[r].family != f->family)
				continue;
			buf_puts(o->b, first ? "\t\telements = {\n\t\t\t" : ",\n\t\t\t");
			el_fmt_fw(o->b, &f->e[f->fw[i].e], &f->fw[i].ranges[r]);
			first = false;
		}
	if (!first)
		buf_puts(o->b, "\n\t\t}\n");
	end(o);
}

/* An interval set of addresses or prefixes (declared without a size). */
static void cidr_set(struct out *o, const struct plan_family *f,
		     const char *name, size_t n,
		     void (*each)(struct out *, const struct plan_family *, size_t))
{
	struct svcnft_buf t = {0};

	buf_printf(&t, "type %s\n\t\tflags interval", f->addr_type);
	declare(o, "set", name, f, t.data, (size_t)-1);
	elements(o, n, f, each, NULL);
	end(o);
	svcnft_buf_free(&t);
}

static void np_addresses(struct out *o, const struct plan_family *f)
{
	cidr_set(o, f, "nodeport-addresses", f->n_np_cidrs, el_npcidr);
}

static void pod_cidrs(struct out *o, const struct plan_family *f)
{
	cidr_set(o, f, "pod-cidrs", f->n_pod_cidrs, el_podcidr);
}

static void svc_cidrs(struct out *o, const struct plan_family *f)
{
	cidr_set(o, f, "service-cidrs", f->n_svc_cidrs, el_svccidr);
}

static void sets(struct out *o, const struct plan_family *f)
{
	struct svcnft_buf t = {0};

	buf_printf(&t, "type %s", f->addr_type);
	declare(o, "set", "cluster-ips", f, t.data, f->n_vips);
	elements(o, f->n_vips, f, el_vip, NULL);
	end(o);
	t.len = 0;
	buf_printf(&t, "type %s . inet_proto . inet_service", f->addr_type);
	declare(o, "set", "service-ports", f, t.data, n_ports(f));
	elements(o, f->n_e, f, el_port, not_port);
	end(o);
	vmap(o, f, "service-ips", not_service_ips, true);
	vmap(o, f, "external-local", not_external_local, true);
	vmap(o, f, "nodeports", not_nodeports, false);
	vmap(o, f, "nodeports-local", not_nodeports_local, false);
	np_addresses(o, f);
	t.len = 0;
	buf_printf(&t, "type %s . inet_proto . inet_service", f->addr_type);
	declare(o, "set", "firewall", f, t.data, f->n_fw);
	elements(o, f->n_fw, f, el_fw, NULL);
	end(o);
	fw_allow(o, f);
	t.len = 0;
	buf_printf(&t, "type %s . %s", f->addr_type, f->addr_type);
	declare(o, "set", "hairpin", f, t.data, f->n_hairpin);
	elements(o, f->n_hairpin, f, el_hairpin, NULL);
	end(o);
	pod_cidrs(o, f);
	svc_cidrs(o, f);
	svcnft_buf_free(&t);
}

/* The typeof line of backend map NAME ("backends", "nodeport-backends"). */
static void backends_typeof(struct svcnft_buf *b, const struct plan_family *f,
			    const char *name)
{
	bool np = !strcmp(name, "nodeport-backends");

	buf_printf(b, "\tmap %s%s {\n\t\ttypeof %s%smeta l4proto . th dport . numgen random mod 1 : %s daddr . th dport\n",
		   name, f->sfx, np ? "" : f->kw, np ? "" : " daddr . ", f->kw);
}

static void backends(struct out *o, const struct plan_family *f,
		     const char *name, size_t count)
{
	size_t k = 0;

	backends_typeof(o->b, f, name);
	buf_printf(o->b, "\t\tsize %zu\n", plan_set_size(count));
	if (count && !o->skeleton)
		buf_puts(o->b, "\t\telements = {\n");
	for (size_t i = 0; i < f->n_e && !o->skeleton; i++) {
		if (strcmp(plan_views[f->e[i].view].backends, name))
			continue;
		for (size_t j = 0; j < f->e[i].n; j++) {
			buf_puts(o->b, "\t\t\t");
			el_fmt_backend(o->b, &f->e[i], j);
			buf_puts(o->b, ++k < count ? ",\n" : "\n");
			drain(o);
		}
	}
	if (count && !o->skeleton)
		buf_puts(o->b, "\t\t}\n");
	end(o);
}

/* Slot verdict map: affinity map A's, or (A NULL) view V's backend one;
 * its N elements "S : goto <slot chain S>" if WITH_ELEMENTS. */
static void slot_map(struct svcnft_buf *b, const struct plan_family *f,
		     const struct plan_aff *a, enum plan_view v, size_t n,
		     bool with_elements)
{
	char name[64];

	if (a)
		plan_slot_map(name, sizeof(name), f, a);
	else
		plan_backend_map(name, sizeof(name), f, v);
	buf_printf(b, "\tmap %s {\n\t\ttypeof numgen random mod 1 : verdict\n", name);
	for (size_t i = 0; with_elements && i < n; i++) {
		if (a)
			plan_chain_slot(name, sizeof(name), f, a, i);
		else
			plan_chain_backend(name, sizeof(name), f, v, i);
		buf_puts(b, i ? ",\n\t\t\t" : "\t\telements = {\n\t\t\t");
		el_fmt_slot(b, i, name);
		buf_puts(b, i + 1 < n ? "" : "\n\t\t}\n");
	}
	buf_puts(b, "\t}\n\n");
}

static void el_id(struct out *o, const struct plan_family *f, size_t k)
{
	el_fmt_id(o->b, &f->e[k]);
}

static bool no_id(const struct plan_family *f, size_t i)
{
	return !plan_entry_has_id(&f->e[i]) || plan_views[f->e[i].view].nodeport;
}

static bool no_nodeport_id(const struct plan_family *f, size_t i)
{
	return !plan_entry_has_id(&f->e[i]) || !plan_views[f->e[i].view].nodeport;
}

static size_t count_ids(const struct plan_family *f, bool nodeport)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n_e; i++)
		n += !(nodeport ? no_nodeport_id : no_id)(f, i);
	return n;
}

/* The service-port ids of the affinity keys. */
static void ids_map(struct out *o, const struct plan_family *f)
{
	struct svcnft_buf t = {0};

	buf_printf(&t, "type %s . inet_proto . inet_service : mark", f->addr_type);
	declare(o, "map", "affinity-ids", f, t.data, count_ids(f, false));
	elements(o, f->n_e, f, el_id, no_id);
	end(o);
	svcnft_buf_free(&t);
}

static void nodeport_ids_map(struct out *o, const struct plan_family *f)
{
	declare(o, "map", "nodeport-affinity-ids", f,
		"type inet_proto . inet_service : mark", count_ids(f, true));
	elements(o, f->n_e, f, el_id, no_nodeport_id);
	end(o);
}

/* The packets' own marks, saved while the ids use meta mark. */
static void marks_map(struct out *o, const struct plan_family *f)
{
	buf_printf(o->b, "\tmap affinity-marks%s {\n\t\ttypeof ct id : meta mark\n"
		   "\t\tsize %d\n\t\tflags dynamic,timeout\n\t}\n\n",
		   f->sfx, PLAN_AFFINITY_SIZE);
}

/* The clients' slots of protocol P. */
static void affinity_set(struct out *o, const struct plan_family *f,
			 enum proto p)
{
	char name[64];

	plan_affinity_set(name, sizeof(name), f, p);
	buf_printf(o->b, "\tset %s {\n\t\ttypeof %s saddr . meta mark . numgen random mod 1\n"
		   "\t\tsize %d\n\t\tflags dynamic,timeout\n\t}\n\n",
		   name, f->kw, PLAN_AFFINITY_SIZE);
}

/* One affinity set per protocol, and one slot verdict map per (protocol,
 * timeout) in use. */
static void affinity_sets(struct out *o, const struct plan_family *f)
{
	ids_map(o, f);
	nodeport_ids_map(o, f);
	marks_map(o, f);
	for (int p = 0; p < PLAN_N_PROTOS; p++)
		affinity_set(o, f, (enum proto)p);
	for (size_t t = 0; t < f->n_affs; t++)
		slot_map(o->b, f, &f->affs[t], 0, f->affs[t].slots, true);
	for (int v = 0; v < PLAN_N_VIEWS; v++)
		if (f->backend_slots[v])
			slot_map(o->b, f, NULL, (enum plan_view)v,
				 f->backend_slots[v], true);
}

/* The constant I inside a concatenation (nft 1.0.6 cannot type a bare
 * integer there; numgen with modulus 1 and an offset is that constant). */
static void slot_const(struct svcnft_buf *b, size_t i)
{
	buf_printf(b, "numgen inc mod 1 offset %zu", i);
}

/* client . service-port id (in meta mark) . slot. */
static void affinity_key(struct svcnft_buf *b, const struct plan_family *f,
			 size_t slot)
{
	buf_printf(b, "%s saddr . meta mark . ", f->kw);
	slot_const(b, slot);
}

/* "dnat ip to <key> map @<backends>" of view V, the slot from SLOT (a
 * numgen expression) written by the caller after the key's head. */
static void dnat_head(struct svcnft_buf *b, const struct plan_family *f,
		      enum plan_view v)
{
	buf_printf(b, "th dport != 0 dnat %s to ", f->kw);
	if (!plan_views[v].nodeport)
		buf_printf(b, "%s daddr . ", f->kw);
	buf_puts(b, "meta l4proto . th dport . ");
}

static void dnat_tail(struct svcnft_buf *b, const struct plan_family *f,
		      enum plan_view v)
{
	buf_printf(b, " map @%s%s\n", plan_views[v].backends, f->sfx);
}

/* Backend slot chain I of view V: DNAT to slot I of its backend map. */
static void backend_chain(struct svcnft_buf *b, const struct plan_family *f,
			  enum plan_view v, size_t i)
{
	char chain[64];

	plan_chain_backend(chain, sizeof(chain), f, v, i);
	buf_printf(b, "\tchain %s {\n\t\t", chain);
	dnat_head(b, f, v);
	slot_const(b, plan_views[v].offset + i);
	dnat_tail(b, f, v);
	buf_puts(b, "\t}\n\n");
}

/* Affinity slot chain I: refresh the client's entry, restore the mark,
 * DNAT through backend slot chain I. */
static void slot_chain(struct svcnft_buf *b, const struct plan_family *f,
		       const struct plan_aff *a, size_t i)
{
	char chain[64], set[64];

	plan_affinity_set(set, sizeof(set), f, a->proto);
	plan_chain_slot(chain, sizeof(chain), f, a, i);
	buf_printf(b, "\tchain %s {\n\t\tupdate @%s { ", chain, set);
	affinity_key(b, f, plan_views[a->view].offset + i);
	buf_printf(b, " timeout %us }\n\t\tmeta mark set ct id map @affinity-marks%s\n",
		   a->timeout, f->sfx);
	plan_chain_backend(chain, sizeof(chain), f, a->view, i);
	buf_printf(b, "\t\tgoto %s\n\t}\n\n", chain);
}

static void slot_chains(struct out *o, const struct plan_family *f)
{
	for (size_t t = 0; t < f->n_affs; t++)
		for (size_t i = 0; i < f->affs[t].slots; i++)
			slot_chain(o->b, f, &f->affs[t], i);
	for (int v = 0; v < PLAN_N_VIEWS; v++)
		for (size_t i = 0; i < f->backend_slots[v]; i++)
			backend_chain(o->b, f, (enum plan_view)v, i);
}

/* "numgen random mod N vmap @backend-slots4": a new lb chain binds this
 * small map, not the backend map. */
static void random_slot(struct svcnft_buf *b, const struct plan_family *f,
			const struct plan_group *g)
{
	char map[64];

	plan_backend_map(map, sizeof(map), f, plan_slot_view(g->view));
	buf_printf(b, "\t\tnumgen random mod %zu vmap @%s\n", g->n, map);
}

static void affinity_chain(struct svcnft_buf *b, const struct plan_family *f,
			   const struct plan_group *g)
{
	const struct plan_aff *a = plan_group_aff(f, g);
	char slot[64], set[64];

	plan_affinity_set(set, sizeof(set), f, g->proto);
	buf_printf(b, "\t\tupdate @affinity-marks%s { ct id timeout %ds : meta mark } meta mark set ",
		   f->sfx, PLAN_MARKS_TIMEOUT);
	if (!plan_views[g->view].nodeport)
		buf_printf(b, "%s daddr . ", f->kw);
	buf_printf(b, "meta l4proto . th dport map @%s%s\n",
		   plan_ids_map(g->view), f->sfx);
	for (size_t s = 0; s < g->n; s++) {
		plan_chain_slot(slot, sizeof(slot), f, a, s);
		buf_puts(b, "\t\t");
		affinity_key(b, f, plan_views[a->view].offset + s);
		buf_printf(b, " @%s goto %s\n", set, slot);
	}
	plan_slot_map(slot, sizeof(slot), f, a);
	buf_printf(b, "\t\tnumgen random mod %zu vmap @%s\n", g->n, slot);
}

static void lb_chain(struct svcnft_buf *b, const struct plan_family *f,
		     const struct plan_group *g)
{
	const struct plan_view_info *v = &plan_views[g->view];
	char chain[64];

	plan_chain_lb(chain, sizeof(chain), f, g);
	buf_printf(b, "\tchain %s {\n", chain);
	if (v->mark != MARK_NONE)
		buf_printf(b, "\t\t%s%s%s%smeta mark set meta mark | 0x%08x\n",
			   v->mark == MARK_NOT_POD ? f->kw : "",
			   v->mark == MARK_NOT_POD ? " saddr != @pod-cidrs" : "",
			   v->mark == MARK_NOT_POD ? f->sfx : "",
			   v->mark == MARK_NOT_POD ? " " : "", PLAN_MASQ_MARK);
	if (g->affinity)
		affinity_chain(b, f, g);
	else
		random_slot(b, f, g);
	buf_puts(b, "\t}\n\n");
}

/* One chain per (endpoint count, affinity timeout, protocol) in use. */
static void lb_chains(struct out *o, const struct plan_family *f)
{
	for (size_t i = 0; i < f->n_groups; i++)
		lb_chain(o->b, f, &f->groups[i]);
}

/* A dynamic object of family F named NAME, if F has it. */
static bool family_object(struct svcnft_buf *b, const struct plan_family *f,
			  const char *name)
{
	char s[64];

	for (size_t i = 0; i < f->n_groups; i++) {
		plan_chain_lb(s, sizeof(s), f, &f->groups[i]);
		if (!strcmp(s, name)) {
			lb_chain(b, f, &f->groups[i]);
			return true;
		}
	}
	for (size_t t = 0; t < f->n_affs; t++) {
		plan_slot_map(s, sizeof(s), f, &f->affs[t]);
		if (!strcmp(s, name)) {
			slot_map(b, f, &f->affs[t], 0, 0, false);
			return true;
		}
		for (size_t i = 0; i < f->affs[t].slots; i++) {
			plan_chain_slot(s, sizeof(s), f, &f->affs[t], i);
			if (!strcmp(s, name)) {
				slot_chain(b, f, &f->affs[t], i);
				return true;
			}
		}
	}
	for (int v = 0; v < PLAN_N_VIEWS; v++) {
		plan_backend_map(s, sizeof(s), f, (enum plan_view)v);
		if (f->backend_slots[v] && !strcmp(s, name)) {
			slot_map(b, f, NULL, (enum plan_view)v, 0, false);
			return true;
		}
		for (size_t i = 0; i < f->backend_slots[v]; i++) {
			plan_chain_backend(s, sizeof(s), f, (enum plan_view)v, i);
			if (!strcmp(s, name)) {
				backend_chain(b, f, (enum plan_view)v, i);
				return true;
			}
		}
	}
	return false;
}

bool render_nft_object(struct svcnft_buf *b, const struct plan *p,
		       const char *name)
{
	static const char *const maps[] = { "backends", "nodeport-backends" };

	for (int i = 0; i < 2; i++) {
		const struct plan_family *f = &p->fam[i];

		for (size_t k = 0; k < ARRAY_SIZE(maps); k++) {
			size_t n = strlen(maps[k]);

			if (!strncmp(name, maps[k], n) && !strcmp(name + n, f->sfx)) {
				backends_typeof(b, f, maps[k]);
				buf_puts(b, "\t}\n\n");
				return true;
			}
		}
	}
	return family_object(b, &p->fam[0], name) ||
	       family_object(b, &p->fam[1], name);
}

/* The table replaced: created if absent, deleted, opened. */
static void table_head(struct svcnft_buf *out, const char *table)
{
	buf_printf(out, "table inet %s {}\ndelete table inet %s\n\ntable inet %s {\n",
		   table, table, table);
}

/* Templates of updates (render_nft_template). */

/* The fixed sets and maps a dynamic object refers to, and the interval
 * sets (sent whole). */
static const struct {
	const char *base;
	void (*fn)(struct out *, const struct plan_family *);
} fixed_decls[] = {
	{ "pod-cidrs", pod_cidrs }, { "service-cidrs", svc_cidrs },
	{ "nodeport-addresses", np_addresses }, { "firewall-allow", fw_allow },
	{ "affinity-ids", ids_map }, { "nodeport-affinity-ids", nodeport_ids_map },
	{ "affinity-marks", marks_map },
};

static bool fixed_decl(struct out *o, const struct plan_family *f,
		       const char *name)
{
	char s[64];

	for (size_t i = 0; i < ARRAY_SIZE(fixed_decls); i++) {
		snprintf(s, sizeof(s), "%s%s", fixed_decls[i].base, f->sfx);
		if (!strcmp(s, name)) {
			fixed_decls[i].fn(o, f);
			return true;
		}
	}
	for (int p = 0; p < PLAN_N_PROTOS; p++) {
		plan_affinity_set(s, sizeof(s), f, (enum proto)p);
		if (!strcmp(s, name)) {
			affinity_set(o, f, (enum proto)p);
			return true;
		}
	}
	return false;
}

/* NAME declared once (DONE: the names so far, back to back): a chain
 * empty, a set or map as the skeleton declares it. */
static bool decl_once(struct out *o, struct svcnft_buf *done, const char *name)
{
	for (size_t i = 0; i < done->len; i += strlen(done->data + i) + 1)
		if (!strcmp(done->data + i, name))
			return true;
	buf_add(done, name, strlen(name) + 1);
	if (fixed_decl(o, &o->p->fam[0], name) || fixed_decl(o, &o->p->fam[1], name))
		return true;
	if (!el_dynamic_chain(name))
		return render_nft_object(o->b, o->p, name);
	buf_printf(o->b, "\tchain %s {\n\t}\n\n", name);
	return true;
}

/* Every set, map and chain that TEXT refers to ("@NAME", "goto NAME"). */
static bool decl_refs(struct out *o, struct svcnft_buf *done, const char *text)
{
	static const char name_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789-_";
	char name[64];

	for (const char *t = text; (t = strpbrk(t, "@g")); t++) {
		size_t m = *t == '@' ? 1 : !strncmp(t, "goto ", 5) ? 5 : 0;
		size_t n = strspn(t + m, name_chars);

		if (!m || !n)
			continue;
		if (n >= sizeof(name))
			return false;
		memcpy(name, t + m, n);
		name[n] = '\0';
		if (!decl_once(o, done, name))
			return false;
		t += m + n - 1;
	}
	return true;
}

bool render_nft_template(struct svcnft_buf *b, const struct plan *p,
			 const char *const *objs, size_t n_objs,
			 const char *const *whole, size_t n_whole)
{
	struct svcnft_buf body = {0}, done = {0};
	struct out o = { .b = b, .p = p, .table = p->cfg->table,
			 .skeleton = true };
	bool ok = true;

	for (size_t i = 0; ok && i < n_objs; i++) {
		ok = render_nft_object(&body, p, objs[i]);
		buf_add(&done, objs[i], strlen(objs[i]) + 1);
	}
	table_head(b, p->cfg->table);
	for (size_t i = 0; ok && i < n_whole; i++)
		ok = decl_once(&o, &done, whole[i]);
	if (ok && body.len)
		ok = decl_refs(&o, &done, body.data);
	if (body.len)
		buf_add(b, body.data, body.len);
	buf_puts(b, "}\n");
	svcnft_buf_free(&body);
	svcnft_buf_free(&done);
	return ok;
}

static void masquerade_chain(struct out *o, const struct plan_family *f)
{
	const char *m = "masquerade fully-random";

	buf_printf(o->b, "\tchain masquerade%s {\n", f->sfx);
	buf_printf(o->b, "\t\t%s saddr . %s daddr @hairpin%s %s comment \"hairpin\"\n",
		   f->kw, f->kw, f->sfx, m);
	if (o->p->cfg->masquerade_all)
		buf_printf(o->b, "\t\t%s comment \"masquerade-all\"\n", m);
	else if (f->n_pod_cidrs)
		buf_printf(o->b, "\t\t%s saddr != @pod-cidrs%s %s comment \"from outside the pod network\"\n",
			   f->kw, f->sfx, m);
	buf_puts(o->b, "\t}\n\n");
}

static void check_chain(struct out *o, const struct plan_family *f)
{
	buf_printf(o->b, "\tchain service-check%s {\n\t\t%s daddr . meta l4proto . th dport @service-ports%s return\n\t\tgoto reject-service\n\t}\n\n",
		   f->sfx, f->kw, f->sfx);
}

static void family(struct out *o, const struct plan_family *f)
{
	sets(o, f);
	backends(o, f, "backends", f->n_backends);
	backends(o, f, "nodeport-backends", f->n_np_backends);
	affinity_sets(o, f);
	lb_chains(o, f);
	slot_chains(o, f);
	masquerade_chain(o, f);
	check_chain(o, f);
}

/* Node ports: local addresses inside --nodeport-addresses, not loopback. */
#define NP4 "ip daddr != 127.0.0.0/8 ip daddr @nodeport-addresses4 fib daddr type local meta l4proto . th dport vmap @nodeports"
#define NP6 "ip6 daddr != ::1 ip6 daddr @nodeport-addresses6 fib daddr type local meta l4proto . th dport vmap @nodeports"
#define MASQ "masquerade fully-random"
/* A new connection to a service CIDR address that no dispatch map above
 * took: no service holds it (kube-proxy drops these too).  Here rather than
 * in the filter chains, which cannot look up verdict maps whose chains
 * NAT, so that external and load-balancer IPs inside a range still pass. */
#define UNALLOCATED(kw, sfx) kw " daddr @service-cidrs" sfx \
	" drop comment \"unallocated service address\""

static const char fixed_chains[] =
	"\tchain services {\n"
	"\t\tip daddr . meta l4proto . th dport vmap @service-ips4\n"
	"\t\tip6 daddr . meta l4proto . th dport vmap @service-ips6\n"
	"\t\t" NP4 "4\n"
	"\t\t" NP6 "6\n"
	"\t\t" UNALLOCATED("ip", "4") "\n"
	"\t\t" UNALLOCATED("ip6", "6") "\n"
	"\t}\n\n"
	"\tchain external-local {\n"
	"\t\tip saddr != @pod-cidrs4 ip daddr . meta l4proto . th dport vmap @external-local4\n"
	"\t\tip6 saddr != @pod-cidrs6 ip6 daddr . meta l4proto . th dport vmap @external-local6\n"
	"\t\tip saddr != @pod-cidrs4 " NP4 "-local4\n"
	"\t\tip6 saddr != @pod-cidrs6 " NP6 "-local6\n"
	"\t}\n\n"
	"\tchain reject-service {\n"
	"\t\tmeta l4proto tcp reject with tcp reset\n"
	"\t\treject\n"
	"\t}\n\n"
	"\tchain service-check {\n"
	"\t\tip daddr @cluster-ips4 goto service-check4\n"
	"\t\tip6 daddr @cluster-ips6 goto service-check6\n"
	"\t}\n\n"
	"\tchain firewall-check {\n"
	"\t\tip daddr . meta l4proto . th dport @firewall4 ip daddr . meta l4proto . th dport . ip saddr != @firewall-allow4 drop\n"
	"\t\tip6 daddr . meta l4proto . th dport @firewall6 ip6 daddr . meta l4proto . th dport . ip6 saddr != @firewall-allow6 drop\n"
	"\t}\n\n"
	"\tchain filter-prerouting {\n"
	"\t\ttype filter hook prerouting priority dstnat - 10; policy accept;\n"
	"\t\tct state new jump service-check\n"
	"\t\tjump firewall-check\n"
	"\t}\n\n"
	"\tchain filter-output {\n"
	"\t\ttype filter hook output priority -110; policy accept;\n"
	"\t\tct state new jump service-check\n"
	"\t\tjump firewall-check\n"
	"\t}\n\n"
	"\tchain nat-prerouting {\n"
	"\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
	"\t\tjump external-local\n"
	"\t\tjump services\n"
	"\t}\n\n"
	"\tchain nat-output {\n"
	"\t\ttype nat hook output priority -100; policy accept;\n"
	"\t\tjump services\n"
	"\t}\n\n"
	"\tchain masquerade-external {\n"
	"\t\tmeta mark set meta mark & 0xffffbfff\n"
	"\t\t" MASQ " comment \"external\"\n"
	"\t}\n\n"
	"\tchain nat-postrouting {\n"
	"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
	"\t\tct status dnat ct original ip daddr @cluster-ips4 jump masquerade4\n"
	"\t\tct status dnat ct original ip6 daddr @cluster-ips6 jump masquerade6\n"
	"\t\tmeta mark & 0x00004000 == 0x00004000 jump masquerade-external\n"
	"\t\tct status dnat ip saddr . ip daddr @hairpin4 " MASQ " comment \"hairpin\"\n"
	"\t\tct status dnat ip6 saddr . ip6 daddr @hairpin6 " MASQ " comment \"hairpin\"\n"
	"\t}\n";

static void render(struct out *o)
{
	const struct plan *p = o->p;
	const struct svcnft_config *cfg = p->cfg;
	struct svcnft_buf *out = o->b;
	struct svcnft_stats st;

	plan_stats(p, &st);
	buf_printf(out, "#!/usr/sbin/nft -f\n# Generated by svcnft (layout %d); do not edit.\n"
		   "# %zu service%s, %zu service port%s, %zu backend%s.\n",
		   SVCNFT_LAYOUT_VERSION, st.services, plural(st.services),
		   st.service_ports, plural(st.service_ports), st.backends,
		   plural(st.backends));
	table_head(out, cfg->table);
	buf_printf(out, "\tcomment \"svcnft layout %d\"\n\n", SVCNFT_LAYOUT_VERSION);
	family(o, &p->fam[0]);
	family(o, &p->fam[1]);
	buf_puts(out, fixed_chains);
	buf_puts(out, "}\n");
}

void render_nft_plan(struct svcnft_buf *out, const struct plan *p,
		     bool skeleton)
{
	struct out o = { .b = out, .p = p, .table = p->cfg->table,
			 .skeleton = skeleton };

	render(&o);
}

bool svcnft_render_nft_stream(const struct svcnft_model *m,
			      const struct svcnft_config *cfg,
			      bool (*sink)(void *arg, const char *data, size_t len),
			      void *arg)
{
	struct svcnft_buf b = {0};
	struct plan p;
	struct out o = { .b = &b, .p = &p, .table = cfg->table, .sink = sink,
			 .arg = arg };

	plan_build(&p, m, cfg);
	render(&o);
	plan_free(&p);
	if (!o.failed && b.len && !sink(arg, b.data, b.len))
		o.failed = true;
	svcnft_buf_free(&b);
	return !o.failed;
}

bool svcnft_render_nft(const struct svcnft_model *m,
		       const struct svcnft_config *cfg, struct svcnft_buf *out)
{
	struct plan p;

	plan_build(&p, m, cfg);
	render_nft_plan(out, &p, false);
	plan_free(&p);
	return true;
}

void plan_stats(const struct plan *p, struct svcnft_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->services = p->n_services;
	for (size_t i = 0; i < 2; i++) {
		for (size_t j = 0; j < p->fam[i].n_e; j++)
			st->service_ports += p->fam[i].e[j].view == VIEW_CLUSTER;
		st->backends += p->fam[i].n_backends + p->fam[i].n_np_backends;
		st->chains += p->fam[i].n_groups + 2;
		for (size_t t = 0; t < p->fam[i].n_affs; t++)
			st->chains += p->fam[i].affs[t].slots;
		for (int v = 0; v < PLAN_N_VIEWS; v++)
			st->chains += p->fam[i].backend_slots[v];
	}
	st->chains += 11;
}

void svcnft_model_stats(const struct svcnft_model *m,
			const struct svcnft_config *cfg,
			struct svcnft_stats *st)
{
	struct plan p;

	plan_build(&p, m, cfg);
	plan_stats(&p, st);
	plan_free(&p);
}
