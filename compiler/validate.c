/* validate: what the API server would reject (422), in its wording.
 *
 * Each object on its own; the rules between objects are the engine's
 * (engine.h), which says them with the messages here (validate.h).  Every
 * error is reported; an object with any error is marked invalid and the
 * caller refuses to render.  Addresses are parsed here into the model. */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "diag.h"
#include "model.h"
#include "names.h"
#include "validate.h"

struct vctx {
	struct objref o;
	const struct svcnft_config *cfg;
	struct svcnft_cidr *ranges;	/* every service CIDR */
	size_t n_ranges;
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
	v->o.cluster_scoped = false;
	v->nerr_before = v->o.errs->n - v->o.errs->nwarn;
}

static bool failed(const struct vctx *v)
{
	return v->o.errs->n - v->o.errs->nwarn != v->nerr_before;
}

/* An allocator's refusal (a cluster IP outside the service CIDRs, a node
 * port outside the range): a warning when the API server allocated the
 * value already (follow), else invalid. */
static void PRINTF(2, 3) alloc_refused(struct vctx *v, const char *fmt, ...)
{
	struct svcnft_buf b = {0};
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (v->cfg->api_allocated)
		obj_warn(&v->o, "%s", b.data);
	else
		obj_invalid(&v->o, "%s", b.data);
	svcnft_buf_free(&b);
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

/* How port names must differ: Services (named ones, and all are named
 * when there are several), EndpointSlices (the empty name too), Endpoints
 * (not at all: the API server does not check). */
enum port_names { NAMES_SERVICE, NAMES_SLICE, NAMES_ENDPOINTS };

/* Port names: DNS-1123 labels, present and unique as KIND says. */
static void check_port_names(struct vctx *v, const char *prefix,
			     char *const *names, size_t n, enum port_names kind)
{
	const char *msg;

	for (size_t i = 0; i < n; i++) {
		if (!*names[i] && kind != NAMES_SLICE) {
			if (n > 1)
				obj_invalid(&v->o, "%sports[%zu].name: Required value", prefix, i);
			continue;
		}
		if (*names[i] && (msg = check_dns1123_label(names[i])))
			obj_invalid(&v->o, "%sports[%zu].name: Invalid value: %s: %s",
				    prefix, i, q(v, names[i]), msg);
		for (size_t j = 0; kind != NAMES_ENDPOINTS && j < i; j++)
			if (!strcmp(names[i], names[j])) {
				obj_invalid(&v->o, "%sports[%zu].name: Duplicate value: %s",
					    prefix, i, q(v, names[i]));
				break;
			}
	}
}

/* PATH (LEN bytes) = A B "[" I "]" SFX, truncated as snprintf would:
 * validation names a path per field before it knows of an error, and
 * snprintf was 3% of a compile. */
static void index_path(char *path, size_t len, const char *a, const char *b,
		       size_t i, const char *sfx)
{
	char num[24], *d = num + sizeof(num) - 1;
	const char *part[] = { a, b, "[", NULL, "]", sfx };
	size_t at = 0;

	*d = '\0';
	do
		*--d = (char)('0' + i % 10);
	while (i /= 10);
	part[3] = d;
	for (size_t k = 0; k < sizeof(part) / sizeof(*part); k++) {
		size_t n = strlen(part[k]);

		if (at + n >= len)
			n = len - 1 - at;
		memcpy(path + at, part[k], n);
		at += n;
	}
	path[at] = '\0';
}

static void check_target_port(struct vctx *v, size_t i, const struct svc_port *p)
{
	char path[64];
	const char *msg;

	index_path(path, sizeof(path), "spec.ports", "", i, ".targetPort");
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
	unsigned int lo = v->cfg->node_port_min, hi = v->cfg->node_port_max;

	if (!lo && !hi) {
		lo = 30000;
		hi = 32767;
	}
	check_port_range(v, path, &p->node_port, 1);
	if (np >= 1 && np <= 65535 && (np < lo || np > hi))
		alloc_refused(v, "%s: Invalid value: %lld: provided port is not in the valid range. The range of valid ports is %u-%u",
			    path, np, lo, hi);
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

	index_path(path, sizeof(path), "spec.ports", "", i, ".port");
	if (!p->port.set)
		obj_invalid(&v->o, "%s: Required value", path);
	check_port_range(v, path, &p->port, 1);
	index_path(path, sizeof(path), "spec.ports", "", i, ".protocol");
	check_protocol(v, path, p->protocol, p->proto);
	check_target_port(v, i, p);
	index_path(path, sizeof(path), "spec.ports", "", i, ".nodePort");
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
	check_port_names(v, "spec.", names, s->n_ports, NAMES_SERVICE);
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

/* ["a", "b"] of the service's cluster IPs, the value of spec.clusterIPs messages. */
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
static bool in_service_range(const struct vctx *v, const struct ipaddr *a)
{
	for (size_t i = 0; i < v->n_ranges; i++) {
		const struct svcnft_cidr *c = &v->ranges[i];
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
	for (size_t i = 0; i < v->n_ranges; i++) {
		const struct svcnft_cidr *c = &v->ranges[i];
		struct ipaddr x = { .family = c->family };
		char a[64];

		if (c->family != family)
			continue;
		memcpy(x.a, c->addr, 16);
		ipaddr_format(&x, a, sizeof(a));
		buf_printf(&ranges, "%s%s/%u", ranges.len ? ", " : "", a, c->plen);
	}
	alloc_refused(v, "spec.clusterIPs: Invalid value: %s: failed to allocate IP %s: the provided IP (%s) is not in the valid range. The range of valid IPs is %s",
		    ips.data, ip, ip, ranges.len ? ranges.data : "empty (no service CIDR of this IP family)");
	svcnft_buf_free(&ips);
	svcnft_buf_free(&ranges);
}

static const char *const none_ip = "None";

/* "spec.clusterIPs: Invalid value: [list]: MSG". */
static void cluster_ips_invalid(struct vctx *v, const struct svc *s,
				const char *msg)
{
	struct svcnft_buf b = {0};

	ips_json(s, &b);
	obj_invalid(&v->o, "spec.clusterIPs: Invalid value: %s: %s", b.data, msg);
	svcnft_buf_free(&b);
}

/* Each entry an IP address, 'None' only first and alone; false on an error. */
static bool cluster_ips_syntax(struct vctx *v, const struct svc *s,
			       char **ips, size_t n)
{
	bool ok = true;

	for (size_t i = 0; i < n; i++) {
		struct ipaddr a;

		if (i == 0 && !strcmp(ips[0], none_ip)) {
			if (n > 1)
				cluster_ips_invalid(v, s, "'None' must be the first and only value");
			ok = n == 1;
		} else if (!ipaddr_parse(ips[i], &a)) {
			obj_invalid(&v->o, "spec.clusterIPs[%zu]: Invalid value: %s: must be a valid IP address",
				    i, q(v, ips[i]));
			ok = false;
		}
	}
	return ok;
}

/* Both families among IPS (all valid), as netutils.IsDualStackIPStrings. */
static bool ips_dual_stack(char **ips, size_t n)
{
	bool v4 = false, v6 = false;

	for (size_t i = 0; i < n; i++) {
		struct ipaddr a;

		ipaddr_parse(ips[i], &a);
		v4 |= a.family == AF_INET;
		v6 |= a.family == AF_INET6;
	}
	return v4 && v6;
}

/* The allocator's range check, once validation passed: into s->vip. */
static void allocate_cluster_ips(struct vctx *v, struct svc *s, char **ips,
				 size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct ipaddr a;

		ipaddr_parse(ips[i], &a);
		if (!in_service_range(v, &a)) {
			range_error(v, s, ips[i], a.family);
			if (!v->cfg->api_allocated)
				continue;
		}
		s->vip[s->n_vip++] = a;
	}
}

/* spec.clusterIPs[0] 'None' where the type needs a cluster IP. */
static void check_headless_type(struct vctx *v, const struct svc *s)
{
	if (s->headless && (s->type == SVC_NODE_PORT || s->type == SVC_LOAD_BALANCER))
		obj_invalid(&v->o, "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for %s services",
			    s->type == SVC_NODE_PORT ? "NodePort" : "LoadBalancer");
}

static bool is_ip_family(const char *f)
{
	return !strcmp(f, "IPv4") || !strcmp(f, "IPv6");
}

/* spec.ipFamilies and spec.ipFamilyPolicy on their own; false on an error. */
static bool check_ip_families(struct vctx *v, const struct svc *s)
{
	const char *p = s->ip_family_policy;
	bool ok = true;

	for (size_t i = 0; i < s->n_ip_families; i++) {
		const char *f = s->ip_families[i];

		if (!is_ip_family(f)) {
			obj_invalid(&v->o, "spec.ipFamilies[%zu]: Unsupported value: %s: supported values: \"IPv4\", \"IPv6\"",
				    i, q(v, f));
			ok = false;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(f, s->ip_families[j])) {
				obj_invalid(&v->o, "spec.ipFamilies[%zu]: Duplicate value: %s", i, q(v, f));
				ok = false;
				break;
			}
	}
	if (p && strcmp(p, "SingleStack") && strcmp(p, "PreferDualStack") &&
	    strcmp(p, "RequireDualStack")) {
		obj_invalid(&v->o, "spec.ipFamilyPolicy: Unsupported value: %s: supported values: \"PreferDualStack\", \"RequireDualStack\", \"SingleStack\"",
			    q(v, p));
		ok = false;
	}
	return ok;
}

/* clusterIPs[i] of the family ipFamilies[i] says; false on an error. */
static bool ips_match_families(struct vctx *v, const struct svc *s,
			       char **ips, size_t n)
{
	bool ok = true;

	for (size_t i = 0; !s->headless && i < n && i < s->n_ip_families; i++) {
		const char *f = s->ip_families[i];
		struct ipaddr a;

		ipaddr_parse(ips[i], &a);
		if (!is_ip_family(f) || (a.family == AF_INET6) == !strcmp(f, "IPv6"))
			continue;
		obj_invalid(&v->o, "spec.clusterIPs[%zu]: Invalid value: %s: expected an %s value as indicated by `ipFamilies[%zu]`",
			    i, q(v, ips[i]), f, i);
		ok = false;
	}
	return ok;
}

/* The allocator's check of ipFamilyPolicy, defaulted as on create when
 * absent (RequireDualStack for a headless Service without selector, else
 * SingleStack); false on an error. */
static bool check_family_policy(struct vctx *v, const struct svc *s, size_t n)
{
	const char *p = s->ip_family_policy;
	static const char *const what[] = { "cluster IPs", "IP families" };
	bool ok = true;

	if (!p)
		p = s->headless && !s->has_selector ? "RequireDualStack" : "SingleStack";
	if (strcmp(p, "SingleStack"))
		return true;
	for (size_t k = 0; k < 2; k++) {
		if ((k ? s->n_ip_families : n) != 2)
			continue;
		obj_invalid(&v->o, "spec.ipFamilyPolicy: Invalid value: \"SingleStack\": must be 'RequireDualStack' or 'PreferDualStack' when multiple %s are specified",
			    what[k]);
		ok = false;
	}
	return ok;
}

static void check_external_name_ips(struct vctx *v, const struct svc *s,
				    size_t n)
{
	if (n)
		obj_invalid(&v->o, "spec.clusterIPs: Forbidden: may not be set for ExternalName services");
	if (s->n_ip_families)
		obj_invalid(&v->o, "spec.ipFamilies: Forbidden: may not be set for ExternalName services");
	if (s->ip_family_policy)
		obj_invalid(&v->o, "spec.ipFamilyPolicy: Forbidden: may not be set for ExternalName services");
}

/* clusterIP / clusterIPs / ipFamilies / ipFamilyPolicy as
 * ValidateServiceClusterIPsRelatedFields, then the allocator's policy and
 * range checks.  A lone clusterIP stands for [clusterIP], as the API
 * server's create strategy makes it. */
static void check_cluster_ips(struct vctx *v, struct svc *s)
{
	char **ips = s->cluster_ips;
	size_t n = s->n_cluster_ips;
	char *single[1] = { s->cluster_ip };
	bool match, ok, syntax_ok;

	if (!n && s->cluster_ip && *s->cluster_ip) {
		ips = single;
		n = 1;
	}
	s->headless = n == 1 && !strcmp(ips[0], none_ip);
	if (s->type == SVC_EXTERNAL_NAME) {
		check_external_name_ips(v, s, n);
		return;
	}
	check_headless_type(v, s);
	match = !(s->cluster_ip && *s->cluster_ip && n && strcmp(ips[0], s->cluster_ip));
	if (!match)
		cluster_ips_invalid(v, s, "first value must match `clusterIP`");
	ok = check_ip_families(v, s);	/* reported even if !match */
	ok = ok && match;
	syntax_ok = cluster_ips_syntax(v, s, ips, n);
	if (n > 2)
		cluster_ips_invalid(v, s, "may only hold up to 2 values");
	if (!syntax_ok)
		return;		/* as upstream: family checks would mislead */
	if (n > 1 && !ips_dual_stack(ips, n)) {
		cluster_ips_invalid(v, s, "may specify no more than one IP for each IP family");
		return;
	}
	if (ips_match_families(v, s, ips, n) && ok && n <= 2 &&
	    check_family_policy(v, s, n) && !s->headless)
		allocate_cluster_ips(v, s, ips, n);
}

/* Addresses the API server refuses for endpoints. */
static const char *special_ip(struct vctx *v, const struct ipaddr *a,
			      const char *raw)
{
	static const uint8_t zero[16];
	const uint8_t *b = a->a;

	if (!memcmp(b, zero, a->family == AF_INET ? 4 : 16)) {
		struct svcnft_buf *q = &v->q[v->qi++ % 4];

		q->len = 0;
		buf_printf(q, "may not be unspecified (%s)", raw);
		return q->data;
	}
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


static bool externally_accessible(const struct svc *s)
{
	return s->type == SVC_NODE_PORT || s->type == SVC_LOAD_BALANCER ||
	       (s->type == SVC_CLUSTER_IP && s->n_ext && !s->ext[0].lb);
}

/* externalTrafficPolicy / internalTrafficPolicy: "Cluster" or "Local".  The
 * API server defaults an empty externalTrafficPolicy (a string) but only an
 * absent internalTrafficPolicy (a pointer): "" is refused there. */
static bool check_policy(struct vctx *v, const char *field, const char *raw,
			 bool empty_ok)
{
	if (!raw || (!*raw && empty_ok) || !strcmp(raw, "Cluster"))
		return false;
	if (strcmp(raw, "Local")) {
		obj_invalid(&v->o, "spec.%s: Unsupported value: %s: supported values: \"Cluster\", \"Local\"",
			    field, q(v, raw));
		return false;
	}
	return true;
}

static void check_ext_addrs(struct vctx *v, struct svc *s)
{
	const char *msg;

	for (size_t i = 0; i < s->n_ext; i++) {
		struct ext_addr *x = &s->ext[i];
		char path[64];

		x->ignored = xcalloc(s->n_ports + 1, sizeof(*x->ignored));
		snprintf(path, sizeof(path), x->lb ? "status.loadBalancer.ingress[%zu].ip" :
			 "spec.externalIPs[%zu]", x->idx);
		/* ipMode Proxy: the load balancer delivers to the nodes */
		x->proxy = x->mode && !strcmp(x->mode, "Proxy");
		if (x->mode && *x->raw && !x->proxy && strcmp(x->mode, "VIP"))
			obj_invalid(&v->o, "status.loadBalancer.ingress[%zu].ipMode: Unsupported value: %s: supported values: \"Proxy\", \"VIP\"",
				    x->idx, q(v, x->mode));
		if (x->lb && !*x->raw) {
			obj_invalid(&v->o, "status.loadBalancer.ingress[%zu].ipMode: Forbidden: may not be specified when `ip` is not set",
				    x->idx);
			x->ip.family = 0;
		} else if (!ipaddr_parse(x->raw, &x->ip)) {
			obj_invalid(&v->o, "%s: Invalid value: %s: must be a valid IP address",
				    path, q(v, x->raw));
			x->ip.family = 0;
		} else if (!x->lb && (msg = special_ip(v, &x->ip, x->raw))) {
			obj_invalid(&v->o, "%s: Invalid value: %s: %s", path,
				    q(v, x->raw), msg);
		}
	}
}

/* The CIDR in LEN bytes at RAW, space-trimmed (Go's TrimSpace) into *C;
 * false after reporting it invalid at PATH. */
static bool parse_range(struct vctx *v, const char *path, const char *raw,
			size_t len, struct svcnft_cidr *c)
{
	char buf[128];

	while (len && isspace((unsigned char)*raw))
		raw++, len--;
	while (len && isspace((unsigned char)raw[len - 1]))
		len--;
	snprintf(buf, sizeof(buf), "%.*s", (int)len, raw);
	if (len >= sizeof(buf) || !cidr_parse_masked(buf, c)) {
		obj_invalid(&v->o, "%s: Invalid value: %s: must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
			    path, q(v, buf));
		return false;
	}
	return true;
}

/* Drop ranges another range of S covers: an interval set refuses an
 * element inside another one, the API server accepts the overlap. */
static void ranges_minimize(struct svc *s)
{
	s->n_ranges = cidrs_minimize(s->ranges, s->n_ranges);
}

/* The legacy annotation, validated as the API server does (trimmed, split
 * at commas, each piece a CIDR) but not used: kube-proxy filters on
 * spec.loadBalancerSourceRanges only (pkg/proxy/service.go). */
static void check_ranges_annotation(struct vctx *v, const struct svc *s)
{
	const char *ann = s->ranges_annotation, *end, *comma;
	char path[160];
	struct svcnft_cidr c;

	snprintf(path, sizeof(path), "metadata.annotations[%s]", RANGES_ANNOTATION);
	if (s->type != SVC_LOAD_BALANCER)
		obj_invalid(&v->o, "%s: Forbidden: may only be used when `type` is 'LoadBalancer'", path);
	end = ann + strlen(ann);
	while (ann < end && isspace((unsigned char)*ann))
		ann++;
	while (end > ann && isspace((unsigned char)end[-1]))
		end--;
	for (; ann < end; ann = comma + 1) {
		comma = memchr(ann, ',', (size_t)(end - ann));
		parse_range(v, path, ann, (size_t)((comma ? comma : end) - ann), &c);
		if (!comma)
			break;
		if (comma + 1 == end)	/* "a," splits into "a" and "" */
			parse_range(v, path, end, 0, &c);
	}
}

/* spec.loadBalancerSourceRanges into s->ranges, else the legacy annotation. */
static void check_source_ranges(struct vctx *v, struct svc *s)
{
	char path[64];
	struct svcnft_cidr c;

	if (!s->n_ranges_raw) {
		if (s->ranges_annotation)
			check_ranges_annotation(v, s);
		return;
	}
	if (s->type != SVC_LOAD_BALANCER)
		obj_invalid(&v->o, "spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'");
	for (size_t i = 0; i < s->n_ranges_raw; i++) {
		snprintf(path, sizeof(path), "spec.LoadBalancerSourceRanges[%zu]", i);
		if (!parse_range(v, path, s->ranges_raw[i], strlen(s->ranges_raw[i]), &c))
			continue;
		s->ranges = xrealloc(s->ranges, (s->n_ranges + 1) * sizeof(*s->ranges));
		s->ranges[s->n_ranges++] = c;
	}
}

/* spec.trafficDistribution (PreferSameTrafficDistribution on, as in
 * current Kubernetes).  kube-proxy decides by the slices' hints alone: the
 * EndpointSlice controller writes them from this field. */
static void check_traffic_dist(struct vctx *v, const struct svc *s)
{
	static const char *const ok[] = { "PreferClose", "PreferSameZone",
					   "PreferSameNode" };

	if (!s->traffic_dist)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if (!strcmp(s->traffic_dist, ok[i]))
			return;
	obj_invalid(&v->o, "spec.trafficDistribution: Unsupported value: %s: supported values: \"PreferClose\", \"PreferSameZone\", \"PreferSameNode\"",
		    q(v, s->traffic_dist));
}

/* External addresses, source ranges and traffic policies. */
static void check_external(struct vctx *v, struct svc *s)
{
	s->etp_local = check_policy(v, "externalTrafficPolicy", s->etp_raw, true);
	s->itp_local = check_policy(v, "internalTrafficPolicy", s->itp_raw, false);
	if (s->etp_raw && *s->etp_raw && !externally_accessible(s))
		obj_invalid(&v->o, "spec.externalTrafficPolicy: Invalid value: %s: may only be set for externally-accessible services",
			    q(v, s->etp_raw));
	check_ext_addrs(v, s);
	check_source_ranges(v, s);
	ranges_minimize(s);
	if ((s->etp_local || s->itp_local) && !v->cfg->node_name && !failed(v))
		obj_warn(&v->o, "spec.%sTrafficPolicy: Local needs --node-name to know which endpoints are local; treated as Cluster",
			 s->etp_local ? "external" : "internal");
}

/* spec.healthCheckNodePort: only where the API server allocates one
 * (NeedsHealthCheck); from the node-port range (its allocator's words). */
static void check_health_port(struct vctx *v, const struct svc *s)
{
	const char *path = "spec.healthCheckNodePort";
	long long np = s->hc_port.v;
	unsigned int lo = v->cfg->node_port_min, hi = v->cfg->node_port_max;

	if (!s->hc_port.set || s->hc_port.bad_type || np == 0)
		return;
	if (s->type != SVC_LOAD_BALANCER || !s->etp_local) {
		obj_invalid(&v->o, "%s: Invalid value: %lld: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
			    path, np);
		return;
	}
	check_port_range(v, path, &s->hc_port, 1);
	if (!lo && !hi) {
		lo = 30000;
		hi = 32767;
	}
	if (np >= 1 && np <= 65535 && (np < lo || np > hi))
		alloc_refused(v, "%s: Invalid value: %lld: failed to allocate requested HealthCheck NodePort %lld: provided port is not in the valid range. The range of valid ports is %u-%u",
			    path, np, np, lo, hi);
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
	check_traffic_dist(v, s);
	if (s->type != SVC_EXTERNAL_NAME)
		check_external(v, s);
	check_health_port(v, s);
	s->invalid = failed(v);
	if (!s->invalid && !s->headless && s->type != SVC_EXTERNAL_NAME && !s->n_vip)
		obj_warn(&v->o, "no cluster IP yet (spec.clusterIP is empty until the API server allocates one), skipped");
}

/* The address of endpoint E at BASE + IPF ("subsets[0].addresses[1]" +
 * ".ip"); WANT_FAMILY 0 accepts either family.  False when it is missing
 * or not an address. */
static bool check_ep_ip(struct vctx *v, const char *base, const char *ipf,
			struct endpoint *e, int want_family)
{
	if (!e->ip_raw) {
		obj_invalid(&v->o, "%s%s: Required value", base, ipf);
		return false;
	}
	if (!ipaddr_parse(e->ip_raw, &e->ip) ||
	    (want_family && e->ip.family != want_family)) {
		obj_invalid(&v->o, "%s%s: Invalid value: %s: must be a valid %s address",
			    base, ipf, q(v, e->ip_raw), want_family == AF_INET ? "IPv4" :
			    want_family == AF_INET6 ? "IPv6" : "IP");
		e->ip.family = 0;
		return false;
	}
	return true;
}

/* An endpoint address may not be special (loopback, link-local, ...). */
static void check_ep_special(struct vctx *v, const char *base, const char *ipf,
			     const struct endpoint *e)
{
	const char *msg = special_ip(v, &e->ip, e->ip_raw);

	if (msg)
		obj_invalid(&v->o, "%s%s: Invalid value: %s: %s", base, ipf,
			    q(v, e->ip_raw), msg);
}

/* An endpoint's hostname (a DNS-1123 label) or nodeName (a DNS-1123
 * subdomain, ValidateNodeName's rule, as --node-name's) at BASE.FIELD. */
static void check_ep_name(struct vctx *v, const char *base, const char *field,
			  const char *val, const char *(*rule)(const char *))
{
	const char *msg;

	if (val && (msg = rule(val)))
		obj_invalid(&v->o, "%s.%s: Invalid value: %s: %s", base, field,
			    q(v, val), msg);
}

/* Address E of an Endpoints subset at PATH, in the API server's order. */
static void check_ep_address(struct vctx *v, const char *path, struct endpoint *e)
{
	bool ok = check_ep_ip(v, path, ".ip", e, 0);

	check_ep_name(v, path, "hostname", e->hostname, check_dns1123_label);
	check_ep_name(v, path, "nodeName", e->node_name, check_dns1123_subdomain);
	if (ok)
		check_ep_special(v, path, ".ip", e);
}

/* Endpoints ports need a port and names when several; slices need
 * neither (MIN 0 marks a slice). */
static void check_ep_ports(struct vctx *v, const char *prefix,
			   const struct ep_group *g, long long min)
{
	char **names = xcalloc(g->n_ports, sizeof(char *));
	char path[128];

	for (size_t i = 0; i < g->n_ports; i++) {
		const struct ep_port *p = &g->ports[i];

		names[i] = p->name;
		index_path(path, sizeof(path), prefix, "ports", i, ".port");
		if (!p->port.set && min > 0)
			obj_invalid(&v->o, "%s: Required value", path);
		check_port_range(v, path, &p->port, 1);
		index_path(path, sizeof(path), prefix, "ports", i, ".protocol");
		/* slices get no defaulting: a protocol of "" stays invalid */
		check_protocol(v, path, p->protocol, min == 0 && p->protocol &&
			       !*p->protocol ? PROTO_INVALID : p->proto);
	}
	check_port_names(v, prefix, names, g->n_ports,
			 min > 0 ? NAMES_ENDPOINTS : NAMES_SLICE);
	free(names);
}

static void validate_endpoints(struct vctx *v, struct ep_source *e)
{
	char prefix[64], path[128];

	for (size_t i = 0; i < e->n_groups; i++) {
		struct ep_group *g = &e->groups[i];

		index_path(prefix, sizeof(prefix), "subsets", "", i, ".");
		if (!g->n_eps)
			obj_invalid(&v->o, "subsets[%zu]: Required value: must specify `addresses` or `notReadyAddresses`", i);
		for (size_t j = 0, nr = 0; j < g->n_eps; j++) {
			bool ready = g->eps[j].ready;

			nr += ready;
			index_path(path, sizeof(path), prefix,
				   ready ? "addresses" : "notReadyAddresses",
				   ready ? j : j - nr, "");
			check_ep_address(v, path, &g->eps[j]);
		}
		check_ep_ports(v, prefix, g, 1);
	}
}

#define MAX_HINTS 8

/* hints.forZones / hints.forNodes names at BASE ("endpoints[0]"). */
static void check_hint_names(struct vctx *v, const char *base,
			     const char *key, char *const *names, size_t n,
			     const char *(*rule)(const char *))
{
	const char *msg;

	if (n > MAX_HINTS) {
		obj_invalid(&v->o, "%s.hints.%s: Too many: %zu: must have at most %d items",
			    base, key, n, MAX_HINTS);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++)
			if (!strcmp(names[i], names[j])) {
				obj_invalid(&v->o, "%s.hints.%s[%zu].name: Duplicate value: %s",
					    base, key, i, q(v, names[i]));
				break;
			}
		if ((msg = rule(names[i])))
			obj_invalid(&v->o, "%s.hints.%s[%zu].name: Invalid value: %s: %s",
				    base, key, i, q(v, names[i]), msg);
	}
}

static void check_hints(struct vctx *v, const char *base,
			const struct endpoint *e)
{
	check_hint_names(v, base, "forZones", e->zone_hints, e->n_zone_hints,
			 check_label_value);
	check_hint_names(v, base, "forNodes", e->node_hints, e->n_node_hints,
			 check_dns1123_subdomain);
}

/* Endpoint J of a slice, in the API server's order; its address only for
 * FAMILY AF_INET or AF_INET6 (an FQDN slice is not used). */
static void check_slice_endpoint(struct vctx *v, size_t j, struct endpoint *e,
				 int family)
{
	char path[64];

	index_path(path, sizeof(path), "endpoints", "", j, "");
	if (!e->ip_raw)
		obj_invalid(&v->o, "%s.addresses: Required value: must contain at least 1 address", path);
	else if (family && check_ep_ip(v, path, ".addresses[0]", e, family))
		check_ep_special(v, path, ".addresses[0]", e);
	check_ep_name(v, path, "nodeName", e->node_name, check_dns1123_subdomain);
	check_ep_name(v, path, "hostname", e->hostname, check_dns1123_label);
	check_hints(v, path, e);
}

static void validate_slice(struct vctx *v, struct ep_source *e)
{
	const char *at = e->address_type;
	int family = 0;

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
	for (size_t j = 0; j < e->groups[0].n_eps; j++)
		check_slice_endpoint(v, j, &e->groups[0].eps[j], family);
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

/* A CIDR of spec.cidrs at PATH, strict as the API server's IsValidCIDR. */
static bool check_cidr_strict(struct vctx *v, const char *path, const char *raw,
			      struct svcnft_cidr *out)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	const char *msg = NULL;
	char canon[80];
	struct ipaddr a;

	if (!cidr_parse_masked(raw, out))
		msg = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";
	else if (out->family == AF_INET6 && !memcmp(out->addr, mapped, sizeof(mapped)))
		msg = "must not have an IPv4-mapped IPv6 address";
	else if (!svcnft_cidr_parse(raw, out))
		msg = "must not have bits set beyond the prefix length";
	if (msg) {
		obj_invalid(&v->o, "%s: Invalid value: %s: %s", path, q(v, raw), msg);
		return false;
	}
	a.family = out->family;
	memcpy(a.a, out->addr, sizeof(a.a));
	ipaddr_format(&a, canon, sizeof(canon) - 5);
	snprintf(canon + strlen(canon), 5, "/%u", out->plen);
	if (strcmp(raw, canon)) {
		obj_invalid(&v->o, "%s: Invalid value: %s: must be in canonical form (%s)",
			    path, q(v, raw), q(v, canon));
		return false;
	}
	return true;
}

/* Not in the API server: C at PATH holds none of the node's addresses
 * (apply, watch and follow know them). */
static bool node_addr_free(struct vctx *v, const char *path, const char *raw,
			   const struct svcnft_cidr *c)
{
	const struct svcnft_node_addr *a = node_addr_in(c, v->cfg);
	struct svcnft_buf b = {0};

	if (!a)
		return true;
	node_addr_refusal(&b, a);
	obj_invalid(&v->o, "%s: Invalid value: %s: refused by svcnft (the API server accepts it): %s",
		    path, q(v, raw), b.data);
	svcnft_buf_free(&b);
	return false;
}

/* spec.cidrs: one per family, both valid (IsDualStackCIDRStrings). */
static bool dual_stack(const struct svc_cidr_obj *c)
{
	struct svcnft_cidr x, y;

	return cidr_parse_masked(c->raw[0], &x) && cidr_parse_masked(c->raw[1], &y) &&
	       x.family != y.family;
}

/* The value of spec as Go's %#v prints it in these messages. */
static const char *cidr_spec(struct vctx *v, const struct svc_cidr_obj *c)
{
	struct svcnft_buf *b = &v->q[v->qi++ % 4];

	b->len = 0;
	buf_puts(b, "networking.ServiceCIDRSpec{CIDRs:[]string{");
	for (size_t i = 0; i < c->n_raw; i++) {
		buf_puts(b, i ? ", " : "");
		buf_go_quoted(b, c->raw[i]);
	}
	buf_puts(b, "}}");
	return b->data;
}

static void validate_service_cidr(struct vctx *v, struct svc_cidr_obj *c)
{
	const char *msg, *spec = "spec.cidrs";
	char path[64];

	c->n_cidrs = 0;
	if (c->parse_failed) {
		c->invalid = true;
		return;
	}
	begin(v, c->file, "ServiceCIDR", NULL, c->name);
	v->o.cluster_scoped = true;
	if (!*c->name)
		obj_invalid(&v->o, "metadata.name: Required value: name or generateName is required");
	else if ((msg = check_dns1123_subdomain(c->name)))
		obj_invalid(&v->o, "metadata.name: Invalid value: %s: %s", q(v, c->name), msg);
	if (!c->n_raw)
		obj_invalid(&v->o, "%s: Required value: at least one CIDR required", spec);
	else if (c->n_raw > 2)
		obj_invalid(&v->o, "%s: Invalid value: %s: may only hold up to 2 values",
			    spec, cidr_spec(v, c));
	else if (c->n_raw == 2 && !dual_stack(c))
		obj_invalid(&v->o, "%s: Invalid value: %s: may specify no more than one IP for each IP family, i.e 192.168.0.0/24 and 2001:db8::/64",
			    spec, cidr_spec(v, c));
	for (size_t i = 0; c->n_raw <= 2 && (c->n_raw < 2 || dual_stack(c)) && i < c->n_raw; i++) {
		snprintf(path, sizeof(path), "%s[%zu]", spec, i);
		if (check_cidr_strict(v, path, c->raw[i], &c->cidrs[c->n_cidrs]) &&
		    node_addr_free(v, path, c->raw[i], &c->cidrs[c->n_cidrs]))
			c->n_cidrs++;
	}
	c->invalid = failed(v);
}

void validate_vip_taken(struct svcnft_errors *errs, struct svc *s,
			const struct ipaddr *ip)
{
	struct objref o = { errs, s->file, "Service", s->ns, false, s->name };
	char a[64];

	ipaddr_format(ip, a, sizeof(a));
	obj_invalid(&o, "spec.clusterIPs: Invalid value: [\"%s\"]: failed to allocate IP %s: provided IP is already allocated",
		    a, a);
	s->invalid = true;
}

void validate_node_port_taken(struct svcnft_errors *errs, struct svc *s,
			      size_t idx)
{
	struct objref o = { errs, s->file, "Service", s->ns, false, s->name };

	if (idx == SIZE_MAX)
		obj_invalid(&o, "spec.healthCheckNodePort: Invalid value: %lld: failed to allocate requested HealthCheck NodePort %lld: provided port is already allocated",
			    s->hc_port.v, s->hc_port.v);
	else
		obj_invalid(&o, "spec.ports[%zu].nodePort: Invalid value: %lld: provided port is already allocated",
			    idx, s->ports[idx].node_port.v);
	s->invalid = true;
}

void validate_ext_taken(struct svcnft_errors *errs, struct svc *s, size_t ext,
			size_t sp, const struct svc *owner)
{
	struct objref o = { errs, s->file, "Service", s->ns, false, s->name };
	struct ext_addr *x = &s->ext[ext];
	char a[64];

	x->ignored[sp] = true;
	ipaddr_format(&x->ip, a, sizeof(a));
	obj_warn(&o, "%s[%zu]: %s port %lld/%s is already taken by Service \"%s/%s\"; ignored",
		 x->lb ? "status.loadBalancer.ingress" : "spec.externalIPs", x->idx,
		 a, s->ports[sp].port.v, proto_upper(s->ports[sp].proto), owner->ns,
		 owner->name);
}

void validate_duplicate(struct svcnft_errors *errs, struct svc *s,
			const char *other_file)
{
	struct objref o = { errs, s->file, "Service", s->ns, false, s->name };
	struct svcnft_buf b = {0};

	buf_go_quoted(&b, s->name);
	obj_invalid(&o, "metadata.name: Duplicate value: %s: also defined in %s",
		    b.data, other_file);
	svcnft_buf_free(&b);
	s->invalid = true;
}

void svcnft_model_validate(struct svcnft_model *m,
			   const struct svcnft_config *cfg,
			   struct svcnft_errors *errs)
{
	struct vctx v = { .o.errs = errs, .cfg = cfg };

	model_sort(m);
	for (size_t i = 0; i < m->n_svc_cidrs; i++)
		validate_service_cidr(&v, &m->svc_cidrs[i]);
	v.n_ranges = model_service_cidrs(m, cfg, &v.ranges);
	for (size_t i = 0; i < m->n_svcs; i++)
		validate_service(&v, &m->svcs[i]);
	for (size_t i = 0; i < m->n_eps; i++)
		validate_source(&v, &m->eps[i]);
	for (size_t i = 0; i < ARRAY_SIZE(v.q); i++)
		svcnft_buf_free(&v.q[i]);
	free(v.ranges);
}
