/* health.c: the counts and the healthCheckNodePort answers of a model. */
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "helpers.h"

#define LB(name, ip, hc) "{\"kind\":\"Service\",\"metadata\":{\"name\":\"" name "\"},\"spec\":{" \
	"\"clusterIP\":\"" ip "\",\"type\":\"LoadBalancer\",\"externalTrafficPolicy\":\"Local\"," \
	"\"healthCheckNodePort\":30" hc ",\"selector\":{\"a\":\"b\"},\"ports\":[{\"name\":\"http\",\"port\":80,\"nodePort\":31" hc "}," \
	"{\"name\":\"dns\",\"port\":53,\"protocol\":\"UDP\",\"nodePort\":32" hc "}]}}"
#define EP(ip, node, ready) "{\"addresses\":[\"" ip "\"],\"nodeName\":\"" node "\"," \
	"\"conditions\":{\"ready\":" ready "}}"
#define SLICE(svc, eps) "{\"kind\":\"EndpointSlice\",\"apiVersion\":\"discovery.k8s.io/v1\"," \
	"\"metadata\":{\"name\":\"" svc "-x\",\"labels\":{\"kubernetes.io/service-name\":\"" svc "\"}}," \
	"\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"http\",\"port\":8080},{\"name\":\"dns\",\"port\":5353,\"protocol\":\"UDP\"}]," \
	"\"endpoints\":[" eps "]}"

static void build(struct fixture *fx, const char *node, struct svcnft_health *h)
{
	fx->cfg.node_name = node;
	fx_valid(fx, LB("web", "10.0.0.1", "100")
		 SLICE("web", EP("10.1.0.1", "n1", "true") "," EP("10.1.0.2", "n1", "true") ","
		       EP("10.1.0.3", "n2", "true") "," EP("10.1.0.4", "n1", "false"))
		 LB("idle", "10.0.0.2", "099")
		 SLICE("idle", EP("10.1.0.9", "n2", "true"))
		 LB("drain", "10.0.0.4", "098")
		 SLICE("drain", "{\"addresses\":[\"10.1.0.8\"],\"nodeName\":\"n1\","
		       "\"conditions\":{\"ready\":false,\"serving\":true,\"terminating\":true}}")
		 "{\"kind\":\"Service\",\"metadata\":{\"name\":\"plain\"},\"spec\":{\"clusterIP\":\"10.0.0.3\","
		 "\"ports\":[{\"port\":443}]}}");
	health_build(fx->m, &fx->cfg, h);
}

static void test_counts_and_checks(void **state)
{
	struct fixture fx;
	struct svcnft_health h;

	(void)state;
	fx_init(&fx);
	build(&fx, "n1", &h);
	assert_int_equal(h.services, 4);
	assert_int_equal(h.service_ports, 7);
	/* usable ones per port: ready, or the terminating fallback */
	assert_int_equal(h.endpoints, 3 * 2 + 1 * 2 + 1 * 2);
	assert_int_equal(h.n_checks, 3);
	/* sorted by port; distinct ready address . port on n1: neither the
	 * not-ready one nor, so that the balancer drains n1, a terminating one */
	assert_string_equal(h.checks[0].name, "drain");
	assert_int_equal(h.checks[0].port, 30098);
	assert_int_equal(h.checks[0].local_endpoints, 0);
	assert_string_equal(h.checks[1].name, "idle");
	assert_int_equal(h.checks[1].port, 30099);
	assert_int_equal(h.checks[1].local_endpoints, 0);
	assert_string_equal(h.checks[2].ns, "default");
	assert_string_equal(h.checks[2].name, "web");
	assert_int_equal(h.checks[2].port, 30100);
	assert_int_equal(h.checks[2].local_endpoints, 4);	/* 2 endpoints x 2 ports */
	health_free(&h);
	fx_free(&fx);
}

static void test_without_node_nothing_is_local(void **state)
{
	struct fixture fx;
	struct svcnft_health h;

	(void)state;
	fx_init(&fx);
	build(&fx, NULL, &h);
	assert_int_equal(h.n_checks, 3);
	assert_int_equal(h.checks[2].local_endpoints, 0);
	health_free(&h);
	fx_free(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_and_checks),
		cmocka_unit_test(test_without_node_nothing_is_local),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
