/* lower: the model lowered to a plan, the ruleset independent of its text
 * or JSON form (lower.c).
 *
 * Layout (see docs/layout.md, "The ruleset (why it scales)"): a fixed set of chains; per address
 * family one verdict map dispatching VIP . protocol . port to a chain shared
 * by every service port with the same endpoint count N (and affinity
 * timeout T); backends in one map keyed by VIP . protocol . port . slot. */
#ifndef SVCNFT_LOWER_H
#define SVCNFT_LOWER_H

#include "model.h"

/* Ways into a service port; each has its own dispatch map and chains.
 * CLUSTER is the cluster IP (internalTrafficPolicy decides its backends),
 * EXTERNAL an external or load-balancer IP with every endpoint, NODEPORT a
 * node port with every endpoint.  With externalTrafficPolicy Local the
 * _LOCAL views hold this node's endpoints and are consulted first for
 * traffic from outside the pod network; the _SHORTCUT views then give pods
 * and the node itself every endpoint. */
enum plan_view {
	VIEW_CLUSTER,
	VIEW_EXTERNAL,
	VIEW_EXTERNAL_SHORTCUT,
	VIEW_EXTERNAL_LOCAL,
	VIEW_NODEPORT,
	VIEW_NODEPORT_SHORTCUT,
	VIEW_NODEPORT_LOCAL,
	PLAN_N_VIEWS
};

/* Which traffic of a view is marked for masquerade: externalTrafficPolicy
 * Cluster all of it (replies must come back through this node), the
 * shortcut of Local all but the pod network's, the local views none (the
 * client address is kept). */
enum plan_mark { MARK_NONE, MARK_ALL, MARK_NOT_POD };

struct plan_view_info {
	const char *prefix;	/* of its chain names */
	const char *slots;	/* of its affinity slot chains and maps */
	const char *map;	/* dispatch verdict map */
	const char *backends;	/* backend map */
	unsigned int offset;	/* its first slot number in the backend map */
	enum plan_mark mark;
	bool nodeport;		/* keyed by protocol . port alone */
};

/* Slot numbers of the local views: above any endpoint count. */
#define PLAN_LOCAL_SLOTS 16777216u

extern const struct plan_view_info plan_views[PLAN_N_VIEWS];

/* The fwmark bit of traffic to masquerade (kube-proxy's default too). */
#define PLAN_MASQ_MARK 0x4000u

struct plan_entry {
	enum plan_view view;
	struct ipaddr vip;		/* unset for node ports */
	enum proto proto;
	uint16_t port;			/* the node port for node-port views */
	bool reject;			/* no endpoint anywhere: reject */
	uint32_t affinity;		/* timeout in seconds, 0 = none */
	uint32_t aff_id;		/* affinity: its service port's id */
	bool aff_local;			/* offset 0 slots of the local list */
	struct backend *backends;	/* sorted; slot i is backends[i] */
	size_t n;
	const struct svc *svc;
	const struct svc_port *sp;
};

/* A chain shared by all entries with the same (n, affinity), and for
 * affinity also the same protocol (one affinity set per protocol).
 *
 * Affinity is per service port, whichever way in (as kube-proxy): the
 * affinity key is client . service-port id . slot.  nft 1.0.6 cannot put
 * a map lookup inside a concatenation, so the affinity chain looks the id
 * up into meta mark (map affinity-ids, keyed like the dispatch map) after
 * saving the packet's mark in map affinity-marks under its ct id; the
 * slot chain puts the mark back before the DNAT.  Entries of one service
 * port share an id, except a cluster IP with internalTrafficPolicy Local
 * (its slots 0.. index the local list, not every endpoint). */
struct plan_group {
	enum plan_view view;
	size_t n;
	uint32_t affinity;
	enum proto proto;		/* PROTO_TCP when !affinity */
};

/* Slot chains needed for one (protocol, timeout). */
struct plan_aff {
	enum plan_view view;		/* EXTERNAL uses CLUSTER's */
	enum proto proto;
	uint32_t timeout;
	size_t slots;
};

/* Sources allowed to reach one load-balancer IP . protocol . port. */
struct plan_fw {
	size_t e;			/* index of the EXTERNAL entry */
	const struct svcnft_cidr *ranges;	/* of the service, any family */
	size_t n_ranges;
};

