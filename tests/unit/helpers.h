/* Shared helpers for the cmocka unit tests. */
#ifndef SVCNFT_TEST_HELPERS_H
#define SVCNFT_TEST_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "model.h"

/* A model, its configuration and the records of loading and validating. */
struct fixture {
	struct svcnft_model *m;
	struct svcnft_errors errs;
	struct svcnft_cidr svc_cidrs[2], pod_cidrs[2];
	struct svcnft_config cfg;
};

/* Service CIDRs 10.0.0.0/24 and fd00:10:96::/112, no pod CIDR. */
void fx_init(struct fixture *fx);
void fx_free(struct fixture *fx);
/* Load JSON text (named "t.json"); no validation. */
void fx_load(struct fixture *fx, const char *json);
/* Load and validate; fails the test on any error record (not warnings). */
void fx_valid(struct fixture *fx, const char *json);
/* Load and validate each object on its own, keeping the records. */
void fx_check(struct fixture *fx, const char *json);
/* Load and validate as a snapshot (each object, then the rules between
 * them: engine_snapshot), keeping the records; the model is left empty. */
void fx_check_all(struct fixture *fx, const char *json);
/* Every record, one per line; caller frees. */
char *fx_errtext(const struct fixture *fx);
/* Assert that some record contains NEEDLE. */
void fx_assert_err(const struct fixture *fx, const char *needle);
struct svc *fx_svc(const struct fixture *fx, const char *ns, const char *name);
/* "ip:port ip:port ..." of model_backends() for port PORT_IDX of ns/name;
 * caller frees. */
char *fx_backends(const struct fixture *fx, const char *ns, const char *name,
		  size_t port_idx, int family);

#endif
