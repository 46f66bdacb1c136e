/* model: ownership of the parsed objects, addresses, and the endpoint rules
 * that turn endpoint sources into the backends of one service port. */
#include <arpa/inet.h>
#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "model.h"
#include "util.h"

struct svcnft_model *svcnft_model_new(void)
{
	return xcalloc(1, sizeof(struct svcnft_model));
}

void model_svc_free(struct svc *s)
{
	for (size_t i = 0; i < s->n_ports; i++) {
		free(s->ports[i].name);
		free(s->ports[i].protocol);
		free(s->ports[i].target_name);
	}
	for (size_t i = 0; i < s->n_cluster_ips; i++)
		free(s->cluster_ips[i]);
	free(s->cluster_ips);
	for (size_t i = 0; i < s->n_ip_families; i++)
		free(s->ip_families[i]);
	free(s->ip_families);
	free(s->ip_family_policy);
	free(s->ports);
	free(s->file);
	free(s->ns);
	free(s->name);
	free(s->type_raw);
	free(s->cluster_ip);
	free(s->affinity_raw);
	free(s->external_name);
	for (size_t i = 0; i < s->n_ext; i++) {
		free(s->ext[i].raw);
		free(s->ext[i].mode);
		free(s->ext[i].ignored);
	}
	free(s->ext);
	for (size_t i = 0; i < s->n_ranges_raw; i++)
		free(s->ranges_raw[i]);
	free(s->ranges_raw);
	free(s->ranges_annotation);
	free(s->ranges);
	free(s->etp_raw);
	free(s->itp_raw);
	free(s->traffic_dist);
}

static void strings_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void group_free(struct ep_group *g)
{
	for (size_t i = 0; i < g->n_eps; i++) {
		free(g->eps[i].ip_raw);
		free(g->eps[i].hostname);
		free(g->eps[i].node_name);
		strings_free(g->eps[i].zone_hints, g->eps[i].n_zone_hints);
		strings_free(g->eps[i].node_hints, g->eps[i].n_node_hints);
	}
	for (size_t i = 0; i < g->n_ports; i++) {
		free(g->ports[i].name);
		free(g->ports[i].protocol);
	}
	free(g->eps);
	free(g->ports);
}

void model_source_free(struct ep_source *e)
{
	for (size_t i = 0; i < e->n_groups; i++)
		group_free(&e->groups[i]);
	free(e->groups);
	free(e->file);
	free(e->ns);
	free(e->name);
	free(e->service);
	free(e->address_type);
}

void model_cidr_free(struct svc_cidr_obj *c)
{
	free(c->file);
	free(c->name);
	strings_free(c->raw, c->n_raw);
}

void svcnft_model_free(struct svcnft_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_svcs; i++)
		model_svc_free(&m->svcs[i]);
	for (size_t i = 0; i < m->n_eps; i++)
		model_source_free(&m->eps[i]);
	for (size_t i = 0; i < m->n_svc_cidrs; i++)
		model_cidr_free(&m->svc_cidrs[i]);
	free(m->svcs);
	free(m->eps);
	free(m->svc_cidrs);
	free(m);
}

void svcnft_model_require_services(const struct svcnft_model *m,
				   char *const *paths, int n_paths,
				   struct svcnft_errors *errs)
{
	struct svcnft_buf b = {0};

	if (m->n_svcs)
		return;
	for (int i = 0; i < n_paths; i++)
		buf_printf(&b, "%s%s", i ? " " : "", strcmp(paths[i], "-") ? paths[i] : "<stdin>");
	errs_add(errs, SVCNFT_EUSAGE, "%s: the snapshot holds no Service; nothing changed "
		 "(--allow-empty if an empty cluster is meant)", b.data ? b.data : "");
	svcnft_buf_free(&b);
}

bool svc_has_rules(const struct svc *s)
{
	return !s->invalid && !s->headless && s->type != SVC_EXTERNAL_NAME && s->n_vip;
}

bool svc_has_family(const struct svc *s, int family)
{
	for (size_t i = 0; i < s->n_vip; i++)
		if (s->vip[i].family == family)
			return true;
	return false;
}

static int svc_cmp(const void *a, const void *b)
{
	const struct svc *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);

	if (!c)
		c = strcmp(x->name, y->name);
	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* Sources sort by namespace, owning service, then kind and name. */
static int src_cmp(const void *a, const void *b)
{
	const struct ep_source *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);

	if (!c)
		c = strcmp(x->service, y->service);
	if (!c)
		c = (int)x->kind - (int)y->kind;
	if (!c)
		c = strcmp(x->name, y->name);
	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

void model_sort(struct svcnft_model *m)
{
	if (m->sorted)
		return;
	if (m->n_svcs)
		qsort(m->svcs, m->n_svcs, sizeof(*m->svcs), svc_cmp);
	if (m->n_eps)
		qsort(m->eps, m->n_eps, sizeof(*m->eps), src_cmp);
	m->sorted = true;
}

size_t cidrs_minimize(struct svcnft_cidr *v, size_t n)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++) {
		const struct svcnft_cidr *c = &v[i];
		struct ipaddr a = { .family = c->family };
		bool covered = false;

		memcpy(a.a, c->addr, 16);
		for (size_t j = 0; j < n && !covered; j++) {
			const struct svcnft_cidr *d = &v[j];

			covered = j != i && d->family == c->family &&
				  cidr_contains(d, &a) &&
				  (d->plen < c->plen || (d->plen == c->plen && j < i));
		}
		if (!covered)
			v[w++] = *c;
	}
	return w;
}

