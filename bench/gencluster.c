/* gencluster: write a synthetic kubectl-style List of Services with
 * Endpoints (even services) or EndpointSlices (odd services) to stdout.
 *
 * usage: gencluster [--mix] [--node-port-range A-B]
 *                   SERVICES [ENDPOINTS_PER_SERVICE [SEED]]
 *
 * Shape, per service index i:
 *   - namespace ns-(i % 50), name svc-i
 *   - i % 4 == 3: UDP, else TCP; i % 5 == 1: a second port
 *   - i % 10 == 7: sessionAffinity ClientIP, timeout 10800 or 600
 *   - clusterIP: a seeded permutation of the hosts of 10.96.0.0/12
 *   - endpoints: unique hosts of 10.128.0.0/9, skipping .0 and .255,
 *     nodeName node-000..node-199
 *   - every object: metadata.resourceVersion 1, 2, ... in output order,
 *     metadata.uid a UUID from the seed, kind, namespace and name
 * --mix adds, with d = i / 10 and r = i % 10 (exactly so per 100 services):
 *   - 20% externally reachable: (r + d) % 10 == 1 NodePort, == 7
 *     LoadBalancer; one nodePort per port (and a healthCheckNodePort for
 *     LoadBalancer + Local), unique, a permutation of the node port range
 *     (default 30000-32767; the API server's allocator is one port space
 *     for all protocols); externalTrafficPolicy Local when d is odd;
 *     LoadBalancer ingress 100.64.0.0/10 (+ 2001:db8:100::/64 if dual),
 *     ipMode VIP; loadBalancerSourceRanges (two CIDRs) when d / 2 % 4 == 0
 *   - 20% dual-stack ((r + 3d) % 10 is 3 or 7), overlapping the above:
 *     RequireDualStack, a second cluster IP from fd00:10:96::/108, always
 *     EndpointSlices: IPv4 and IPv6 (fd00:10:244::/56) for the same pods
 *   - nodeName node-0..node-9; the API server's defaults written out
 *     (ipFamilies, ipFamilyPolicy, internalTrafficPolicy, status)
 * The output depends only on the arguments; without --mix it is unchanged. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAMESPACES	50
#define NODES		200
#define MIX_NODES	10
/* hosts of 10.96.0.0/12 without network and broadcast: 2 * (2^19 - 1) */
#define SVC_HOSTS	1048574u
#define SVC_BASE	((10u << 24) | (96u << 16))
/* 10.128.0.0/9 as /24s of 254 usable hosts */
#define POD_BASE	((10u << 24) | (128u << 16))
#define POD_NETS	32768u
#define MAX_DEPTH	16
/* 100.64.0.0/10 as /24s of 254 usable hosts (LoadBalancer ingress) */
#define LB_BASE		((100u << 24) | (64u << 16))

static bool mix;
static unsigned long seed = 1;
static unsigned long version;	/* the last resourceVersion written */
static unsigned int *ep_node;	/* node of each endpoint of a service */
static uint64_t off6;		/* IPv6 cluster IP permutation offset */

/* --- a small indenting JSON writer (kubectl: 4 spaces) --- */

static int depth;
static bool first[MAX_DEPTH];

static void indent(void)
{
	for (int i = 0; i < depth; i++)
		fputs("    ", stdout);
}

/* Separator, newline, indentation and "key": for the next value. */
static void key(const char *k)
{
	if (depth > 0) {
		if (!first[depth])
			putchar(',');
		first[depth] = false;
		putchar('\n');
		indent();
	}
	if (k)
		printf("\"%s\": ", k);
}

static void jopen(const char *k, char c)
{
	key(k);
	putchar(c);
	depth++;
	first[depth] = true;
}

static void jclose(char c)
{
	bool empty = first[depth];

	depth--;
	if (!empty) {
		putchar('\n');
		indent();
	}
	putchar(c);
}

static void obj(const char *k)	{ jopen(k, '{'); }
static void arr(const char *k)	{ jopen(k, '['); }
static void end_obj(void)	{ jclose('}'); }
static void end_arr(void)	{ jclose(']'); }

