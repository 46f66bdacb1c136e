/* lower: model -> plan (service ports, backends, shared chain groups). */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lower.h"
#include "endpoints.h"
#include "util.h"

#define DEFAULT_AFFINITY_TIMEOUT 10800

static int ip_cmp(const void *a, const void *b)
{
	return ipaddr_cmp(a, b);
}

static size_t uniq_ips(struct ipaddr *v, size_t n)
{
	size_t w = 0;

	if (n)
		qsort(v, n, sizeof(*v), ip_cmp);
	for (size_t i = 0; i < n; i++)
		if (!w || ipaddr_cmp(&v[w - 1], &v[i]))
			v[w++] = v[i];
	return w;
}

const struct plan_view_info plan_views[PLAN_N_VIEWS] = {
	[VIEW_CLUSTER] = { "", "", "service-ips", "backends", 0, MARK_NONE, false },
	[VIEW_EXTERNAL] = { "external-", "", "service-ips", "backends", 0,
			    MARK_ALL, false },
	[VIEW_EXTERNAL_SHORTCUT] = { "shortcut-", "", "service-ips", "backends",
				     0, MARK_NOT_POD, false },
	[VIEW_EXTERNAL_LOCAL] = { "local-", "local-", "external-local", "backends",
				  PLAN_LOCAL_SLOTS, MARK_NONE, false },
	[VIEW_NODEPORT] = { "nodeport-", "nodeport-", "nodeports",
			    "nodeport-backends", 0, MARK_ALL, true },
	[VIEW_NODEPORT_SHORTCUT] = { "nodeport-shortcut-", "nodeport-",
				     "nodeports", "nodeport-backends", 0,
				     MARK_NOT_POD, true },
	[VIEW_NODEPORT_LOCAL] = { "nodeport-local-", "nodeport-local-",
				  "nodeports-local", "nodeport-backends",
				  PLAN_LOCAL_SLOTS, MARK_NONE, true },
};

static int group_cmp(const void *a, const void *b)
{
	const struct plan_group *x = a, *y = b;

	if (x->view != y->view)
		return x->view < y->view ? -1 : 1;
	if (x->affinity != y->affinity)
		return x->affinity < y->affinity ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return x->n < y->n ? -1 : x->n > y->n;
}

static int aff_cmp(const void *a, const void *b)
{
	const struct plan_aff *x = a, *y = b;

	if (x->view != y->view)
		return x->view < y->view ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return x->timeout < y->timeout ? -1 : x->timeout > y->timeout;
}

static void add_group(struct plan_family *f, const struct plan_group *g)
{
	for (size_t i = 0; i < f->n_groups; i++)
		if (!group_cmp(&f->groups[i], g))
			return;
	f->groups = grow(f->groups, &f->cap_groups, f->n_groups, sizeof(*f->groups));
	f->groups[f->n_groups++] = *g;
}

/* Views with the same backend map and offset share slot chains. */
enum plan_view plan_slot_view(enum plan_view v)
{
	if (v == VIEW_EXTERNAL || v == VIEW_EXTERNAL_SHORTCUT)
		return VIEW_CLUSTER;
	return v == VIEW_NODEPORT_SHORTCUT ? VIEW_NODEPORT : v;
}

static void add_aff(struct plan_family *f, const struct plan_group *g)
{
	struct plan_aff a = { .view = plan_slot_view(g->view), .proto = g->proto,
			      .timeout = g->affinity };
	size_t i;

	for (i = 0; i < f->n_affs && aff_cmp(&f->affs[i], &a); i++)
		;
	if (i == f->n_affs) {
		f->affs = grow(f->affs, &f->cap_affs, f->n_affs, sizeof(*f->affs));
		f->affs[f->n_affs++] = a;
	}
	if (g->n > f->affs[i].slots)
		f->affs[i].slots = g->n;
}

/* A local pod may reach itself through the service: masquerade it. */
static void add_hairpin(struct plan_family *f, const struct svcnft_config *cfg,
			const struct backend *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (cfg->node_name && b[i].node && strcmp(b[i].node, cfg->node_name))
			continue;	/* a remote pod never hairpins here */
		f->hairpin = grow(f->hairpin, &f->cap_hairpin, f->n_hairpin,
				  sizeof(*f->hairpin));
		f->hairpin[f->n_hairpin++] = b[i].ip;
	}
}

