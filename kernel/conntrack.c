/* conntrack: filtered ctnetlink dumps of the service ports' entries and
 * deletes of the stale ones (see conntrack.h). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "conntrack.h"
#include "monotime.h"
#include "netlink.h"
#include "stale.h"
#include "util.h"

/* CTA_FILTER_ORIG_FLAGS bits: the kernel's net/netfilter/nf_internals.h
 * (since 5.10), not in the UAPI headers. */
#define FILTER_IP_DST (1u << 1)
#define FILTER_PROTO_NUM (1u << 3)
#define FILTER_PROTO_DST_PORT (1u << 5)

struct tuple {
	struct ipaddr src, dst;
	uint8_t proto;
	uint16_t sport, dport;		/* host order */
};

/* An entry to delete: its original tuple, id and zone. */
struct victim {
	struct tuple orig;
	uint32_t id;			/* network order, as dumped */
	uint16_t zone;			/* network order */
	bool has_id, has_zone;
};

struct dump_q {
	const struct stale_set *s;
	const struct stale_key *key;	/* of a per-port dump, or NULL */
	enum proto proto;
	const struct ipaddr *local;	/* this node's addresses */
	size_t n_local;
	struct victim *v;
	size_t n_v, cap_v;
};

static uint8_t ipproto(enum proto p)
{
	return p == PROTO_SCTP ? IPPROTO_SCTP : IPPROTO_UDP;
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* This node's addresses (node ports answer on them); none on failure. */
static size_t local_addrs(struct ipaddr **out)
{
	struct ifaddrs *ifa, *i;
	size_t n = 0, cap = 0;

	*out = NULL;
	if (getifaddrs(&ifa) < 0)
		return 0;
	for (i = ifa; i; i = i->ifa_next) {
		const struct sockaddr *sa = i->ifa_addr;
		struct ipaddr a = { 0 };

		if (!sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
			continue;
		a.family = sa->sa_family;
		if (a.family == AF_INET)
			memcpy(a.a, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		else
			memcpy(a.a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		*out = grow(*out, &cap, n, sizeof(**out));
		(*out)[n++] = a;
	}
	freeifaddrs(ifa);
	return n;
}

static bool is_local(const struct dump_q *q, const struct ipaddr *a)
{
	for (size_t i = 0; i < q->n_local; i++)
		if (!ipaddr_cmp(&q->local[i], a))
			return true;
	return false;
}

/* Request headers and tuples. */

/* Tuple T as attribute CTA_TUPLE_ORIG: the addresses that are set, the
 * protocol, the ports that are not 0. */
static void put_tuple(struct nlmsghdr *h, const struct tuple *t)
{
	struct nlattr *tup = mnl_attr_nest_start(h, CTA_TUPLE_ORIG);
	struct nlattr *n = mnl_attr_nest_start(h, CTA_TUPLE_IP);
	bool v4 = (t->dst.family ? t->dst.family : t->src.family) == AF_INET;

	if (t->src.family)
		mnl_attr_put(h, v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC,
			     addr_len(t->src.family), t->src.a);
	if (t->dst.family)
		mnl_attr_put(h, v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST,
			     addr_len(t->dst.family), t->dst.a);
	mnl_attr_nest_end(h, n);
	n = mnl_attr_nest_start(h, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(h, CTA_PROTO_NUM, t->proto);
	if (t->sport)
		mnl_attr_put_u16(h, CTA_PROTO_SRC_PORT, htons(t->sport));
	if (t->dport)
		mnl_attr_put_u16(h, CTA_PROTO_DST_PORT, htons(t->dport));
	mnl_attr_nest_end(h, n);
	mnl_attr_nest_end(h, tup);
}

/* Dumped entries. */

static void get_addr(const struct nl_attrs *ip, int v4, int v6,
		     struct ipaddr *a)
{
	memset(a, 0, sizeof(*a));
	if (ip->a[v4] && mnl_attr_get_payload_len(ip->a[v4]) == 4) {
		a->family = AF_INET;
		memcpy(a->a, mnl_attr_get_payload(ip->a[v4]), 4);
	} else if (ip->a[v6] && mnl_attr_get_payload_len(ip->a[v6]) == 16) {
		a->family = AF_INET6;
		memcpy(a->a, mnl_attr_get_payload(ip->a[v6]), 16);
	}
}

static uint16_t get_port(const struct nl_attrs *p, int type)
{
	return p->a[type] ? ntohs(mnl_attr_get_u16(p->a[type])) : 0;
}

static bool get_tuple(const struct nlattr *a, struct tuple *t)
{
	struct nl_attrs tup, ip, proto;

	nl_parse_nested(a, &tup);
	nl_parse_nested(tup.a[CTA_TUPLE_IP], &ip);
	nl_parse_nested(tup.a[CTA_TUPLE_PROTO], &proto);
	get_addr(&ip, CTA_IP_V4_SRC, CTA_IP_V6_SRC, &t->src);
	get_addr(&ip, CTA_IP_V4_DST, CTA_IP_V6_DST, &t->dst);
	if (!t->src.family || !t->dst.family || !proto.a[CTA_PROTO_NUM])
		return false;
	t->proto = mnl_attr_get_u8(proto.a[CTA_PROTO_NUM]);
	t->sport = get_port(&proto, CTA_PROTO_SRC_PORT);
	t->dport = get_port(&proto, CTA_PROTO_DST_PORT);
	return true;
}

static int entry_cb(const struct nlmsghdr *h, void *data)
{
	struct dump_q *q = data;
	struct nl_attrs t;
	struct tuple o, r;
	const struct stale_key *k;
	struct victim *v;

	nl_parse(h, &t);
	if (!get_tuple(t.a[CTA_TUPLE_ORIG], &o) || !get_tuple(t.a[CTA_TUPLE_REPLY], &r) ||
	    o.proto != ipproto(q->proto))
		return MNL_CB_OK;
	k = stale_find(q->s, q->proto, &o.dst, o.dport, is_local(q, &o.dst));
	if (!k || (q->key && k != q->key) ||
	    !stale_entry(k, &o.dst, o.dport, &r.src, r.sport))
		return MNL_CB_OK;
	q->v = grow(q->v, &q->cap_v, q->n_v, sizeof(*q->v));
	v = memset(&q->v[q->n_v++], 0, sizeof(*v));
	v->orig = o;
	if ((v->has_id = t.a[CTA_ID] != NULL))
		v->id = mnl_attr_get_u32(t.a[CTA_ID]);
	if ((v->has_zone = t.a[CTA_ZONE] != NULL))
		v->zone = mnl_attr_get_u16(t.a[CTA_ZONE]);
	return MNL_CB_OK;
}

/* One dump of FAMILY's entries of protocol Q->proto, filtered in the kernel
 * on Q->key's destination (address unless a node port, and port) or, with
 * no key, on the protocol alone. */
static int dump(struct nl *nl, int family, struct dump_q *q)
{
	struct nlmsghdr *h = nl_msg(nl, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_GET,
				    NLM_F_DUMP, (uint8_t)family);
	struct tuple f = { .proto = ipproto(q->proto) };
	uint32_t flags = FILTER_PROTO_NUM;
	struct nlattr *n;

	if (q->key) {
		f.dport = q->key->port;
		flags |= FILTER_PROTO_DST_PORT;
		if (!q->key->nodeport) {
			f.dst = q->key->vip;
			flags |= FILTER_IP_DST;
		}
	}
	put_tuple(h, &f);
	n = mnl_attr_nest_start(h, CTA_FILTER);
	mnl_attr_put_u32(h, CTA_FILTER_ORIG_FLAGS, flags);
	mnl_attr_put_u32(h, CTA_FILTER_REPLY_FLAGS, 0);
	mnl_attr_nest_end(h, n);
	return nl_run(nl, h, entry_cb, q);
}

/* Delete V unless it is gone already: 1 deleted, 0 gone, -errno. */
static int delete_one(struct nl *nl, const struct victim *v)
{
	struct nlmsghdr *h = nl_msg(nl, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_DELETE,
				    NLM_F_ACK, (uint8_t)v->orig.dst.family);
	int ret;

	put_tuple(h, &v->orig);
	if (v->has_id)
		mnl_attr_put_u32(h, CTA_ID, v->id);
	if (v->has_zone)
		mnl_attr_put_u16(h, CTA_ZONE, v->zone);
	ret = nl_run(nl, h, NULL, NULL);
	return ret == -ENOENT ? 0 : ret ? ret : 1;
}

static void fail(struct conntrack_result *r, int err)
{
	if (!r->err)
		r->err = err;
}

static void run_dump(struct nl *nl, int family, struct dump_q *q,
		     const struct stale_key *k, struct conntrack_result *r)
{
	int ret;

	q->key = k;
	r->dumps++;
	if ((ret = dump(nl, family, q))) {
		r->unchecked = true;
		fail(r, ret);
	}
}

/* Per-port dumps, or one for all when FAMILY's keys of protocol Q->proto
 * are more than CONNTRACK_PORT_DUMPS (SVCNFT_CT_PORT_DUMPS overrides). */
static void dump_group(struct nl *nl, int family, struct dump_q *q,
		       struct conntrack_result *r)
{
	const char *env = getenv("SVCNFT_CT_PORT_DUMPS");
	size_t max = env ? (size_t)atol(env) : CONNTRACK_PORT_DUMPS, n = 0;

	for (size_t i = 0; i < q->s->n; i++)
		n += q->s->k[i].family == family && q->s->k[i].proto == q->proto;
	if (n > max) {
		run_dump(nl, family, q, NULL, r);
		return;
	}
	for (size_t i = 0; i < q->s->n; i++)
		if (q->s->k[i].family == family && q->s->k[i].proto == q->proto)
			run_dump(nl, family, q, &q->s->k[i], r);
}

void conntrack_clean(const struct stale_set *s, bool dry_run,
		     struct conntrack_result *r)
{
	static const int families[] = { AF_INET, AF_INET6 };
	static const enum proto protos[] = { PROTO_UDP, PROTO_SCTP };
	struct dump_q q = { .s = s };
	struct ipaddr *local = NULL;
	struct nl nl = { 0 };
	double t0 = mono_ms();
	int ret;

	memset(r, 0, sizeof(*r));
	r->keys = s->n;
	if (!s->n)
		return;
	if ((ret = nl_open(&nl))) {
		r->unchecked = true;
		fail(r, ret);
		nl_close(&nl);
		return;
	}
	q.n_local = local_addrs(&local);
	q.local = local;
	for (size_t f = 0; f < ARRAY_SIZE(families); f++)
		for (size_t p = 0; p < ARRAY_SIZE(protos); p++) {
			q.proto = protos[p];
			dump_group(&nl, families[f], &q, r);
		}
	for (size_t i = 0; i < q.n_v; i++) {
		ret = dry_run ? 1 : delete_one(&nl, &q.v[i]);
		if (ret > 0)
			r->deleted++;
		else if (ret < 0) {
			r->failed++;
			fail(r, ret);
		}
	}
	free(q.v);
	free(local);
	nl_close(&nl);
	r->ms = mono_ms() - t0;
}
