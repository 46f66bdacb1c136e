/* nlload: full replaces and incremental updates in one netlink batch.
 *
 * Through libnftables about three quarters of a full load is spent parsing
 * and evaluating the elements' text (docs/performance.md).  Here libnftables
 * compiles only the skeleton (render_nft_plan(..., true): chains, rules,
 * declarations, the small interval sets) inside a private network
 * namespace; that kernel encoding is dumped and sent again, with the large
 * sets' elements encoded here, in one batch that deletes and re-creates the
 * table: as atomic as `nft -f` of the whole script. */
#ifndef SVCNFT_NLLOAD_H
#define SVCNFT_NLLOAD_H

#include "kernel.h"
#include "svcnft.h"

struct plan;

/* Returned when nothing was sent because the skeleton could not be
 * compiled in a private namespace (no CAP_SYS_ADMIN for unshare: *F is
 * KF_NO_NETNS or KF_TEMPLATE, or libnftables refused it: KF_NONE): the
 * caller loads the text instead, which also reports libnftables' own
 * message. */
#define NLLOAD_UNAVAILABLE (-1)
/* Returned when the ruleset generation was no longer GENID: nothing was
 * changed; check the table again and retry. */
#define NLLOAD_RESTART (-2)

/* Replace table p->cfg->table with plan P, provided the ruleset is still
 * at generation GENID (0: unchecked): SVCNFT_OK, SVCNFT_EKERNEL with *F
 * naming the refused object (nb_send), NLLOAD_RESTART or
 * NLLOAD_UNAVAILABLE. */
int nlload_apply(const struct plan *p, uint32_t genid, struct kfail *f);

/* Apply the changes C (cmd/diff.h) of a table read at generation GENID in
 * one batch: element deletes and adds, new chains and maps (their
 * declarations and rules compiled in the template, so no full replace is
 * needed for them), the interval sets that changed sent whole, unused
 * chains and maps deleted.  Same results as nlload_apply(). */
struct changes;
int nlload_update(const struct plan *p, const struct changes *c,
		  uint32_t genid, struct kfail *f);

/* watch and follow, once, early while the process is small: templates
 * then come from one process kept for the daemon's life
 * (nb_template_daemon). */
void nlload_daemon(void);

#endif
