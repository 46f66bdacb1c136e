/* explain: walk a plan as the kernel walks svcnft's rules (explain.h). */
#include <string.h>
#include <sys/socket.h>

#include "explain.h"
#include "util.h"

struct walk {
	const struct plan *p;
	const struct plan_family *f;
	const struct explain_packet *pk;
	struct explain_result *r;
};

struct step;
/* A step returns true when the packet's fate is decided. */
typedef bool step_fn(struct walk *w, const struct step *s);

/* One rule of the prerouting / output path, in the order of the ruleset
 * (render_nft's fixed chains).  A new rule or view is one row here. */
struct step {
	const char *chain;
	bool output;		/* also for the node's own traffic */
	step_fn *fn;
	const char *map;	/* dispatch: the verdict map's base name */
	bool not_pod;		/* only for sources outside @pod-cidrs */
	bool nodeport;		/* key protocol . port on a local address */
};

static step_fn step_service_check, step_firewall, step_dispatch, step_unallocated;

static const struct step steps[] = {
	{ "filter: service-check", true, step_service_check, NULL, false, false },
	{ "filter: firewall-check", true, step_firewall, NULL, false, false },
	{ "nat: external-local", false, step_dispatch, "external-local", true, false },
	{ "nat: external-local", false, step_dispatch, "nodeports-local", true, true },
	{ "nat: services", true, step_dispatch, "service-ips", false, false },
	{ "nat: services", true, step_dispatch, "nodeports", false, true },
	{ "nat: services", true, step_unallocated, NULL, false, false },
};

const char *explain_verdict_name(enum explain_verdict v)
{
	static const char *const n[] = { "none", "dnat", "reject", "drop" };

	return n[v];
}

static void put_ip(struct svcnft_buf *b, const struct ipaddr *a)
{
	char s[64];

	ipaddr_format(a, s, sizeof(s));
	buf_puts(b, s);
}

void explain_endpoint(struct svcnft_buf *b, const struct backend *be)
{
	bool v6 = be->ip.family == AF_INET6;

	buf_puts(b, v6 ? "[" : "");
	put_ip(b, &be->ip);
	buf_printf(b, "%s:%u", v6 ? "]" : "", be->port);
}

void explain_service(struct svcnft_buf *b, const struct plan_entry *e)
{
	buf_printf(b, "%s/%s:%lld", e->svc->ns, e->svc->name, e->sp->port.v);
}

/* "10.96.0.10 . tcp . 80" or "tcp . 30080": the packet's key in MAP. */
static void put_key(struct walk *w, bool nodeport)
{
	struct svcnft_buf *t = &w->r->trace;

	if (!nodeport) {
		put_ip(t, &w->pk->dst);
		buf_puts(t, " . ");
	}
	buf_printf(t, "%s . %u", proto_name(w->pk->proto), w->pk->port);
}

static bool in_cidrs(const struct svcnft_cidr *c, size_t n,
		     const struct ipaddr *a)
{
	for (size_t i = 0; i < n; i++)
		if (cidr_contains(&c[i], a))
			return true;
	return false;
}

static bool in_ips(const struct ipaddr *v, size_t n, const struct ipaddr *a)
{
	for (size_t i = 0; i < n; i++)
		if (!ipaddr_cmp(&v[i], a))
			return true;
	return false;
}

/* `ip saddr != @pod-cidrs`: an unknown client is outside. */
static bool outside_pods(const struct walk *w)
{
	return !w->pk->src_known ||
	       !in_cidrs(w->f->pod_cidrs, w->f->n_pod_cidrs, &w->pk->src);
}

static bool is_loopback(const struct ipaddr *a)
{
	static const uint8_t one6[16] = { [15] = 1 };

	if (a->family == AF_INET)
		return a->a[0] == 127;
	return !memcmp(a->a, one6, 16);
}

/* `fib daddr type local`. */
static bool is_local(const struct walk *w, const struct ipaddr *a)
{
	return (a->family == AF_INET && a->a[0] == 127) ||
	       in_ips(w->pk->local, w->pk->n_local, a);
}

