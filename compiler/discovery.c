/* discovery: how pods find services, besides the dataplane.
 *
 * env: the Docker-links variables the kubelet sets (pkg/kubelet/envvars) for
 * every service with a cluster IP in the pod's namespace, plus `kubernetes`
 * from `default` unless the namespace has its own.
 *
 * dns: an RFC 1035 zone per the DNS-based service discovery specification
 * 1.1.0, its reverse zone (rooted at arpa.), or an /etc/hosts fragment.
 * Every name written comes from validated input (DNS labels, IP addresses),
 * so nothing needs zone-file escaping; names DNS cannot carry are skipped
 * with a warning. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "diag.h"
#include "discovery.h"
#include "names.h"

#define FQ_LEN 512		/* a service's name: > 63 + 63 + 241 + 8 */
#define NAME_LEN 1024		/* names built on FQ_LEN ones */

static bool has_cluster_ip(const struct svc *s)
{
	return !s->invalid && !s->headless && s->type != SVC_EXTERNAL_NAME &&
	       s->n_vip && s->n_ports;
}

bool svcnft_namespace_valid(const char *ns)
{
	return !check_dns1123_label(ns);
}

/* ---- environment variables ---- */

struct envvar {
	char *key, *val;
	size_t pos;
	bool dropped;		/* a later variable has the same key */
};

struct envlist {
	struct envvar *v;
	size_t n, cap;
};

static void env_add(struct envlist *l, const char *key, const char *val)
{
	l->v = grow(l->v, &l->cap, l->n, sizeof(*l->v));
	l->v[l->n] = (struct envvar){ xstrdup(key), xstrdup(val), l->n, false };
	l->n++;
}

/* makeEnvVariableName: upper case, '-' becomes '_'. */
static void env_name(char *dst, size_t len, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++)
		dst[i] = s[i] == '-' ? '_' :
			 s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 'a' + 'A') : s[i];
	dst[i] = '\0';
}

/* spec.clusterIP as the object spells it: the kubelet copies it verbatim. */
static const char *primary_ip(const struct svc *s)
{
	return s->cluster_ip && *s->cluster_ip ? s->cluster_ip : s->cluster_ips[0];
}

/* makeLinkVariables: the URL, protocol, port and address of each port. */
static void env_links(struct envlist *l, const struct svc *s, const char *pre)
{
	const char *ip = primary_ip(s);
	bool v6 = strchr(ip, ':') != NULL;
	char url[128], num[16], base[128], key[192];

	for (size_t i = 0; i < s->n_ports; i++) {
		const struct svc_port *p = &s->ports[i];

		snprintf(url, sizeof(url), "%s://%s%s%s:%lld", proto_name(p->proto),
			 v6 ? "[" : "", ip, v6 ? "]" : "", p->port.v);
		snprintf(num, sizeof(num), "%lld", p->port.v);
		if (i == 0) {
			snprintf(key, sizeof(key), "%s_PORT", pre);
			env_add(l, key, url);
		}
		snprintf(base, sizeof(base), "%s_PORT_%s_%s", pre, num,
			 proto_upper(p->proto));
		env_add(l, base, url);
		snprintf(key, sizeof(key), "%s_PROTO", base);
		env_add(l, key, proto_name(p->proto));
		snprintf(key, sizeof(key), "%s_PORT", base);
		env_add(l, key, num);
		snprintf(key, sizeof(key), "%s_ADDR", base);
		env_add(l, key, ip);
	}
}

/* FromServices for one service, in the kubelet's order. */
static void env_service(struct envlist *l, const struct svc *s)
{
	char pre[64], pn[64], key[192], num[16];

	env_name(pre, sizeof(pre), s->name);
	snprintf(key, sizeof(key), "%s_SERVICE_HOST", pre);
	env_add(l, key, primary_ip(s));
	snprintf(key, sizeof(key), "%s_SERVICE_PORT", pre);
	snprintf(num, sizeof(num), "%lld", s->ports[0].port.v);
	env_add(l, key, num);
	for (size_t i = 0; i < s->n_ports; i++) {
		if (!*s->ports[i].name)
			continue;
		env_name(pn, sizeof(pn), s->ports[i].name);
		snprintf(key, sizeof(key), "%s_SERVICE_PORT_%s", pre, pn);
		snprintf(num, sizeof(num), "%lld", s->ports[i].port.v);
		env_add(l, key, num);
	}
	env_links(l, s, pre);
}

