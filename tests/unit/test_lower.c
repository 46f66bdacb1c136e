/* lower.c: plan_build() groups, affinity timeouts, hairpin set, stats. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "helpers.h"
#include "objects.h"
#include "lower.h"
#include "util.h"

#define AFF(t) ",\"sessionAffinity\":\"ClientIP\",\"sessionAffinityConfig\":{\"clientIP\":{\"timeoutSeconds\":" #t "}}"

static const char cluster[] =
	/* two ports with 2 endpoints, no affinity */
	SVC("a", "10.0.0.1", "", "{\"name\":\"x\",\"port\":80},{\"name\":\"y\",\"port\":81}")
	EPS("a", A("10.244.0.1") "," A("10.244.0.2"), "{\"name\":\"x\",\"port\":8080},{\"name\":\"y\",\"port\":8081}")
	/* 2 endpoints again (shares a's chain); one shared with a (hairpin dedupe) */
	SVC("b", "10.0.0.2", "", "{\"port\":80}")
	EPS("b", A("10.244.0.2") "," A("10.244.0.3"), "{\"port\":8080}")
	/* 3 endpoints, affinity 300 */
	SVC("c", "10.0.0.3", AFF(300), "{\"port\":80}")
	EPS("c", A("10.244.0.4") "," A("10.244.0.5") "," A("10.244.0.6"), "{\"port\":8080}")
	/* 1 endpoint, affinity 300: same timeout, other count */
	SVC("d", "10.0.0.4", AFF(300), "{\"port\":80}")
	EPS("d", A("10.244.0.7"), "{\"port\":8080}")
	/* 2 endpoints, default affinity timeout */
	SVC("e", "10.0.0.5", ",\"sessionAffinity\":\"ClientIP\"", "{\"port\":80}")
	EPS("e", A("10.244.0.1") "," A("10.244.0.8"), "{\"port\":8080}")
	/* no endpoints: a VIP, an entry without backends, no group */
	SVC("f", "10.0.0.6", "", "{\"port\":80}")
	/* headless and dual stack */
	SVC("g", "None", "", "{\"port\":80}")
	EPS("g", A("10.244.0.9"), "{\"port\":8080}")
	SVC("h", "10.0.0.8", ",\"clusterIPs\":[\"10.0.0.8\",\"fd00:10:96::8\"],\"ipFamilyPolicy\":\"PreferDualStack\"", "{\"port\":443}")
	EPS("h", A("10.244.0.1") "," A("fd00:10:244::1"), "{\"port\":8443}");

static const struct plan_entry *entry(const struct plan_family *f, const char *svc, uint16_t port)
{
	for (size_t i = 0; i < f->n_e; i++)
		if (!strcmp(f->e[i].svc->name, svc) && f->e[i].port == port)
			return &f->e[i];
	print_error("no entry %s:%u\n", svc, port);
	abort();
}

static void test_groups(void **state)
{
	struct fixture fx;
	struct plan p;
	const struct plan_family *f;
	char name[64];

	(void)state;
	fx_init(&fx);
	fx_valid(&fx, cluster);
	plan_build(&p, fx.m, &fx.cfg);
	f = &p.fam[0];
	assert_int_equal(f->family, AF_INET);
	/* (n, affinity) sorted by affinity then n; h's IPv4 port has one
	 * endpoint and no affinity */
	assert_int_equal(f->n_groups, 5);
	assert_int_equal(f->groups[0].n, 1);
	assert_int_equal(f->groups[0].affinity, 0);
	assert_int_equal(f->groups[1].n, 2);
	assert_int_equal(f->groups[1].affinity, 0);
	assert_int_equal(f->groups[2].n, 1);
	assert_int_equal(f->groups[2].affinity, 300);
	assert_int_equal(f->groups[3].n, 3);
	assert_int_equal(f->groups[3].affinity, 300);
	assert_int_equal(f->groups[4].n, 2);
	assert_int_equal(f->groups[4].affinity, 10800);
	plan_chain_lb(name, sizeof(name), f, &f->groups[1]);
	assert_string_equal(name, "endpoints4-2");
	plan_chain_lb(name, sizeof(name), f, &f->groups[3]);
	assert_string_equal(name, "affinity4-tcp-3-300");
	/* (protocol, timeout) pairs and the slots each needs */
	assert_int_equal(f->n_affs, 2);
	assert_int_equal(f->affs[0].proto, PROTO_TCP);
	assert_int_equal(f->affs[0].timeout, 300);
	assert_int_equal(f->affs[0].slots, 3);
	assert_int_equal(f->affs[1].timeout, 10800);
	assert_int_equal(f->affs[1].slots, 2);
	assert_ptr_equal(plan_group_aff(f, &f->groups[3]), &f->affs[0]);
	plan_chain_slot(name, sizeof(name), f, &f->affs[0], 2);
	assert_string_equal(name, "affinity4-tcp-slot-2-300");
	plan_affinity_set(name, sizeof(name), f, PROTO_UDP);
	assert_string_equal(name, "affinity4-udp");
	plan_slot_map(name, sizeof(name), f, &f->affs[1]);
	assert_string_equal(name, "affinity-slots4-tcp-10800");
	/* entries */
	assert_int_equal(entry(f, "a", 81)->n, 2);
	assert_int_equal(entry(f, "a", 81)->backends[1].port, 8081);
	assert_int_equal(entry(f, "c", 80)->affinity, 300);
	assert_int_equal(entry(f, "e", 80)->affinity, 10800);
	assert_int_equal(entry(f, "b", 80)->affinity, 0);
	assert_int_equal(entry(f, "f", 80)->n, 0);
	/* 7 IPv4 VIPs: a b c d e f h (not headless g) */
	assert_int_equal(f->n_vips, 7);
	/* entries: a(2) b c d e f h = 8 */
	assert_int_equal(f->n_e, 8);
	plan_free(&p);
	fx_free(&fx);
}

