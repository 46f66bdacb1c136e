/* trace: the trace chains and NFNLGRP_NFTRACE events (see trace.h). */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kernel.h"
#include "live.h"
#include "netlink.h"
#include "nlbatch.h"
#include "trace.h"
#include "util.h"

static struct nl sub;	/* the subscription */

/* "trace-PID-" : this process's chains. */
static void chain_prefix(char *buf, size_t len)
{
	snprintf(buf, len, "%s%ld-", LIVE_TRACE_PREFIX, (long)getpid());
}

enum svcnft_status trace_chains_add(const char *table, const char *match,
				    bool prerouting, bool output,
				    struct kfail *f)
{
	static const char *const hooks[] = { "prerouting", "output" };
	bool on[] = { prerouting, output };
	struct svcnft_buf b = {0};
	enum svcnft_status st;
	char pfx[64];

	chain_prefix(pfx, sizeof(pfx));
	for (int i = 0; i < 2; i++)
		if (on[i])
			buf_printf(&b, "add chain inet %s %s%s { type filter hook %s priority raw; policy accept; }\n"
				   "add rule inet %s %s%s %s meta nftrace set 1\n",
				   table, pfx, hooks[i], hooks[i], table, pfx, hooks[i], match);
	st = kernel_run(b.data, false, f);
	svcnft_buf_free(&b);
	return st;
}

void trace_chains_remove(const char *table, struct kfail *f)
{
	struct svcnft_buf dump = {0}, b = {0};
	const struct nlmsghdr *h;
	char pfx[64];
	int len;

	chain_prefix(pfx, sizeof(pfx));
	if (live_dump(NFT_MSG_GETCHAIN, table, NULL, &dump) == 0)
		for (h = nb_first(&dump, &len); h; h = nb_next(h, &len))
			if (nb_type(h) == NFT_MSG_NEWCHAIN &&
			    !strncmp(nb_name(h), pfx, strlen(pfx)))
				buf_printf(&b, "delete chain inet %s %s\n", table, nb_name(h));
	if (b.len)
		kernel_run(b.data, false, f);
	svcnft_buf_free(&dump);
	svcnft_buf_free(&b);
}

int trace_open(void)
{
	unsigned int grp = NFNLGRP_NFTRACE;
	int rcv = 4 << 20, err;

	if ((err = nl_open(&sub)) ||
	    mnl_socket_setsockopt(sub.s, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)) < 0) {
		err = err ? err : -errno;
		trace_close();
		return err;
	}
	/* best effort: a lost event is reported, not fatal */
	(void)setsockopt(mnl_socket_get_fd(sub.s), SOL_SOCKET, SO_RCVBUFFORCE,
			 &rcv, sizeof(rcv));
	return mnl_socket_get_fd(sub.s);
}

void trace_close(void)
{
	nl_close(&sub);
}

static void copy_str(char *dst, size_t len, const struct nlattr *a)
{
	snprintf(dst, len, "%s", a ? mnl_attr_get_str(a) : "");
}

static uint32_t get_u32(const struct nlattr *a)
{
	return a && mnl_attr_get_payload_len(a) >= 4 ? ntohl(mnl_attr_get_u32(a)) : 0;
}

/* Addresses and protocol from the network header, ports from the
 * transport header (TCP, UDP and SCTP all start with them). */
static void packet(struct trace_event *ev, const struct nlattr *net,
		   const struct nlattr *tr)
{
	const uint8_t *p = net ? mnl_attr_get_payload(net) : NULL;
	size_t n = net ? mnl_attr_get_payload_len(net) : 0;

	if (ev->family == AF_INET && n >= 20) {
		memcpy(ev->src, p + 12, 4);
		memcpy(ev->dst, p + 16, 4);
		ev->l4proto = p[9];
	} else if (ev->family == AF_INET6 && n >= 40) {
		memcpy(ev->src, p + 8, 16);
		memcpy(ev->dst, p + 24, 16);
		ev->l4proto = p[6];
	} else {
		return;
	}
	ev->has_pkt = true;
	if (tr && mnl_attr_get_payload_len(tr) >= 4) {
		const uint8_t *t = mnl_attr_get_payload(tr);

		ev->sport = (uint16_t)(t[0] << 8 | t[1]);
		ev->dport = (uint16_t)(t[2] << 8 | t[3]);
	}
}

static const char *verdict_name(int32_t v)
{
	switch (v) {
	case NF_DROP: return "drop";
	case NF_ACCEPT: return "accept";
	case NF_STOLEN: return "stolen";
	case NF_QUEUE: return "queue";
	case NFT_JUMP: return "jump";
	case NFT_GOTO: return "goto";
	case NFT_RETURN: return "return";
	default: return "continue";
	}
}

static void verdict(struct trace_event *ev, const struct nlattr *a)
{
	struct nl_attrs v;

	if (!a)
		return;
	nl_parse_nested(a, &v);
	if (v.a[NFTA_VERDICT_CODE])
		ev->verdict = verdict_name((int32_t)get_u32(v.a[NFTA_VERDICT_CODE]));
	copy_str(ev->target, sizeof(ev->target), v.a[NFTA_VERDICT_CHAIN]);
}

static const char *type_name(uint32_t t)
{
	return t == NFT_TRACETYPE_RULE ? "rule" :
	       t == NFT_TRACETYPE_POLICY ? "policy" : "return";
}

static void decode(const struct nlmsghdr *h, struct trace_event *ev)
{
	struct nl_attrs t;
	uint32_t nfproto;

	memset(ev, 0, sizeof(*ev));
	nl_parse(h, &t);
	ev->id = get_u32(t.a[NFTA_TRACE_ID]);
	ev->type = type_name(get_u32(t.a[NFTA_TRACE_TYPE]));
	nfproto = get_u32(t.a[NFTA_TRACE_NFPROTO]);
	ev->family = nfproto == NFPROTO_IPV6 ? AF_INET6 : AF_INET;
	copy_str(ev->table, sizeof(ev->table), t.a[NFTA_TRACE_TABLE]);
	copy_str(ev->chain, sizeof(ev->chain), t.a[NFTA_TRACE_CHAIN]);
	if (t.a[NFTA_TRACE_RULE_HANDLE] &&
	    mnl_attr_get_payload_len(t.a[NFTA_TRACE_RULE_HANDLE]) >= 8)
		ev->handle = be64toh(mnl_attr_get_u64(t.a[NFTA_TRACE_RULE_HANDLE]));
	ev->mark = get_u32(t.a[NFTA_TRACE_MARK]);
	verdict(ev, t.a[NFTA_TRACE_VERDICT]);
	packet(ev, t.a[NFTA_TRACE_NETWORK_HEADER], t.a[NFTA_TRACE_TRANSPORT_HEADER]);
}

struct trace_q {
	void (*cb)(const struct trace_event *, void *);
	void *data;
};

static int event_cb(const struct nlmsghdr *h, void *data)
{
	const struct trace_q *q = data;
	struct trace_event ev;

	if (h->nlmsg_type == ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE)) {
		decode(h, &ev);
		q->cb(&ev, q->data);
	}
	return MNL_CB_OK;
}

int trace_read(void (*cb)(const struct trace_event *, void *), void *data)
{
	struct trace_q q = { cb, data };
	unsigned int lost = 0;
	int ret = nl_drain(&sub, event_cb, NULL, &q, &lost);

	return ret ? ret : lost ? -ENOBUFS : 0;
}
