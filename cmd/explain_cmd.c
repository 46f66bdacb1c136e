/* explain: print where the ruleset sends one flow (compiler/explain.c). */
#include <ifaddrs.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "explain.h"
#include "explain_cmd.h"
#include "util.h"

/* "PORT[/PROTO]" into F; false if malformed. */
static bool parse_port(const char *s, struct flow *f)
{
	char *end;
	unsigned long n;

	if (*s < '0' || *s > '9')
		return false;
	n = strtoul(s, &end, 10);
	if (n < 1 || n > 65535)
		return false;
	f->port = (uint16_t)n;
	f->proto = PROTO_TCP;
	if (!*end)
		return true;
	if (*end != '/')
		return false;
	for (int p = 0; p < PLAN_N_PROTOS; p++)
		if (!strcasecmp(end + 1, proto_name((enum proto)p))) {
			f->proto = (enum proto)p;
			return true;
		}
	return false;
}

/* DEST:PORT[/PROTO], IPv6 as [ADDR]:PORT[/PROTO]. */
static bool parse_dest(const char *s, struct flow *f)
{
	char addr[64];
	const char *colon = s[0] == '[' ? strstr(s, "]:") : strrchr(s, ':');
	size_t skip = s[0] == '[';

	if (!colon || (size_t)(colon - s) - skip >= sizeof(addr))
		return false;
	memcpy(addr, s + skip, (size_t)(colon - s) - skip);
	addr[colon - s - (long)skip] = '\0';
	if (!ipaddr_parse(addr, &f->dst) || (f->dst.family == AF_INET6) != (skip == 1))
		return false;
	return parse_port(colon + 1 + skip, f);
}

bool flow_is_dest(const char *s)
{
	struct flow f;

	return parse_dest(s, &f);
}

bool flow_parse(const struct flow_opts *o, const char *dest, struct flow *f)
{
	memset(f, 0, sizeof(*f));
	if (!parse_dest(dest, f)) {
		fprintf(stderr, "svcnft: invalid destination \"%s\" (want ADDR:PORT[/tcp|udp|sctp], IPv6 as [ADDR]:PORT)\n",
			dest);
		return false;
	}
	if (!o->from)
		return true;
	if (!strcmp(o->from, "node")) {
		f->from_node = true;
		return true;
	}
	if (!ipaddr_parse(o->from, &f->src) || f->src.family != f->dst.family) {
		fprintf(stderr, "svcnft: --from: \"%s\" is not an address of the destination's family, nor \"node\"\n",
			o->from);
		return false;
	}
	f->src_set = true;
	return true;
}

static void add_local(struct ipaddr **v, size_t *n, size_t *cap,
		      const struct ipaddr *a)
{
	*v = grow(*v, cap, *n, sizeof(**v));
	(*v)[(*n)++] = *a;
}

/* This host's addresses (getifaddrs: no privileges needed). */
static void host_addresses(struct ipaddr **v, size_t *n, size_t *cap)
{
	struct ifaddrs *ifa, *i;

	if (getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i; i = i->ifa_next) {
		struct ipaddr a = {0};

		if (!i->ifa_addr)
			continue;
		a.family = i->ifa_addr->sa_family;
		if (a.family == AF_INET)
			memcpy(a.a, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, 4);
		else if (a.family == AF_INET6)
			memcpy(a.a, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, 16);
		else
			continue;
		add_local(v, n, cap, &a);
	}
	freeifaddrs(ifa);
}

static bool local_addresses(const struct flow_opts *o, struct ipaddr **v,
			    size_t *n)
{
	size_t cap = 0;

	*v = NULL;
	*n = 0;
	for (size_t i = 0; i < o->n_local; i++) {
		struct ipaddr a;

		if (!ipaddr_parse(o->local[i], &a)) {
			fprintf(stderr, "svcnft: --local-address: invalid address \"%s\"\n",
				o->local[i]);
			return false;
		}
		add_local(v, n, &cap, &a);
	}
	if (!o->n_local)
		host_addresses(v, n, &cap);
	return true;
}

/* The node's own traffic: its first address of the family that is not
 * loopback stands for the source the route would pick. */
static void node_source(struct explain_packet *pk)
{
	for (size_t i = 0; i < pk->n_local; i++) {
		const struct ipaddr *a = &pk->local[i];
		bool lo = a->family == AF_INET ? a->a[0] == 127 :
			  IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)(const void *)a->a);
		bool ll = a->family == AF_INET6 &&
			  IN6_IS_ADDR_LINKLOCAL((const struct in6_addr *)(const void *)a->a);

		if (a->family == pk->dst.family && !lo && !ll) {
			pk->src = *a;
			pk->src_known = true;
			return;
		}
	}
}

