/* Shared helpers for the cmocka unit tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "engine.h"
#include "endpoints.h"
#include "helpers.h"
#include "util.h"

void fx_init(struct fixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	fx->m = svcnft_model_new();
	assert_true(svcnft_cidr_parse("10.0.0.0/24", &fx->svc_cidrs[0]));
	assert_true(svcnft_cidr_parse("fd00:10:96::/112", &fx->svc_cidrs[1]));
	fx->cfg.table = "svcnft";
	fx->cfg.service_cidrs = fx->svc_cidrs;
	fx->cfg.n_service_cidrs = 2;
	fx->cfg.cluster_cidrs = fx->pod_cidrs;
}

void fx_free(struct fixture *fx)
{
	svcnft_model_free(fx->m);
	svcnft_errors_free(&fx->errs);
	memset(fx, 0, sizeof(*fx));
}

void fx_load(struct fixture *fx, const char *json)
{
	svcnft_model_load_buffer(fx->m, "t.json", json, strlen(json), &fx->errs);
}

void fx_check(struct fixture *fx, const char *json)
{
	fx_load(fx, json);
	svcnft_model_validate(fx->m, &fx->cfg, &fx->errs);
}

void fx_check_all(struct fixture *fx, const char *json)
{
	fx_load(fx, json);
	engine_free(engine_snapshot(&fx->cfg, fx->m, ENGINE_CHECK_ONLY, &fx->errs));
}

void fx_valid(struct fixture *fx, const char *json)
{
	fx_check(fx, json);
	if (svcnft_errors_status(&fx->errs) != SVCNFT_OK) {
		char *t = fx_errtext(fx);

		print_error("unexpected errors:\n%s", t);
		free(t);
		fail();
	}
}

char *fx_errtext(const struct fixture *fx)
{
	struct svcnft_buf b = {0};

	buf_puts(&b, "");
	for (size_t i = 0; i < fx->errs.n; i++)
		buf_printf(&b, "%s\n", fx->errs.v[i].text);
	return b.data;
}

void fx_assert_err(const struct fixture *fx, const char *needle)
{
	for (size_t i = 0; i < fx->errs.n; i++)
		if (strstr(fx->errs.v[i].text, needle))
			return;
	{
		char *t = fx_errtext(fx);

		print_error("no record contains \"%s\"; records:\n%s", needle, t);
		free(t);
	}
	fail();
}

struct svc *fx_svc(const struct fixture *fx, const char *ns, const char *name)
{
	for (size_t i = 0; i < fx->m->n_svcs; i++)
		if (!strcmp(fx->m->svcs[i].ns, ns) && !strcmp(fx->m->svcs[i].name, name))
			return &fx->m->svcs[i];
	print_error("no service %s/%s\n", ns, name);
	fail();
	return NULL;
}

char *fx_backends(const struct fixture *fx, const char *ns, const char *name,
		  size_t port_idx, int family)
{
	const struct svc *s = fx_svc(fx, ns, name);
	struct svcnft_buf b = {0};
	struct backend *be = NULL;
	size_t n;

	assert_true(port_idx < s->n_ports);
	n = model_backends(fx->m, s, &s->ports[port_idx], family, NULL, &be);
	buf_puts(&b, "");
	for (size_t i = 0; i < n; i++) {
		char ip[64];

		ipaddr_format(&be[i].ip, ip, sizeof(ip));
		buf_printf(&b, "%s%s:%u", i ? " " : "", ip, be[i].port);
	}
	free(be);
	return b.data;
}