static void test_hairpin_and_families(void **state)
{
	struct fixture fx;
	struct plan p;
	char ip[64];

	(void)state;
	fx_init(&fx);
	fx_valid(&fx, cluster);
	plan_build(&p, fx.m, &fx.cfg);
	/* 10.244.0.1 serves a, e and h; .2 serves a and b: each once, sorted */
	assert_int_equal(p.fam[0].n_hairpin, 8);
	for (size_t i = 0; i < p.fam[0].n_hairpin; i++) {
		char want[32];

		snprintf(want, sizeof(want), "10.244.0.%zu", i + 1);
		ipaddr_format(&p.fam[0].hairpin[i], ip, sizeof(ip));
		assert_string_equal(ip, want);
	}
	/* backends counted per service port: a 2+2, b 2, c 3, d 1, e 2, h 1 */
	assert_int_equal(p.fam[0].n_backends, 13);
	/* IPv6: h only */
	assert_int_equal(p.fam[1].n_vips, 1);
	assert_int_equal(p.fam[1].n_e, 1);
	assert_int_equal(p.fam[1].n_backends, 1);
	assert_int_equal(p.fam[1].n_hairpin, 1);
	ipaddr_format(&p.fam[1].hairpin[0], ip, sizeof(ip));
	assert_string_equal(ip, "fd00:10:244::1");
	assert_int_equal(p.fam[1].n_groups, 1);
	assert_string_equal(p.fam[1].sfx, "6");
	plan_free(&p);
	fx_free(&fx);
}

static void test_invalid_and_pod_cidrs(void **state)
{
	struct fixture fx;
	struct plan p;

	(void)state;
	fx_init(&fx);
	assert_true(svcnft_cidr_parse("10.244.0.0/16", &fx.pod_cidrs[0]));
	assert_true(svcnft_cidr_parse("fd00:10:244::/56", &fx.pod_cidrs[1]));
	fx.cfg.n_cluster_cidrs = 2;
	fx_check(&fx, SVC("ok", "10.0.0.1", "", "{\"port\":80}") EPS("ok", A("10.244.0.1"), "{\"port\":80}")
		 SVC("bad", "10.0.0.2", "", "{\"port\":0}") EPS("bad", A("10.244.0.2"), "{\"port\":80}"));
	assert_int_equal(svcnft_errors_status(&fx.errs), SVCNFT_EINVALID);
	plan_build(&p, fx.m, &fx.cfg);
	assert_int_equal(p.fam[0].n_e, 1);
	assert_int_equal(p.fam[0].n_vips, 1);
	assert_int_equal(p.fam[0].n_pod_cidrs, 1);
	assert_int_equal(p.fam[0].pod_cidrs[0].plen, 16);
	assert_int_equal(p.fam[1].n_pod_cidrs, 1);
	assert_int_equal(p.fam[1].pod_cidrs[0].plen, 56);
	plan_free(&p);
	fx_free(&fx);
}