static void print_endpoints(const struct plan_entry *e)
{
	struct svcnft_buf b = {0};

	for (size_t i = 0; i < e->n; i++) {
		buf_puts(&b, i ? ", " : "");
		explain_endpoint(&b, &e->backends[i]);
		if (e->backends[i].node)
			buf_printf(&b, " (%s)", e->backends[i].node);
	}
	printf("endpoints:  %s\n", b.data ? b.data : "none");
	svcnft_buf_free(&b);
}

static void print_text(const struct explain_packet *pk,
		       const struct explain_result *r)
{
	char d[64], s[64];
	const struct plan_entry *e = r->entry;

	ipaddr_format(&pk->dst, d, sizeof(d));
	ipaddr_format(&pk->src, s, sizeof(s));
	printf("%s %s -> %s port %u, a new connection %s\n\n",
	       proto_upper(pk->proto), pk->src_known ? s : "(any outside client)", d,
	       pk->port, pk->from_node ? "of the node itself (output hook)" :
	       "arriving at the node (prerouting hook)");
	fputs(r->trace.data, stdout);
	printf("\nverdict:    %s%s\n", explain_verdict_name(r->verdict),
	       r->verdict != VERDICT_REJECT ? "" :
	       r->reject_tcp_reset ? " (TCP reset)" : " (ICMP port unreachable)");
	printf("why:        %s\n", r->why.data);
	if (!e)
		return;
	printf("way in:     %s\nservice:    %s/%s:%lld/%s%s%s%s\n", r->way, e->svc->ns,
	       e->svc->name, e->sp->port.v, proto_upper(e->proto),
	       *e->sp->name ? " (port name \"" : "", e->sp->name, *e->sp->name ? "\")" : "");
	if (r->verdict != VERDICT_DNAT)
		return;
	print_endpoints(e);
	if (e->affinity)
		printf("affinity:   ClientIP, %u s (per destination address)\n", e->affinity);
	else
		printf("affinity:   none (random per connection)\n");
	printf("masquerade: %s: %s\n", r->masquerade ? "yes" : "no", r->masq_why);
	if (r->hairpin)
		printf("hairpin:    the client is an endpoint; masqueraded when it reaches itself\n");
}

static void print_json(const struct explain_result *r)
{
	const struct plan_entry *e = r->entry;
	json_t *o = json_object(), *eps = json_array();
	struct svcnft_buf b = {0};
	char *s;

	json_object_set_new(o, "verdict", json_string(explain_verdict_name(r->verdict)));
	if (e)
		explain_service(&b, e);
	json_object_set_new(o, "service", e ? json_string(b.data) : json_null());
	for (size_t i = 0; e && r->verdict == VERDICT_DNAT && i < e->n; i++) {
		b.len = 0;
		explain_endpoint(&b, &e->backends[i]);
		json_array_append_new(eps, json_string(b.data));
	}
	json_object_set_new(o, "endpoints", eps);
	json_object_set_new(o, "masquerade", json_boolean(r->masquerade));
	json_object_set_new(o, "hairpin", json_boolean(r->hairpin));
	json_object_set_new(o, "way", r->way ? json_string(r->way) : json_null());
	json_object_set_new(o, "port_name", e ? json_string(e->sp->name) : json_null());
	json_object_set_new(o, "affinity_timeout", json_integer(e ? e->affinity : 0));
	json_object_set_new(o, "reason", json_string(r->why.data));
	if (r->masq_why)
		json_object_set_new(o, "masquerade_reason", json_string(r->masq_why));
	s = json_dumps(o, JSON_COMPACT);
	if (s)
		puts(s);
	free(s);
	json_decref(o);
	svcnft_buf_free(&b);
}

/* One destination: walk the plan, print the answer. */
static bool explain_one(const struct plan *p, const struct flow_opts *o,
			const char *dest, struct explain_packet *pk)
{
	struct explain_result r;
	struct flow f;

	if (!flow_parse(o, dest, &f))
		return false;
	pk->dst = f.dst;
	pk->proto = f.proto;
	pk->port = f.port;
	pk->src = f.src;
	pk->src_known = f.src_set;
	pk->from_node = f.from_node;
	if (f.from_node)
		node_source(pk);
	explain_walk(p, pk, &r);
	if (o->json)
		print_json(&r);
	else
		print_text(pk, &r);
	explain_free(&r);
	return true;
}

enum svcnft_status cmd_explain(const struct svcnft_model *m,
			       const struct svcnft_config *cfg,
			       const struct flow_opts *o)
{
	struct explain_packet pk = {0};
	struct ipaddr *local;
	struct plan p;
	bool ok = true;

	if (!local_addresses(o, &local, &pk.n_local))
		return SVCNFT_EUSAGE;
	pk.local = local;
	plan_build(&p, m, cfg);
	for (size_t i = 0; i < o->n_dests; i++) {
		if (i && !o->json)
			putchar('\n');
		ok &= explain_one(&p, o, o->dests[i], &pk);
	}
	plan_free(&p);
	free(local);
	return fflush(stdout) || !ok ? SVCNFT_EUSAGE : SVCNFT_OK;
}
