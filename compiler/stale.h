/* stale: which UDP and SCTP conntrack entries no longer match the ruleset.
 *
 * A conntrack entry of a service port outlives its rule: while a client
 * keeps sending from the same source port, its packets keep the NAT
 * decision of the first one.  For every UDP/SCTP service port a key
 * (address . protocol . port, or protocol . node port) lists the endpoints
 * that serve it now, from the plan (the same data the ruleset holds); an
 * entry whose original destination is the key is stale when its reply
 * source is not one of them (stale_entry).  Pure: kernel/conntrack.c dumps
 * and deletes.  A stale_set owns its keys and their endpoint arrays;
 * stale_free releases them. */
#ifndef SVCNFT_STALE_H
#define SVCNFT_STALE_H

#include "changes.h"

struct stale_ep {
	struct ipaddr ip;
	uint16_t port;
};

struct stale_key {
	int family;			/* AF_INET or AF_INET6 */
	bool nodeport;			/* any local node-port address; no vip */
	enum proto proto;		/* PROTO_UDP or PROTO_SCTP */
	uint16_t port;
	struct ipaddr vip;		/* cluster, external or LB IP */
	bool exists;			/* the port has rules now (maybe reject) */
	struct stale_ep *ok;		/* its endpoints now, sorted, unique */
	size_t n_ok, cap_ok;
};

struct stale_set {
	struct stale_key *k;		/* sorted by stale_key_cmp */
	size_t n, cap;
	/* --nodeport-addresses per family ([0] IPv4): node-port entries
	 * count only with a destination inside (not loopback) */
	const struct svcnft_cidr *np[2];
	size_t n_np[2];
};

/* The keys the changes C (desired table P against the live one) touch:
 * every UDP/SCTP port with an element added or removed in a set of its
 * own (dispatch, backends, reject check, firewall), including ports that
 * are gone.  ALL adds every UDP/SCTP port of P (a full reconcile). */
void stale_build(struct stale_set *s, const struct plan *p,
		 const struct changes *c, bool all);
void stale_free(struct stale_set *s);

/* The key of an entry to DST:DPORT (family of DST, PROTO), or NULL: its
 * address first, then the node port when LOCAL says DST is one of this
 * node's addresses (node ports answer only there). */
const struct stale_key *stale_find(const struct stale_set *s, enum proto proto,
				   const struct ipaddr *dst, uint16_t dport,
				   bool local);

/* Whether an entry of key K, originally to DST:DPORT, whose replies come
 * from RSRC:RPORT, is stale: DNATed to an address that is not an endpoint
 * of K now, or never DNATed (created while the port had no rule) while it
 * has one now. */
bool stale_entry(const struct stale_key *k, const struct ipaddr *dst,
		 uint16_t dport, const struct ipaddr *rsrc, uint16_t rport);

/* Whether P is one of the protocols whose entries are checked. */
static inline bool stale_proto(enum proto p)
{
	return p == PROTO_UDP || p == PROTO_SCTP;
}

#endif