static int svc_name_cmp(const void *a, const void *b)
{
	const struct svc *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* The services a pod in NS sees, sorted by name (getServiceEnvVarMap). */
static size_t env_services(const struct svcnft_model *m, const char *ns,
			   const struct svc ***out)
{
	const struct svc **v = xcalloc(m->n_svcs + 1, sizeof(*v));
	const struct svc *master = NULL;
	bool own_master = false;
	size_t n = 0;

	for (size_t i = 0; i < m->n_svcs; i++) {
		const struct svc *s = &m->svcs[i];

		if (!has_cluster_ip(s))
			continue;
		if (!strcmp(s->ns, ns)) {
			v[n++] = s;
			own_master |= !strcmp(s->name, "kubernetes");
		} else if (!strcmp(s->ns, "default") && !strcmp(s->name, "kubernetes")) {
			master = s;
		}
	}
	if (master && !own_master)
		v[n++] = master;
	qsort(v, n, sizeof(*v), svc_name_cmp);
	*out = v;
	return n;
}

static int env_key_cmp(const void *a, const void *b)
{
	const struct envvar *const *x = a, *const *y = b;
	int c = strcmp((*x)->key, (*y)->key);

	return c ? c : (*x)->pos < (*y)->pos ? -1 : 1;
}

/* Two services can spell the same variable ("a" port 80 and "a-port-80-tcp"
 * both make A_PORT_80_TCP_PORT); as when the lines are sourced, the later
 * service (by name) wins. */
static void env_dedup(struct envlist *l)
{
	struct envvar **ix = xcalloc(l->n, sizeof(*ix));

	for (size_t i = 0; i < l->n; i++)
		ix[i] = &l->v[i];
	if (l->n)
		qsort(ix, l->n, sizeof(*ix), env_key_cmp);
	for (size_t i = 0; i + 1 < l->n; i++)
		ix[i]->dropped = !strcmp(ix[i]->key, ix[i + 1]->key);
	free(ix);
}

static bool sh_safe(char c, bool assignment)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("._:/=-", c)) ||
	       (assignment && (c == '[' || c == ']'));
}

void disc_sh_word(struct svcnft_buf *b, const char *s, bool assignment)
{
	bool bare = *s != '\0';

	for (const char *p = s; *p && bare; p++)
		bare = sh_safe(*p, assignment);
	if (bare) {
		buf_puts(b, s);
		return;
	}
	buf_putc(b, '\'');
	for (const char *p = s; *p; p++)
		if (*p == '\'')
			buf_puts(b, "'\\''");
		else
			buf_putc(b, *p);
	buf_putc(b, '\'');
}

static void json_string(struct svcnft_buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c < 0x20)
			buf_printf(b, "\\u%04x", c);
		else
			buf_putc(b, (char)c);
	}
	buf_putc(b, '"');
}

static void env_print(const struct envlist *l, enum svcnft_env_format f,
		      struct svcnft_buf *out)
{
	struct svcnft_buf w = {0};
	bool first = true;

	if (f == SVCNFT_ENV_JSON)
		buf_putc(out, '{');
	for (size_t i = 0; i < l->n; i++) {
		const struct envvar *e = &l->v[i];

		if (e->dropped)
			continue;
		if (f == SVCNFT_ENV_JSON) {
			buf_puts(out, first ? "\n  " : ",\n  ");
			json_string(out, e->key);
			buf_puts(out, ": ");
			json_string(out, e->val);
		} else if (f == SVCNFT_ENV_DOCKER) {
			w.len = 0;
			buf_printf(&w, "%s=%s", e->key, e->val);
			buf_puts(out, "--env ");
			disc_sh_word(out, w.data, false);
			buf_putc(out, '\n');
		} else {
			buf_printf(out, "%s=", e->key);
			disc_sh_word(out, e->val, true);
			buf_putc(out, '\n');
		}
		first = false;
	}
	if (f == SVCNFT_ENV_JSON)
		buf_puts(out, first ? "}\n" : "\n}\n");
	svcnft_buf_free(&w);
}

