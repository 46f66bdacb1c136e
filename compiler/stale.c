/* stale: the UDP/SCTP service ports whose conntrack entries to check, and
 * the endpoints that serve each now (see stale.h). */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "stale.h"
#include "util.h"

static int key_cmp(const void *x, const void *y)
{
	const struct stale_key *a = x, *b = y;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->nodeport != b->nodeport)
		return a->nodeport ? 1 : -1;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return ipaddr_cmp(&a->vip, &b->vip);
}

static int ep_cmp(const void *x, const void *y)
{
	const struct stale_ep *a = x, *b = y;
	int r = ipaddr_cmp(&a->ip, &b->ip);

	return r ? r : (a->port > b->port) - (a->port < b->port);
}

static void add_key(struct stale_set *s, const struct stale_key *k)
{
	s->k = grow(s->k, &s->cap, s->n, sizeof(*s->k));
	s->k[s->n++] = *k;
}

static enum proto proto_of(uint8_t num)
{
	return num == IPPROTO_TCP ? PROTO_TCP : num == IPPROTO_UDP ? PROTO_UDP :
	       num == IPPROTO_SCTP ? PROTO_SCTP : PROTO_INVALID;
}

/* The service port of element R of a service set (its key's address,
 * protocol and port; the node-port sets' keys start at the protocol). */
static bool record_key(const struct el_record *r, int family, struct stale_key *k)
{
	const char *key = "apn", *data;
	size_t alen = family == AF_INET6 ? 16 : 4, off;

	el_form(r->set, &key, &data);	/* firewall-allow: none, "apn" */
	memset(k, 0, sizeof(*k));
	k->family = family;
	k->nodeport = key[0] == 'p';
	off = k->nodeport ? 0 : alen;
	if (r->klen < off + 8 || key[1] != (k->nodeport ? 'n' : 'p'))
		return false;
	k->proto = proto_of(r->key[off]);
	k->port = (uint16_t)(r->key[off + 4] << 8 | r->key[off + 5]);
	k->vip.family = family;
	if (!k->nodeport)
		memcpy(k->vip.a, r->key, alen);
	else
		memset(&k->vip, 0, sizeof(k->vip));
	return stale_proto(k->proto) && k->port;
}

/* Cluster IPs added or removed: every port of theirs is touched (a port
 * without endpoints has no element of its own, only the reject check). */
struct vips {
	struct ipaddr *v;
	size_t n, cap;
};

/* The keys of the elements set change SC adds or removes. */
static void keys_of_change(struct stale_set *s, const struct set_change *sc,
			   struct vips *vips)
{
	size_t len = strlen(sc->name);
	int family = sc->name[len - 1] == '6' ? AF_INET6 : AF_INET;
	bool cluster_ips = !strncmp(sc->name, "cluster-ips", 11);
	struct el_record r;
	struct stale_key k;
	struct ipaddr a = { .family = family };

	if (!el_service_set(sc->name))
		return;
	for (size_t i = 0; i < sc->n_del + sc->n_add; i++) {
		item_unpack(i < sc->n_del ? sc->del[i] : sc->add[i - sc->n_del], &r);
		if (cluster_ips && r.klen == (family == AF_INET6 ? 16u : 4u)) {
			memcpy(a.a, r.key, r.klen);
			vips->v = grow(vips->v, &vips->cap, vips->n, sizeof(a));
			vips->v[vips->n++] = a;
		} else if (!cluster_ips && record_key(&r, family, &k)) {
			add_key(s, &k);
		}
	}
}

static bool has_vip(const struct vips *vips, const struct ipaddr *a)
{
	for (size_t i = 0; i < vips->n; i++)
		if (!ipaddr_cmp(&vips->v[i], a))
			return true;
	return false;
}

static void key_of_entry(const struct plan_entry *e, int family,
			 struct stale_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = family;
	k->nodeport = plan_views[e->view].nodeport;
	k->proto = e->proto;
	k->port = e->port;
	if (!k->nodeport)
		k->vip = e->vip;
}

static void sort_unique(struct stale_set *s)
{
	size_t n = 0;

	if (s->n)
		qsort(s->k, s->n, sizeof(*s->k), key_cmp);
	for (size_t i = 0; i < s->n; i++)
		if (!n || key_cmp(&s->k[n - 1], &s->k[i]))
			s->k[n++] = s->k[i];
	s->n = n;
}

