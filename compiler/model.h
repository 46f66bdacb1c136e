/* Internal model shared by the compiler stages. */
#ifndef SVCNFT_MODEL_H
#define SVCNFT_MODEL_H

#include "svcnft.h"

enum proto { PROTO_TCP, PROTO_UDP, PROTO_SCTP, PROTO_INVALID };

enum svc_type { SVC_CLUSTER_IP, SVC_NODE_PORT, SVC_LOAD_BALANCER,
		SVC_EXTERNAL_NAME, SVC_TYPE_INVALID };

struct ipaddr {
	int family;		/* AF_INET, AF_INET6, 0 = unset */
	uint8_t a[16];
};

/* An integer field that may be absent or of the wrong JSON type. */
struct ival {
	bool set;
	bool bad_type;		/* present but not an integer */
	long long v;
};

struct svc_port {
	char *name;			/* "" when absent */
	char *protocol;			/* raw text; NULL = TCP */
	enum proto proto;
	struct ival port;
	struct ival target_int;		/* targetPort as an integer */
	char *target_name;		/* targetPort as a string, or NULL */
	struct ival node_port;
};

/* An external address of a service: spec.externalIPs[i] or a load
 * balancer's status.loadBalancer.ingress[i].ip. */
struct ext_addr {
	char *raw;
	struct ipaddr ip;		/* parsed, after validation */
	bool lb;			/* a load-balancer ingress IP */
	char *mode;			/* its ipMode, or NULL */
	bool proxy;			/* ipMode Proxy: not ours to handle */
	size_t idx;			/* index in its array (for messages) */
	bool *ignored;			/* per service port: address . port taken */
};

#define RANGES_ANNOTATION "service.beta.kubernetes.io/load-balancer-source-ranges"

struct svc {
	char *file;
	char *ns, *name;
	char *type_raw;			/* NULL = ClusterIP */
	enum svc_type type;
	char *cluster_ip;		/* raw text; NULL = absent */
	char **cluster_ips;
	size_t n_cluster_ips;
	struct ipaddr vip[2];		/* parsed, after validation */
	size_t n_vip;
	bool headless;
	bool has_selector;
	char **ip_families;		/* spec.ipFamilies */
	size_t n_ip_families;
	char *ip_family_policy;		/* NULL = absent */
	char *affinity_raw;		/* NULL = None */
	bool affinity;
	struct ival aff_timeout;
	bool publish_not_ready;
	char *external_name;
	struct ext_addr *ext;		/* externalIPs, then ingress IPs */
	size_t n_ext;
	char **ranges_raw;		/* spec.loadBalancerSourceRanges */
	size_t n_ranges_raw;
	char *ranges_annotation;	/* the legacy annotation, or NULL */
	struct svcnft_cidr *ranges;	/* parsed, after validation */
	size_t n_ranges;
	char *etp_raw, *itp_raw;	/* traffic policies; NULL = Cluster */
	bool etp_local, itp_local;	/* after validation */
	char *traffic_dist;		/* spec.trafficDistribution, or NULL */
	struct ival hc_port;		/* spec.healthCheckNodePort */
	struct svc_port *ports;
	size_t n_ports;
	bool invalid;			/* validation failed: emit nothing */
	bool parse_failed;		/* a field had the wrong JSON type */
	size_t seq;			/* load order, breaks sort ties */
};

/* One endpoint address with its conditions. */
struct endpoint {
	char *ip_raw;
	struct ipaddr ip;
	bool ready, serving, terminating;
	char *hostname;
	char *node_name;
	/* slices: hints.forZones[].name and hints.forNodes[].name */
	char **zone_hints, **node_hints;
	size_t n_zone_hints, n_node_hints;
};

struct ep_port {
	char *name;			/* "" when absent */
	char *protocol;			/* raw; NULL = TCP */
	enum proto proto;
	struct ival port;
};

/* A group of endpoints sharing a port list: an Endpoints subset or an
 * EndpointSlice. */
