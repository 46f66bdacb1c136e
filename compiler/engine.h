/* engine: the cluster held in memory; object changes in, table changes out
 * (engine.c; engine_prepare in engine_batch.c, with engine_int.h between them).
 *
 * The engine holds every accepted Service, Endpoints and EndpointSlice,
 * keyed by kind, namespace, name (and the file it came from), with the
 * indexes the cross-object rules need: cluster IPs, node ports, the
 * claims on address . protocol . port, and the endpoint sources of each
 * service.  For every service it keeps what lowering that service alone
 * contributes to the table (plan_build and plan_records on a model of
 * the service and its sources: the one lowering svcnft has), as items
 * (item.h): an element of a set as a packed record, a chain or a map.  Items are counted across
 * services, so a chain or map shared by every service port with the same
 * endpoint count and affinity exists while one service needs it.
 *
 * A change is staged (engine_stage_file, engine_stage_object,
 * engine_stage_delete), then engine_prepare checks the cross-object rules
 * for the services it touches, lowers those services again and computes
 * the changes of the table (struct changes, the form kernel/nlload.c
 * sends and compiler/changes.c computes for a whole snapshot).
 * engine_commit makes the batch the engine's state (after the kernel took
 * it), engine_abort forgets it.  The cost of a batch is that of the
 * services it touches.  A ServiceCIDR change is a batch like the others:
 * the elements of the service-cidrs sets change (its plan holds them all)
 * and no service is lowered again.  A one-shot command is one batch of the whole
 * snapshot into an empty engine (engine_snapshot).
 *
 * Pure: no I/O.  Objects are validated on their own before they are
 * staged (engine_validate); the engine has the rules between objects
 * (the only implementation of them): names defined twice, cluster IPs,
 * node ports, claims on external address . port, endpoints per service.
 * Conflicts are decided as the API server's allocator would have, in
 * the order a snapshot's objects are loaded: the stored services keep
 * what they hold; then a cluster IP goes to the first service by
 * namespace/name, a node port to the first loaded.
 *
 * Ownership: the engine owns every object staged into it and frees those
 * a batch replaces or removes; a struct engine_batch belongs to the
 * engine and lives until engine_commit or engine_abort; its changes'
 * items, names and plan stay valid until then. */
#ifndef SVCNFT_ENGINE_H
#define SVCNFT_ENGINE_H

#include "changes.h"
#include "guard.h"

struct engine;

/* CFG must outlive the engine. */
struct engine *engine_new(const struct svcnft_config *cfg);
void engine_free(struct engine *e);

enum engine_mode {
	ENGINE_ALL_OR_NOTHING = 0, /* any invalid object: the batch changes nothing */
	ENGINE_PER_OBJECT = 1,	/* an invalid object is left out; its last good version stays */
	/* or'd into engine_prepare's mode: the caller applies the whole
	 * engine_view, so the batch has no changes (changes.full) and no
	 * plan, and costs that much less (a first sync, a repair) */
	ENGINE_WHOLE = 2,
	/* or'd with ENGINE_WHOLE: a one-shot engine, thrown away once its
	 * view is used.  The batch checks and indexes the objects but lowers
	 * no service (no items, no health): the engine takes no more batch. */
	ENGINE_CHECK_ONLY = 4,
};

/* Validate the objects of M (one file or one event) on their own, against
 * the service CIDRs the engine knows and M's ServiceCIDR objects
 * (svcnft_model_validate); in
 * PER_OBJECT mode each invalid one also gets a warning saying what stays. */
void engine_validate(const struct engine *e, struct svcnft_model *m,
		     enum engine_mode mode, struct svcnft_errors *errs);

/* FILE now holds exactly the objects of M (NULL: it is gone).  Objects
 * are moved out of M (left empty); those engine_validate marked invalid
 * are freed, never staged (in PER_OBJECT mode the stored version stays;
 * ALL_OR_NOTHING callers refuse the batch on the errors anyway).  M must
 * hold FILE's objects only.  A Service staged twice in a batch (two files
 * define it) is a duplicate: the later one is refused. */