static void add_endpoints(struct stale_key *k, const struct plan_entry *e)
{
	k->exists = true;
	for (size_t i = 0; i < e->n; i++) {
		k->ok = grow(k->ok, &k->cap_ok, k->n_ok, sizeof(*k->ok));
		k->ok[k->n_ok++] = (struct stale_ep){ e->backends[i].ip,
						      e->backends[i].port };
	}
}

static void unique_endpoints(struct stale_key *k)
{
	size_t n = 0;

	if (k->n_ok)
		qsort(k->ok, k->n_ok, sizeof(*k->ok), ep_cmp);
	for (size_t i = 0; i < k->n_ok; i++)
		if (!n || ep_cmp(&k->ok[n - 1], &k->ok[i]))
			k->ok[n++] = k->ok[i];
	k->n_ok = n;
}

void stale_build(struct stale_set *s, const struct plan *p,
		 const struct changes *c, bool all)
{
	struct stale_key k, *hit;
	struct vips vips = { 0 };

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; c && i < c->n_sets; i++)
		keys_of_change(s, &c->sets[i], &vips);
	for (int f = 0; f < 2; f++) {
		const struct plan_family *pf = &p->fam[f];

		s->np[f] = pf->np_cidrs;
		s->n_np[f] = pf->n_np_cidrs;
		for (size_t i = 0; (all || vips.n) && i < pf->n_e; i++)
			if (stale_proto(pf->e[i].proto) &&
			    (all || has_vip(&vips, &pf->e[i].vip))) {
				key_of_entry(&pf->e[i], pf->family, &k);
				add_key(s, &k);
			}
	}
	free(vips.v);
	sort_unique(s);
	for (int f = 0; f < 2; f++) {
		const struct plan_family *pf = &p->fam[f];

		for (size_t i = 0; s->n && i < pf->n_e; i++) {
			if (!stale_proto(pf->e[i].proto))
				continue;
			key_of_entry(&pf->e[i], pf->family, &k);
			hit = bsearch(&k, s->k, s->n, sizeof(*s->k), key_cmp);
			if (hit)
				add_endpoints(hit, &pf->e[i]);
		}
	}
	for (size_t i = 0; i < s->n; i++)
		unique_endpoints(&s->k[i]);
}

void stale_free(struct stale_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->k[i].ok);
	free(s->k);
	memset(s, 0, sizeof(*s));
}

static bool loopback(const struct ipaddr *a)
{
	static const uint8_t one6[16] = { [15] = 1 };

	return a->family == AF_INET ? a->a[0] == 127 : !memcmp(a->a, one6, 16);
}

/* Whether node ports answer on local address A (--nodeport-addresses). */
static bool nodeport_addr(const struct stale_set *s, const struct ipaddr *a)
{
	int f = a->family == AF_INET6;

	if (loopback(a))
		return false;
	for (size_t i = 0; i < s->n_np[f]; i++)
		if (cidr_contains(&s->np[f][i], a))
			return true;
	return false;
}

const struct stale_key *stale_find(const struct stale_set *s, enum proto proto,
				   const struct ipaddr *dst, uint16_t dport,
				   bool local)
{
	struct stale_key k = { .family = dst->family, .proto = proto,
			       .port = dport, .vip = *dst };
	const struct stale_key *hit;

	if (!s->n)
		return NULL;
	hit = bsearch(&k, s->k, s->n, sizeof(*s->k), key_cmp);
	if (hit || !local || !nodeport_addr(s, dst))
		return hit;
	k.nodeport = true;
	memset(&k.vip, 0, sizeof(k.vip));
	return bsearch(&k, s->k, s->n, sizeof(*s->k), key_cmp);
}

bool stale_entry(const struct stale_key *k, const struct ipaddr *dst,
		 uint16_t dport, const struct ipaddr *rsrc, uint16_t rport)
{
	struct stale_ep ep = { *rsrc, rport };

	if (!ipaddr_cmp(dst, rsrc) && dport == rport)
		return k->exists;	/* never DNATed */
	return !k->n_ok || !bsearch(&ep, k->ok, k->n_ok, sizeof(*k->ok), ep_cmp);
}