/* The backends of one service port in one family: every usable endpoint,
 * and (with --node-name) this node's. */
struct port_backends {
	struct backend *all, *local;
	size_t n_all, n_local;
};

static void add_entry(struct plan_family *f, const struct svc *s,
		      const struct svc_port *sp, enum plan_view view,
		      const struct ipaddr *vip, const struct port_backends *pb,
		      bool local)
{
	struct plan_entry *e;
	struct plan_group g;

	f->e = grow(f->e, &f->cap_e, f->n_e, sizeof(*f->e));
	e = &f->e[f->n_e++];
	memset(e, 0, sizeof(*e));
	e->view = view;
	if (vip)
		e->vip = *vip;
	e->proto = sp->proto;
	e->port = (uint16_t)(plan_views[view].nodeport ? sp->node_port.v : sp->port.v);
	e->svc = s;
	e->sp = sp;
	if (s->affinity)
		e->affinity = s->aff_timeout.set ? (uint32_t)s->aff_timeout.v
						 : DEFAULT_AFFINITY_TIMEOUT;
	e->aff_local = local && !plan_views[view].offset;
	e->n = local ? pb->n_local : pb->n_all;
	e->reject = !pb->n_all;
	if (e->n) {
		e->backends = xcalloc(e->n, sizeof(*e->backends));
		memcpy(e->backends, local ? pb->local : pb->all,
		       e->n * sizeof(*e->backends));
	}
	if (plan_views[view].nodeport)
		f->n_np_backends += e->n;
	else
		f->n_backends += e->n;
	if (!e->n)
		return;
	g = plan_entry_group(e);
	add_group(f, &g);
	if (e->n > f->backend_slots[plan_slot_view(view)])
		f->backend_slots[plan_slot_view(view)] = e->n;
	if (e->affinity)
		add_aff(f, &g);
}

/* Whether IP is one of S's load-balancer IPs (it may be listed as an
 * external IP too, and that copy is the one kept). */
static bool lb_address(const struct svc *s, const struct ipaddr *ip)
{
	for (size_t i = 0; i < s->n_ext; i++)
		if (s->ext[i].lb && !s->ext[i].proxy && !ipaddr_cmp(&s->ext[i].ip, ip))
			return true;
	return false;
}

/* Source ranges filter a family only when some are of that family (as in
 * kube-proxy). */
static bool has_range(const struct svc *s, int family)
{
	for (size_t i = 0; i < s->n_ranges; i++)
		if (s->ranges[i].family == family)
			return true;
	return false;
}

/* The last entry is a load-balancer IP whose sources S restricts. */
static void add_fw(struct plan_family *f, const struct svc *s)
{
	f->fw = grow(f->fw, &f->cap_fw, f->n_fw, sizeof(*f->fw));
	f->fw[f->n_fw++] = (struct plan_fw){ f->n_e - 1, s->ranges, s->n_ranges };
}

/* Every view of service port SP in family F. */
static void add_port(struct plan_family *f, const struct svcnft_model *m,
		     const struct svcnft_config *cfg, const struct svc *s,
		     const struct svc_port *sp)
{
	struct port_backends pb = {0};
	const char *node = cfg->node_name;
	bool etp = s->etp_local && node, itp = s->itp_local && node;
	struct topology t = { node, cfg->node_zone };

	/* topology narrows the Cluster-policy list only (kube-proxy) */
	pb.n_all = model_cluster_backends(m, s, sp, f->family, &t, &pb.all);
	if (node && (s->etp_local || s->itp_local))
		pb.n_local = model_backends(m, s, sp, f->family, node, &pb.local);
	add_hairpin(f, cfg, pb.all, pb.n_all);
	add_hairpin(f, cfg, pb.local, pb.n_local);
	for (size_t v = 0; v < s->n_vip; v++)
		if (s->vip[v].family == f->family)
			add_entry(f, s, sp, VIEW_CLUSTER, &s->vip[v], &pb, itp);
	for (size_t i = 0; i < s->n_ext; i++) {
		const struct ext_addr *x = &s->ext[i];

		if ((x->ignored && x->ignored[sp - s->ports]) || x->proxy || x->ip.family != f->family)
			continue;
		add_entry(f, s, sp, etp ? VIEW_EXTERNAL_SHORTCUT : VIEW_EXTERNAL,
			  &x->ip, &pb, false);
		if (lb_address(s, &x->ip) && has_range(s, f->family))
			add_fw(f, s);
		if (etp)
			add_entry(f, s, sp, VIEW_EXTERNAL_LOCAL, &x->ip, &pb, true);
	}
	if (sp->node_port.v > 0 && (s->type == SVC_NODE_PORT ||
				    s->type == SVC_LOAD_BALANCER)) {
		add_entry(f, s, sp, etp ? VIEW_NODEPORT_SHORTCUT : VIEW_NODEPORT,
			  NULL, &pb, false);
		if (etp)
			add_entry(f, s, sp, VIEW_NODEPORT_LOCAL, NULL, &pb, true);
	}
	free(pb.all);
	free(pb.local);
}