bool svcnft_render_env(const struct svcnft_model *m, const char *ns,
		       enum svcnft_env_format format, struct svcnft_buf *out)
{
	const struct svc **v;
	struct envlist l = {0};
	size_t n = env_services(m, ns, &v);

	for (size_t i = 0; i < n; i++)
		env_service(&l, v[i]);
	env_dedup(&l);
	buf_add(out, "", 0);
	env_print(&l, format, out);
	for (size_t i = 0; i < l.n; i++) {
		free(l.v[i].key);
		free(l.v[i].val);
	}
	free(l.v);
	free(v);
	return true;
}

/* ---- DNS names ---- */

/* RFC 5952 text, but IPv6 always in hex groups: glibc writes ::a:5 as
 * "::0.10.0.5", which would leak dots into generated hostnames. */
void disc_format_ip(const struct ipaddr *a, char *buf, size_t len)
{
	struct svcnft_buf b = {0};
	size_t best = 0, blen = 0;

	if (a->family == AF_INET) {
		ipaddr_format(a, buf, len);
		return;
	}
	for (size_t i = 0, run = 0; i < 8; i++) {
		run = a->a[2 * i] || a->a[2 * i + 1] ? 0 : run + 1;
		if (run > blen) {
			blen = run;
			best = i + 1 - run;
		}
	}
	if (blen < 2)
		blen = 0;
	for (size_t i = 0; i < 8; i++) {
		if (blen && i == best) {
			buf_puts(&b, "::");
			i += blen - 1;
			continue;
		}
		buf_printf(&b, "%s%x", b.len && b.data[b.len - 1] != ':' ? ":" : "",
			   (unsigned int)(a->a[2 * i] << 8 | a->a[2 * i + 1]));
	}
	snprintf(buf, len, "%s", b.data);
	svcnft_buf_free(&b);
}

void disc_reverse_name(const struct ipaddr *a, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	struct svcnft_buf b = {0};

	if (a->family == AF_INET) {
		buf_printf(&b, "%u.%u.%u.%u.in-addr.arpa.", a->a[3], a->a[2],
			   a->a[1], a->a[0]);
	} else {
		for (int i = 15; i >= 0; i--)
			buf_printf(&b, "%c.%c.", hex[a->a[i] & 0xf], hex[a->a[i] >> 4]);
		buf_puts(&b, "ip6.arpa.");
	}
	snprintf(buf, len, "%s", b.data);
	svcnft_buf_free(&b);
}

void disc_dashed_ip(const struct ipaddr *a, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN], t[INET6_ADDRSTRLEN + 2];
	size_t n = 0;

	disc_format_ip(a, s, sizeof(s));
	if (s[0] == ':')
		t[n++] = '0';
	for (const char *p = s; *p; p++)
		t[n++] = *p == '.' || *p == ':' ? '-' : *p;
	if (n && t[n - 1] == '-')
		t[n++] = '0';
	t[n] = '\0';
	snprintf(buf, len, "%s", t);
}

bool disc_name_ok(const char *fqdn)
{
	size_t n = strlen(fqdn), label = 0;

	if (n < 2 || n > 254 || fqdn[n - 1] != '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (fqdn[i] != '.') {
			label++;
		} else {
			if (label < 1 || label > 63)
				return false;
			label = 0;
		}
	}
	return true;
}

const char *svcnft_dns_zone_check(const char *zone)
{
	char z[256];
	size_t n = strlen(zone);
	const char *msg;

	if (n && zone[n - 1] == '.')
		n--;
	if (n > 241)
		return "must be no more than 241 characters (dns-version.ZONE. must fit in a DNS name)";
	memcpy(z, zone, n);
	z[n] = '\0';
	for (char *p = z, *dot; p; p = dot ? dot + 1 : NULL) {
		dot = strchr(p, '.');
		if (dot)
			*dot = '\0';
		if ((msg = check_dns1123_label(p)))
			return *p ? msg : "must not contain empty labels";
	}
	return NULL;
}

/* ---- DNS records ---- */

struct dctx {
	const struct svcnft_dns_config *cfg;
	struct svcnft_buf *out;
	struct objref o;
	char zone[256];			/* without the trailing dot */
	const struct svc *s;
	bool said;			/* the service's comment is out */
};