static void str(const char *k, const char *v)
{
	key(k);
	printf("\"%s\"", v);
}

static void num(const char *k, unsigned long v)
{
	key(k);
	printf("%lu", v);
}

static void boolean(const char *k, bool v)
{
	key(k);
	fputs(v ? "true" : "false", stdout);
}

/* --- cluster shape --- */

struct svc {
	unsigned long idx;
	char ns[16], name[32], ip[16], ip6[INET6_ADDRSTRLEN];
	bool udp, two_ports, affinity;
	bool ext, lb, local, ranges, dual;	/* --mix only */
	unsigned int timeout;
	unsigned int node_port[2], hc_port;
};

struct port {
	const char *name, *proto;
	unsigned int port, target;
};

static uint64_t rng_state;

static uint64_t rng(void)	/* splitmix64 */
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static void fmt_ip(char *buf, size_t len, uint32_t a)
{
	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
		 (a >> 8) & 255, a & 255);
}

/* Affine permutation of [0, SVC_HOSTS): the multiplier is odd and not a
 * multiple of 2^19 - 1, so it is coprime to SVC_HOSTS. */
static uint32_t svc_ip(unsigned long i, uint64_t off)
{
	uint64_t h = ((uint64_t)i * 387403u + off) % SVC_HOSTS;

	return SVC_BASE + 1u + (uint32_t)h;
}

static uint32_t pod_ip(uint64_t j)
{
	return POD_BASE + (uint32_t)((j / 254) << 8) + (uint32_t)(j % 254) + 1u;
}

