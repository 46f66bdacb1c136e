/* trace: nftrace one flow and print the kernel's trace events with the
 * service and endpoint names of svcnft's live table (kernel/trace.h). */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kernel.h"
#include "live.h"
#include "monotime.h"
#include "owner.h"
#include "trace.h"
#include "trace_cmd.h"
#include "util.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* What is known of one traced packet (by its trace id). */
struct pkt {
	uint32_t id;
	struct trace_event hdr;		/* its last event with headers */
	uint8_t dst[16];		/* its destination on entry */
	uint16_t dport;
	char key[96];			/* its dispatch key, once known */
	char service[160];		/* ... and service port */
	bool dnat_shown;
};

#define TRACE_PKTS 64

struct tracer {
	const struct trace_opts *o;
	struct elements els;		/* the live table, for names */
	char pfx[64];			/* of our own trace chains */
	unsigned long packets;		/* entered a trace chain */
	struct pkt p[TRACE_PKTS];	/* the last ones, a ring */
};

static const char *proto_of(uint8_t p)
{
	return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" :
	       p == IPPROTO_SCTP ? "sctp" : NULL;
}

static void put_addr(struct svcnft_buf *b, int family, const uint8_t *a)
{
	struct ipaddr ip = { .family = family };
	char s[64];

	memcpy(ip.a, a, family == AF_INET ? 4 : 16);
	ipaddr_format(&ip, s, sizeof(s));
	buf_puts(b, s);
}

/* The packet of event EV: a new one when it enters our trace chain
 * (trace ids are reused), else the last one with its id. */
static struct pkt *pkt_of(struct tracer *t, const struct trace_event *ev)
{
	size_t n = t->packets < TRACE_PKTS ? t->packets : TRACE_PKTS;
	struct pkt *p;

	if (!ev->has_pkt || strncmp(ev->chain, t->pfx, strlen(t->pfx)))
		for (size_t i = 0; i < n; i++) {
			p = &t->p[(t->packets - 1 - i) % TRACE_PKTS];
			if (p->id == ev->id)
				return p;
		}
	p = &t->p[t->packets++ % TRACE_PKTS];
	memset(p, 0, sizeof(*p));
	p->id = ev->id;
	p->hdr = *ev;
	memcpy(p->dst, ev->dst, 16);
	p->dport = ev->dport;
	return p;
}

static void verdict(struct svcnft_buf *b, const struct trace_event *ev)
{
	if (ev->verdict)
		buf_printf(b, " %s%s%s", ev->verdict, *ev->target ? " " : "", ev->target);
}

/* The element of dispatch map SET whose key is KEY, or NULL. */
static const char *find_elem(const struct tracer *t, const char *set,
			     const char *key)
{
	const struct el_set *s = elements_find(&t->els, set);
	size_t n = strlen(key);

	for (size_t i = 0; s && i < s->el.n; i++)
		if (!strncmp(s->el.v[i], key, n) && s->el.v[i][n] == ' ')
			return s->el.v[i];
	return NULL;
}

/* On a dispatch (the packet's destination . protocol . port in one of
 * the verdict maps), remember the key and the service port named by the
 * element's comment. */
static void dispatch(struct tracer *t, struct pkt *p)
{
	static const struct { const char *map; bool addr; } maps[] = {
		{ "external-local", true }, { "service-ips", true },
		{ "nodeports-local", false }, { "nodeports", false },
	};
	const struct trace_event *h = &p->hdr;
	const char *sfx = h->family == AF_INET ? "4" : "6", *e, *c;
	struct svcnft_buf key = {0};
	char set[64];

	for (size_t i = 0; i < ARRAY_SIZE(maps) && !p->service[0]; i++) {
		key.len = 0;
		if (maps[i].addr) {
			put_addr(&key, h->family, h->dst);
			buf_puts(&key, " . ");
		}
		buf_printf(&key, "%s . %u", proto_of(h->l4proto), h->dport);
		snprintf(set, sizeof(set), "%s%s", maps[i].map, sfx);
		if (!(e = find_elem(t, set, key.data)) || !(c = strstr(e, "comment \"")))
			continue;
		c += 9;
		snprintf(p->service, sizeof(p->service), "%.*s", (int)strcspn(c, "\""), c);
		snprintf(p->key, sizeof(p->key), "%s", key.data);
	}
	svcnft_buf_free(&key);
}

/* After DNAT: the endpoint, and its element in the backends map. */
static void endpoint(struct tracer *t, struct pkt *p, struct svcnft_buf *b)
{
	const struct trace_event *h = &p->hdr;
	const char *sfx = h->family == AF_INET ? "4" : "6";
	struct svcnft_buf data = {0};
	const struct el_set *s;
	char set[64];

	p->dnat_shown = true;
	buf_puts(b, "\n    => endpoint ");
	if (h->family == AF_INET6)
		buf_puts(b, "[");
	put_addr(b, h->family, h->dst);
	buf_printf(b, "%s:%u", h->family == AF_INET6 ? "]" : "", h->dport);
	if (p->service[0])
		buf_printf(b, " of service %s", p->service);
	buf_puts(&data, " : ");
	put_addr(&data, h->family, h->dst);
	buf_printf(&data, " . %u", h->dport);
	for (int m = 0; m < 2 && p->key[0]; m++) {
		snprintf(set, sizeof(set), "%s%s", m ? "nodeport-backends" : "backends", sfx);
		s = elements_find(&t->els, set);
		for (size_t i = 0; s && i < s->el.n; i++) {
			const char *e = s->el.v[i], *d = strstr(e, " : ");

			if (d && !strcmp(d, data.data) && !strncmp(e, p->key, strlen(p->key)))
				buf_printf(b, " (@%s: %s)", set, e);
		}
	}
	svcnft_buf_free(&data);
}

