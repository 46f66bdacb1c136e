/* endpoints: which endpoints receive a service port's traffic.
 *
 * EndpointSlices of a service are used when the input has any; otherwise its
 * Endpoints object.  A service port takes the endpoint port with the same
 * name and protocol; the DNAT port is that endpoint port.  Ready endpoints
 * are used; with none ready, those serving and terminating.  The same
 * IP:port seen twice collapses, the non-terminating copy winning.  For a
 * Local traffic policy the same choice is made among this node's endpoints
 * alone (kube-proxy decides the fallback separately for local traffic).
 *
 * Topology (kube-proxy's pkg/proxy/topology.go): cluster traffic uses the
 * slices' hints only when every ready endpoint has a hint of that kind and
 * one names this node (forNodes) or its zone (forZones), nodes first; the
 * ready endpoints hinted for here are then used.  Otherwise every endpoint
 * is.  trafficDistribution and the topology-mode annotation are not read:
 * the EndpointSlice controller turns them into hints. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "endpoints.h"
#include "util.h"

struct cand {
	struct backend b;
	bool ready, serving, terminating;
	const struct endpoint *ep;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int c = ipaddr_cmp(&x->b.ip, &y->b.ip);

	if (c)
		return c;
	if (x->b.port != y->b.port)
		return x->b.port < y->b.port ? -1 : 1;
	if (x->terminating != y->terminating)
		return x->terminating ? 1 : -1;
	return (int)y->ready - (int)x->ready;
}

/* Index of the first source of NS/NAME, or m->n_eps. */
static size_t first_source(const struct svcnft_model *m, const char *ns,
			   const char *name)
{
	size_t lo = 0, hi = m->n_eps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(m->eps[mid].ns, ns);

		if (!c)
			c = strcmp(m->eps[mid].service, name);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool source_matches(const struct ep_source *e, const struct svc *s)
{
	return !strcmp(e->ns, s->ns) && !strcmp(e->service, s->name);
}

static bool family_ok(const struct ep_source *e, int family)
{
	if (e->kind == EP_ENDPOINTS || !e->address_type)
		return true;
	return !strcmp(e->address_type, family == AF_INET ? "IPv4" : "IPv6");
}

static const struct ep_port *group_port(const struct ep_group *g,
					const struct svc_port *p)
{
	for (size_t i = 0; i < g->n_ports; i++)
		if (!strcmp(g->ports[i].name, p->name) &&
		    g->ports[i].proto == p->proto && g->ports[i].port.set &&
		    !g->ports[i].port.bad_type)
			return &g->ports[i];
	return NULL;
}

static void collect_group(const struct ep_group *g, const struct svc *s,
			  const struct svc_port *p, int family,
			  struct cand **v, size_t *n, size_t *cap)
{
	const struct ep_port *ep = group_port(g, p);

	if (!ep)
		return;
	for (size_t i = 0; i < g->n_eps; i++) {
		const struct endpoint *e = &g->eps[i];
		struct cand *c;

		if (e->ip.family != family)
			continue;
		*v = grow(*v, cap, *n, sizeof(**v));
		c = &(*v)[(*n)++];
		c->b.ip = e->ip;
		c->b.port = (uint16_t)ep->port.v;
		c->b.node = e->node_name;
		c->ready = e->ready || s->publish_not_ready;
		c->serving = e->serving || s->publish_not_ready;
		c->terminating = e->terminating;
		c->ep = e;
	}
}

/* Keep the first of each IP:port run (the best, by cand_cmp). */
static size_t collapse(struct cand *v, size_t n)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++)
		if (!w || ipaddr_cmp(&v[w - 1].b.ip, &v[i].b.ip) ||
		    v[w - 1].b.port != v[i].b.port)
			v[w++] = v[i];
	return w;
}

static size_t select_usable(const struct cand *v, size_t n,
			    struct backend **out)
{
	size_t nready = 0, k = 0;

	for (size_t i = 0; i < n; i++)
		nready += v[i].ready;
	*out = xcalloc(n, sizeof(**out));
	for (size_t i = 0; i < n; i++)
		if (nready ? v[i].ready : (v[i].serving && v[i].terminating))
			(*out)[k++] = v[i].b;
	return k;
}

