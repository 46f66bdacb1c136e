/* endpoints.c via model_backends(): which endpoints receive traffic. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "endpoints.h"
#include "helpers.h"
#include "util.h"

#define LIST(...) "{\"kind\":\"List\",\"items\":[" __VA_ARGS__ "]}"
#define SVC_NS(ns, name, ip, extra, ports) \
	"{\"kind\":\"Service\",\"metadata\":{\"name\":\"" name "\",\"namespace\":\"" ns "\"}," \
	"\"spec\":{\"clusterIP\":\"" ip "\"" extra ",\"ports\":[" ports "]}}"
#define SVC(name, ip, ports) SVC_NS("default", name, ip, "", ports)
#define SLICE_AT(ns, name, svc, at, eps, ports) \
	"{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"" name "\",\"namespace\":\"" ns "\"," \
	"\"labels\":{\"kubernetes.io/service-name\":\"" svc "\"}},\"addressType\":\"" at "\"," \
	"\"endpoints\":[" eps "],\"ports\":[" ports "]}"
#define SLICE(name, svc, eps, ports) SLICE_AT("default", name, svc, "IPv4", eps, ports)
#define EPS_NS(ns, name, subsets) \
	"{\"kind\":\"Endpoints\",\"metadata\":{\"name\":\"" name "\",\"namespace\":\"" ns "\"}," \
	"\"subsets\":[" subsets "]}"
#define EPS(name, subsets) EPS_NS("default", name, subsets)
#define E(ip) "{\"addresses\":[\"" ip "\"]}"
#define EC(ip, cond) "{\"addresses\":[\"" ip "\"],\"conditions\":{" cond "}}"
#define TERMINATING "\"ready\":false,\"serving\":true,\"terminating\":true"

static void expect(const char *json, const char *svc, size_t port,
		   int family, const char *want)
{
	struct fixture fx;
	char *got;

	fx_init(&fx);
	fx_valid(&fx, json);
	got = fx_backends(&fx, "default", svc, port, family);
	assert_string_equal(got, want);
	free(got);
	fx_free(&fx);
}

/* model_cluster_backends() from node-a in zone-a (either may be NULL). */
static void expect_topo(const char *json, const char *node, const char *zone,
			const char *want)
{
	struct topology t = { node, zone };
	struct svcnft_buf b = {0};
	struct backend *be = NULL;
	struct fixture fx;
	const struct svc *s;
	size_t n;

	fx_init(&fx);
	fx_valid(&fx, json);
	s = fx_svc(&fx, "default", "a");
	n = model_cluster_backends(fx.m, s, &s->ports[0], AF_INET, &t, &be);
	buf_puts(&b, "");
	for (size_t i = 0; i < n; i++) {
		char ip[64];

		ipaddr_format(&be[i].ip, ip, sizeof(ip));
		buf_printf(&b, "%s%s", i ? " " : "", ip);
	}
	assert_string_equal(b.data, want);
	free(be);
	svcnft_buf_free(&b);
	fx_free(&fx);
}

#define HZ(ip, zone, cond) "{\"addresses\":[\"" ip "\"],\"conditions\":{" cond "}," \
	"\"hints\":{\"forZones\":[{\"name\":\"" zone "\"}]}}"
#define HN(ip, zone, node) "{\"addresses\":[\"" ip "\"],\"hints\":{\"forZones\":" \
	"[{\"name\":\"" zone "\"}],\"forNodes\":[{\"name\":\"" node "\"}]}}"
#define TOPO(eps) LIST(SVC("a", "10.0.0.1", "{\"port\":80}") "," \
		       SLICE("a-1", "a", eps, "{\"port\":8080}"))

