/* render_json: plan -> libnftables JSON.  (Being written; see issue 2.) */
#include "plan.h"

bool svcnft_render_json(const struct svcnft_model *m,
			const struct svcnft_config *cfg, struct svcnft_buf *out)
{
	(void)m;
	(void)cfg;
	(void)out;
	return false;
}