struct ep_group {
	struct endpoint *eps;
	size_t n_eps;
	struct ep_port *ports;
	size_t n_ports;
};

enum ep_kind { EP_ENDPOINTS, EP_SLICE };

struct ep_source {
	enum ep_kind kind;
	char *file;
	char *ns, *name;		/* object name */
	char *service;			/* owning service name */
	char *address_type;		/* slices: IPv4/IPv6/FQDN */
	struct ep_group *groups;
	size_t n_groups;
	bool invalid;
	bool parse_failed;
	size_t seq;			/* load order, breaks sort ties */
};

/* A ServiceCIDR (networking.k8s.io/v1): more valid cluster-IP ranges,
 * at most one per family. */
struct svc_cidr_obj {
	char *file, *name;
	char **raw;			/* spec.cidrs */
	size_t n_raw;
	struct svcnft_cidr cidrs[2];	/* parsed, after validation */
	size_t n_cidrs;
	bool invalid;
	bool parse_failed;
};

struct svcnft_model {
	struct svc *svcs;
	size_t n_svcs, cap_svcs;
	struct ep_source *eps;
	size_t n_eps, cap_eps;
	struct svc_cidr_obj *svc_cidrs;
	size_t n_svc_cidrs, cap_svc_cidrs;
	bool sorted;
	/* hash64 of the name, length and bytes of every file read, in order
	 * (stdin: of "-" only; it cannot be read twice: see input_digest in cmd/input.h) */
	uint64_t input_digest;
	bool digest_only;	/* input_digest: read and hash, no parsing */
	bool read_stdin;
};

/* Where this node is, for topology-aware routing. */
struct topology {
	const char *node;		/* --node-name, or NULL */
	const char *zone;		/* --node-zone, or NULL */
};

/* A backend chosen for a service port after the endpoint rules. */
struct backend {
	struct ipaddr ip;
	uint16_t port;
	const char *node;		/* the endpoint's nodeName, or NULL */
};

/* Every service CIDR, the configured ones and the valid ServiceCIDR
 * objects', sorted, none inside another (caller frees). */
size_t model_service_cidrs(const struct svcnft_model *m,
			   const struct svcnft_config *cfg,
			   struct svcnft_cidr **out);

/* Whether S gets rules (valid, not headless, not ExternalName, a cluster
 * IP), and whether it has a cluster IP of FAMILY. */
bool svc_has_rules(const struct svc *s);
bool svc_has_family(const struct svc *s, int family);

/* Free what one object owns (not the struct itself). */
void model_svc_free(struct svc *s);
void model_source_free(struct ep_source *e);
void model_cidr_free(struct svc_cidr_obj *c);

/* Sort services and endpoint sources by namespace/name (idempotent). */
void model_sort(struct svcnft_model *m);

const char *proto_name(enum proto p);		/* "tcp" ... */
const char *proto_upper(enum proto p);		/* "TCP" ... */
enum proto proto_parse(const char *s);		/* NULL -> TCP */

bool ipaddr_parse(const char *s, struct ipaddr *out);
void ipaddr_format(const struct ipaddr *a, char *buf, size_t len);
int ipaddr_cmp(const struct ipaddr *a, const struct ipaddr *b);
/* Like svcnft_cidr_parse, but host bits are cleared, not refused. */
bool cidr_parse_masked(const char *s, struct svcnft_cidr *out);
bool cidr_contains(const struct svcnft_cidr *c, const struct ipaddr *a);
/* The first of CFG's node addresses inside C, or NULL. */
const struct svcnft_node_addr *node_addr_in(const struct svcnft_cidr *c,
					    const struct svcnft_config *cfg);
/* Why a service CIDR holding node address A is refused, appended to B. */
void node_addr_refusal(struct svcnft_buf *b, const struct svcnft_node_addr *a);
/* Drop the CIDRs of V inside another one (the first of equal ones stays);
 * returns how many are left, in their order. */
size_t cidrs_minimize(struct svcnft_cidr *v, size_t n);

#endif
