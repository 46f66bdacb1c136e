/* validate: what the API server would reject (422), in its wording.
 *
 * Every error is reported; an object with any error is marked invalid and
 * the caller refuses to render.  Addresses are parsed here into the model. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "diag.h"
#include "limits.h"
#include "model.h"
#include "names.h"

struct vctx {
	struct objref o;
	const struct svcnft_config *cfg;
	struct svcnft_buf q[4];		/* scratch for quoted values */
	unsigned int qi;
	size_t nerr_before;
};

/* S as a Go %q string, valid until four more calls. */
static const char *q(struct vctx *v, const char *s)
{
	struct svcnft_buf *b = &v->q[v->qi++ % 4];

	b->len = 0;
	buf_go_quoted(b, s);
	return b->data;
}

static void begin(struct vctx *v, const char *file, const char *kind,
		  const char *ns, const char *name)
{
	v->o.file = file;
	v->o.kind = kind;
	v->o.ns = ns;
	v->o.name = name;
	v->nerr_before = v->o.errs->n - v->o.errs->nwarn;
}

static bool failed(const struct vctx *v)
{
	return v->o.errs->n - v->o.errs->nwarn != v->nerr_before;
}

static void check_name(struct vctx *v, const char *name, const char *ns,
		       const char *(*rule)(const char *))
{
	const char *msg;

	if (!*name)
		obj_invalid(&v->o, "metadata.name: Required value: name or generateName is required");
	else if ((msg = rule(name)))
		obj_invalid(&v->o, "metadata.name: Invalid value: %s: %s", q(v, name), msg);
	if ((msg = check_dns1123_label(ns)))
		obj_invalid(&v->o, "metadata.namespace: Invalid value: %s: %s", q(v, ns), msg);
}

static void check_port_range(struct vctx *v, const char *path,
			     const struct ival *p, long long min)
{
	if (p->set && !p->bad_type && (p->v < min || p->v > 65535))
		obj_invalid(&v->o, "%s: Invalid value: %lld: must be between %lld and 65535, inclusive",
			    path, p->v, min);
}

static void check_protocol(struct vctx *v, const char *path, const char *raw,
			   enum proto p)
{
	if (p == PROTO_INVALID)
		obj_invalid(&v->o, "%s: Unsupported value: %s: supported values: \"SCTP\", \"TCP\", \"UDP\"",
			    path, q(v, raw ? raw : ""));
}

/* Port names: DNS-1123 labels, unique, and (when REQUIRE) present when
 * there are several. */
static void check_port_names(struct vctx *v, const char *prefix,
			     char *const *names, size_t n, bool require)
{
	const char *msg;

	for (size_t i = 0; i < n; i++) {
		if (!*names[i]) {
			if (require && n > 1)
				obj_invalid(&v->o, "%sports[%zu].name: Required value", prefix, i);
			continue;
		}
		if ((msg = check_dns1123_label(names[i])))
			obj_invalid(&v->o, "%sports[%zu].name: Invalid value: %s: %s",
				    prefix, i, q(v, names[i]), msg);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(names[i], names[j])) {
				obj_invalid(&v->o, "%sports[%zu].name: Duplicate value: %s",
					    prefix, i, q(v, names[i]));
				break;
			}
	}
}

static void check_target_port(struct vctx *v, size_t i, const struct svc_port *p)
{
	char path[64];
	const char *msg;

	snprintf(path, sizeof(path), "spec.ports[%zu].targetPort", i);
	if (p->target_name) {
		if (*p->target_name && (msg = check_iana_svc_name(p->target_name)))
			obj_invalid(&v->o, "%s: Invalid value: %s: %s", path,
				    q(v, p->target_name), msg);
	} else if (p->target_int.v != 0) {
		check_port_range(v, path, &p->target_int, 1);
	}
}

static void check_node_port(struct vctx *v, const struct svc *s, size_t i,
			    const char *path)
{
	const struct svc_port *p = &s->ports[i];
	long long np = p->node_port.v;

	check_port_range(v, path, &p->node_port, 1);
	if (np >= 1 && np <= 65535 && (np < 30000 || np > 32767))
		obj_invalid(&v->o, "%s: Invalid value: %lld: provided port is not in the valid range. The range of valid ports is 30000-32767",
			    path, np);
	for (size_t j = 0; j < i; j++)
		if (s->ports[j].node_port.v == np && s->ports[j].proto == p->proto) {
			obj_invalid(&v->o, "%s: Duplicate value: %lld", path, np);
			break;
		}
}

