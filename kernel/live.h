/* live: read svcnft's table back from the kernel over netlink (libmnl).
 *
 * The result uses the canonical strings of compiler/elements.h, so that it
 * compares with what the compiler would load.  The dynamic affinity sets
 * (connection state) are listed without their elements. */
#ifndef SVCNFT_LIVE_H
#define SVCNFT_LIVE_H

#include <stdint.h>

#include "elements.h"

/* Read table inet TABLE into ELS (initialised here).  A missing table gives
 * exists = false; a table without svcnft's comment gives ours = false and
 * nothing else.  A dump the kernel flags as interrupted, or during which
 * the generation id moved, is read again, up to 5 times.  Returns 0, or
 * -errno (EINTR: the ruleset kept changing; EAGAIN: no answer within
 * KERNEL_NL_TIMEOUT seconds). */
int live_read(const char *table, struct elements *els);

/* A hash of every rule of table inet TABLE (as live_read puts in
 * rules_hash): equal hashes, equal rules.  0 or -errno. */
int live_rules_hash(const char *table, uint64_t *hash);

/* Dump request TYPE (NFT_MSG_GETCHAIN ...) for table inet TABLE (and set
 * SET): every reply message appended to OUT as the kernel sent it.  0 or
 * -errno (-EINTR: the ruleset changed during the dump). */
int live_dump(uint16_t type, const char *table, const char *set,
	      struct svcnft_buf *out);

/* The ruleset generation id; 0 or -errno. */
int live_genid(uint32_t *gen);

/* The request loop and attribute tables of these dumps, shared with the
 * other NETLINK_NETFILTER users of kernel/ (conntrack.c). */
struct mnl_socket;
struct nlmsghdr;
struct nlattr;

#define LIVE_RXBUF (1 << 17)
struct live_nl {
	struct mnl_socket *s;	/* kernel_nl_open() */
	unsigned int seq, portid;
	char *buf;		/* LIVE_RXBUF bytes: replies, and requests before */
};
/* 0 or -errno; live_nl_close() either way. */
int live_nl_open(struct live_nl *nl);
void live_nl_close(struct live_nl *nl);
/* Send H (built in nl->buf or elsewhere) and feed every reply to CB until
 * the dump's DONE or the ACK; 0 or -errno (-EINTR: the dump was marked
 * interrupted; an error in DONE or an ACK's error is returned). */
int live_nl_run(struct live_nl *nl, struct nlmsghdr *h,
		int (*cb)(const struct nlmsghdr *h, void *data), void *data);

/* Attributes by type (types at or above LIVE_MAXATTR are left out). */
#define LIVE_MAXATTR 24
struct live_attrs {
	const struct nlattr *a[LIVE_MAXATTR];
};
/* Of message H after its nfgenmsg header; of nested attribute A (none
 * when A is NULL). */
void live_parse_msg(const struct nlmsghdr *h, struct live_attrs *t);
void live_parse_nested(const struct nlattr *a, struct live_attrs *t);

#endif