static void test_topology(void **state)
{
	(void)state;
	/* zone hints for here: only those */
	expect_topo(TOPO(HZ("10.244.0.1", "zone-a", "") "," HZ("10.244.0.2", "zone-b", "")),
		    "node-a", "zone-a", "10.244.0.1");
	/* not-ready endpoints neither need hints nor count as being here */
	expect_topo(TOPO(HZ("10.244.0.1", "zone-b", "") "," E("10.244.0.3") ","
			 HZ("10.244.0.2", "zone-a", "\"ready\":false")),
		    "node-a", "zone-a", "10.244.0.1 10.244.0.3");
	expect_topo(TOPO(HZ("10.244.0.1", "zone-b", "") "," EC("10.244.0.3", "\"ready\":false") ","
			 HZ("10.244.0.2", "zone-a", "")),
		    "node-a", "zone-a", "10.244.0.2");
	/* no ready endpoint: no topology, the terminating fallback */
	expect_topo(TOPO(HZ("10.244.0.1", "zone-b", TERMINATING) ","
			 HZ("10.244.0.2", "zone-a", TERMINATING)),
		    "node-a", "zone-a", "10.244.0.1 10.244.0.2");
	/* without --node-zone zone hints never match */
	expect_topo(TOPO(HZ("10.244.0.1", "zone-a", "") "," HZ("10.244.0.2", "zone-b", "")),
		    "node-a", NULL, "10.244.0.1 10.244.0.2");
	/* node hints first, then zone hints when none names this node */
	expect_topo(TOPO(HN("10.244.0.1", "zone-a", "node-a") "," HN("10.244.0.2", "zone-a", "node-b")),
		    "node-a", "zone-a", "10.244.0.1");
	expect_topo(TOPO(HN("10.244.0.1", "zone-a", "node-c") "," HN("10.244.0.2", "zone-b", "node-b")),
		    "node-a", "zone-a", "10.244.0.1");
	expect_topo(TOPO(HN("10.244.0.1", "zone-a", "node-a") "," HZ("10.244.0.2", "zone-a", "")),
		    "node-a", "zone-a", "10.244.0.1 10.244.0.2");
}

static void test_ready_only(void **state)
{
	(void)state;
	expect(LIST(SVC("a", "10.0.0.1", "{\"port\":80}") ","
		    EPS("a", "{\"addresses\":[{\"ip\":\"10.244.0.2\"},{\"ip\":\"10.244.0.1\"}],"
			"\"notReadyAddresses\":[{\"ip\":\"10.244.0.3\"}],\"ports\":[{\"port\":8080}]}")),
	       "a", 0, AF_INET, "10.244.0.1:8080 10.244.0.2:8080");
	expect(LIST(SVC("a", "10.0.0.1", "{\"port\":80}") ","
		    SLICE("a-1", "a", E("10.244.0.1") "," EC("10.244.0.2", "\"ready\":false") ","
			  EC("10.244.0.3", TERMINATING) "," EC("10.244.0.4", "\"ready\":true"),
			  "{\"port\":8080}")),
	       "a", 0, AF_INET, "10.244.0.1:8080 10.244.0.4:8080");
}

static void test_terminating_fallback(void **state)
{
	(void)state;
	expect(LIST(SVC("a", "10.0.0.1", "{\"port\":80}") ","
		    SLICE("a-1", "a", EC("10.244.0.1", TERMINATING) ","
			  EC("10.244.0.2", "\"ready\":false,\"serving\":false,\"terminating\":true") ","
			  EC("10.244.0.3", "\"ready\":false") ","
			  EC("10.244.0.4", "\"ready\":false,\"terminating\":true"),
			  "{\"port\":8080}")),
	       "a", 0, AF_INET, "10.244.0.1:8080 10.244.0.4:8080");
	/* Endpoints have no terminating condition: not ready means unused */
	expect(LIST(SVC("a", "10.0.0.1", "{\"port\":80}") ","
		    EPS("a", "{\"notReadyAddresses\":[{\"ip\":\"10.244.0.3\"}],\"ports\":[{\"port\":8080}]}")),
	       "a", 0, AF_INET, "");
}

static void test_publish_not_ready(void **state)
{
	(void)state;
	expect(LIST(SVC_NS("default", "a", "10.0.0.1", ",\"publishNotReadyAddresses\":true", "{\"port\":80}") ","
		    EPS("a", "{\"addresses\":[{\"ip\":\"10.244.0.1\"}],"
			"\"notReadyAddresses\":[{\"ip\":\"10.244.0.3\"}],\"ports\":[{\"port\":8080}]}")),
	       "a", 0, AF_INET, "10.244.0.1:8080 10.244.0.3:8080");
}

