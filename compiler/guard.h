/* guard: how much of the live table an apply would take away.
 *
 * One check for the commands fed by files (apply, watch): an input that
 * would lose more than a percentage of the live services, or of the
 * service ports that have endpoints ("served"), is suspect (a truncated
 * snapshot, a snapshot without its EndpointSlices).  Backends are not
 * counted: a scale-down is normal.  Pure; the caller owns every struct. */
#ifndef SVCNFT_GUARD_H
#define SVCNFT_GUARD_H

#include "elements.h"

struct guard_counts {
	size_t live_services, want_services;	/* cluster IPs (v4 + v6) */
	size_t live_served, want_served;	/* service-ports4 + 6: ports with endpoints */
};

/* Count what WANT and LIVE hold (LIVE may be a table that does not exist). */
void guard_count(struct guard_counts *g, const struct elements *want,
		 const struct elements *live);

/* True if the services or the served service ports would shrink by more
 * than MAX_PCT percent of the live ones (100 never); then MSG (LEN bytes)
 * names the counts.  Replacing elements is not shrinking: a rollout that
 * moves every backend, or a scale-down to one endpoint, keeps the counts. */
bool guard_removal_exceeds(const struct guard_counts *g, unsigned int max_pct,
			   char *msg, size_t len);

#endif
