/* guard: how much of the live table an apply would take away.
 *
 * One check any daemon can call (apply, watch, a future `follow`): an
 * input that would shrink the live services or backends by more than a
 * percentage is suspect (a snapshot missing its endpoints file, a failing
 * API server's short list).  Pure; the caller owns every struct. */
#ifndef SVCNFT_GUARD_H
#define SVCNFT_GUARD_H

#include "elements.h"

struct guard_counts {
	size_t live_services, want_services;	/* cluster IPs (v4 + v6) */
	size_t live_backends, want_backends;	/* backends4 + backends6 */
};

/* Count what WANT and LIVE hold (LIVE may be a table that does not exist). */
void guard_count(struct guard_counts *g, const struct elements *want,
		 const struct elements *live);

/* True if the services or the backends would shrink by more than MAX_PCT
 * percent of the live ones (100 never); then MSG (LEN bytes) names the
 * counts.  Replacing elements is not shrinking: a rollout that moves every
 * backend keeps the count. */
bool guard_removal_exceeds(const struct guard_counts *g, unsigned int max_pct,
			   char *msg, size_t len);

#endif
