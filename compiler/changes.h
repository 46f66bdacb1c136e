/* changes: desired vs live table: the changes, their nft script, their
 * unified diff.  Pure; the caller owns every struct it passes, and
 * changes_free releases what changes_compute allocated (its items too;
 * the engine's changes point at the engine's items). */
#ifndef SVCNFT_CHANGES_H
#define SVCNFT_CHANGES_H

#include "elements.h"
#include "item.h"

struct set_change {
	const char *name;
	/* elements (ITEM_ELEM of set NAME); their text: item_format() */
	const struct item **del, **add;
	size_t n_del, n_add;
};

struct changes {
	const char *full;		/* why a full replace is needed, or NULL */
	struct set_change *sets;	/* sets with element changes */
	size_t n_sets;
	const char **new_objs, **old_objs;	/* dynamic chains and maps */
	size_t n_new, n_old;
	size_t n_elems;			/* element changes in all */
	bool owns;			/* changes_compute's: the items are its own */
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

/* Append the unified diff of the changed services (and of the shared
 * parts) to OUT, colour when COLOR; fill SUM. */
void diff_print(struct svcnft_buf *out, const struct changes *c, const struct elements *want,
		const struct elements *live, bool color, struct diff_summary *sum);

/* The chains and maps nothing uses any more, in an order in which each
 * can be deleted once nothing refers to it: load-balancing chains, then
 * slot maps, affinity slot chains, backend slot chains.  EACH(name,
 * is_map, ARG) for each. */
void changes_each_old(const struct changes *c,
		      void (*each)(const char *name, bool map, void *arg),
		      void *arg);

/* The nft script that turns the live table into the wanted one in one
 * transaction; false (nothing written) if C needs a full replace. */
bool changes_script(struct svcnft_buf *b, const struct changes *c,
		    const struct plan *p, const char *table);

#endif