static char comment_char(const struct dctx *d)
{
	return d->cfg->output == SVCNFT_DNS_HOSTS ? '#' : ';';
}

static void say_service(struct dctx *d)
{
	if (!d->said)
		buf_printf(d->out, "\n%c %s/%s\n", comment_char(d), d->s->ns, d->s->name);
	d->said = true;
}

static void note(struct dctx *d, const char *what)
{
	buf_printf(d->out, "\n%c %s/%s: %s\n", comment_char(d), d->s->ns,
		   d->s->name, what);
	d->said = true;
}

static bool check_name(struct dctx *d, const char *fqdn)
{
	if (disc_name_ok(fqdn))
		return true;
	obj_warn(&d->o, "DNS name %s is not valid (labels of 1 to 63 bytes, at most 255 in all): record skipped",
		 fqdn);
	return false;
}

/* An A/AAAA record; with PTR set, the reverse zone maps the IP back. */
static void put_addr(struct dctx *d, const char *owner, const struct ipaddr *ip,
		     bool ptr)
{
	enum svcnft_dns_output o = d->cfg->output;
	char a[INET6_ADDRSTRLEN], rev[80];

	if ((o == SVCNFT_DNS_PTR && !ptr) || !check_name(d, owner))
		return;
	say_service(d);
	disc_format_ip(ip, a, sizeof(a));
	if (o == SVCNFT_DNS_ZONE) {
		buf_printf(d->out, "%s\tIN\t%s\t%s\n", owner,
			   ip->family == AF_INET ? "A" : "AAAA", a);
	} else if (o == SVCNFT_DNS_HOSTS) {
		buf_printf(d->out, "%s\t%.*s\n", a, (int)strlen(owner) - 1, owner);
	} else {
		disc_reverse_name(ip, rev, sizeof(rev));
		buf_printf(d->out, "%s\tIN\tPTR\t%s\n", rev, owner);
	}
}

static void put_srv(struct dctx *d, const char *owner, long long port,
		    const char *target)
{
	if (d->cfg->output != SVCNFT_DNS_ZONE || !check_name(d, owner) ||
	    !disc_name_ok(target))
		return;
	say_service(d);
	buf_printf(d->out, "%s\tIN\tSRV\t0 100 %lld %s\n", owner, port, target);
}

static void dns_external(struct dctx *d, const struct svc *s, const char *fq)
{
	char target[NAME_LEN];
	size_t n = strlen(s->external_name);

	if (n && s->external_name[n - 1] == '.')
		n--;
	snprintf(target, sizeof(target), "%.*s.", (int)n, s->external_name);
	if (d->cfg->output != SVCNFT_DNS_ZONE || !check_name(d, fq) ||
	    !check_name(d, target))
		return;
	say_service(d);
	buf_printf(d->out, "%s\tIN\tCNAME\t%s\n", fq, target);
}

static void dns_cluster_ip(struct dctx *d, const struct svc *s, const char *fq)
{
	char owner[NAME_LEN];

	for (size_t i = 0; i < s->n_vip; i++)
		put_addr(d, fq, &s->vip[i], true);
	for (size_t i = 0; i < s->n_ports; i++) {
		const struct svc_port *p = &s->ports[i];

		if (!*p->name)
			continue;
		snprintf(owner, sizeof(owner), "_%s._%s.%s", p->name,
			 proto_name(p->proto), fq);
		put_srv(d, owner, p->port.v, fq);
	}
}

/* ---- headless services: their ready endpoints ---- */

struct hep {
	struct ipaddr ip;
	const char *hostname;
	uint16_t port;			/* the endpoint port, for SRV */
};

static int hep_ip_cmp(const void *a, const void *b)
{
	const struct hep *x = a, *y = b;

	return ipaddr_cmp(&x->ip, &y->ip);
}

/* By IP, port, then hostname (a named copy first) so collapse is stable. */
static int hep_cmp(const void *a, const void *b)
{
	const struct hep *x = a, *y = b;
	int c = ipaddr_cmp(&x->ip, &y->ip);

	if (c)
		return c;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	if (!x->hostname || !y->hostname)
		return (x->hostname == NULL) - (y->hostname == NULL);
	return strcmp(x->hostname, y->hostname);
}