static void test_dedupe_across_slices(void **state)
{
	(void)state;
	/* .1 is terminating in one slice and ready in another: the ready,
	 * non-terminating copy wins, so it stays next to .2 */
	expect(LIST(SVC("a", "10.0.0.1", "{\"port\":80}") ","
		    SLICE("a-1", "a", EC("10.244.0.1", TERMINATING) "," E("10.244.0.2"), "{\"port\":8080}") ","
		    SLICE("a-2", "a", E("10.244.0.1") "," E("10.244.0.2"), "{\"port\":8080}")),
	       "a", 0, AF_INET, "10.244.0.1:8080 10.244.0.2:8080");
	/* a non-terminating copy wins even over a ready terminating one */
	expect(LIST(SVC("a", "10.0.0.1", "{\"port\":80}") ","
		    SLICE("a-1", "a", EC("10.244.0.1", "\"ready\":true,\"terminating\":true") ","
			  E("10.244.0.2"), "{\"port\":8080}") ","
		    SLICE("a-2", "a", EC("10.244.0.1", "\"ready\":false"), "{\"port\":8080}")),
	       "a", 0, AF_INET, "10.244.0.2:8080");
	/* same IP, different ports are different backends */
	expect(LIST(SVC("a", "10.0.0.1", "{\"port\":80}") ","
		    SLICE("a-1", "a", E("10.244.0.1"), "{\"port\":8080}") ","
		    SLICE("a-2", "a", E("10.244.0.1"), "{\"port\":8081}")),
	       "a", 0, AF_INET, "10.244.0.1:8080 10.244.0.1:8081");
}

static void test_named_ports(void **state)
{
	const char *json = LIST(
		SVC("dns", "10.0.0.10", "{\"name\":\"dns\",\"port\":53,\"protocol\":\"UDP\",\"targetPort\":\"dns-udp\"},"
		    "{\"name\":\"dns-tcp\",\"port\":53,\"targetPort\":9999}") ","
		SLICE("dns-1", "dns", E("10.244.0.1"),
		      "{\"name\":\"dns\",\"port\":5353,\"protocol\":\"TCP\"},{\"name\":\"dns-tcp\",\"port\":5300}") ","
		SLICE("dns-2", "dns", E("10.244.0.2"),
		      "{\"name\":\"dns\",\"port\":53,\"protocol\":\"UDP\"},{\"name\":\"dns-tcp\",\"port\":53}"));

	(void)state;
	/* by name and protocol: dns-1's TCP "dns" does not serve UDP 53 */
	expect(json, "dns", 0, AF_INET, "10.244.0.2:53");
	/* the DNAT port is the endpoint port, never targetPort */
	expect(json, "dns", 1, AF_INET, "10.244.0.1:5300 10.244.0.2:53");
	/* an unnamed service port matches only an unnamed endpoint port */
	expect(LIST(SVC("a", "10.0.0.1", "{\"port\":80}") ","
		    SLICE("a-1", "a", E("10.244.0.1"), "{\"name\":\"http\",\"port\":8080}") ","
		    SLICE("a-2", "a", E("10.244.0.2"), "{\"port\":8081}")),
	       "a", 0, AF_INET, "10.244.0.2:8081");
}

static void test_slices_preferred(void **state)
{
	(void)state;
	expect(LIST(EPS("a", "{\"addresses\":[{\"ip\":\"10.244.0.9\"}],\"ports\":[{\"port\":8080}]}") ","
		    SVC("a", "10.0.0.1", "{\"port\":80}") ","
		    SLICE("a-1", "a", E("10.244.0.1"), "{\"port\":8080}")),
	       "a", 0, AF_INET, "10.244.0.1:8080");
	/* only Endpoints: they are used */
	expect(LIST(EPS("a", "{\"addresses\":[{\"ip\":\"10.244.0.9\"}],\"ports\":[{\"port\":8080}]}") ","
		    SVC("a", "10.0.0.1", "{\"port\":80}")),
	       "a", 0, AF_INET, "10.244.0.9:8080");
}