static int cidr_cmp(const void *a, const void *b)
{
	const struct svcnft_cidr *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(x->addr, y->addr, sizeof(x->addr));
	return c ? c : (x->plen > y->plen) - (x->plen < y->plen);
}

size_t model_service_cidrs(const struct svcnft_model *m,
			   const struct svcnft_config *cfg,
			   struct svcnft_cidr **out)
{
	size_t n = cfg->n_service_cidrs;

	for (size_t i = 0; i < m->n_svc_cidrs; i++)
		n += m->svc_cidrs[i].invalid ? 0 : m->svc_cidrs[i].n_cidrs;
	*out = xcalloc(n + 1, sizeof(**out));
	n = cfg->n_service_cidrs;
	if (n)
		memcpy(*out, cfg->service_cidrs, n * sizeof(**out));
	for (size_t i = 0; i < m->n_svc_cidrs; i++)
		for (size_t j = 0; !m->svc_cidrs[i].invalid && j < m->svc_cidrs[i].n_cidrs; j++)
			(*out)[n++] = m->svc_cidrs[i].cidrs[j];
	if (n)
		qsort(*out, n, sizeof(**out), cidr_cmp);
	return cidrs_minimize(*out, n);
}

const char *proto_name(enum proto p)
{
	static const char *const n[] = { "tcp", "udp", "sctp", "invalid" };

	return n[p];
}

const char *proto_upper(enum proto p)
{
	static const char *const n[] = { "TCP", "UDP", "SCTP", "INVALID" };

	return n[p];
}

enum proto proto_parse(const char *s)
{
	if (!s || !*s || !strcmp(s, "TCP"))	/* "" is defaulted to TCP */
		return PROTO_TCP;
	if (!strcmp(s, "UDP"))
		return PROTO_UDP;
	if (!strcmp(s, "SCTP"))
		return PROTO_SCTP;
	return PROTO_INVALID;
}

bool ipaddr_parse(const char *s, struct ipaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (!s)
		return false;
	if (inet_pton(AF_INET, s, out->a) == 1) {
		out->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, out->a) == 1) {
		out->family = AF_INET6;
		return true;
	}
	return false;
}

void ipaddr_format(const struct ipaddr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, a->a, buf, (socklen_t)len) && len)
		buf[0] = '\0';
}

/* memcmp's order, as two big-endian words: no call (the sorts of a
 * plan's 100k hairpin addresses spend most of their time here). */
int ipaddr_cmp(const struct ipaddr *a, const struct ipaddr *b)
{
	uint64_t x, y;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	for (int i = 0; i < 16; i += 8) {
		memcpy(&x, a->a + i, 8);
		memcpy(&y, b->a + i, 8);
		if (x != y)
			return be64toh(x) < be64toh(y) ? -1 : 1;
	}
	return 0;
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

bool cidr_contains(const struct svcnft_cidr *c, const struct ipaddr *a)
{
	unsigned int bits = c->plen;
	size_t i;

	if (c->family != a->family)
		return false;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (c->addr[i] != a->a[i])
			return false;
	if (bits) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits));

		if ((c->addr[i] & mask) != (a->a[i] & mask))
			return false;
	}
	return true;
}

const struct svcnft_node_addr *node_addr_in(const struct svcnft_cidr *c,
					    const struct svcnft_config *cfg)
{
	for (size_t i = 0; i < cfg->n_node_addrs; i++) {
		struct ipaddr a = { .family = cfg->node_addrs[i].family };

		memcpy(a.a, cfg->node_addrs[i].addr, sizeof(a.a));
		if (cidr_contains(c, &a))
			return &cfg->node_addrs[i];
	}
	return NULL;
}

void node_addr_refusal(struct svcnft_buf *b, const struct svcnft_node_addr *a)
{
	struct ipaddr x = { .family = a->family };
	char s[64];

	memcpy(x.a, a->addr, sizeof(x.a));
	ipaddr_format(&x, s, sizeof(s));
	buf_printf(b, "contains this node's address %s (interface ", s);
	buf_go_quoted(b, a->ifname);
	buf_puts(b, "); new connections to unallocated service addresses are dropped, so the node's own traffic would be too");
}

/* "addr/len"; with STRICT, host bits must be zero, otherwise they are
 * cleared (Go's net.ParseCIDR keeps only the network). */
static bool cidr_parse(const char *s, struct svcnft_cidr *out, bool strict)
{
	char ip[64], *end;
	const char *slash = strchr(s, '/');
	struct ipaddr a;
	unsigned long plen;
	size_t n = slash ? (size_t)(slash - s) : 0;

	if (!slash || n >= sizeof(ip) || slash[1] < '0' || slash[1] > '9')
		return false;
	memcpy(ip, s, n);
	ip[n] = '\0';
	plen = strtoul(slash + 1, &end, 10);
	if (*end || !ipaddr_parse(ip, &a) || plen > addr_len(a.family) * 8)
		return false;
	memset(out, 0, sizeof(*out));
	out->family = a.family;
	out->plen = (unsigned int)plen;
	memcpy(out->addr, a.a, 16);
	for (size_t bit = plen; bit < addr_len(a.family) * 8; bit++)
		if (out->addr[bit / 8] & (0x80 >> (bit % 8))) {
			if (strict)
				return false;
			out->addr[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
		}
	return true;
}

bool svcnft_cidr_parse(const char *s, struct svcnft_cidr *out)
{
	return cidr_parse(s, out, true);
}

bool cidr_parse_masked(const char *s, struct svcnft_cidr *out)
{
	return cidr_parse(s, out, false);
}

bool svcnft_table_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 64 || !((name[0] | 0x20) >= 'a' && (name[0] | 0x20) <= 'z'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}
