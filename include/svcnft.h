/* svcnft - compile Kubernetes Services and Endpoints into one nftables table.
 *
 * The library is a pure translator: it reads JSON or YAML snapshots, validates them
 * the way the API server does, and renders an nft script.  It never touches
 * the kernel and never prints; errors are collected as records.
 *
 * Ownership: every *_new() has a *_free() that accepts NULL.  Functions that
 * take a struct svcnft_errors append to it and never free it.  Strings
 * returned through struct svcnft_buf belong to the buffer.
 *
 * The public face of compiler/: implemented in load.c, yaml.c, model.c,
 * validate.c, lower.c, render_nft.c, render_json.c, discovery.c, limits.c
 * and util.c.
 */
#ifndef SVCNFT_H
#define SVCNFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define SVCNFT_LAYOUT_VERSION 4

/* Exit codes shared by the CLI and the library's status values. */
enum svcnft_status {
	SVCNFT_OK = 0,
	SVCNFT_CHANGED = 1,	/* diff: changes pending */
	SVCNFT_EUSAGE = 2,	/* usage, I/O or malformed JSON */
	SVCNFT_EINVALID = 3,	/* input the API server would reject (422) */
	SVCNFT_EKERNEL = 4,	/* kernel or libnftables refused */
};

/* A growable byte buffer; data is always NUL-terminated. */
struct svcnft_buf {
	char *data;
	size_t len;
	size_t cap;
};

void svcnft_buf_free(struct svcnft_buf *b);

/* One error or warning, API-server style.  Every message has one form:
 * LOCATION: [warning: ]TEXT, LOCATION being FILE or FILE:LINE:COLUMN for
 * input (<stdin> for standard input) and svcnft for the rest; warnings say
 * so right after the location, errors say nothing more. */
struct svcnft_error {
	enum svcnft_status status;	/* EUSAGE or EINVALID; OK for warnings */
	char *text;			/* the whole line, without newline */
};

struct svcnft_errors {
	struct svcnft_error *v;
	size_t n, cap;
	size_t nwarn;
};

void svcnft_errors_free(struct svcnft_errors *e);
/* The worst status among the records (warnings do not count). */
enum svcnft_status svcnft_errors_status(const struct svcnft_errors *e);
void svcnft_errors_print(const struct svcnft_errors *e, FILE *f);

/* An IPv4 or IPv6 CIDR. */
struct svcnft_cidr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned int plen;
};

/* Parse "10.96.0.0/12"; false if malformed or host bits are set. */
bool svcnft_cidr_parse(const char *s, struct svcnft_cidr *out);

/* One of this node's own addresses and its interface. */
struct svcnft_node_addr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];
	char ifname[16];	/* IF_NAMESIZE */
};

struct svcnft_config {
	const char *table;			/* default "svcnft" */
	/* --service-cidr; ServiceCIDR objects in the input add to these */
	const struct svcnft_cidr *service_cidrs;
	size_t n_service_cidrs;
	const struct svcnft_cidr *cluster_cidrs;
	size_t n_cluster_cidrs;
	bool masquerade_all;
	/* This node (--node-name), or NULL.  Hairpin traffic only comes from
	 * local pods, so only endpoints on this node (or of unknown node) need
	 * hairpin entries. */
	const char *node_name;
	/* --node-zone: this node's topology.kubernetes.io/zone, or NULL; with
	 * node_name it decides which EndpointSlice hints apply here. */
	const char *node_zone;
	/* --nodeport-addresses: node ports answer on local addresses inside
	 * these; none means every local address but loopback. */
	const struct svcnft_cidr *nodeport_cidrs;
	size_t n_nodeport_cidrs;
	/* --service-node-port-range; both 0 means 30000-32767. */
	unsigned int node_port_min, node_port_max;
	/* follow: the API server allocated the cluster IPs and node ports it
	 * sends, so one outside the ranges above is a warning, not a 422. */
	bool api_allocated;
	/* apply, watch, follow: this node's own addresses (from the kernel).
	 * A ServiceCIDR holding one is refused: unallocated service addresses
	 * are dropped, so the node's own traffic would be. */
	const struct svcnft_node_addr *node_addrs;
	size_t n_node_addrs;
};