/* PREFIX (first 8 bytes, big endian) + low 64 bits V, RFC 5952 text. */
static void fmt_ip6(char *buf, uint64_t prefix, uint64_t v)
{
	unsigned char a[16];

	for (int b = 0; b < 8; b++) {
		a[b] = (unsigned char)(prefix >> (56 - 8 * b));
		a[8 + b] = (unsigned char)(v >> (56 - 8 * b));
	}
	inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

#define SVC6_PREFIX	0xfd00001000960000u	/* fd00:10:96::/108 */
#define POD6_PREFIX	0xfd00001002440000u	/* fd00:10:244::/56 */
#define LB6_PREFIX	0x20010db801000000u	/* 2001:db8:100::/64 */

/* --- node ports: an affine permutation of the range --- */

static unsigned int np_lo = 30000, np_size = 2768, np_mult;
static unsigned long np_next;

static unsigned int gcd(unsigned int a, unsigned int b)
{
	while (b) {
		unsigned int t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static void np_init(void)
{
	np_mult = np_size / 8 * 5 + 1;
	while (gcd(np_mult, np_size) != 1)
		np_mult++;
}

static unsigned int np_alloc(uint64_t off)
{
	return np_lo + (unsigned int)((np_next++ * np_mult + off) % np_size);
}

static bool parse_range(const char *arg)
{
	unsigned int lo, hi;
	char c;

	if (sscanf(arg, "%u-%u%c", &lo, &hi, &c) != 2 || lo < 1 ||
	    hi > 65535 || lo > hi)
		return false;
	np_lo = lo;
	np_size = hi - lo + 1;
	return true;
}

static unsigned int nports(const struct svc *s)
{
	return s->two_ports ? 2 : 1;
}

static struct port svc_port(const struct svc *s, unsigned int k)
{
	static const unsigned int web[] = { 80, 443, 8080, 3000, 9000 };
	struct port p;

	if (s->udp) {
		p.name = k ? "dns-tcp" : "dns";
		p.proto = k ? "TCP" : "UDP";
		p.port = 53;
		p.target = s->two_ports ? 5353 : 53 + (unsigned int)(s->idx % 7);
		return p;
	}
	p.name = k ? "metrics" : "http";
	p.proto = "TCP";
	p.port = k ? 9100 : web[s->idx % 5];
	p.target = k ? 9100 : 8080 + (unsigned int)(s->idx % 3);
	return p;
}

/* FNV-1a of S's bytes and its NUL, on from H. */
static uint64_t fnv(uint64_t h, const char *s)
{
	do
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	while (*s++);
	return h;
}

/* A uid in the API server's form (a random UUID), from the seed, KIND,
 * namespace and NAME: the same object of the same seed, the same uid. */
static void write_uid(const char *kind, const char *ns, const char *name)
{
	char seedtxt[24], uid[40];
	uint64_t a = 0xcbf29ce484222325ull, b;

	snprintf(seedtxt, sizeof(seedtxt), "%lu", seed);
	a = fnv(fnv(fnv(fnv(a, seedtxt), kind), ns), name);
	b = fnv(a, "uid");
	snprintf(uid, sizeof(uid), "%08x-%04x-4%03x-%04x-%012" PRIx64,
		 (unsigned int)(a >> 32), (unsigned int)(a >> 16) & 0xffff,
		 (unsigned int)a & 0xfff, (unsigned int)(0x8000 | ((b >> 48) & 0x3fff)),
		 (uint64_t)(b & 0xffffffffffffull));
	str("uid", uid);
}

/* metadata as kubectl prints it (keys sorted), with a resourceVersion of
 * its own (one per object, as etcd's revisions) and a uid. */
static void write_meta(const struct svc *s, const char *kind, const char *name)
{
	char rv[24];

	obj("metadata");
	if (!strcmp(kind, "EndpointSlice")) {
		obj("labels");
		str("kubernetes.io/service-name", s->name);
		end_obj();
	}
	str("name", name);
	str("namespace", s->ns);
	snprintf(rv, sizeof(rv), "%lu", ++version);
	str("resourceVersion", rv);
	write_uid(kind, s->ns, name);
	end_obj();
}

static const char *svc_type(const struct svc *s)
{
	if (!s->ext)
		return "ClusterIP";
	return s->lb ? "LoadBalancer" : "NodePort";
}

/* The spec fields before "ports", in kubectl's (alphabetical) order. */
static void write_spec_head(const struct svc *s)
{
	char cidr[INET6_ADDRSTRLEN + 4];
	unsigned long k = s->idx / 10;

	if (s->lb)
		boolean("allocateLoadBalancerNodePorts", true);
	str("clusterIP", s->ip);
	arr("clusterIPs");
	str(NULL, s->ip);
	if (s->dual)
		str(NULL, s->ip6);
	end_arr();
	if (s->ext)
		str("externalTrafficPolicy", s->local ? "Local" : "Cluster");
	if (s->lb && s->local)
		num("healthCheckNodePort", s->hc_port);
	if (!mix)
		return;
	str("internalTrafficPolicy", "Cluster");
	arr("ipFamilies");
	str(NULL, "IPv4");
	if (s->dual)
		str(NULL, "IPv6");
	end_arr();
	str("ipFamilyPolicy", s->dual ? "RequireDualStack" : "SingleStack");
	if (!s->ranges)
		return;
	arr("loadBalancerSourceRanges");
	str(NULL, "203.0.113.0/24");
	if (s->dual) {
		fmt_ip6(cidr, 0x20010db8ffff0000u | (k & 0xffff), 0);
		strcat(cidr, "/64");
	} else {
		snprintf(cidr, sizeof(cidr), "198.%lu.%lu.0/24",
			 18 + ((k >> 8) & 1), k & 255);
	}
	str(NULL, cidr);
	end_arr();
}

static void write_status(const struct svc *s)
{
	unsigned long k = s->idx / 10;	/* one LoadBalancer per 10 */
	char ip[INET6_ADDRSTRLEN];

	obj("status");
	obj("loadBalancer");
	if (s->lb) {
		arr("ingress");
		obj(NULL);
		fmt_ip(ip, sizeof(ip), LB_BASE + (uint32_t)((k / 254) << 8) +
		       (uint32_t)(k % 254) + 1u);
		str("ip", ip);
		str("ipMode", "VIP");
		end_obj();
		if (s->dual) {
			obj(NULL);
			fmt_ip6(ip, LB6_PREFIX, k + 1);
			str("ip", ip);
			str("ipMode", "VIP");
			end_obj();
		}
		end_arr();
	}
	end_obj();
	end_obj();
}

/* The ports of S: the Service's (SERVICE) or its endpoints'. */
static void write_ports(const struct svc *s, bool service)
{
	arr("ports");
	for (unsigned int k = 0; k < nports(s); k++) {
		struct port p = svc_port(s, k);

		obj(NULL);
		if (s->two_ports)
			str("name", p.name);
		if (service && s->ext)
			num("nodePort", s->node_port[k]);
		num("port", service ? p.port : p.target);
		str("protocol", p.proto);
		if (service)
			num("targetPort", p.target);
		end_obj();
	}
	end_arr();
}

static void write_service(const struct svc *s)
{
	obj(NULL);
	str("apiVersion", "v1");
	str("kind", "Service");
	write_meta(s, "Service", s->name);
	obj("spec");
	write_spec_head(s);
	write_ports(s, true);
	obj("selector");
	str("app", s->name);
	end_obj();
	str("sessionAffinity", s->affinity ? "ClientIP" : "None");
	if (s->affinity) {
		obj("sessionAffinityConfig");
		obj("clientIP");
		num("timeoutSeconds", s->timeout);
		end_obj();
		end_obj();
	}
	str("type", svc_type(s));
	end_obj();
	if (mix)
		write_status(s);
	end_obj();
}

/* The node of endpoint E: drawn for IPv4, the same pod's for IPv6. */
static void node_name(char *buf, size_t len, unsigned long e, bool v6)
{
	if (!v6)
		ep_node[e] = (unsigned int)(rng() % (mix ? MIX_NODES : NODES));
	snprintf(buf, len, mix ? "node-%u" : "node-%03u", ep_node[e]);
}

static void write_endpoints(const struct svc *s, uint64_t first_ep,
			    unsigned long n)
{
	char ip[16], node[16];

	obj(NULL);
	str("apiVersion", "v1");
	str("kind", "Endpoints");
	write_meta(s, "Endpoints", s->name);
	arr("subsets");
	obj(NULL);
	arr("addresses");
	for (unsigned long e = 0; e < n; e++) {
		fmt_ip(ip, sizeof(ip), pod_ip(first_ep + e));
		node_name(node, sizeof(node), e, false);
		obj(NULL);
		str("ip", ip);
		str("nodeName", node);
		end_obj();
	}
	end_arr();
	write_ports(s, false);
	end_obj();
	end_arr();
	end_obj();
}

static void write_slice(const struct svc *s, uint64_t first_ep,
			unsigned long n, bool v6)
{
	char ip[INET6_ADDRSTRLEN], node[16], name[48];

	snprintf(name, sizeof(name), "%s-%05x", s->name,
		 (unsigned int)(rng() & 0xfffff));
	obj(NULL);
	str("addressType", v6 ? "IPv6" : "IPv4");
	str("apiVersion", "discovery.k8s.io/v1");
	arr("endpoints");
	for (unsigned long e = 0; e < n; e++) {
		if (v6)
			fmt_ip6(ip, POD6_PREFIX, first_ep + e + 1);
		else
			fmt_ip(ip, sizeof(ip), pod_ip(first_ep + e));
		node_name(node, sizeof(node), e, v6);
		obj(NULL);
		arr("addresses");
		str(NULL, ip);
		end_arr();
		obj("conditions");
		boolean("ready", true);
		end_obj();
		str("nodeName", node);
		end_obj();
	}
	end_arr();
	str("kind", "EndpointSlice");
	write_meta(s, "EndpointSlice", name);
	write_ports(s, false);
	end_obj();
}

static void make_svc(struct svc *s, unsigned long i, uint64_t off)
{
	unsigned long d = i / 10, r = i % 10;

	s->idx = i;
	snprintf(s->ns, sizeof(s->ns), "ns-%02lu", i % NAMESPACES);
	snprintf(s->name, sizeof(s->name), "svc-%lu", i);
	fmt_ip(s->ip, sizeof(s->ip), svc_ip(i, off));
	s->udp = i % 4 == 3;
	s->two_ports = i % 5 == 1;
	s->affinity = i % 10 == 7;
	s->timeout = (i / 10) % 2 ? 600 : 10800;
	s->ext = s->lb = s->local = s->ranges = s->dual = false;
	if (!mix)
		return;
	s->ext = (r + d) % 10 == 1 || (r + d) % 10 == 7;
	s->lb = (r + d) % 10 == 7;
	s->local = s->ext && d % 2;
	s->ranges = s->lb && d / 2 % 4 == 0;
	s->dual = (r + 3 * d) % 10 == 3 || (r + 3 * d) % 10 == 7;
	if (s->dual)
		fmt_ip6(s->ip6, SVC6_PREFIX,
			((uint64_t)i * 387403u + off6) % SVC_HOSTS + 1);
}

/* Node ports a service takes: one per port, one for the health check. */
static unsigned int node_ports(const struct svc *s)
{
	if (!s->ext)
		return 0;
	return nports(s) + (s->lb && s->local);
}

static void alloc_node_ports(struct svc *s, uint64_t off)
{
	if (!s->ext)
		return;
	for (unsigned int k = 0; k < nports(s); k++)
		s->node_port[k] = np_alloc(off);
	if (s->lb && s->local)
		s->hc_port = np_alloc(off);
}

static bool parse_ulong(const char *arg, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(arg, &end, 10);
	return !errno && end != arg && !*end && arg[0] != '-';
}

static int usage(void)
{
	fputs("usage: gencluster [--mix] [--node-port-range A-B] SERVICES"
	      " [ENDPOINTS_PER_SERVICE [SEED]]\n", stderr);
	return 2;
}

/* Fail before writing anything when the node port range is too small. */
static bool enough_node_ports(unsigned long n, uint64_t off)
{
	unsigned long need = 0;
	struct svc s;

	for (unsigned long i = 0; i < n; i++) {
		make_svc(&s, i, off);
		need += node_ports(&s);
	}
	if (need <= np_size)
		return true;
	fprintf(stderr, "gencluster: %lu node ports needed, the range has %u\n",
		need, np_size);
	return false;
}

int main(int argc, char **argv)
{
	unsigned long n, eps = 10;
	static char buf[1 << 16];
	struct svc s;
	uint64_t off;
	int a = 1;

	for (; a < argc && !strncmp(argv[a], "--", 2); a++) {
		if (!strcmp(argv[a], "--mix"))
			mix = true;
		else if (strcmp(argv[a], "--node-port-range") ||
			 ++a == argc || !parse_range(argv[a]))
			return usage();
	}
	argc -= a - 1;
	argv += a - 1;
	if (argc < 2 || argc > 4 || !parse_ulong(argv[1], &n) ||
	    (argc > 2 && !parse_ulong(argv[2], &eps)) ||
	    (argc > 3 && !parse_ulong(argv[3], &seed)))
		return usage();
	if (n > SVC_HOSTS || (eps && n * eps / eps != n) ||
	    n * eps > (uint64_t)POD_NETS * 254) {
		fputs("gencluster: too many services or endpoints\n", stderr);
		return 2;
	}
	ep_node = calloc(eps ? eps : 1, sizeof(*ep_node));
	if (!ep_node) {
		perror("gencluster");
		return 1;
	}
	setvbuf(stdout, buf, _IOFBF, sizeof(buf));
	rng_state = seed;
	off = rng() % SVC_HOSTS;
	off6 = (off * 31 + 12345) % SVC_HOSTS;
	np_init();
	if (mix && !enough_node_ports(n, off))
		return 2;
	obj(NULL);
	str("apiVersion", "v1");
	arr("items");
	for (unsigned long i = 0; i < n; i++) {
		make_svc(&s, i, off);
		alloc_node_ports(&s, off);
		write_service(&s);
		if (i % 2 || s.dual)
			write_slice(&s, (uint64_t)i * eps, eps, false);
		else
			write_endpoints(&s, (uint64_t)i * eps, eps);
		if (s.dual)
			write_slice(&s, (uint64_t)i * eps, eps, true);
	}
	end_arr();
	str("kind", "List");
	obj("metadata");
	str("resourceVersion", "");
	end_obj();
	end_obj();
	putchar('\n');
	return fflush(stdout) ? 1 : 0;
}
