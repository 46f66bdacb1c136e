/* gencluster: write a synthetic kubectl-style List of Services with
 * Endpoints (even services) or EndpointSlices (odd services) to stdout.
 *
 * usage: gencluster SERVICES [ENDPOINTS_PER_SERVICE [SEED]]
 *
 * Shape, per service index i:
 *   - namespace ns-(i % 50), name svc-i
 *   - i % 4 == 3: UDP, else TCP; i % 5 == 1: a second port
 *   - i % 10 == 7: sessionAffinity ClientIP, timeout 10800 or 600
 *   - clusterIP: a seeded permutation of the hosts of 10.96.0.0/12
 *   - endpoints: unique hosts of 10.128.0.0/9, skipping .0 and .255
 * The output depends only on the arguments. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define NAMESPACES	50
#define NODES		200
/* hosts of 10.96.0.0/12 without network and broadcast: 2 * (2^19 - 1) */
#define SVC_HOSTS	1048574u
#define SVC_BASE	((10u << 24) | (96u << 16))
/* 10.128.0.0/9 as /24s of 254 usable hosts */
#define POD_BASE	((10u << 24) | (128u << 16))
#define POD_NETS	32768u
#define MAX_DEPTH	16

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
	char ns[16], name[32], ip[16];
	bool udp, two_ports, affinity;
	unsigned int timeout;
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

static void write_meta(const struct svc *s, const char *name, bool slice)
{
	obj("metadata");
	if (slice) {
		obj("labels");
		str("kubernetes.io/service-name", s->name);
		end_obj();
	}
	str("name", name);
	str("namespace", s->ns);
	end_obj();
}

static void write_service(const struct svc *s)
{
	obj(NULL);
	str("apiVersion", "v1");
	str("kind", "Service");
	write_meta(s, s->name, false);
	obj("spec");
	str("clusterIP", s->ip);
	arr("clusterIPs");
	str(NULL, s->ip);
	end_arr();
	arr("ports");
	for (unsigned int k = 0; k < nports(s); k++) {
		struct port p = svc_port(s, k);

		obj(NULL);
		if (s->two_ports)
			str("name", p.name);
		num("port", p.port);
		str("protocol", p.proto);
		num("targetPort", p.target);
		end_obj();
	}
	end_arr();
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
	str("type", "ClusterIP");
	end_obj();
	end_obj();
}

static void write_ep_ports(const struct svc *s)
{
	arr("ports");
	for (unsigned int k = 0; k < nports(s); k++) {
		struct port p = svc_port(s, k);

		obj(NULL);
		if (s->two_ports)
			str("name", p.name);
		num("port", p.target);
		str("protocol", p.proto);
		end_obj();
	}
	end_arr();
}

static void node_name(char *buf, size_t len)
{
	snprintf(buf, len, "node-%03u", (unsigned int)(rng() % NODES));
}

static void write_endpoints(const struct svc *s, uint64_t first_ep,
			    unsigned long n)
{
	char ip[16], node[16];

	obj(NULL);
	str("apiVersion", "v1");
	str("kind", "Endpoints");
	write_meta(s, s->name, false);
	arr("subsets");
	obj(NULL);
	arr("addresses");
	for (unsigned long e = 0; e < n; e++) {
		fmt_ip(ip, sizeof(ip), pod_ip(first_ep + e));
		node_name(node, sizeof(node));
		obj(NULL);
		str("ip", ip);
		str("nodeName", node);
		end_obj();
	}
	end_arr();
	write_ep_ports(s);
	end_obj();
	end_arr();
	end_obj();
}

static void write_slice(const struct svc *s, uint64_t first_ep,
			unsigned long n)
{
	char ip[16], node[16], name[48];

	snprintf(name, sizeof(name), "%s-%05x", s->name,
		 (unsigned int)(rng() & 0xfffff));
	obj(NULL);
	str("addressType", "IPv4");
	str("apiVersion", "discovery.k8s.io/v1");
	arr("endpoints");
	for (unsigned long e = 0; e < n; e++) {
		fmt_ip(ip, sizeof(ip), pod_ip(first_ep + e));
		node_name(node, sizeof(node));
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
	write_meta(s, name, true);
	write_ep_ports(s);
	end_obj();
}

static void make_svc(struct svc *s, unsigned long i, uint64_t off)
{
	s->idx = i;
	snprintf(s->ns, sizeof(s->ns), "ns-%02lu", i % NAMESPACES);
	snprintf(s->name, sizeof(s->name), "svc-%lu", i);
	fmt_ip(s->ip, sizeof(s->ip), svc_ip(i, off));
	s->udp = i % 4 == 3;
	s->two_ports = i % 5 == 1;
	s->affinity = i % 10 == 7;
	s->timeout = (i / 10) % 2 ? 600 : 10800;
}

static bool parse_ulong(const char *arg, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(arg, &end, 10);
	return !errno && end != arg && !*end && arg[0] != '-';
}

int main(int argc, char **argv)
{
	unsigned long n, eps = 10, seed = 1;
	static char buf[1 << 16];
	struct svc s;
	uint64_t off;

	if (argc < 2 || argc > 4 || !parse_ulong(argv[1], &n) ||
	    (argc > 2 && !parse_ulong(argv[2], &eps)) ||
	    (argc > 3 && !parse_ulong(argv[3], &seed))) {
		fputs("usage: gencluster SERVICES [ENDPOINTS_PER_SERVICE [SEED]]\n",
		      stderr);
		return 2;
	}
	if (n > SVC_HOSTS || (eps && n * eps / eps != n) ||
	    n * eps > (uint64_t)POD_NETS * 254) {
		fputs("gencluster: too many services or endpoints\n", stderr);
		return 2;
	}
	setvbuf(stdout, buf, _IOFBF, sizeof(buf));
	rng_state = seed;
	off = rng() % SVC_HOSTS;
	obj(NULL);
	str("apiVersion", "v1");
	arr("items");
	for (unsigned long i = 0; i < n; i++) {
		make_svc(&s, i, off);
		write_service(&s);
		if (i % 2)
			write_slice(&s, (uint64_t)i * eps, eps);
		else
			write_endpoints(&s, (uint64_t)i * eps, eps);
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
