/* snapshot: see snapshot.h. */
#include <string.h>

#include "engine.h"
#include "snapshot.h"
#include "input.h"

bool snapshot_load(struct snapshot *s, char *const *paths, int n_paths,
		   const struct svcnft_config *cfg, unsigned int flags,
		   struct svcnft_errors *errs)
{
	struct svcnft_model *m = svcnft_model_new();
	bool lower = flags & SNAPSHOT_LOWER;
	struct engine *e = NULL;

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < n_paths; i++)
		input_load_path(m, paths[i], errs);
	s->digest = svcnft_model_input_digest(m);
	if (svcnft_errors_status(errs) != SVCNFT_EUSAGE)
		e = engine_snapshot(cfg, m, lower ? 0 : ENGINE_CHECK_ONLY, errs);
	svcnft_model_free(m);
	if (!e)
		return false;
	s->eng = lower ? e : NULL;
	s->view = lower ? engine_view(e) : engine_release(e);
	if ((flags & SNAPSHOT_REQUIRE) && svcnft_errors_status(errs) == SVCNFT_OK)
		svcnft_model_require_services(s->view, paths, n_paths, errs);
	if ((flags & SNAPSHOT_WARN) && svcnft_errors_status(errs) == SVCNFT_OK)
		svcnft_model_warn_no_endpoints(s->view, cfg, errs);
	if (svcnft_errors_status(errs) == SVCNFT_OK)
		return true;
	snapshot_free(s);
	return false;
}

void snapshot_free(struct snapshot *s)
{
	if (s->eng)
		engine_view_free(s->view);
	else
		svcnft_model_free(s->view);
	engine_free(s->eng);
	s->view = NULL;
	s->eng = NULL;
}
