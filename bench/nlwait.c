/* nlwait: print the CLOCK_MONOTONIC time (ms) of every nf_tables
 * transaction the kernel announces (NFT_MSG_NEWGEN on NFNLGRP_NFTABLES),
 * one line each, flushed; "overrun" when notifications were lost.  A
 * benchmark probe, not part of svcnft: run it in the namespace under test. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
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

int main(void)
{
	static char buf[1 << 20];
	struct mnl_socket *s = mnl_socket_open(NETLINK_NETFILTER);
	int group = NFNLGRP_NFTABLES, rcv = 64 << 20;

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