/* Drop the candidates not on NODE. */
static size_t on_node(struct cand *v, size_t n, const char *node)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i].b.node && !strcmp(v[i].b.node, node))
			v[w++] = v[i];
	return w;
}

/* The collapsed candidates of port P of S in FAMILY, sorted; count in *N. */
static struct cand *candidates(const struct svcnft_model *m, const struct svc *s,
			       const struct svc_port *p, int family, size_t *n)
{
	struct cand *v = NULL;
	size_t cap = 0, first;
	bool slices = false;

	*n = 0;
	first = first_source(m, s->ns, s->name);
	for (size_t i = first; i < m->n_eps && source_matches(&m->eps[i], s); i++)
		slices |= m->eps[i].kind == EP_SLICE;
	for (size_t i = first; i < m->n_eps && source_matches(&m->eps[i], s); i++) {
		const struct ep_source *e = &m->eps[i];

		if (e->invalid || (e->kind == EP_SLICE) != slices ||
		    !family_ok(e, family))
			continue;
		for (size_t g = 0; g < e->n_groups; g++)
			collect_group(&e->groups[g], s, p, family, &v, n, &cap);
	}
	if (*n)
		qsort(v, *n, sizeof(*v), cand_cmp);
	*n = collapse(v, *n);
	return v;
}

size_t model_backends(const struct svcnft_model *m, const struct svc *s,
		      const struct svc_port *p, int family, const char *node,
		      struct backend **out)
{
	size_t n, k;
	struct cand *v = candidates(m, s, p, family, &n);

	if (node)
		n = on_node(v, n, node);
	k = select_usable(v, n, out);
	free(v);
	return k;
}

size_t model_ready_backends(const struct svcnft_model *m, const struct svc *s,
			    const struct svc_port *p, int family, const char *node,
			    struct backend **out)
{
	size_t n, k = 0;
	struct cand *v = candidates(m, s, p, family, &n);

	n = on_node(v, n, node);
	*out = xcalloc(n + 1, sizeof(**out));
	for (size_t i = 0; i < n; i++)
		if (v[i].ready)
			(*out)[k++] = v[i].b;
	free(v);
	return k;
}

static bool has_name(char *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], name))
			return true;
	return false;
}

enum topo_mode { TOPO_NONE, TOPO_NODE, TOPO_ZONE };

/* kube-proxy's topologyModeFromHints, among the ready candidates. */
static enum topo_mode topology_mode(const struct cand *v, size_t n,
				    const char *node, const char *zone)
{
	bool any = false, all_node = true, for_node = false;
	bool all_zone = true, for_zone = false;

	for (size_t i = 0; i < n; i++) {
		const struct endpoint *e = v[i].ep;

		if (!v[i].ready)
			continue;
		any = true;
		all_node &= e->n_node_hints > 0;
		for_node |= has_name(e->node_hints, e->n_node_hints, node);
		all_zone &= e->n_zone_hints > 0;
		for_zone |= has_name(e->zone_hints, e->n_zone_hints, zone);
	}
	if (any && all_node && for_node)
		return TOPO_NODE;
	return any && all_zone && for_zone ? TOPO_ZONE : TOPO_NONE;
}

/* Keep the ready candidates hinted for here (MODE is not TOPO_NONE). */
static size_t hinted_here(struct cand *v, size_t n, enum topo_mode mode,
			  const char *node, const char *zone)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++) {
		const struct endpoint *e = v[i].ep;
		bool here = mode == TOPO_NODE ?
			has_name(e->node_hints, e->n_node_hints, node) :
			has_name(e->zone_hints, e->n_zone_hints, zone);

		if (v[i].ready && here)
			v[w++] = v[i];
	}
	return w;
}

size_t model_cluster_backends(const struct svcnft_model *m,
			      const struct svc *s, const struct svc_port *p,
			      int family, const struct topology *t,
			      struct backend **out)
{
	const char *node = t->node ? t->node : "", *zone = t->zone ? t->zone : "";
	size_t n, k;
	struct cand *v = candidates(m, s, p, family, &n);
	enum topo_mode mode = topology_mode(v, n, node, zone);

	if (mode != TOPO_NONE)
		n = hinted_here(v, n, mode, node, zone);
	k = select_usable(v, n, out);
	free(v);
	return k;
}
