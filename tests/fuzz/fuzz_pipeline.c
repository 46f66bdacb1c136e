/* libFuzzer target over the whole pure path: bytes -> load -> validate (a
 * one-shot engine) -> render nft, JSON, env and DNS.  Built with clang by build.sh; the same
 * file is linked with replay.c (gcc) to replay regressions/ in the suite.
 *
 * The first byte picks the configuration (masquerade, cluster CIDRs, the
 * env format, the DNS output), the rest is the input, read once as JSON and
 * once as YAML. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "svcnft.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct svcnft_cidr svc_cidrs[4], pod_cidrs[2];

static void setup(void)
{
	static const char *const svc[] = { "10.0.0.0/8", "fd00::/8",
					   "172.16.0.0/12", "2001:db8::/32" };
	static const char *const pod[] = { "10.244.0.0/16", "fd00:10:244::/56" };

	for (size_t i = 0; i < 4; i++)
		if (!svcnft_cidr_parse(svc[i], &svc_cidrs[i]))
			abort();
	for (size_t i = 0; i < 2; i++)
		if (!svcnft_cidr_parse(pod[i], &pod_cidrs[i]))
			abort();
}

/* Everything the CLI renders from a model that validated cleanly. */
static void render_all(const struct svcnft_model *m,
		       const struct svcnft_config *cfg, unsigned int sel,
		       struct svcnft_errors *errs)
{
	struct svcnft_dns_config dns = { .zone = "cluster.local", .ttl = 30,
					 .serial = 1,
					 .output = (enum svcnft_dns_output)(sel % 3) };
	struct svcnft_buf b = {0};
	struct svcnft_stats st;

	if (!svcnft_render_nft(m, cfg, &b) || strlen(b.data) != b.len)
		abort();
	svcnft_buf_free(&b);
	if (!svcnft_render_json(m, cfg, &b) || strlen(b.data) != b.len)
		abort();
	svcnft_buf_free(&b);
	svcnft_render_env(m, sel & 4 ? "kube-system" : "default",
			  (enum svcnft_env_format)((sel >> 3) % 3), &b);
	svcnft_buf_free(&b);
	svcnft_render_dns(m, &dns, &b, errs);
	svcnft_buf_free(&b);
	svcnft_model_stats(m, cfg, &st);
}

/* Load DATA as JSON or YAML, validate, render when valid. */
static void pipeline(const char *data, size_t size, bool yaml,
		     const struct svcnft_config *cfg, unsigned int sel, FILE *out)
{
	struct svcnft_errors errs = {0};
	struct svcnft_model *m = svcnft_model_new(), *v;
	struct engine *e = NULL;

	(yaml ? svcnft_model_load_yaml : svcnft_model_load_buffer)(m, "fuzz", data,
								    size, &errs);
	if (svcnft_errors_status(&errs) != SVCNFT_EUSAGE)
		e = engine_snapshot(cfg, m, ENGINE_CHECK_ONLY, &errs);
	if (e) {
		v = engine_view(e);
		render_all(v, cfg, sel, &errs);
		svcnft_model_warn_no_endpoints(v, cfg, &errs);
		engine_view_free(v);
		engine_free(e);
	}
	svcnft_errors_print(&errs, out);
	svcnft_errors_free(&errs);
	svcnft_model_free(m);
}

/* Every input goes through both loaders. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct svcnft_config cfg = { .table = "svcnft", .service_cidrs = svc_cidrs,
				     .n_service_cidrs = 4 };
	unsigned int sel = 0;

	if (!devnull) {
		setup();
		devnull = fopen("/dev/null", "w");
		if (!devnull)
			abort();
	}
	if (size) {
		sel = data[0];
		data++;
		size--;
	}
	cfg.masquerade_all = sel & 1;
	cfg.cluster_cidrs = pod_cidrs;
	cfg.n_cluster_cidrs = sel & 2 ? 2 : 0;
	/* topology: the hints of node-a / zone-a are followed */
	cfg.node_name = sel & 0x20 ? "node-a" : NULL;
	cfg.node_zone = sel & 0x40 ? "zone-a" : NULL;
	pipeline((const char *)data, size, false, &cfg, sel, devnull);
	pipeline((const char *)data, size, true, &cfg, sel, devnull);
	return 0;
}
