/* snapshot: the input PATHs read as one snapshot into an engine
 * (compiler/engine.h): what every command that reads its whole input
 * uses (compile, check, apply, diff, explain, env, dns; watch's reload).
 *
 * Ownership: a struct snapshot owns its engine and view until
 * snapshot_free; without SNAPSHOT_LOWER there is no engine (one-shot:
 * its objects moved into the view, engine_release). */
#ifndef SVCNFT_SNAPSHOT_H
#define SVCNFT_SNAPSHOT_H

#include <stdint.h>

#include "svcnft.h"

struct engine;

struct snapshot {
	struct engine *eng;		/* SNAPSHOT_LOWER: holds every object */
	struct svcnft_model *view;	/* every object: plan, render, explain */
	uint64_t digest;		/* svcnft_model_input_digest of what was read */
};

enum snapshot_flags {
	SNAPSHOT_LOWER = 1,		/* the engine is kept: lower every service */
	SNAPSHOT_REQUIRE = 2,		/* no Service at all is an error (apply, diff, watch) */
	SNAPSHOT_WARN = 4,		/* warn of services without endpoints */
};

/* Read the N_PATHS PATHS and validate them: each object, then the rules
 * between objects in one batch into a new engine.  Messages go to ERRS;
 * true when their status is SVCNFT_OK, else S holds nothing but the
 * digest. */
bool snapshot_load(struct snapshot *s, char *const *paths, int n_paths,
		   const struct svcnft_config *cfg, unsigned int flags,
		   struct svcnft_errors *errs);
void snapshot_free(struct snapshot *s);

#endif
