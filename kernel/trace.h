/* trace: nftrace for one flow, and the kernel's trace events.
 *
 * The flow is marked by a base chain of its own in svcnft's table
 * (LIVE_TRACE_PREFIX "PID-prerouting" / "-output", priority raw, before
 * svcnft's chains), added and removed through libnftables; the events are
 * read over netlink (NFNLGRP_NFTRACE).  live.c skips those chains, so the
 * saved state and drift detection never see them. */
#ifndef SVCNFT_TRACE_H
#define SVCNFT_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel.h"
#include "svcnft.h"

/* Add the chains to table inet TABLE: one per hook asked for, each with
 * the single rule "MATCH meta nftrace set 1" (MATCH is nft text built by
 * the caller from parsed addresses and numbers only).  SVCNFT_OK, or
 * SVCNFT_EKERNEL with *F filled (kernel_run). */
enum svcnft_status trace_chains_add(const char *table, const char *match,
				    bool prerouting, bool output,
				    struct kfail *f);
/* Remove them again (those still there: a full replace drops them); *F
 * as for trace_chains_add. */
void trace_chains_remove(const char *table, struct kfail *f);

/* One trace event (what `nft monitor trace` prints, decoded). */
struct trace_event {
	uint32_t id;			/* the same for each packet */
	const char *type;		/* "rule", "policy" or "return" */
	int family;			/* AF_INET or AF_INET6 */
	char table[64], chain[64];
	uint64_t handle;		/* of the rule, 0 for a policy */
	const char *verdict;		/* "accept", "goto", ... or NULL */
	char target[64];		/* of a jump or goto */
	bool has_pkt;			/* addresses and ports below */
	uint8_t src[16], dst[16], l4proto;
	uint16_t sport, dport;
	uint32_t mark;
};

/* Subscribe to trace events (one subscription per process): the
 * descriptor to poll, or -errno. */
int trace_open(void);
/* Read what is pending, calling CB for every event: 0, -ENOBUFS when
 * events were lost (the rest is read), or -errno. */
int trace_read(void (*cb)(const struct trace_event *, void *), void *data);
void trace_close(void);

#endif