static void line(struct walk *w, const char *chain, const char *fmt, ...) PRINTF(3, 4);
static void line(struct walk *w, const char *chain, const char *fmt, ...)
{
	va_list ap;

	buf_printf(&w->r->trace, "%-24s ", chain);
	va_start(ap, fmt);
	buf_vprintf(&w->r->trace, fmt, ap);
	va_end(ap);
}

static void why(struct walk *w, const char *fmt, ...) PRINTF(2, 3);
static void why(struct walk *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&w->r->why, fmt, ap);
	va_end(ap);
}

static bool is_port(const struct walk *w)
{
	for (size_t i = 0; i < w->f->n_e; i++) {
		const struct plan_entry *e = &w->f->e[i];

		if (plan_entry_is_port(e) && e->proto == w->pk->proto &&
		    e->port == w->pk->port && !ipaddr_cmp(&e->vip, &w->pk->dst))
			return true;
	}
	return false;
}

/* A cluster IP whose address . protocol . port is not a service port with
 * endpoints is rejected before NAT (new connections). */
static bool step_service_check(struct walk *w, const struct step *s)
{
	if (!in_ips(w->f->vips, w->f->n_vips, &w->pk->dst)) {
		line(w, s->chain, "not in @cluster-ips%s\n", w->f->sfx);
		return false;
	}
	line(w, s->chain, "in @cluster-ips%s; ", w->f->sfx);
	put_key(w, false);
	if (is_port(w)) {
		buf_printf(&w->r->trace, " in @service-ports%s: return\n", w->f->sfx);
		return false;
	}
	buf_printf(&w->r->trace, " not in @service-ports%s: goto reject-service\n",
		   w->f->sfx);
	w->r->verdict = VERDICT_REJECT;
	why(w, "a cluster IP, but no service port %s/%u with a usable endpoint",
	    proto_upper(w->pk->proto), w->pk->port);
	return true;
}

static bool fw_allows(const struct walk *w, const struct plan_fw *fw)
{
	for (size_t r = 0; r < fw->n_ranges; r++)
		if (fw->ranges[r].family == w->f->family &&
		    (w->pk->src_known ? cidr_contains(&fw->ranges[r], &w->pk->src)
				      : fw->ranges[r].plen == 0))
			return true;
	return false;
}

/* loadBalancerSourceRanges: other sources are dropped before NAT. */
static bool step_firewall(struct walk *w, const struct step *s)
{
	for (size_t i = 0; i < w->f->n_fw; i++) {
		const struct plan_entry *e = &w->f->e[w->f->fw[i].e];

		if (e->proto != w->pk->proto || e->port != w->pk->port ||
		    ipaddr_cmp(&e->vip, &w->pk->dst))
			continue;
		line(w, s->chain, "%s", "");
		put_key(w, false);
		buf_printf(&w->r->trace, " in @firewall%s; source ", w->f->sfx);
		if (fw_allows(w, &w->f->fw[i])) {
			buf_printf(&w->r->trace, "in @firewall-allow%s\n", w->f->sfx);
			return false;
		}
		buf_printf(&w->r->trace, "not in @firewall-allow%s: drop\n", w->f->sfx);
		w->r->verdict = VERDICT_DROP;
		why(w, "the source is outside the service's loadBalancerSourceRanges%s",
		    w->pk->src_known ? "" : " (no --from: an outside client)");
		return true;
	}
	line(w, s->chain, "not in @firewall%s\n", w->f->sfx);
	return false;
}

/* `ip daddr @service-cidrs4 drop`: a new connection to an address of a
 * service CIDR that no dispatch map took. */
static bool step_unallocated(struct walk *w, const struct step *s)
{
	if (!in_cidrs(w->f->svc_cidrs, w->f->n_svc_cidrs, &w->pk->dst)) {
		line(w, s->chain, "not in @service-cidrs%s\n", w->f->sfx);
		return false;
	}
	line(w, s->chain, "in @service-cidrs%s: drop\n", w->f->sfx);
	w->r->verdict = VERDICT_DROP;
	why(w, "an address of a service CIDR that no service holds on this protocol and port");
	return true;
}