static void put_packet(struct svcnft_buf *b, const struct trace_event *ev)
{
	buf_printf(b, "  %s ", proto_of(ev->l4proto));
	put_addr(b, ev->family, ev->src);
	buf_printf(b, " %u -> ", ev->sport);
	put_addr(b, ev->family, ev->dst);
	buf_printf(b, " %u", ev->dport);
}

/* A goto (or drop) from svcnft's dispatch chains. */
static bool is_dispatch(const struct tracer *t, const struct trace_event *ev)
{
	return !strcmp(ev->table, t->o->table) && ev->verdict &&
	       (!strcmp(ev->verdict, "goto") || !strcmp(ev->verdict, "drop")) &&
	       (!strcmp(ev->chain, "services") || !strcmp(ev->chain, "external-local"));
}

static void on_event(const struct trace_event *ev, void *data)
{
	struct tracer *t = data;
	struct svcnft_buf b = {0};
	struct pkt *p = pkt_of(t, ev);
	bool l4 = proto_of(ev->l4proto) != NULL;

	if (ev->has_pkt)
		p->hdr = *ev;
	buf_printf(&b, "%08x %s %s %s %s", ev->id, ev->family == AF_INET ? "ip" : "ip6",
		   ev->table, ev->chain, ev->type);
	if (ev->handle)
		buf_printf(&b, " %llu", (unsigned long long)ev->handle);
	verdict(&b, ev);
	if (ev->has_pkt && l4)
		put_packet(&b, ev);
	if (proto_of(p->hdr.l4proto) && !p->service[0] && is_dispatch(t, ev)) {
		dispatch(t, p);
		if (p->service[0])
			buf_printf(&b, "\n    => service %s", p->service);
	}
	if (ev->has_pkt && l4 && !p->dnat_shown &&
	    (memcmp(ev->dst, p->dst, 16) || ev->dport != p->dport))
		endpoint(t, p, &b);
	puts(b.data);
	fflush(stdout);
	svcnft_buf_free(&b);
}

/* "ip saddr S ip daddr D meta l4proto P th dport N": only parsed
 * addresses and numbers reach the script. */
static void match(struct svcnft_buf *b, const struct flow *f)
{
	const char *kw = f->dst.family == AF_INET ? "ip" : "ip6";

	if (f->src_set) {
		buf_printf(b, "%s saddr ", kw);
		put_addr(b, f->src.family, f->src.a);
		buf_puts(b, " ");
	}
	buf_printf(b, "%s daddr ", kw);
	put_addr(b, f->dst.family, f->dst.a);
	buf_printf(b, " meta l4proto %s th dport %u", proto_name(f->proto), f->port);
}

static void loop(struct tracer *t, int fd)
{
	double end = t->o->timeout_s ? mono_s() + t->o->timeout_s : 0, idle = 0;

	while (!stop) {
		double left = end ? end - mono_s() : 1;
		int ms = left > 0.2 ? 200 : (int)(left * 1000);
		int r;

		if (end && left <= 0)
			break;
		r = poll(&(struct pollfd){ fd, POLLIN, 0 }, 1, ms < 1 ? 1 : ms);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0 && trace_read(on_event, t) == -ENOBUFS)
			fputs("svcnft: trace: some events were lost (receive buffer full)\n", stderr);
		idle = r > 0 ? 0 : idle + ms / 1000.0;
		/* --count: the packets' last events come right after */
		if (t->o->count && t->packets >= t->o->count && idle >= 0.4)
			break;
	}
}

static void traps(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: poll returns */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

enum svcnft_status cmd_trace(const struct trace_opts *o)
{
	struct tracer t = { .o = o };
	struct svcnft_buf m = {0};
	struct kfail kf = {0};
	enum svcnft_status st;
	struct flow f;
	bool exists;
	int fd;

	if (!flow_parse(&o->flow, o->dest, &f))
		return SVCNFT_EUSAGE;
	if ((st = owner_check(o->table, "trace", &exists)) != SVCNFT_OK)
		return st;
	if (!exists) {
		fprintf(stderr, "svcnft: trace: no table inet %s (apply first)\n", o->table);
		return SVCNFT_EKERNEL;
	}
	if (live_read(o->table, &t.els) < 0)
		fprintf(stderr, "svcnft: trace: cannot read table inet %s: no names\n", o->table);
	if ((fd = trace_open()) < 0) {
		fprintf(stderr, "svcnft: trace: cannot subscribe to trace events: %s\n", strerror(-fd));
		elements_free(&t.els);
		return SVCNFT_EKERNEL;
	}
	traps();
	snprintf(t.pfx, sizeof(t.pfx), "%s%ld-", LIVE_TRACE_PREFIX, (long)getpid());
	match(&m, &f);
	st = trace_chains_add(o->table, m.data, !f.from_node, !f.src_set, &kf);
	owner_kfail(&kf);
	if (st == SVCNFT_OK) {
		fprintf(stderr, "svcnft: tracing %s (chains %s%ld-*), until %s\n", m.data,
			LIVE_TRACE_PREFIX, (long)getpid(), o->count ? "--count packets" :
			o->timeout_s ? "--timeout" : "SIGINT or SIGTERM");
		loop(&t, fd);
		trace_chains_remove(o->table, &kf);
		owner_kfail(&kf);
	}
	trace_close();
	elements_free(&t.els);
	svcnft_buf_free(&m);
	return st;
}