struct plan_family {
	int family;
	const char *sfx;		/* "4" / "6" */
	const char *kw;			/* "ip" / "ip6" */
	const char *addr_type;		/* "ipv4_addr" / "ipv6_addr" */
	struct plan_entry *e;		/* every (view, address, port) */
	size_t n_e, cap_e;
	struct ipaddr *vips;		/* sorted, unique */
	size_t n_vips, cap_vips;
	struct ipaddr *hairpin;		/* endpoint IPs, sorted, unique */
	size_t n_hairpin, cap_hairpin;
	struct plan_group *groups;	/* sorted by affinity then n */
	size_t n_groups, cap_groups;
	/* backend slot chains 0..n-1 per plan_slot_view: the only rules
	 * that DNAT through a backend map */
	size_t backend_slots[PLAN_N_VIEWS];
	struct plan_aff *affs;		/* distinct (protocol, timeout) */
	size_t n_affs, cap_affs;
	size_t n_backends;		/* in backends */
	size_t n_np_backends;		/* in nodeport-backends */
	struct svcnft_cidr *pod_cidrs;	/* of this family */
	size_t n_pod_cidrs;
	struct svcnft_cidr *np_cidrs;	/* --nodeport-addresses, or all */
	size_t n_np_cidrs;
	/* service CIDRs (--service-cidr and ServiceCIDR objects): new
	 * connections to an address in them that no service holds are
	 * dropped */
	struct svcnft_cidr *svc_cidrs;
	size_t n_svc_cidrs;
	struct plan_fw *fw;		/* load-balancer source ranges */
	size_t n_fw, cap_fw;
};

struct plan {
	const struct svcnft_config *cfg;
	size_t n_services;		/* services that get rules */
	struct plan_family fam[2];	/* [0] IPv4, [1] IPv6 */
};

/* Lower a validated model; invalid objects contribute nothing. */
void plan_build(struct plan *p, const struct svcnft_model *m,
		const struct svcnft_config *cfg);
void plan_free(struct plan *p);

/* Chain names, shared by the text and JSON renderers. */
void plan_chain_lb(char *buf, size_t len, const struct plan_family *f,
		   const struct plan_group *g);
void plan_chain_slot(char *buf, size_t len, const struct plan_family *f,
		     const struct plan_aff *a, size_t slot);
/* Backend slot chain SLOT of view V ("backend4-slot-S"): DNAT to that
 * slot of V's backend map.  The lb chains and affinity slot chains goto
 * them, so a new lb chain never binds the (large) backend map itself. */
void plan_chain_backend(char *buf, size_t len, const struct plan_family *f,
			enum plan_view v, size_t slot);
/* View V's backend slot map ("backend-slots4": S : goto backend4-slot-S),
 * shared by its lb chains ("numgen random mod N vmap @backend-slots4"). */
void plan_backend_map(char *buf, size_t len, const struct plan_family *f,
		      enum plan_view v);
/* The view whose slot chains V uses (same backend map and offset). */
enum plan_view plan_slot_view(enum plan_view v);
/* "affinity4-tcp" and "affinity-slots4-tcp-T" */
void plan_affinity_set(char *buf, size_t len, const struct plan_family *f,
		       enum proto p);
/* The id map of view V, without the family: "affinity-ids" or
 * "nodeport-affinity-ids". */
const char *plan_ids_map(enum plan_view v);
/* Whether E is an element of its view's id map (the local views share
 * the element of their shortcut view). */
bool plan_entry_has_id(const struct plan_entry *e);
#define PLAN_MARKS_TIMEOUT 1	/* seconds a saved mark is kept */
void plan_slot_map(char *buf, size_t len, const struct plan_family *f,
		   const struct plan_aff *a);
/* Whether E is in its dispatch map (cluster IPs without any endpoint are
 * left to the reject check instead). */
bool plan_entry_dispatched(const struct plan_entry *e);
/* Whether E is an element of dispatch map MAP ("service-ips", ...). */
bool plan_entry_in_map(const struct plan_entry *e, const char *map);
/* Whether E is a cluster IP port the reject check lets through. */
bool plan_entry_is_port(const struct plan_entry *e);
/* The chain group entry E dispatches to. */
struct plan_group plan_entry_group(const struct plan_entry *e);
/* The affinity slot map of group G. */
const struct plan_aff *plan_group_aff(const struct plan_family *f,
				      const struct plan_group *g);
#define PLAN_N_PROTOS 3
/* Append E's element comment, "ns/name:port", nft-safe and cut to the
 * 128 bytes nft accepts; unquoted. */
#define PLAN_COMMENT_MAX 128
void plan_entry_comment(struct svcnft_buf *b, const struct plan_entry *e);
/* Size to declare for a set holding N elements: headroom for growth. */
size_t plan_set_size(size_t n);

#define PLAN_AFFINITY_SIZE 1048576

#endif