/* Valid nft table name for --table: [A-Za-z][A-Za-z0-9_-]{0,63}. */
bool svcnft_table_name_valid(const char *name);

/* The cluster model: services and their endpoint sources. */
struct svcnft_model;

struct svcnft_model *svcnft_model_new(void);
void svcnft_model_free(struct svcnft_model *m);

/* Read one JSON document (a file or stdin's bytes) into the model.  NAME is
 * used in messages.  Lists are streamed item by item.  Malformed JSON and
 * unreadable input are EUSAGE records; the rest of the input is still read. */
void svcnft_model_load_buffer(struct svcnft_model *m, const char *name,
			      const char *data, size_t len,
			      struct svcnft_errors *errs);
/* The same for a document decoded already (V: an object, a List or an
 * array; the caller keeps it): the same objects and messages, less the
 * line and column of malformed JSON. */
struct json_t;
void svcnft_model_load_json(struct svcnft_model *m, const char *name,
			    struct json_t *v, struct svcnft_errors *errs);
/* The same for a YAML stream: one or more documents (---), each an object,
 * an array or a List; scalars typed as kubectl types them. */
void svcnft_model_load_yaml(struct svcnft_model *m, const char *name,
			    const char *data, size_t len,
			    struct svcnft_errors *errs);
/* The bytes B of file NAME: YAML or JSON by its name (as the whole-file
 * loaders below decide). */
void svcnft_model_load_named(struct svcnft_model *m, const char *name,
			     const struct svcnft_buf *b, struct svcnft_errors *errs);
/* Where a file's bytes come from, read as read(2) reads (a count, 0 at the
 * end, -1 with errno set): the caller does the I/O, the library none. */
struct svcnft_reader {
	ssize_t (*read)(void *arg, void *buf, size_t len);
	void *arg;
};
/* A regular JSON file NAME of SIZE bytes through R, as a window that slides
 * between List items (the file is never held whole). */
void svcnft_model_load_stream(struct svcnft_model *m, const char *name,
			      uint64_t size, const struct svcnft_reader *r,
			      struct svcnft_errors *errs);
/* The whole bytes B of file NAME (YAML, JSON, or either on stdin). */
void svcnft_model_load_file(struct svcnft_model *m, const char *name,
			    const struct svcnft_buf *b, struct svcnft_errors *errs);
/* M only digests (digest_only): NAME and its bytes from R into the input
 * digest, nothing parsed. */
void svcnft_model_hash_stream(struct svcnft_model *m, const char *name,
			      const struct svcnft_reader *r,
			      struct svcnft_errors *errs);
/* The digest of the names and bytes model M was loaded from; 0 after stdin. */
uint64_t svcnft_model_input_digest(const struct svcnft_model *m);
/* Whether a directory's entry NAME is read: *.json, *.yaml, *.yml (case
 * matters, as for kubectl), not starting with a dot. */
bool svcnft_manifest_name(const char *name);
/* Whether NAME ends in .json, in any case: read as JSON (and streamed
 * when it is a regular file), whatever its first bytes. */
bool svcnft_json_name(const char *name);
/* An input that holds no Service object at all (only other kinds, an empty
 * List, Endpoints alone) is an EUSAGE record naming the N_PATHS PATHS:
 * applied, it would remove every service.  apply, diff and watch call it
 * unless --allow-empty says an empty cluster is meant. */
void svcnft_model_require_services(const struct svcnft_model *m,
				   char *const *paths, int n_paths,
				   struct svcnft_errors *errs);

/* Validate each object on its own as the API server does, for the fields
 * we use.  The rules between objects (a name defined twice, cluster IPs,
 * node ports, external address . port claims, endpoints per service) are
 * the engine's: a snapshot is valid once engine_snapshot (engine.h) took
 * it. */
void svcnft_model_validate(struct svcnft_model *m,
			   const struct svcnft_config *cfg,
			   struct svcnft_errors *errs);

/* Render the model (which must have validated cleanly) as an nft script that
 * atomically replaces cfg->table.  Returns false on allocation failure. */
bool svcnft_render_nft(const struct svcnft_model *m,
		       const struct svcnft_config *cfg, struct svcnft_buf *out);