static void check_svc_port(struct vctx *v, const struct svc *s, size_t i)
{
	const struct svc_port *p = &s->ports[i];
	char path[64];

	snprintf(path, sizeof(path), "spec.ports[%zu].port", i);
	if (!p->port.set)
		obj_invalid(&v->o, "%s: Required value", path);
	check_port_range(v, path, &p->port, 1);
	snprintf(path, sizeof(path), "spec.ports[%zu].protocol", i);
	check_protocol(v, path, p->protocol, p->proto);
	check_target_port(v, i, p);
	snprintf(path, sizeof(path), "spec.ports[%zu].nodePort", i);
	if (p->node_port.set && p->node_port.v != 0 &&
	    (s->type == SVC_CLUSTER_IP || s->type == SVC_EXTERNAL_NAME))
		obj_invalid(&v->o, "%s: Forbidden: may not be used when `type` is '%s'",
			    path, s->type == SVC_CLUSTER_IP ? "ClusterIP" : "ExternalName");
	else if (p->node_port.set && !p->node_port.bad_type && p->node_port.v != 0)
		check_node_port(v, s, i, path);
	for (size_t j = 0; j < i; j++)
		if (s->ports[j].port.v == p->port.v && s->ports[j].proto == p->proto &&
		    p->proto != PROTO_INVALID) {
			obj_invalid(&v->o, "spec.ports[%zu]: Duplicate value: {\"port\":%lld,\"protocol\":\"%s\"}",
				    i, p->port.v, proto_upper(p->proto));
			break;
		}
}

static void check_svc_ports(struct vctx *v, const struct svc *s)
{
	char **names = xcalloc(s->n_ports, sizeof(char *));

	if (!s->n_ports && s->type != SVC_EXTERNAL_NAME && !s->headless)
		obj_invalid(&v->o, "spec.ports: Required value");
	for (size_t i = 0; i < s->n_ports; i++) {
		names[i] = s->ports[i].name;
		check_svc_port(v, s, i);
	}
	check_port_names(v, "spec.", names, s->n_ports, true);
	free(names);
}

static enum svc_type parse_type(const char *t)
{
	static const char *const names[] = { "ClusterIP", "NodePort",
					     "LoadBalancer", "ExternalName" };

	if (!t || !*t)		/* the API server defaults "" too */
		return SVC_CLUSTER_IP;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(t, names[i]))
			return (enum svc_type)i;
	return SVC_TYPE_INVALID;
}

static void check_affinity(struct vctx *v, struct svc *s)
{
	const struct ival *t = &s->aff_timeout;

	if (s->affinity_raw && *s->affinity_raw && strcmp(s->affinity_raw, "ClientIP") &&
	    strcmp(s->affinity_raw, "None"))
		obj_invalid(&v->o, "spec.sessionAffinity: Unsupported value: %s: supported values: \"ClientIP\", \"None\"",
			    q(v, s->affinity_raw));
	if (s->affinity && t->set && !t->bad_type && (t->v <= 0 || t->v > 86400))
		obj_invalid(&v->o, "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: %lld: must be greater than 0 and less than 86400",
			    t->v);
	/* with None the API server's defaulting drops sessionAffinityConfig */
}

/* ["a", "b"] of the service's cluster IPs, for range messages. */
static void ips_json(const struct svc *s, struct svcnft_buf *b)
{
	buf_putc(b, '[');
	for (size_t i = 0; i < s->n_cluster_ips; i++) {
		if (i)
			buf_puts(b, ", ");
		buf_go_quoted(b, s->cluster_ips[i]);
	}
	if (!s->n_cluster_ips && s->cluster_ip)
		buf_go_quoted(b, s->cluster_ip);
	buf_putc(b, ']');
}

/* In a service CIDR of its family, neither its network nor broadcast. */
static bool in_service_range(const struct svcnft_config *cfg,
			     const struct ipaddr *a)
{
	for (size_t i = 0; i < cfg->n_service_cidrs; i++) {
		const struct svcnft_cidr *c = &cfg->service_cidrs[i];
		unsigned int bits = a->family == AF_INET ? 32 : 128;
		bool zeros = true, ones = true;

		if (!cidr_contains(c, a))
			continue;
		for (unsigned int b = c->plen; b < bits; b++) {
			bool set = a->a[b / 8] & (0x80 >> (b % 8));

			zeros &= !set;
			ones &= set;
		}
		if (c->plen < bits && (zeros || (ones && a->family == AF_INET)))
			continue;
		return true;
	}
	return false;
}