static void test_family_filter(void **state)
{
	const char *json = LIST(
		SVC_NS("default", "a", "10.0.0.1", ",\"clusterIPs\":[\"10.0.0.1\",\"fd00:10:96::1\"],\"ipFamilyPolicy\":\"PreferDualStack\"", "{\"port\":80}") ","
		SLICE("a-4", "a", E("10.244.0.1"), "{\"port\":8080}") ","
		SLICE_AT("default", "a-6", "a", "IPv6", E("fd00:10:244::1") "," E("fd00:10:244::2"), "{\"port\":8080}") ","
		SLICE_AT("default", "a-f", "a", "FQDN", E("a.example.com"), "{\"port\":8080}"));
	const char *eps = LIST(
		SVC("b", "10.0.0.2", "{\"port\":80}") ","
		EPS("b", "{\"addresses\":[{\"ip\":\"fd00:10:244::5\"},{\"ip\":\"10.244.0.5\"}],\"ports\":[{\"port\":8080}]}"));

	(void)state;
	expect(json, "a", 0, AF_INET, "10.244.0.1:8080");
	expect(json, "a", 0, AF_INET6, "fd00:10:244::1:8080 fd00:10:244::2:8080");
	expect(eps, "b", 0, AF_INET, "10.244.0.5:8080");
	expect(eps, "b", 0, AF_INET6, "fd00:10:244::5:8080");
}

static void test_namespaces_and_owners(void **state)
{
	const char *json = LIST(
		SVC_NS("blue", "web", "10.0.0.1", "", "{\"port\":80}") ","
		SVC_NS("green", "web", "10.0.0.2", "", "{\"port\":80}") ","
		SVC("web", "10.0.0.3", "{\"port\":80}") ","
		EPS_NS("blue", "web", "{\"addresses\":[{\"ip\":\"10.244.1.1\"}],\"ports\":[{\"port\":8080}]}") ","
		SLICE_AT("green", "web-x", "web", "IPv4", E("10.244.2.1"), "{\"port\":8080}") ","
		SLICE_AT("green", "other-x", "other", "IPv4", E("10.244.2.2"), "{\"port\":8080}") ","
		SLICE_AT("default", "web", "not-web", "IPv4", E("10.244.3.1"), "{\"port\":8080}"));
	struct fixture fx;
	char *got;

	(void)state;
	fx_init(&fx);
	fx_valid(&fx, json);
	got = fx_backends(&fx, "blue", "web", 0, AF_INET);
	assert_string_equal(got, "10.244.1.1:8080");
	free(got);
	got = fx_backends(&fx, "green", "web", 0, AF_INET);
	assert_string_equal(got, "10.244.2.1:8080");
	free(got);
	/* a slice named "web" owned by another service does not count */
	got = fx_backends(&fx, "default", "web", 0, AF_INET);
	assert_string_equal(got, "");
	free(got);
	fx_free(&fx);
}

static void test_invalid_source_ignored(void **state)
{
	struct fixture fx;
	char *got;

	(void)state;
	fx_init(&fx);
	fx_check(&fx, LIST(SVC("a", "10.0.0.1", "{\"port\":80}") ","
			   SLICE("a-1", "a", E("10.244.0.1"), "{\"port\":8080}") ","
			   SLICE("a-2", "a", E("127.0.0.1") "," E("10.244.0.2"), "{\"port\":8080}")));
	assert_int_equal(svcnft_errors_status(&fx.errs), SVCNFT_EINVALID);
	got = fx_backends(&fx, "default", "a", 0, AF_INET);
	assert_string_equal(got, "10.244.0.1:8080");
	free(got);
	fx_free(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_only),
		cmocka_unit_test(test_terminating_fallback),
		cmocka_unit_test(test_publish_not_ready),
		cmocka_unit_test(test_dedupe_across_slices),
		cmocka_unit_test(test_named_ports),
		cmocka_unit_test(test_slices_preferred),
		cmocka_unit_test(test_family_filter),
		cmocka_unit_test(test_namespaces_and_owners),
		cmocka_unit_test(test_invalid_source_ignored),
		cmocka_unit_test(test_topology),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
