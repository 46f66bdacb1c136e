/* plan_records: a plan's contents as typed records (compiler/record.h),
 * the form kernel/nlload.c sends and the engine counts.  Pure; the
 * records passed to a callback live until it returns. */
#ifndef SVCNFT_PLAN_RECORDS_H
#define SVCNFT_PLAN_RECORDS_H

#include "record.h"

typedef void (*rec_cb)(const struct el_record *r, void *arg);

/* EACH(record, ARG) for every element of the sets el_direct_set() names,
 * set by set and family by family; with ALL also for the interval sets
 * (CIDR sets, firewall-allow) and the affinity slot maps: every element
 * elements_from_plan() lists. */
void plan_records(const struct plan *p, bool all, rec_cb each, void *arg);

/* EACH(name, map, ARG) for the chains and maps that come and go with the
 * endpoint counts and affinity timeouts (el_dynamic_chain/_set). */
void plan_objects(const struct plan *p,
		  void (*each)(const char *name, bool map, void *arg), void *arg);

#endif