/* The same, handed to SINK piece by piece (about a MiB each, in order) so
 * that the whole script is never held; false once SINK returned false. */
bool svcnft_render_nft_stream(const struct svcnft_model *m,
			      const struct svcnft_config *cfg,
			      bool (*sink)(void *arg, const char *data, size_t len),
			      void *arg);
/* The same ruleset in libnftables' JSON schema. */
bool svcnft_render_json(const struct svcnft_model *m,
			const struct svcnft_config *cfg, struct svcnft_buf *out);

/* Counts of what the rendered ruleset holds, for messages and benchmarks. */
struct svcnft_stats {
	size_t services, service_ports, backends, chains;
};
void svcnft_model_stats(const struct svcnft_model *m,
			const struct svcnft_config *cfg,
			struct svcnft_stats *st);
/* One warning naming the services that get cluster IP rules but have no
 * usable endpoint on any port (every connection to them is rejected). */
void svcnft_model_warn_no_endpoints(const struct svcnft_model *m,
				    const struct svcnft_config *cfg,
				    struct svcnft_errors *errs);

/* Service discovery: what the kubelet and the cluster DNS publish.  The
 * model must have validated cleanly.  Both return false only when CFG is
 * unusable; output is appended to OUT. */

/* Valid --namespace: a DNS-1123 label. */
bool svcnft_namespace_valid(const char *ns);

enum svcnft_env_format {
	SVCNFT_ENV_SH,		/* KEY=value lines, safe to source in POSIX sh */
	SVCNFT_ENV_JSON,	/* one JSON object */
	SVCNFT_ENV_DOCKER,	/* --env KEY=value, one per line, as sh words */
};

/* The Docker-links variables the kubelet gives a pod in namespace NS. */
bool svcnft_render_env(const struct svcnft_model *m, const char *ns,
		       enum svcnft_env_format format, struct svcnft_buf *out);

enum svcnft_dns_output {
	SVCNFT_DNS_ZONE,	/* the zone of cfg->zone */
	SVCNFT_DNS_PTR,		/* the reverse zone, rooted at arpa. */
	SVCNFT_DNS_HOSTS,	/* an /etc/hosts fragment */
};

struct svcnft_dns_config {
	const char *zone;		/* e.g. "cluster.local"; a final dot is ignored */
	uint32_t ttl;			/* $TTL and the SOA minimum */
	uint32_t serial;		/* SOA serial */
	enum svcnft_dns_output output;
};

/* NULL when ZONE is a usable --zone, otherwise why not. */
const char *svcnft_dns_zone_check(const char *zone);

/* Records per the DNS-based service discovery specification 1.1.0.  Names
 * too long for DNS are skipped with a warning in ERRS. */
bool svcnft_render_dns(const struct svcnft_model *m,
		       const struct svcnft_dns_config *cfg,
		       struct svcnft_buf *out, struct svcnft_errors *errs);

/* Bounds on hostile input.  Over input_bytes, depth, string_bytes or
 * objects, loading stops with an EUSAGE error; a Service or endpoint group
 * with more than ports ports, or a Service with more than endpoints
 * endpoint addresses, is EINVALID.  The limits are process-wide. */
struct svcnft_limits {
	size_t input_bytes;	/* bytes of one input (a file or stdin) */
	size_t depth;		/* nesting of JSON arrays and objects */
	size_t string_bytes;	/* bytes of one JSON string, escapes included */
	size_t objects;		/* Services, Endpoints, EndpointSlices in all */
	size_t ports;		/* ports of one Service or endpoint group */
	size_t endpoints;	/* endpoint addresses of one Service */
};

/* The defaults: generous for 30k services x 100 endpoints. */
void svcnft_limits_default(struct svcnft_limits *l);
void svcnft_limits_set(const struct svcnft_limits *l);
void svcnft_limits_get(struct svcnft_limits *l);
/* Apply "NAME=N" (NAME: input-bytes, depth, string-bytes, objects, ports,
 * endpoints) to L; NULL on success, otherwise what is wrong. */
const char *svcnft_limit_parse(struct svcnft_limits *l, const char *arg);

#endif