static void range_error(struct vctx *v, const struct svc *s, const char *ip,
			int family)
{
	struct svcnft_buf ips = {0}, ranges = {0};

	ips_json(s, &ips);
	for (size_t i = 0; i < v->cfg->n_service_cidrs; i++) {
		const struct svcnft_cidr *c = &v->cfg->service_cidrs[i];
		struct ipaddr x = { .family = c->family };
		char a[64];

		if (c->family != family)
			continue;
		memcpy(x.a, c->addr, 16);
		ipaddr_format(&x, a, sizeof(a));
		buf_printf(&ranges, "%s%s/%u", ranges.len ? ", " : "", a, c->plen);
	}
	obj_invalid(&v->o, "spec.clusterIPs: Invalid value: %s: failed to allocate IP %s: the provided IP (%s) is not in the valid range. The range of valid IPs is %s",
		    ips.data, ip, ip, ranges.len ? ranges.data : "empty (no service CIDR of this IP family)");
	svcnft_buf_free(&ips);
	svcnft_buf_free(&ranges);
}

static const char *const none_ip = "None";

/* clusterIP / clusterIPs: syntax, agreement, families, and range. */
static void check_cluster_ips(struct vctx *v, struct svc *s)
{
	char **ips = s->cluster_ips;
	size_t n = s->n_cluster_ips;
	char *single[1] = { s->cluster_ip };

	if (!n && s->cluster_ip && *s->cluster_ip) {
		ips = single;
		n = 1;
	}
	if (n && s->cluster_ip && *s->cluster_ip && strcmp(ips[0], s->cluster_ip))
		obj_invalid(&v->o, "spec.clusterIPs[0]: Invalid value: %s: first value must match `clusterIP`",
			    q(v, ips[0]));
	if (n > 2) {
		obj_invalid(&v->o, "spec.clusterIPs: Too many: %zu: must have at most 2 items", n);
		return;
	}
	s->headless = n && !strcmp(ips[0], none_ip);
	if (s->headless || s->type == SVC_EXTERNAL_NAME) {
		if (s->type == SVC_EXTERNAL_NAME && n)
			obj_invalid(&v->o, "spec.clusterIPs: Invalid value: %s: may not be set for ExternalName services",
				    q(v, ips[0]));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct ipaddr a;

		if (!ipaddr_parse(ips[i], &a)) {
			obj_invalid(&v->o, "spec.clusterIPs[%zu]: Invalid value: %s: must be a valid IP address",
				    i, q(v, ips[i]));
			continue;
		}
		if (i == 1 && s->n_vip == 1 && s->vip[0].family == a.family) {
			obj_invalid(&v->o, "spec.clusterIPs[1]: Invalid value: %s: may not be of the same IP family as `clusterIPs[0]`",
				    q(v, ips[i]));
			continue;
		}
		if (!in_service_range(v->cfg, &a)) {
			range_error(v, s, ips[i], a.family);
			continue;
		}
		s->vip[s->n_vip++] = a;
	}
}

/* The API server drops one trailing dot before the subdomain check. */
static const char *check_external_name(const char *name)
{
	size_t n = strlen(name);
	char *copy;
	const char *msg;

	if (!n || name[n - 1] != '.')
		return check_dns1123_subdomain(name);
	copy = xstrdup(name);
	copy[n - 1] = '\0';
	msg = check_dns1123_subdomain(copy);
	free(copy);
	return msg;
}

static void validate_service(struct vctx *v, struct svc *s)
{
	const char *msg;

	if (s->parse_failed) {
		s->invalid = true;
		return;
	}
	begin(v, s->file, "Service", s->ns, s->name);
	check_name(v, s->name, s->ns, check_dns1035_label);
	s->type = parse_type(s->type_raw);
	if (s->type == SVC_TYPE_INVALID)
		obj_invalid(&v->o, "spec.type: Unsupported value: %s: supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
			    q(v, s->type_raw));
	if (s->type == SVC_EXTERNAL_NAME) {
		if (!s->external_name || !*s->external_name)
			obj_invalid(&v->o, "spec.externalName: Required value");
		else if ((msg = check_external_name(s->external_name)))
			obj_invalid(&v->o, "spec.externalName: Invalid value: %s: %s",
				    q(v, s->external_name), msg);
	}
	check_cluster_ips(v, s);
	check_svc_ports(v, s);
	check_affinity(v, s);
	s->invalid = failed(v);
}

