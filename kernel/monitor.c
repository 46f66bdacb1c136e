/* monitor: NFNLGRP_NFTABLES notifications (see monitor.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "live.h"
#include "monitor.h"
#include "netlink.h"
#include "nlbatch.h"

static struct {
	const char *table;		/* NULL: not started */
	struct nl nl;			/* nl.s NULL: suspended or failed */
	uint32_t since;			/* generation when (re)subscribed */
	uint32_t seen;			/* of the last NEWGEN */
	bool foreign;			/* someone else touched the table ... */
	uint32_t foreign_gen;		/* ... last in this transaction */
	bool touched;			/* the open transaction touched it */
} mon;

/* Generations as distances from `since`: they wrap around, and a saved
 * state from before the subscription (or from another boot or namespace)
 * is "before" however its number compares. */
static uint32_t dist(uint32_t gen)
{
	return gen - mon.since;
}

static void close_sock(void)
{
	nl_close(&mon.nl);
}

/* Subscribe, then read the generation: every commit after it is seen. */
static bool open_sock(void)
{
	unsigned int grp = NFNLGRP_NFTABLES;
	int rcv = 8 << 20;

	if (nl_open(&mon.nl) ||
	    mnl_socket_setsockopt(mon.nl.s, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)) < 0 ||
	    live_genid(&mon.since)) {
		close_sock();
		return false;
	}
	/* best effort: an overflow only costs a table read */
	(void)setsockopt(mnl_socket_get_fd(mon.nl.s), SOL_SOCKET, SO_RCVBUFFORCE,
			 &rcv, sizeof(rcv));
	mon.seen = mon.since;
	mon.foreign = mon.touched = false;
	return true;
}

bool monitor_start(const char *table)
{
	mon.table = table;
	if (open_sock())
		return true;
	mon.table = NULL;
	return false;
}

int monitor_fd(void)
{
	return mon.nl.s ? mnl_socket_get_fd(mon.nl.s) : -1;
}

/* NFTA_*_TABLE is attribute 1 of every object message. */
static bool names_table(const struct nlmsghdr *h)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(h);
	const struct nlattr *t = nl_attr_get(h, 1);

	return g->nfgen_family == NFPROTO_INET && t &&
	       !mnl_attr_validate(t, MNL_TYPE_NUL_STRING) &&
	       !strcmp(mnl_attr_get_str(t), mon.table);
}

/* Object events of a transaction, then its NEWGEN with the process. */
static int event(const struct nlmsghdr *h, void *data)
{
	const struct nlattr *gen;

	(void)data;

	if (h->nlmsg_type >> 8 != NFNL_SUBSYS_NFTABLES ||
	    mnl_nlmsg_get_payload_len(h) < sizeof(struct nfgenmsg))
		return MNL_CB_OK;
	if ((h->nlmsg_type & 0xff) != NFT_MSG_NEWGEN) {
		mon.touched |= names_table(h);
		return MNL_CB_OK;
	}
	/* svcnft's own commits happen while suspended: any transaction
	 * seen that touched the table is someone else's */
	gen = nl_attr_get(h, NFTA_GEN_ID);
	mon.seen = gen && mnl_attr_get_payload_len(gen) == sizeof(uint32_t) ?
		   ntohl(mnl_attr_get_u32(gen)) : 0;
	if (mon.touched) {
		mon.foreign = true;
		mon.foreign_gen = mon.seen;
	}
	mon.touched = false;
	return MNL_CB_OK;
}

void monitor_drain(void)
{
	unsigned int lost = 0;

	if (!mon.nl.s)
		return;
	(void)nl_drain(&mon.nl, event, NULL, NULL, &lost);	/* else: again later */
	if (lost) {
		/* lost some: start again from now (older states are no
		 * longer vouched for) */
		close_sock();
		open_sock();
	}
}

void monitor_suspend(void)
{
	close_sock();
}

void monitor_resume(void)
{
	if (mon.table && !mon.nl.s)
		open_sock();
}

bool monitor_vouches(uint32_t saved, uint32_t now)
{
	if (!mon.nl.s)
		return false;
	monitor_drain();
	/* GETGEN may run ahead of the last commit's notifications */
	for (int i = 0; i < 20 && mon.nl.s && dist(mon.seen) < dist(now); i++) {
		poll(&(struct pollfd){ mnl_socket_get_fd(mon.nl.s), POLLIN, 0 }, 1, 5);
		monitor_drain();
	}
	return mon.nl.s && dist(saved) <= dist(now) &&
	       dist(mon.seen) >= dist(now) &&
	       !(mon.foreign && dist(mon.foreign_gen) > dist(saved));
}
