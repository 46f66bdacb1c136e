/* guard: the removal check (see guard.h). */
#include <stdio.h>
#include <string.h>

#include "guard.h"

/* Elements of the sets NAME4 and NAME6. */
static size_t count(const struct elements *els, const char *name4,
		    const char *name6)
{
	const struct el_set *s4 = elements_find(els, name4);
	const struct el_set *s6 = elements_find(els, name6);

	return (s4 ? s4->el.n : 0) + (s6 ? s6->el.n : 0);
}

void guard_count(struct guard_counts *g, const struct elements *want,
		 const struct elements *live)
{
	g->want_services = count(want, "cluster-ips4", "cluster-ips6");
	g->want_served = count(want, "service-ports4", "service-ports6");
	g->live_services = live->exists ? count(live, "cluster-ips4", "cluster-ips6") : 0;
	g->live_served = live->exists ? count(live, "service-ports4", "service-ports6") : 0;
}

/* LIVE shrinking to WANT loses more than MAX_PCT percent of LIVE. */
static bool shrinks(size_t live, size_t want, unsigned int max_pct)
{
	return want < live && (live - want) * 100 > (size_t)max_pct * live;
}

bool guard_removal_exceeds(const struct guard_counts *g, unsigned int max_pct,
			   char *msg, size_t len)
{
	bool svc = shrinks(g->live_services, g->want_services, max_pct);
	bool port = shrinks(g->live_served, g->want_served, max_pct);

	if (max_pct >= 100 || (!svc && !port))
		return false;
	snprintf(msg, len, "services (cluster IPs) %zu -> %zu, service ports with endpoints %zu -> %zu: more than %u%% of the live %s",
		 g->live_services, g->want_services, g->live_served,
		 g->want_served, max_pct, svc && port ? "services and served ports" :
		 svc ? "services" : "served ports");
	return true;
}