/* `ip daddr != 127.0.0.0/8 ip daddr @nodeport-addresses fib daddr type
 * local`: the node-port rules' address match. */
static bool nodeport_address(struct walk *w, const struct step *s)
{
	const struct ipaddr *d = &w->pk->dst;
	const char *no = NULL;

	if (is_loopback(d))
		no = "a loopback address";
	else if (!in_cidrs(w->f->np_cidrs, w->f->n_np_cidrs, d))
		no = "not in @nodeport-addresses";
	else if (!is_local(w, d))
		no = "not a local address of the node";
	if (no)
		line(w, s->chain, "@%s%s: destination is %s\n", s->map, w->f->sfx, no);
	return !no;
}

static const struct plan_entry *lookup(const struct walk *w, const struct step *s)
{
	for (size_t i = 0; i < w->f->n_e; i++) {
		const struct plan_entry *e = &w->f->e[i];

		if (plan_entry_in_map(e, s->map) && e->proto == w->pk->proto &&
		    e->port == w->pk->port &&
		    (s->nodeport || !ipaddr_cmp(&e->vip, &w->pk->dst)))
			return e;
	}
	return NULL;
}

static const char *way_in(const struct plan_entry *e)
{
	if (plan_views[e->view].nodeport)
		return "node port";
	if (e->view == VIEW_CLUSTER)
		return "cluster IP";
	for (size_t i = 0; i < e->svc->n_ext; i++)
		if (!e->svc->ext[i].lb && !ipaddr_cmp(&e->svc->ext[i].ip, &e->vip))
			return "external IP";
	return "load-balancer IP";
}

static void endpoint_chain(struct walk *w, const struct plan_entry *e);

static bool step_dispatch(struct walk *w, const struct step *s)
{
	const struct plan_entry *e;

	if (s->not_pod && !outside_pods(w)) {
		line(w, s->chain, "@%s%s: source is in @pod-cidrs%s\n", s->map,
		     w->f->sfx, w->f->sfx);
		return false;
	}
	if (s->nodeport && !nodeport_address(w, s))
		return false;
	line(w, s->chain, "%s", "");
	put_key(w, s->nodeport);
	if (!(e = lookup(w, s))) {
		buf_printf(&w->r->trace, " not in @%s%s\n", s->map, w->f->sfx);
		return false;
	}
	w->r->entry = e;
	w->r->way = way_in(e);
	buf_printf(&w->r->trace, " in @%s%s: ", s->map, w->f->sfx);
	if (e->n) {
		endpoint_chain(w, e);
		return true;
	}
	buf_puts(&w->r->trace, e->reject ? "goto reject-service\n" : "drop\n");
	w->r->verdict = e->reject ? VERDICT_REJECT : VERDICT_DROP;
	if (e->reject)
		why(w, "the service port has no usable endpoint");
	else
		why(w, "%s Local, and no usable endpoint on this node (--node-name %s)",
		    e->view == VIEW_CLUSTER ? "internalTrafficPolicy" : "externalTrafficPolicy",
		    w->p->cfg->node_name ? w->p->cfg->node_name : "");
	return true;
}

/* Whether the endpoint chain of E sets the masquerade mark. */
static bool marks(const struct walk *w, const struct plan_entry *e)
{
	enum plan_mark m = plan_views[e->view].mark;

	return m == MARK_ALL || (m == MARK_NOT_POD && outside_pods(w));
}

/* From lb chain CHAIN of E: a slot S, its backend slot chain, the DNAT. */
static void via_slot(struct walk *w, const struct plan_entry *e,
		     const char *chain)
{
	enum plan_view v = plan_slot_view(e->view);
	char map[64], slot[64];

	plan_backend_map(map, sizeof(map), w->f, v);
	plan_chain_backend(slot, sizeof(slot), w->f, v, 0);
	slot[strlen(slot) - 1] = 'S';
	if (e->affinity)
		line(w, chain, "slot S of 0..%zu: the client's, else random; its slot chain, then goto %s\n",
		     e->n - 1, slot);
	else
		line(w, chain, "numgen random mod %zu vmap @%s: slot S, goto %s\n",
		     e->n, map, slot);
	line(w, slot, "dnat to slot %u+S of @%s%s\n", plan_views[v].offset,
	     plan_views[v].backends, w->f->sfx);
}