static void add_service(struct plan *p, const struct svcnft_model *m,
			const struct svc *s)
{
	if (!svc_has_rules(s))
		return;
	p->n_services++;
	for (int i = 0; i < 2; i++) {
		struct plan_family *f = &p->fam[i];

		if (!svc_has_family(s, f->family))
			continue;
		for (size_t v = 0; v < s->n_vip; v++) {
			if (s->vip[v].family != f->family)
				continue;
			f->vips = grow(f->vips, &f->cap_vips, f->n_vips, sizeof(*f->vips));
			f->vips[f->n_vips++] = s->vip[v];
		}
		for (size_t j = 0; j < s->n_ports; j++)
			add_port(f, m, p->cfg, s, &s->ports[j]);
	}
}

/* Affinity ids: a hash of the service port's name (stable across applies,
 * so that live affinity entries keep their meaning), made unique within
 * the family by probing; only a colliding port's id depends on order. */
struct id_slot {
	const struct svc_port *sp;	/* NULL: free */
	bool local;
	uint32_t id;
};

static uint32_t fnv1a(uint32_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

static uint32_t port_hash(const struct plan_entry *e)
{
	const char *parts[] = { e->svc->ns, e->svc->name, e->sp->name,
				proto_name(e->proto), e->aff_local ? "local" : "" };
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
		h = fnv1a(h, parts[i], strlen(parts[i]) + 1);
	return h;
}

/* The table's slot for ID: the one holding it, or the free one to take. */
static struct id_slot *id_find(struct id_slot *t, size_t mask, uint32_t id)
{
	size_t i = (id * 2654435761u) & mask;

	while (t[i].sp && t[i].id != id)
		i = (i + 1) & mask;
	return &t[i];
}

static void assign_ids(struct plan_family *f)
{
	size_t size = 16, mask;

	while (size < 2 * f->n_e)	/* ids do not depend on the size */
		size *= 2;
	mask = size - 1;
	struct id_slot *t = xcalloc(size, sizeof(*t));

	for (size_t i = 0; i < f->n_e; i++) {
		struct plan_entry *e = &f->e[i];
		uint32_t id = port_hash(e);
		struct id_slot *s;

		if (!e->affinity)
			continue;
		while ((s = id_find(t, mask, id))->sp &&
		       (s->sp != e->sp || s->local != e->aff_local))
			id++;
		*s = (struct id_slot){ e->sp, e->aff_local, id };
		e->aff_id = id;
	}
	free(t);
}

static void family_init(struct plan_family *f, int family,
			const struct svcnft_config *cfg,
			const struct svcnft_cidr *svc_cidrs, size_t n_svc_cidrs)
{
	memset(f, 0, sizeof(*f));
	f->family = family;
	f->sfx = family == AF_INET ? "4" : "6";
	f->kw = family == AF_INET ? "ip" : "ip6";
	f->addr_type = family == AF_INET ? "ipv4_addr" : "ipv6_addr";
	f->pod_cidrs = xcalloc(cfg->n_cluster_cidrs, sizeof(*f->pod_cidrs));
	for (size_t i = 0; i < cfg->n_cluster_cidrs; i++)
		if (cfg->cluster_cidrs[i].family == family)
			f->pod_cidrs[f->n_pod_cidrs++] = cfg->cluster_cidrs[i];
	f->np_cidrs = xcalloc(cfg->n_nodeport_cidrs + 1, sizeof(*f->np_cidrs));
	for (size_t i = 0; i < cfg->n_nodeport_cidrs; i++)
		if (cfg->nodeport_cidrs[i].family == family)
			f->np_cidrs[f->n_np_cidrs++] = cfg->nodeport_cidrs[i];
	if (!cfg->n_nodeport_cidrs)	/* every address; loopback is a rule */
		f->np_cidrs[f->n_np_cidrs++] = (struct svcnft_cidr){ .family = family };
	f->svc_cidrs = xcalloc(n_svc_cidrs + 1, sizeof(*f->svc_cidrs));
	for (size_t i = 0; i < n_svc_cidrs; i++)
		if (svc_cidrs[i].family == family)
			f->svc_cidrs[f->n_svc_cidrs++] = svc_cidrs[i];
}

void plan_build(struct plan *p, const struct svcnft_model *m,
		const struct svcnft_config *cfg)
{
	struct svcnft_cidr *sc;
	size_t n_sc = model_service_cidrs(m, cfg, &sc);

	p->cfg = cfg;
	p->n_services = 0;
	family_init(&p->fam[0], AF_INET, cfg, sc, n_sc);
	family_init(&p->fam[1], AF_INET6, cfg, sc, n_sc);
	free(sc);
	for (size_t i = 0; i < m->n_svcs; i++)
		add_service(p, m, &m->svcs[i]);
	for (size_t i = 0; i < 2; i++) {
		struct plan_family *f = &p->fam[i];

		f->n_vips = uniq_ips(f->vips, f->n_vips);
		f->n_hairpin = uniq_ips(f->hairpin, f->n_hairpin);
		assign_ids(f);
		if (f->n_groups)
			qsort(f->groups, f->n_groups, sizeof(*f->groups), group_cmp);
		if (f->n_affs)
			qsort(f->affs, f->n_affs, sizeof(*f->affs), aff_cmp);
	}
}

void plan_free(struct plan *p)
{
	for (size_t i = 0; i < 2; i++) {
		struct plan_family *f = &p->fam[i];

		for (size_t j = 0; j < f->n_e; j++)
			free(f->e[j].backends);
		free(f->e);
		free(f->vips);
		free(f->hairpin);
		free(f->groups);
		free(f->affs);
		free(f->pod_cidrs);
		free(f->np_cidrs);
		free(f->svc_cidrs);
		free(f->fw);
	}
	memset(p, 0, sizeof(*p));
}

void plan_chain_lb(char *buf, size_t len, const struct plan_family *f,
		   const struct plan_group *g)
{
	const char *pfx = plan_views[g->view].prefix;

	if (g->affinity)
		snprintf(buf, len, "%saffinity%s-%s-%zu-%u", pfx, f->sfx,
			 proto_name(g->proto), g->n, g->affinity);
	else
		snprintf(buf, len, "%sendpoints%s-%zu", pfx, f->sfx, g->n);
}

void plan_chain_slot(char *buf, size_t len, const struct plan_family *f,
		     const struct plan_aff *a, size_t slot)
{
	snprintf(buf, len, "%saffinity%s-%s-slot-%zu-%u",
		 plan_views[a->view].slots, f->sfx, proto_name(a->proto), slot,
		 a->timeout);
}

void plan_chain_backend(char *buf, size_t len, const struct plan_family *f,
			enum plan_view v, size_t slot)
{
	snprintf(buf, len, "%sbackend%s-slot-%zu", plan_views[v].slots, f->sfx,
		 slot);
}

void plan_backend_map(char *buf, size_t len, const struct plan_family *f,
		      enum plan_view v)
{
	snprintf(buf, len, "%sbackend-slots%s", plan_views[v].slots, f->sfx);
}

void plan_affinity_set(char *buf, size_t len, const struct plan_family *f,
		       enum proto p)
{
	snprintf(buf, len, "affinity%s-%s", f->sfx, proto_name(p));
}

const char *plan_ids_map(enum plan_view v)
{
	return plan_views[v].nodeport ? "nodeport-affinity-ids" : "affinity-ids";
}

bool plan_entry_has_id(const struct plan_entry *e)
{
	return e->affinity && e->n && !plan_views[e->view].offset;
}

void plan_slot_map(char *buf, size_t len, const struct plan_family *f,
		   const struct plan_aff *a)
{
	snprintf(buf, len, "%saffinity-slots%s-%s-%u", plan_views[a->view].slots,
		 f->sfx, proto_name(a->proto), a->timeout);
}

const struct plan_aff *plan_group_aff(const struct plan_family *f,
				      const struct plan_group *g)
{
	for (size_t i = 0; i < f->n_affs; i++)
		if (f->affs[i].view == plan_slot_view(g->view) &&
		    f->affs[i].proto == g->proto && f->affs[i].timeout == g->affinity)
			return &f->affs[i];
	return NULL;
}

size_t plan_set_size(size_t n)
{
	size_t s = 1024;

	while (s < 2 * n)
		s *= 2;
	return s;
}

void plan_entry_comment(struct svcnft_buf *b, const struct plan_entry *e)
{
	struct svcnft_buf c = {0};

	buf_printf(&c, "%s/%s%s%s", e->svc->ns, e->svc->name,
		   *e->sp->name ? ":" : "", e->sp->name);
	buf_nft_safe(b, c.data, PLAN_COMMENT_MAX);
	svcnft_buf_free(&c);
}

struct plan_group plan_entry_group(const struct plan_entry *e)
{
	return (struct plan_group){ .view = e->view, .n = e->n,
				    .affinity = e->affinity,
				    .proto = e->affinity ? e->proto : PROTO_TCP };
}

bool plan_entry_dispatched(const struct plan_entry *e)
{
	return e->view != VIEW_CLUSTER || !e->reject;
}

bool plan_entry_in_map(const struct plan_entry *e, const char *map)
{
	return !strcmp(plan_views[e->view].map, map) && plan_entry_dispatched(e);
}

bool plan_entry_is_port(const struct plan_entry *e)
{
	return e->view == VIEW_CLUSTER && plan_entry_dispatched(e);
}

/* Whether a cluster IP port of S (a VIEW_CLUSTER entry of plan_build)
 * has a backend. */
static bool svc_has_backend(const struct svcnft_model *m,
			    const struct svcnft_config *cfg, const struct svc *s)
{
	static const int fams[] = { AF_INET, AF_INET6 };
	struct topology t = { cfg->node_name, cfg->node_zone };
	struct backend *b;
	size_t n;

	for (size_t f = 0; f < ARRAY_SIZE(fams); f++)
		for (size_t j = 0; j < s->n_ports && svc_has_family(s, fams[f]); j++) {
			n = model_cluster_backends(m, s, &s->ports[j], fams[f], &t, &b);
			free(b);
			if (n)
				return true;
		}
	return false;
}

/* Services with cluster IP rules but no backend for any port (without a
 * plan: the first port with a backend settles a service). */
void svcnft_model_warn_no_endpoints(const struct svcnft_model *m,
				    const struct svcnft_config *cfg,
				    struct svcnft_errors *errs)
{
	struct svcnft_buf names = {0}, id = {0};
	size_t n = 0;

	for (size_t i = 0; i < m->n_svcs; i++) {
		const struct svc *s = &m->svcs[i];

		if (!svc_has_rules(s) || !s->n_ports || svc_has_backend(m, cfg, s) ||
		    ++n > 5)
			continue;
		svcnft_buf_free(&id);
		buf_printf(&id, "%s/%s", s->ns, s->name);
		buf_puts(&names, n > 1 ? ", " : "");
		buf_go_quoted(&names, id.data);
	}
	if (n > 5)
		buf_printf(&names, " and %zu more", n - 5);
	if (n)
		errs_add(errs, SVCNFT_OK, "svcnft: warning: %zu service%s no endpoints, so every connection to %s is rejected: %s",
			 n, n == 1 ? " has" : "s have", n == 1 ? "it" : "them", names.data);
	svcnft_buf_free(&names);
	svcnft_buf_free(&id);
}