/* Addresses the API server refuses for endpoints. */
static const char *special_ip(const struct ipaddr *a)
{
	static const uint8_t zero[16];
	const uint8_t *b = a->a;

	if (!memcmp(b, zero, a->family == AF_INET ? 4 : 16))
		return "may not be unspecified (0.0.0.0, ::)";
	if (a->family == AF_INET) {
		if (b[0] == 127)
			return "may not be in the loopback range (127.0.0.0/8, ::1/128)";
		if (b[0] == 169 && b[1] == 254)
			return "may not be in the link-local range (169.254.0.0/16, fe80::/10)";
		if (b[0] == 224 && b[1] == 0 && b[2] == 0)
			return "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)";
		return NULL;
	}
	if (!memcmp(b, zero, 15) && b[15] == 1)
		return "may not be in the loopback range (127.0.0.0/8, ::1/128)";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "may not be in the link-local range (169.254.0.0/16, fe80::/10)";
	if (b[0] == 0xff && (b[1] & 0x0f) == 0x02)
		return "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)";
	return NULL;
}

/* Endpoint at BASE ("subsets[0].addresses[1]", "endpoints[2]"), its address
 * at BASE + IPF; WANT_FAMILY 0 accepts either family. */
static void check_endpoint(struct vctx *v, const char *base, const char *ipf,
			   struct endpoint *e, int want_family)
{
	const char *msg;

	if (!e->ip_raw) {
		obj_invalid(&v->o, "%s%s: Required value", base, ipf);
		return;
	}
	if (!ipaddr_parse(e->ip_raw, &e->ip) ||
	    (want_family && e->ip.family != want_family)) {
		obj_invalid(&v->o, "%s%s: Invalid value: %s: must be a valid %s address",
			    base, ipf, q(v, e->ip_raw), want_family == AF_INET ? "IPv4" :
			    want_family == AF_INET6 ? "IPv6" : "IP");
		e->ip.family = 0;
		return;
	}
	if ((msg = special_ip(&e->ip)))
		obj_invalid(&v->o, "%s%s: Invalid value: %s: %s", base, ipf,
			    q(v, e->ip_raw), msg);
	if (e->hostname && (msg = check_dns1123_label(e->hostname)))
		obj_invalid(&v->o, "%s.hostname: Invalid value: %s: %s", base,
			    q(v, e->hostname), msg);
}

/* Endpoints ports need a port and names when several; slices need
 * neither (MIN 0 marks a slice). */
static void check_ep_ports(struct vctx *v, const char *prefix,
			   const struct ep_group *g, long long min)
{
	char **names = xcalloc(g->n_ports, sizeof(char *));
	char path[96];

	for (size_t i = 0; i < g->n_ports; i++) {
		const struct ep_port *p = &g->ports[i];

		names[i] = p->name;
		snprintf(path, sizeof(path), "%sports[%zu].port", prefix, i);
		if (!p->port.set && min > 0)
			obj_invalid(&v->o, "%s: Required value", path);
		check_port_range(v, path, &p->port, 1);
		snprintf(path, sizeof(path), "%sports[%zu].protocol", prefix, i);
		/* slices get no defaulting: a protocol of "" stays invalid */
		check_protocol(v, path, p->protocol, min == 0 && p->protocol &&
			       !*p->protocol ? PROTO_INVALID : p->proto);
	}
	check_port_names(v, prefix, names, g->n_ports, min > 0);
	free(names);
}

static void validate_endpoints(struct vctx *v, struct ep_source *e)
{
	char prefix[64], path[128];

	for (size_t i = 0; i < e->n_groups; i++) {
		struct ep_group *g = &e->groups[i];

		snprintf(prefix, sizeof(prefix), "subsets[%zu].", i);
		for (size_t j = 0, nr = 0; j < g->n_eps; j++) {
			bool ready = g->eps[j].ready;

			nr += ready;
			snprintf(path, sizeof(path), "%s%s[%zu]", prefix,
				 ready ? "addresses" : "notReadyAddresses",
				 ready ? j : j - nr);
			check_endpoint(v, path, ".ip", &g->eps[j], 0);
		}
		check_ep_ports(v, prefix, g, 1);
	}
}

