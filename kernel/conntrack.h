/* conntrack: delete the UDP and SCTP conntrack entries that a commit made
 * stale (ctnetlink over libmnl, through netlink.c's request loop).
 *
 * compiler/stale.h decides which entries are stale; this only dumps and
 * deletes.  Each service port is dumped with a kernel-side filter on its
 * original destination (CTA_FILTER: address, protocol and port; a node
 * port by protocol and port), so that a change costs one filtered walk of
 * the table per port, not a copy of every entry; beyond
 * CONNTRACK_PORT_DUMPS ports of one family and protocol, one dump filtered
 * on the protocol alone serves them all.  Only entries of a key are ever
 * deleted, by their original tuple and id (an entry made again meanwhile
 * is left alone). */
#ifndef SVCNFT_CONNTRACK_H
#define SVCNFT_CONNTRACK_H

#include <stdbool.h>
#include <stddef.h>

struct stale_set;

/* Each filtered dump walks the whole table in the kernel (5-13 ms with 4k
 * entries, 30-100 ms with 100k); a protocol dump copies every UDP entry out
 * (21 ms with 4k, 850 ms with 100k): bench/conntrack.sh. */
#define CONNTRACK_PORT_DUMPS 16

struct conntrack_result {
	size_t keys;		/* service ports checked */
	size_t dumps;		/* dump requests */
	size_t deleted;		/* entries deleted (DRY_RUN: stale) */
	size_t failed;		/* deletes the kernel refused */
	bool unchecked;		/* a dump failed: some ports not checked */
	int err;		/* 0, or -errno of the first failure */
	double ms;		/* wall-clock time taken */
};

/* Find and (unless DRY_RUN) delete the stale entries of every key of S.
 * Never fails the caller: what went wrong is counted in R. */
void conntrack_clean(const struct stale_set *s, bool dry_run,
		     struct conntrack_result *r);

#endif
