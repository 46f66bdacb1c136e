/* engine internals, shared by engine.c (the store, staging, commit) and
 * engine_batch.c (prepare: rules between objects, lowering, changes). */
#ifndef SVCNFT_ENGINE_INT_H
#define SVCNFT_ENGINE_INT_H

#include <stdint.h>

#include "engine.h"
#include "health.h"
#include "hmap.h"
#include "item.h"

enum okind { O_SVC, O_SRC, O_CIDR };

/* Allocated to the size of its kind's member of u (obj_new). */
struct eobj {
	enum okind kind;
	const struct item **items;	/* services: their contribution (interned) */
	size_t n_items;
	struct svcnft_health *health;	/* services: theirs (health_build alone) */
	union {
		struct svc svc;
		struct ep_source src;
		struct svc_cidr_obj cidr;
	} u;				/* last */
};

struct ptrv {
	void **v;
	size_t n, cap;
};

/* A staged change of one key: its new object (NULL: deleted). */
struct op {
	struct eobj *obj;
	struct ptrv dups;		/* later definitions in the batch: refused */
	bool released;			/* the stored object's file dropped it */
	bool any_file;			/* replaces the object whatever its file */
};

/* A service the batch lowers again. */
struct touched {
	const char *key;		/* the service's (the map's copy) */
	struct eobj *old, *now;		/* before and after the batch (NULL: none) */
	bool refused;			/* a rule between objects refused NOW */
	struct item **items;		/* its new contribution (malloc'd) */
	size_t n_items;
	struct svc *copy;		/* in the batch's view: what was lowered */
	struct svcnft_health health;	/* of the copy alone */
};

struct engine {
	const struct svcnft_config *cfg;
	struct svcnft_config eff;	/* with the ServiceCIDR objects' ranges */
	struct svcnft_cidr *ranges;
	struct hmap objs;		/* key -> struct eobj */
	struct hmap files;		/* file -> struct hmap of its keys */
	struct hmap by_svc;		/* "NS\x1fSVC" -> struct ptrv of sources */
	struct hmap vips;		/* address -> the service holding it */
	struct hmap nodeports;		/* "N" -> the service holding it */
	struct hmap claims;		/* "ADDR\x1fPROTO\x1fPORT" -> struct ptrv of services */
	struct hmap items;		/* struct item (bytes) -> count (uintptr_t) */
	struct hmap sizes;		/* set -> declared size (uintptr_t) */
	struct hmap base_sizes;		/* set -> its size in an empty table */
	struct hmap counts;		/* set -> elements (uintptr_t) */
	struct hmap base;		/* the empty table's items (bytes; held once) */
	size_t n_svcs;
	struct svcnft_health totals;	/* counts only */
	struct hmap checks;		/* service key -> struct eobj with health checks */
	bool committed;
	struct hmap staged;		/* key -> struct op */
	size_t dropped;			/* invalid objects not staged */
	struct engine_batch *batch;
};

struct batch_priv {
	struct engine_batch pub;
	struct engine *eng;
	struct hmap touched;		/* service key -> struct touched */
	struct svcnft_model view;	/* of the touched services, for the plan */
	struct hmap delta;		/* struct item (bytes) -> net count change (intptr_t) */
	struct hmap setidx;		/* set -> its index in changes.sets */
	bool check_only;		/* ENGINE_CHECK_ONLY: nothing lowered */
	/* a ServiceCIDR changed: the service CIDRs after the batch (owned
	 * until ranges_commit), and the configuration with them (the plan's) */
	struct svcnft_cidr *ranges;
	struct svcnft_config eff;
};

/* B = "PFX\x1fX\x1fY" ("X\x1fY" without PFX). */
void key_join(struct svcnft_buf *b, const char *pfx, const char *x,
	      const char *y);
void key_svc(struct svcnft_buf *b, const char *ns, const char *name);
void obj_key(struct svcnft_buf *b, const struct eobj *o);
const char *obj_file(const struct eobj *o);
void obj_free(struct eobj *o);
void ptrv_add(struct ptrv *v, void *p);
void ptrv_remove(struct ptrv *v, const void *p);
struct ptrv *ptrv_at(struct hmap *m, const char *key);
uintptr_t count_of(const struct hmap *m, const char *key);
/* Add D to KEY's count; a count of 0 removes KEY. */
void count_add(struct hmap *m, const char *key, intptr_t d);
/* The count of item IT in M (keyed by items' bytes). */
uintptr_t item_count_of(const struct hmap *m, const struct item *it);
/* Intern IT (malloc'd; taken) with one more user; its stable copy.
 * An element that appears or goes counts in its set's element count. */
const struct item *item_take(struct engine *e, struct item *it);
void item_unref(struct engine *e, const struct item *it);
/* The object KEY holds once the staged changes are made (NULL: none). */
struct eobj *current(const struct engine *e, const char *key);
void op_free(struct op *op);
void staged_free(struct hmap *staged);
/* Add D to item IT's count in M (keyed by items' bytes, copied). */
void delta_add(struct hmap *m, const struct item *it, intptr_t d);
/* The service CIDRs once the staged changes are made: --service-cidr and
 * every ServiceCIDR object's (caller frees). */
size_t ranges_after(const struct engine *e, struct svcnft_cidr **out);
/* The items of the empty table under EFF that the engine's base lacks
 * (+1) or has and EFF's lacks (-1), into DELTA. */
void base_delta(const struct engine *e, const struct svcnft_config *eff,
		struct hmap *delta);
/* B's service CIDRs (B->ranges, taken) become the engine's, and its base
 * the empty table under them. */
void ranges_commit(struct engine *e, struct batch_priv *b);
/* Object KIND NS/NAME (KEY) of FILE is left out (PER_OBJECT): a warning
 * saying what stays instead. */
void skipped(const struct engine *e, struct svcnft_errors *errs, const char *key,
	     const char *file, const char *kind, const char *ns, const char *name);
void ptrv_map_free(struct hmap *m);
/* The items of model M (sorted) lowered alone, not interned, without
 * those of the empty table; caller frees each and the array. */
struct item **lower_items(const struct engine *e, const struct svcnft_model *m,
			  size_t *n);
/* The claim keys "ADDR\x1fPROTO\x1fPORT" of S (what check_ext_unique
 * compares); caller frees each and the array. */
char **claim_keys(const struct svc *s, size_t *n);
void batch_free(struct engine *e, struct batch_priv *b);

#endif