static int src_key_cmp(const struct ep_source *e, const struct svc *s)
{
	int c = strcmp(e->ns, s->ns);

	return c ? c : strcmp(e->service, s->name);
}

static size_t first_source(const struct svcnft_model *m, const struct svc *s)
{
	size_t lo = 0, hi = m->n_eps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (src_key_cmp(&m->eps[mid], s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Ready endpoints of G; with P, only if G carries P (by name and protocol),
 * each with that endpoint port. */
static void add_group(const struct ep_group *g, const struct svc *s,
		      const struct svc_port *p, struct hep **v, size_t *n,
		      size_t *cap)
{
	uint16_t port = 0;

	for (size_t i = 0; p && !port && i < g->n_ports; i++) {
		const struct ep_port *ep = &g->ports[i];

		if (!strcmp(ep->name, p->name) && ep->proto == p->proto &&
		    ep->port.set && !ep->port.bad_type && ep->port.v > 0)
			port = (uint16_t)ep->port.v;
	}
	if (p && !port)
		return;
	for (size_t i = 0; i < g->n_eps; i++) {
		const struct endpoint *e = &g->eps[i];

		if (!e->ip.family || !(e->ready || s->publish_not_ready))
			continue;
		*v = grow(*v, cap, *n, sizeof(**v));
		(*v)[(*n)++] = (struct hep){ e->ip, e->hostname, port };
	}
}

/* The ready endpoints of S (P NULL: one per IP; else one per IP and endpoint
 * port of P), from its EndpointSlices if it has any, else its Endpoints,
 * as endpoints.c chooses.  Sorted by IP; the caller frees *OUT. */
static size_t ready_endpoints(const struct svcnft_model *m, const struct svc *s,
			      const struct svc_port *p, struct hep **out)
{
	size_t first = first_source(m, s), n = 0, cap = 0, w = 0;
	struct hep *v = NULL;
	bool slices = false;

	for (size_t i = first; i < m->n_eps && !src_key_cmp(&m->eps[i], s); i++)
		slices |= m->eps[i].kind == EP_SLICE;
	for (size_t i = first; i < m->n_eps && !src_key_cmp(&m->eps[i], s); i++) {
		const struct ep_source *e = &m->eps[i];

		if (e->invalid || (e->kind == EP_SLICE) != slices)
			continue;
		for (size_t g = 0; g < e->n_groups; g++)
			add_group(&e->groups[g], s, p, &v, &n, &cap);
	}
	if (n)
		qsort(v, n, sizeof(*v), hep_cmp);
	for (size_t i = 0; i < n; i++)
		if (!w || hep_ip_cmp(&v[w - 1], &v[i]) || v[w - 1].port != v[i].port)
			v[w++] = v[i];
	*out = v;
	return w;
}

/* <hostname or dashed IP>.<svc>.<ns>.svc.<zone>. */
static void ep_fqdn(const struct hep *h, const char *fq, char *buf, size_t len)
{
	char dashed[INET6_ADDRSTRLEN + 2];

	if (!h->hostname)
		disc_dashed_ip(&h->ip, dashed, sizeof(dashed));
	snprintf(buf, len, "%s.%s", h->hostname ? h->hostname : dashed, fq);
}

static void headless_srv(struct dctx *d, const struct svcnft_model *m,
			 const struct svc_port *p, const struct hep *a,
			 size_t na, const char *fq)
{
	char owner[NAME_LEN], target[NAME_LEN];
	struct hep *b;
	size_t nb = ready_endpoints(m, d->s, p, &b);

	snprintf(owner, sizeof(owner), "_%s._%s.%s", p->name, proto_name(p->proto), fq);
	for (size_t i = 0; i < nb; i++) {
		const struct hep *h = bsearch(&b[i], a, na, sizeof(*a), hep_ip_cmp);

		ep_fqdn(h ? h : &b[i], fq, target, sizeof(target));
		put_srv(d, owner, b[i].port, target);
	}
	free(b);
}

static void dns_headless(struct dctx *d, const struct svcnft_model *m,
			 const struct svc *s, const char *fq)
{
	char name[NAME_LEN];
	struct hep *a;
	size_t na = ready_endpoints(m, s, NULL, &a);

	if (!na)
		note(d, "headless, no ready endpoints: no records");
	for (size_t i = 0; i < na; i++)
		put_addr(d, fq, &a[i].ip, false);
	for (size_t i = 0; i < na; i++) {
		ep_fqdn(&a[i], fq, name, sizeof(name));
		put_addr(d, name, &a[i].ip, true);
	}
	for (size_t i = 0; na && i < s->n_ports; i++)
		if (*s->ports[i].name)
			headless_srv(d, m, &s->ports[i], a, na, fq);
	free(a);
}

static void dns_service(struct dctx *d, const struct svcnft_model *m,
			const struct svc *s)
{
	char fq[FQ_LEN];

	if (s->invalid)
		return;
	d->s = s;
	d->said = false;
	d->o.file = s->file;
	d->o.ns = s->ns;
	d->o.name = s->name;
	snprintf(fq, sizeof(fq), "%s.%s.svc.%s.", s->name, s->ns, d->zone);
	if (s->type == SVC_EXTERNAL_NAME)
		dns_external(d, s, fq);
	else if (s->headless)
		dns_headless(d, m, s, fq);
	else if (s->n_vip)
		dns_cluster_ip(d, s, fq);
	else
		note(d, "no cluster IP allocated: no records");
}

/* ns.dns.<zone>: the kube-dns service's cluster IPs, as CoreDNS answers. */
static void dns_ns_addrs(struct dctx *d, const struct svcnft_model *m)
{
	char a[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < m->n_svcs; i++) {
		const struct svc *s = &m->svcs[i];

		if (strcmp(s->ns, "kube-system") || strcmp(s->name, "kube-dns") ||
		    !has_cluster_ip(s))
			continue;
		for (size_t j = 0; j < s->n_vip; j++) {
			disc_format_ip(&s->vip[j], a, sizeof(a));
			buf_printf(d->out, "ns.dns.%s.\tIN\t%s\t%s\n", d->zone,
				   s->vip[j].family == AF_INET ? "A" : "AAAA", a);
		}
		return;
	}
	buf_printf(d->out, "; no kube-system/kube-dns service: the name server is taken to be local\n"
		   "ns.dns.%s.\tIN\tA\t127.0.0.1\n", d->zone);
}

static void dns_head(struct dctx *d, const struct svcnft_model *m)
{
	const struct svcnft_dns_config *c = d->cfg;
	bool ptr = c->output == SVCNFT_DNS_PTR;
	const char *origin = ptr ? "arpa" : d->zone;

	if (c->output == SVCNFT_DNS_HOSTS) {
		buf_printf(d->out, "# svcnft dns --hosts: address records of zone %s\n", d->zone);
		return;
	}
	if (ptr)
		buf_printf(d->out, "; svcnft dns --ptr: reverse records (in-addr.arpa, ip6.arpa) of zone %s\n",
			   d->zone);
	else
		buf_printf(d->out, "; svcnft dns: zone %s, Kubernetes DNS-based service discovery 1.1.0\n",
			   d->zone);
	buf_printf(d->out, "$ORIGIN %s.\n$TTL %u\n", origin, c->ttl);
	buf_printf(d->out, "%s.\tIN\tSOA\tns.dns.%s. hostmaster.%s. %u 7200 1800 86400 %u\n",
		   origin, d->zone, d->zone, c->serial, c->ttl);
	buf_printf(d->out, "%s.\tIN\tNS\tns.dns.%s.\n", origin, d->zone);
	if (ptr)
		return;
	dns_ns_addrs(d, m);
	buf_printf(d->out, "dns-version.%s.\tIN\tTXT\t\"1.1.0\"\n", d->zone);
}

bool svcnft_render_dns(const struct svcnft_model *m,
		       const struct svcnft_dns_config *cfg,
		       struct svcnft_buf *out, struct svcnft_errors *errs)
{
	struct dctx d = { .cfg = cfg, .out = out, .o.errs = errs, .o.kind = "Service" };
	size_t n = strlen(cfg->zone);

	if (n && cfg->zone[n - 1] == '.')
		n--;
	if (svcnft_dns_zone_check(cfg->zone))
		return false;
	memcpy(d.zone, cfg->zone, n);
	d.zone[n] = '\0';
	dns_head(&d, m);
	for (size_t i = 0; i < m->n_svcs; i++)
		dns_service(&d, m, &m->svcs[i]);
	return true;
}
