/* lower: model -> plan (service ports, backends, shared chain groups). */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "plan.h"
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

static int group_cmp(const void *a, const void *b)
{
	const struct plan_group *x = a, *y = b;

	if (x->affinity != y->affinity)
		return x->affinity < y->affinity ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return x->n < y->n ? -1 : x->n > y->n;
}

static int aff_cmp(const void *a, const void *b)
{
	const struct plan_aff *x = a, *y = b;

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

static void add_aff(struct plan_family *f, const struct plan_group *g)
{
	struct plan_aff a = { .proto = g->proto, .timeout = g->affinity };
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

static void add_entry(struct plan_family *f, const struct svcnft_model *m,
		      const struct svcnft_config *cfg, const struct svc *s,
		      const struct svc_port *sp, const struct ipaddr *vip)
{
	struct plan_entry *e;
	struct plan_group g;

	f->e = grow(f->e, &f->cap_e, f->n_e, sizeof(*f->e));
	e = &f->e[f->n_e++];
	memset(e, 0, sizeof(*e));
	e->vip = *vip;
	e->proto = sp->proto;
	e->port = (uint16_t)sp->port.v;
	e->svc = s;
	e->sp = sp;
	if (s->affinity)
		e->affinity = s->aff_timeout.set ? (uint32_t)s->aff_timeout.v
						 : DEFAULT_AFFINITY_TIMEOUT;
	e->n = model_backends(m, s, sp, f->family, &e->backends);
	f->n_backends += e->n;
	for (size_t i = 0; i < e->n; i++) {
		const char *node = e->backends[i].node;

		if (cfg->node_name && node && strcmp(node, cfg->node_name))
			continue;	/* a remote pod never hairpins here */
		f->hairpin = grow(f->hairpin, &f->cap_hairpin, f->n_hairpin,
				  sizeof(*f->hairpin));
		f->hairpin[f->n_hairpin++] = e->backends[i].ip;
	}
	if (!e->n)
		return;
	g = plan_entry_group(e);
	add_group(f, &g);
	if (e->affinity)
		add_aff(f, &g);
}

static void add_service(struct plan *p, const struct svcnft_model *m,
			const struct svc *s)
{
	if (s->invalid || s->headless || s->type == SVC_EXTERNAL_NAME || !s->n_vip)
		return;
	p->n_services++;
	for (size_t v = 0; v < s->n_vip; v++) {
		struct plan_family *f = &p->fam[s->vip[v].family == AF_INET6];

		f->vips = grow(f->vips, &f->cap_vips, f->n_vips, sizeof(*f->vips));
		f->vips[f->n_vips++] = s->vip[v];
		for (size_t i = 0; i < s->n_ports; i++)
			add_entry(f, m, p->cfg, s, &s->ports[i], &s->vip[v]);
	}
}

static void family_init(struct plan_family *f, int family,
			const struct svcnft_config *cfg)
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
}

void plan_build(struct plan *p, const struct svcnft_model *m,
		const struct svcnft_config *cfg)
{
	p->cfg = cfg;
	p->n_services = 0;
	family_init(&p->fam[0], AF_INET, cfg);
	family_init(&p->fam[1], AF_INET6, cfg);
	for (size_t i = 0; i < m->n_svcs; i++)
		add_service(p, m, &m->svcs[i]);
	for (size_t i = 0; i < 2; i++) {
		struct plan_family *f = &p->fam[i];

		f->n_vips = uniq_ips(f->vips, f->n_vips);
		f->n_hairpin = uniq_ips(f->hairpin, f->n_hairpin);
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
	}
	memset(p, 0, sizeof(*p));
}

void plan_chain_lb(char *buf, size_t len, const struct plan_family *f,
		   const struct plan_group *g)
{
	if (g->affinity)
		snprintf(buf, len, "affinity%s-%s-%zu-%u", f->sfx,
			 proto_name(g->proto), g->n, g->affinity);
	else
		snprintf(buf, len, "endpoints%s-%zu", f->sfx, g->n);
}

void plan_chain_slot(char *buf, size_t len, const struct plan_family *f,
		     const struct plan_aff *a, size_t slot)
{
	snprintf(buf, len, "affinity%s-%s-slot-%zu-%u", f->sfx,
		 proto_name(a->proto), slot, a->timeout);
}

void plan_affinity_set(char *buf, size_t len, const struct plan_family *f,
		       enum proto p)
{
	snprintf(buf, len, "affinity%s-%s", f->sfx, proto_name(p));
}

void plan_slot_map(char *buf, size_t len, const struct plan_family *f,
		   const struct plan_aff *a)
{
	snprintf(buf, len, "affinity-slots%s-%s-%u", f->sfx,
		 proto_name(a->proto), a->timeout);
}

const struct plan_aff *plan_group_aff(const struct plan_family *f,
				      const struct plan_group *g)
{
	for (size_t i = 0; i < f->n_affs; i++)
		if (f->affs[i].proto == g->proto && f->affs[i].timeout == g->affinity)
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
	return (struct plan_group){ .n = e->n, .affinity = e->affinity,
				    .proto = e->affinity ? e->proto : PROTO_TCP };
}