static void test_stats_and_sizes(void **state)
{
	struct fixture fx;
	struct svcnft_stats st;

	(void)state;
	fx_init(&fx);
	fx_valid(&fx, cluster);
	svcnft_model_stats(fx.m, &fx.cfg, &st);
	/* 7 services with rules (headless g has none), 9 service ports with a VIP
	 * (8 IPv4 + 1 IPv6), 14 backends */
	assert_int_equal(st.services, 7);
	assert_int_equal(st.service_ports, 9);
	assert_int_equal(st.backends, 14);
	/* chains: 11 fixed + per family (groups + 2) + affinity slot chains
	 * (3 + 2) + backend slot chains (3 in IPv4, 1 in IPv6) */
	assert_int_equal(st.chains, 11 + (5 + 2) + (1 + 2) + 5 + (3 + 1));
	assert_int_equal(plan_set_size(0), 1024);
	assert_int_equal(plan_set_size(512), 1024);
	assert_int_equal(plan_set_size(513), 2048);
	assert_int_equal(plan_set_size(10000), 32768);
	fx_free(&fx);
}

static bool collect(void *arg, const char *data, size_t len)
{
	struct svcnft_buf *b = arg;

	buf_add(b, data, len);
	return true;
}

static size_t pieces;

static bool collect_counted(void *arg, const char *data, size_t len)
{
	pieces++;
	return collect(arg, data, len);
}

static bool refuse(void *arg, const char *data, size_t len)
{
	(void)arg;
	(void)data;
	(void)len;
	return false;
}

/* svcnft_render_nft_stream hands over the same script as svcnft_render_nft,
 * in several pieces for a script of some MiB. */
static void test_render_stream(void **state)
{
	struct svcnft_buf in = {0}, whole = {0}, streamed = {0};
	struct fixture fx;

	(void)state;
	fx_init(&fx);
	assert_true(svcnft_cidr_parse("10.96.0.0/12", &fx.svc_cidrs[0]));
	buf_puts(&in, "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[");
	for (int i = 0; i < 5000; i++) {
		buf_printf(&in, "%s{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"s%d\",\"namespace\":\"n\"},"
			   "\"spec\":{\"clusterIP\":\"10.96.%d.%d\",\"ports\":[{\"port\":80,\"protocol\":\"TCP\"}]}},",
			   i ? "," : "", i, 1 + i / 250, 1 + i % 250);
		buf_printf(&in, "{\"apiVersion\":\"v1\",\"kind\":\"Endpoints\",\"metadata\":{\"name\":\"s%d\",\"namespace\":\"n\"},"
			   "\"subsets\":[{\"ports\":[{\"port\":8080}],\"addresses\":[", i);
		for (int k = 0; k < 10; k++)
			buf_printf(&in, "%s{\"ip\":\"10.%d.%d.%d\"}", k ? "," : "", 128 + k,
				   i / 250, i % 250);
		buf_puts(&in, "]}]}");
	}
	buf_puts(&in, "]}");
	fx_valid(&fx, in.data);
	assert_true(svcnft_render_nft(fx.m, &fx.cfg, &whole));
	pieces = 0;
	assert_true(svcnft_render_nft_stream(fx.m, &fx.cfg, collect_counted, &streamed));
	assert_true(whole.len > 3 << 20);
	assert_true(pieces >= 3);
	assert_int_equal(streamed.len, whole.len);
	assert_memory_equal(streamed.data, whole.data, whole.len);
	assert_false(svcnft_render_nft_stream(fx.m, &fx.cfg, refuse, NULL));
	svcnft_buf_free(&in);
	svcnft_buf_free(&whole);
	svcnft_buf_free(&streamed);
	fx_free(&fx);
}

/* Layout 4: only backend slot chains DNAT through a backend map (a new lb
 * chain must not bind it: the kernel walks every element), and every
 * chain that does is named backend<F>-slot-S with a view prefix. */
static void test_only_slot_chains_bind_backends(void **state)
{
	struct svcnft_buf out = {0};
	struct fixture fx;
	const char *chain = NULL;
	size_t slots = 0;

	(void)state;
	fx_init(&fx);
	fx_valid(&fx, cluster);
	assert_true(svcnft_render_nft(fx.m, &fx.cfg, &out));
	for (char *l = strtok(out.data, "\n"); l; l = strtok(NULL, "\n")) {
		if (!strncmp(l, "\tchain ", 7))
			chain = l + 7;
		if (!strstr(l, "map @backends") && !strstr(l, "map @nodeport-backends"))
			continue;
		assert_non_null(strstr(chain, "backend"));
		assert_non_null(strstr(chain, "-slot-"));
		assert_null(strstr(chain, "affinity"));
		slots++;
	}
	assert_int_equal(slots, 3 + 1);	/* as test_stats_and_sizes counts */
	svcnft_buf_free(&out);
	fx_free(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_hairpin_and_families),
		cmocka_unit_test(test_invalid_and_pod_cidrs),
		cmocka_unit_test(test_stats_and_sizes),
		cmocka_unit_test(test_render_stream),
		cmocka_unit_test(test_only_slot_chains_bind_backends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