void engine_stage_file(struct engine *e, const char *file,
		       struct svcnft_model *m);
/* Every object of M replaces the one of the same kind, namespace and name
 * (from any file); moved out of M. */
void engine_stage_objects(struct engine *e, struct svcnft_model *m);
/* A whole snapshot (M: every object of the input, loaded, of any files)
 * as one ALL_OR_NOTHING | ENGINE_WHOLE batch (| MODE, e.g.
 * ENGINE_CHECK_ONLY) into a new engine: engine_validate, staging (a
 * Service defined twice is refused: the later definition), then the
 * rules between objects.  The objects are moved out of M (left empty).
 * Messages go to ERRS; NULL when anything in them or in ERRS is an
 * error (the status of ERRS is not SVCNFT_OK). */
struct engine *engine_snapshot(const struct svcnft_config *cfg,
			       struct svcnft_model *m, enum engine_mode mode,
			       struct svcnft_errors *errs);
enum engine_kind { ENGINE_SERVICE, ENGINE_ENDPOINTS, ENGINE_SLICE, ENGINE_SERVICE_CIDR };
/* The object KIND NS/NAME is gone (a ServiceCIDR, cluster-scoped: NAME). */
void engine_stage_delete(struct engine *e, enum engine_kind kind,
			 const char *ns, const char *name);
/* EACH(namespace, name, ARG) for every object of KIND held (committed;
 * a ServiceCIDR's namespace is ""); for a mark and sweep after a
 * complete list. */
void engine_each(const struct engine *e, enum engine_kind kind,
		 void (*each)(const char *ns, const char *name, void *arg),
		 void *arg);

struct engine_batch {
	struct changes changes;		/* c.full: the table must be replaced */
	struct plan plan;		/* the services the batch touches */
	size_t services_touched;
	size_t services_after;		/* Services held once it is committed */
	size_t objects_skipped;		/* invalid objects left out */
	struct guard_counts guard;	/* cluster IPs and served ports, now and after */
	/* a ServiceCIDR changed and the stored services were validated
	 * against the old ranges (not cfg->api_allocated): rebuild from all
	 * objects */
	bool rebuild;
};

/* Check and lower the staged changes.  Messages go to ERRS.  NULL when
 * the batch is refused (ALL_OR_NOTHING and an object is invalid): the
 * staged changes are dropped and the engine is unchanged. */
struct engine_batch *engine_prepare(struct engine *e, enum engine_mode mode,
				    struct svcnft_errors *errs);
void engine_commit(struct engine *e, struct engine_batch *b);
void engine_abort(struct engine *e, struct engine_batch *b);

/* Every object held, as a model whose arrays are shallow copies (for
 * plan_build, render, a full apply).  Free with engine_view_free (the
 * objects stay the engine's). */
struct svcnft_model *engine_view(const struct engine *e);
void engine_view_free(struct svcnft_model *m);
/* The same view, but the objects move into it and E is freed: the
 * caller owns the model (svcnft_model_free).  For a one-shot engine. */
struct svcnft_model *engine_release(struct engine *e);

/* The table's contents as the engine holds them (elements form: the
 * sets, their elements, the chains), for tests and for the saved state. */
void engine_elements(const struct engine *e, struct elements *out);

size_t engine_services(const struct engine *e);
/* What health_build would say of the engine's view, kept per service:
 * the counts and the health checks (caller frees: health_free). */
struct svcnft_health;
void engine_health(const struct engine *e, struct svcnft_health *out);
/* The live table's sets were just created for the engine's contents
 * (a full apply): their sizes are those elements_from_plan declares for
 * it.  Adding past a size needs a full replace (changes.full). */
void engine_fix_sizes(struct engine *e);

#endif
