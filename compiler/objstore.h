/* objstore: the API objects `follow` has seen, by kind/namespace/name, as
 * compact JSON text: the last version that validated and a newer one not
 * validated yet.  Pure: the caller feeds decoded objects and gets a model.
 *
 * Ownership: the store copies what it is given; a model it returns belongs
 * to the caller (svcnft_model_free); key arrays it returns stay the
 * store's until the next call that changes it. */
#ifndef SVCNFT_OBJSTORE_H
#define SVCNFT_OBJSTORE_H

#include <jansson.h>
#include "svcnft.h"

struct objstore;

struct objstore *objstore_new(void);
void objstore_free(struct objstore *st);

/* Upsert OBJ (its "kind", or DFLT_KIND when it has none), read from
 * SOURCE (a name for messages that outlives the store, e.g. "kubectl get
 * services").  1: new or changed, 0: the same text, -1: no
 * metadata.name (an EUSAGE record).  The object counts as listed for the
 * next objstore_sweep of its kind. */
int objstore_put(struct objstore *st, json_t *obj, const char *dflt_kind,
		 const char *source, struct svcnft_errors *errs);
/* Remove OBJ's key: true if it was there. */
bool objstore_delete(struct objstore *st, json_t *obj, const char *dflt_kind);

/* Mark and sweep of one kind, for a complete list: unmark every object of
 * KIND, put the listed ones, then sweep removes (and counts) those of KIND
 * that were not put since. */
void objstore_unmark(struct objstore *st, const char *kind);
size_t objstore_sweep(struct objstore *st, const char *kind);

size_t objstore_count(const struct objstore *st, const char *kind);

/* The keys ("Service/NS/NAME") put with a change or removed since the
 * last objstore_model, in that order (one entry per change). */
char *const *objstore_changed(const struct objstore *st, size_t *n);

/* The model of every object, validated with CFG.  A changed object that
 * the API server would reject is recorded in ERRS (its messages, then one
 * line saying which version stays) and dropped for its last valid version
 * (or, if it never had one, left out), so one bad object leaves every
 * other change in; objects that failed together with an older valid one
 * (a claim taken first by the other) stay invalid and are left out of the
 * ruleset, as the renderer leaves out invalid objects.  Then every kept
 * version counts as valid and the changed keys are forgotten.  NULL only
 * when nothing could be loaded. */
struct svcnft_model *objstore_model(struct objstore *st,
				    const struct svcnft_config *cfg,
				    struct svcnft_errors *errs);

#endif
