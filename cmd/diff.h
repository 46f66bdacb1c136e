/* diff: desired vs live table; the diff command and incremental apply. */
#ifndef SVCNFT_DIFF_H
#define SVCNFT_DIFF_H

#include "elements.h"

struct set_change {
	const char *name;
	const char **del, **add;	/* canonical element strings */
	size_t n_del, n_add;
};

struct changes {
	const char *full;		/* why a full replace is needed, or NULL */
	struct set_change *sets;	/* sets with element changes */
	size_t n_sets;
	const char **new_objs, **old_objs;	/* dynamic chains and maps */
	size_t n_new, n_old;
	size_t n_elems;			/* element changes in all */
};

void changes_compute(struct changes *c, const struct elements *want,
		     const struct elements *live);
void changes_free(struct changes *c);
static inline bool changes_empty(const struct changes *c)
{
	return !c->full && !c->n_elems && !c->n_new && !c->n_old;
}

struct diff_summary {
	size_t svc_added, svc_removed, svc_changed, ep_added, ep_removed;
};

/* Print the unified diff of the changed services (and of the shared parts)
 * to F, colour when COLOR; fill SUM. */
void diff_print(FILE *f, const struct changes *c, const struct elements *want,
		const struct elements *live, bool color, struct diff_summary *sum);

/* Commands (cmd/diff.c).  AGAINST: a saved script instead of the kernel. */
struct svcnft_model;
enum svcnft_status cmd_diff(const struct svcnft_model *m,
			    const struct svcnft_config *cfg, const char *against);
/* apply: incremental unless FULL or the table cannot be updated in place;
 * QUIET: no message when nothing changed.  Takes the lock. */
enum svcnft_status cmd_apply(const struct svcnft_model *m,
			     const struct svcnft_config *cfg, bool full);

/* Messages of apply: with a timestamp (watch) and CONTEXT (may be NULL). */
void diff_log_setup(bool timestamps, const char *context);
void diff_log_prefix(void);

#endif