static void validate_slice(struct vctx *v, struct ep_source *e)
{
	const char *at = e->address_type;
	int family = 0;
	char path[64];

	if (!at)
		obj_invalid(&v->o, "addressType: Required value");
	else if (!strcmp(at, "IPv4"))
		family = AF_INET;
	else if (!strcmp(at, "IPv6"))
		family = AF_INET6;
	else if (strcmp(at, "FQDN"))
		obj_invalid(&v->o, "addressType: Unsupported value: %s: supported values: \"FQDN\", \"IPv4\", \"IPv6\"",
			    q(v, at));
	if (e->groups[0].n_eps > 1000)
		obj_invalid(&v->o, "endpoints: Too many: %zu: must have at most 1000 items",
			    e->groups[0].n_eps);
	for (size_t j = 0; family && j < e->groups[0].n_eps; j++) {
		snprintf(path, sizeof(path), "endpoints[%zu]", j);
		check_endpoint(v, path, ".addresses[0]", &e->groups[0].eps[j], family);
	}
	check_ep_ports(v, "", &e->groups[0], 0);
}

static void validate_source(struct vctx *v, struct ep_source *e)
{
	bool slice = e->kind == EP_SLICE;

	if (e->parse_failed) {
		e->invalid = true;
		return;
	}
	begin(v, e->file, slice ? "EndpointSlice" : "Endpoints", e->ns, e->name);
	check_name(v, e->name, e->ns, check_dns1123_subdomain);
	if (slice)
		validate_slice(v, e);
	else
		validate_endpoints(v, e);
	e->invalid = failed(v);
}

struct vip_ref {
	struct ipaddr ip;
	struct svc *svc;
};

static int vip_ref_cmp(const void *a, const void *b)
{
	const struct vip_ref *x = a, *y = b;
	int c = ipaddr_cmp(&x->ip, &y->ip);

	if (!c)
		c = strcmp(x->svc->ns, y->svc->ns);
	return c ? c : strcmp(x->svc->name, y->svc->name);
}

/* A cluster IP belongs to one service: the API server's allocator refuses
 * the second (and nft would refuse duplicate map keys). */
static void check_vips_unique(struct vctx *v, struct svcnft_model *m)
{
	struct vip_ref *r = NULL;
	size_t n = 0, cap = 0;
	char a[64];

	for (size_t i = 0; i < m->n_svcs; i++)
		for (size_t j = 0; !m->svcs[i].invalid && j < m->svcs[i].n_vip; j++) {
			r = grow(r, &cap, n, sizeof(*r));
			r[n++] = (struct vip_ref){ m->svcs[i].vip[j], &m->svcs[i] };
		}
	if (n)
		qsort(r, n, sizeof(*r), vip_ref_cmp);
	for (size_t i = 1; i < n; i++) {
		if (ipaddr_cmp(&r[i].ip, &r[i - 1].ip))
			continue;
		ipaddr_format(&r[i].ip, a, sizeof(a));
		begin(v, r[i].svc->file, "Service", r[i].svc->ns, r[i].svc->name);
		obj_invalid(&v->o, "spec.clusterIPs: Invalid value: [\"%s\"]: failed to allocate IP %s: provided IP is already allocated",
			    a, a);
		r[i].svc->invalid = true;
	}
	free(r);
}

void svcnft_model_validate(struct svcnft_model *m,
			   const struct svcnft_config *cfg,
			   struct svcnft_errors *errs)
{
	struct vctx v = { .o.errs = errs, .cfg = cfg };

	model_sort(m);
	for (size_t i = 0; i < m->n_svcs; i++)
		validate_service(&v, &m->svcs[i]);
	for (size_t i = 0; i < m->n_eps; i++)
		validate_source(&v, &m->eps[i]);
	for (size_t i = 1; i < m->n_svcs; i++)
		if (!strcmp(m->svcs[i].ns, m->svcs[i - 1].ns) &&
		    !strcmp(m->svcs[i].name, m->svcs[i - 1].name)) {
			begin(&v, m->svcs[i].file, "Service", m->svcs[i].ns, m->svcs[i].name);
			obj_invalid(&v.o, "metadata.name: Duplicate value: %s: also defined in %s",
				    q(&v, m->svcs[i].name), m->svcs[i - 1].file);
			m->svcs[i].invalid = true;
		}
	check_vips_unique(&v, m);
	limits_validate(m, errs);
	for (size_t i = 0; i < ARRAY_SIZE(v.q); i++)
		svcnft_buf_free(&v.q[i]);
}
