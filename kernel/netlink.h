/* netlink: the one netlink core of kernel/ (libmnl): a socket, one request
 * loop and one attribute parser, for nf_tables and any other netfilter
 * subsystem, and rtnetlink (nl_open_bus).
 *
 * struct nl owns its socket and receive buffer (nl_close releases both);
 * messages built with nl_msg live in that buffer until the next nl_msg.
 * Parsed attribute tables point into the message they were parsed from. */
#ifndef SVCNFT_NETLINK_H
#define SVCNFT_NETLINK_H

#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stdint.h>

/* Reads give up (EAGAIN) after NL_TIMEOUT seconds, so that a lost reply
 * cannot hang svcnft while it holds the apply lock. */
#define NL_TIMEOUT 30

struct nl {
	struct mnl_socket *s;
	unsigned int seq, portid;
	char *buf;
};

/* A bound NETLINK_NETFILTER socket (close-on-exec) with the receive
 * timeout; NULL with errno on failure. */
struct mnl_socket *nl_socket_open(void);

/* Open NL (socket and buffer): 0 or -errno.  nl_close accepts a zeroed or
 * half-opened NL. */
int nl_open(struct nl *nl);
/* The same on netlink bus BUS (NETLINK_ROUTE for the node's addresses). */
int nl_open_bus(struct nl *nl, int bus);
void nl_close(struct nl *nl);

/* A request of SUBSYS (NFNL_SUBSYS_NFTABLES ...) and TYPE for FAMILY in
 * NL's buffer, with the nfgenmsg header, NLM_F_REQUEST | FLAGS and the
 * next sequence number. */
struct nlmsghdr *nl_msg(struct nl *nl, uint8_t subsys, uint8_t type,
			uint16_t flags, uint8_t family);

/* An nf_tables request (inet family; GETGEN unspecified). */
struct nlmsghdr *nl_nft_msg(struct nl *nl, uint8_t type, uint16_t flags);

/* Send H and feed every reply to CB until the kernel's ACK or DONE.
 * 0 or -errno; an error the kernel put in NLMSG_DONE fails the request,
 * and a dump flagged NLM_F_DUMP_INTR (the ruleset changed during it)
 * returns -EINTR after the whole reply was read. */
int nl_run(struct nl *nl, struct nlmsghdr *h, mnl_cb_t cb, void *data);

/* Feed what is already queued on NL (multicast events, the errors of a
 * batch) to CB without waiting, NLMSG_ERROR messages to ERR unless NULL
 * (then an error does not end the read): 0 once nothing is left, or
 * -errno.  Messages lost to a full queue (ENOBUFS) are counted in *LOST
 * unless NULL, and reading goes on.  Same loop as nl_run. */
int nl_drain(struct nl *nl, mnl_cb_t cb, mnl_cb_t err, void *data,
	     unsigned int *lost);

/* Attribute tables: the attributes of a message (after its nfgenmsg) or
 * of a nested attribute, by type; types NL_MAXATTR and above are not
 * kept. */
#define NL_MAXATTR 32
struct nl_attrs {
	const struct nlattr *a[NL_MAXATTR];
};
void nl_parse(const struct nlmsghdr *h, struct nl_attrs *t);
/* The same after a family header of HDRLEN bytes (rtnetlink's ifaddrmsg). */
void nl_parse_after(const struct nlmsghdr *h, size_t hdrlen,
		    struct nl_attrs *t);
void nl_parse_nested(const struct nlattr *a, struct nl_attrs *t);
/* The string of attribute TYPE, or "" when absent. */
const char *nl_attr_str(const struct nl_attrs *t, int type);
/* Attribute TYPE of message H, or NULL. */
const struct nlattr *nl_attr_get(const struct nlmsghdr *h, uint16_t type);

#endif
