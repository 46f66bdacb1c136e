/* nlwait: print the CLOCK_MONOTONIC time (ms) of every nf_tables
 * transaction the kernel announces (NFT_MSG_NEWGEN on NFNLGRP_NFTABLES),
 * one line each, flushed; "overrun" when notifications were lost.
 * `nlwait first` subscribes to nothing: it asks the generation every
 * millisecond and prints the time it first moves, then exits (a listener
 * makes the kernel build a notification per element, which slows a full
 * load several times, so first syncs are timed without one).  A
 * benchmark probe, not part of svcnft: run it in the namespace under test. */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void report(const char *buf, size_t len)
{
	const struct nlmsghdr *h = (const void *)buf;
	int n = (int)len;

	for (; mnl_nlmsg_ok(h, n); h = mnl_nlmsg_next(h, &n))
		if (h->nlmsg_type == (NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWGEN))
			printf("%.3f\n", now_ms());
	fflush(stdout);
}

/* The ruleset generation, or 0 if the request fails. */
static uint32_t genid(struct mnl_socket *s, char *buf, size_t size)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;
	struct nlattr *a;
	ssize_t r;

	h->nlmsg_type = NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_GETGEN;
	h->nlmsg_flags = NLM_F_REQUEST;
	g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	if (mnl_socket_sendto(s, h, h->nlmsg_len) < 0 ||
	    (r = mnl_socket_recvfrom(s, buf, size)) <= 0)
		return 0;
	h = (struct nlmsghdr *)buf;
	if (h->nlmsg_type != (NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWGEN))
		return 0;
	for (a = mnl_nlmsg_get_payload_offset(h, sizeof(*g));
	     mnl_attr_ok(a, (int)((char *)mnl_nlmsg_get_payload_tail(h) - (char *)a));
	     a = mnl_attr_next(a))
		if (mnl_attr_get_type(a) == NFTA_GEN_ID)
			return ntohl(mnl_attr_get_u32(a));
	return 0;
}

static int first(void)
{
	static char buf[8192];
	struct mnl_socket *s = mnl_socket_open(NETLINK_NETFILTER);
	uint32_t g0;

	if (!s || mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    !(g0 = genid(s, buf, sizeof(buf)))) {
		perror("nlwait");
		return 1;
	}
	puts("ready");
	fflush(stdout);
	while (genid(s, buf, sizeof(buf)) == g0)
		usleep(1000);
	printf("%.3f\n", now_ms());
	return 0;
}

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	struct mnl_socket *s = mnl_socket_open(NETLINK_NETFILTER);
	int group = NFNLGRP_NFTABLES, rcv = 64 << 20;

	if (argc > 1 && !strcmp(argv[1], "first"))
		return first();

	if (!s || mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(s, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		perror("nlwait");
		return 1;
	}
	setsockopt(mnl_socket_get_fd(s), SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv));
	puts("ready");
	fflush(stdout);
	for (;;) {
		ssize_t r = mnl_socket_recvfrom(s, buf, sizeof(buf));

		if (r < 0 && errno == ENOBUFS) {
			puts("overrun");
			continue;
		}
		if (r < 0) {
			perror("nlwait");
			return 1;
		}
		report(buf, (size_t)r);
	}
}