static void endpoint_chain(struct walk *w, const struct plan_entry *e)
{
	struct plan_group g = plan_entry_group(e);
	char chain[64];

	plan_chain_lb(chain, sizeof(chain), w->f, &g);
	buf_printf(&w->r->trace, "goto %s\n", chain);
	if (marks(w, e))
		line(w, chain, "meta mark |= 0x%x (masquerade)\n", PLAN_MASQ_MARK);
	if (e->affinity)
		line(w, chain, "ClientIP affinity: a client keeps its slot for %u s\n",
		     e->affinity);
	via_slot(w, e, chain);
	w->r->verdict = VERDICT_DNAT;
	why(w, "DNAT to one of the endpoints");
}

/* The client is one of E's endpoints and reaches itself (hairpin). */
static bool hairpin(const struct walk *w, const struct plan_entry *e)
{
	if (!w->pk->src_known ||
	    !in_ips(w->f->hairpin, w->f->n_hairpin, &w->pk->src))
		return false;
	for (size_t i = 0; i < e->n; i++)
		if (!ipaddr_cmp(&e->backends[i].ip, &w->pk->src))
			return true;
	return false;
}

static const char *no_masquerade(const struct walk *w, const struct plan_entry *e)
{
	if (e->view == VIEW_EXTERNAL_LOCAL || e->view == VIEW_NODEPORT_LOCAL)
		return "externalTrafficPolicy Local keeps the client address";
	if (!outside_pods(w))
		return "the source is in the pod network";
	return "cluster-IP traffic keeps its source without --cluster-cidr or --masquerade-all";
}

/* nat-postrouting: the masquerade chain of cluster IPs, then the mark,
 * then hairpin by any way in (render_nft's masquerade rules). */
static void masquerade(struct walk *w)
{
	const struct plan_entry *e = w->r->entry;
	struct explain_result *r = w->r;
	bool cluster = in_ips(w->f->vips, w->f->n_vips, &w->pk->dst);

	r->hairpin = hairpin(w, e);
	r->masquerade = true;
	if (cluster && w->p->cfg->masquerade_all)
		r->masq_why = "--masquerade-all";
	else if (cluster && w->f->n_pod_cidrs && outside_pods(w))
		r->masq_why = "the source is outside the pod network (--cluster-cidr)";
	else if (marks(w, e))
		r->masq_why = w->f->n_pod_cidrs ?
			"external traffic (externalTrafficPolicy Cluster, or the node itself)" :
			"external traffic (without --cluster-cidr every source counts as external)";
	else {
		r->masquerade = false;
		r->masq_why = no_masquerade(w, e);
	}
	line(w, "nat: nat-postrouting", "%s%s\n", r->masquerade ? "masquerade: " : "no masquerade: ",
	     r->masq_why);
	if (r->hairpin)
		line(w, "nat: nat-postrouting", "hairpin: the client is an endpoint; masqueraded when it reaches itself\n");
}

void explain_walk(const struct plan *p, const struct explain_packet *pk,
		  struct explain_result *r)
{
	struct walk w = { p, &p->fam[pk->dst.family == AF_INET6], pk, r };

	memset(r, 0, sizeof(*r));
	buf_puts(&r->trace, "");
	buf_puts(&r->why, "");
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		if (pk->from_node && !steps[i].output)
			continue;
		if (steps[i].fn(&w, &steps[i]))
			break;
	}
	if (r->verdict == VERDICT_DNAT)
		masquerade(&w);
	else if (r->verdict == VERDICT_NONE)
		why(&w, "no svcnft rule matches: not a cluster, external or load-balancer IP . port, nor a node port on a local address");
	r->reject_tcp_reset = r->verdict == VERDICT_REJECT && pk->proto == PROTO_TCP;
}

void explain_free(struct explain_result *r)
{
	svcnft_buf_free(&r->trace);
	svcnft_buf_free(&r->why);
}
