/* validate.c: API-server wording of a few error classes, and what an
 * invalid object means for the rest. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "engine.h"
#include "helpers.h"

#define SVC(name, spec) "{\"kind\":\"Service\",\"metadata\":{\"name\":\"" name "\"},\"spec\":{" spec "}}"
#define PORT80 "\"ports\":[{\"port\":80}]"

/* Validate JSON; the error records must be exactly WANT (joined by \n). */
static void expect_errors_on(const char *node, const char *json, const char *want)
{
	struct fixture fx;
	char *got;

	fx_init(&fx);
	fx.cfg.node_name = node;
	fx_check_all(&fx, json);
	got = fx_errtext(&fx);
	assert_string_equal(got, want);
	assert_int_equal(svcnft_errors_status(&fx.errs), *want ? SVCNFT_EINVALID : SVCNFT_OK);
	free(got);
	fx_free(&fx);
}

static void expect_errors(const char *json, const char *want)
{
	expect_errors_on(NULL, json, want);
}

#define PFX "t.json: Service \"default/"

static void test_name(void **state)
{
	(void)state;
	expect_errors(SVC("9x", "\"clusterIP\":\"10.0.0.1\"," PORT80),
		      PFX "9x\" is invalid: metadata.name: Invalid value: \"9x\": a DNS-1035 label must "
		      "consist of lower case alphanumeric characters or '-', start with an alphabetic "
		      "character, and end with an alphanumeric character\n");
	expect_errors(SVC("ok", "\"clusterIP\":\"10.0.0.1\"," PORT80), "");
}

static void test_ports(void **state)
{
	(void)state;
	expect_errors(SVC("a", "\"clusterIP\":\"10.0.0.1\",\"ports\":[{\"name\":\"web\",\"port\":80},"
			  "{\"port\":0,\"protocol\":\"ICMP\"},{\"name\":\"web\",\"port\":80}]"),
		      PFX "a\" is invalid: spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive\n"
		      PFX "a\" is invalid: spec.ports[1].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"\n"
		      PFX "a\" is invalid: spec.ports[2]: Duplicate value: {\"port\":80,\"protocol\":\"TCP\"}\n"
		      PFX "a\" is invalid: spec.ports[1].name: Required value\n"
		      PFX "a\" is invalid: spec.ports[2].name: Duplicate value: \"web\"\n");
	expect_errors(SVC("a", "\"clusterIP\":\"10.0.0.1\",\"ports\":[]"),
		      PFX "a\" is invalid: spec.ports: Required value\n");
	/* a single unnamed port is fine; same port, other protocol too */
	expect_errors(SVC("a", "\"clusterIP\":\"10.0.0.1\",\"ports\":[{\"name\":\"t\",\"port\":53},"
			  "{\"name\":\"u\",\"port\":53,\"protocol\":\"UDP\"}]"), "");
}

static void test_affinity_timeout(void **state)
{
	static const struct {
		const char *timeout;
		bool ok;
	} t[] = { { "0", false }, { "1", true }, { "86400", true }, { "86401", false }, { "-5", false } };

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct fixture fx;
		char json[512], want[256];

		snprintf(json, sizeof(json), SVC("a", "\"clusterIP\":\"10.0.0.1\"," PORT80 ","
			 "\"sessionAffinity\":\"ClientIP\",\"sessionAffinityConfig\":{\"clientIP\":"
			 "{\"timeoutSeconds\":%s}}"), t[i].timeout);
		snprintf(want, sizeof(want), "spec.sessionAffinityConfig.clientIP.timeoutSeconds: "
			 "Invalid value: %s: must be greater than 0 and less than 86400", t[i].timeout);
		fx_init(&fx);
		fx_check(&fx, json);
		if (t[i].ok)
			assert_int_equal(fx.errs.n, 0);
		else
			fx_assert_err(&fx, want);
		fx_free(&fx);
	}
}

static void test_cluster_ip(void **state)
{
	(void)state;
	expect_errors(SVC("a", "\"clusterIP\":\"10.1.0.5\"," PORT80),
		      PFX "a\" is invalid: spec.clusterIPs: Invalid value: [\"10.1.0.5\"]: failed to allocate "
		      "IP 10.1.0.5: the provided IP (10.1.0.5) is not in the valid range. The range of valid "
		      "IPs is 10.0.0.0/24\n");
	/* network and broadcast addresses are out of range; their neighbours are not */
	expect_errors(SVC("a", "\"clusterIP\":\"10.0.0.1\"," PORT80) "\n"
		      SVC("b", "\"clusterIP\":\"10.0.0.254\"," PORT80), "");
	{
		struct fixture fx;

		fx_init(&fx);
		fx_check(&fx, SVC("a", "\"clusterIP\":\"10.0.0.0\"," PORT80) "\n"
			 SVC("b", "\"clusterIP\":\"10.0.0.255\"," PORT80) "\n"
			 SVC("c", "\"clusterIP\":\"10.0.0.300\"," PORT80) "\n"
			 SVC("d", "\"clusterIP\":\"10.0.0.5\",\"clusterIPs\":[\"10.0.0.6\"]," PORT80) "\n"
			 SVC("e", "\"clusterIP\":\"fd00:10:96::\"," PORT80));
		assert_int_equal(fx.errs.n, 5);
		fx_assert_err(&fx, "failed to allocate IP 10.0.0.0:");
		fx_assert_err(&fx, "failed to allocate IP 10.0.0.255:");
		fx_assert_err(&fx, "spec.clusterIPs[0]: Invalid value: \"10.0.0.300\": must be a valid IP address");
		fx_assert_err(&fx, "spec.clusterIPs: Invalid value: [\"10.0.0.6\"]: first value must match `clusterIP`");
		fx_assert_err(&fx, "failed to allocate IP fd00:10:96:::");
		fx_free(&fx);
	}
}

static void test_endpoint_ips(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx);
	fx_check(&fx, "{\"kind\":\"Endpoints\",\"metadata\":{\"name\":\"a\"},\"subsets\":[{\"addresses\":"
		 "[{\"ip\":\"127.0.0.1\"},{\"ip\":\"10.244.0.1\"},{\"ip\":\"169.254.0.1\"}],"
		 "\"notReadyAddresses\":[{\"ip\":\"::\"},{\"ip\":\"ff02::fb\"},{\"ip\":\"x\"}],"
		 "\"ports\":[{\"port\":80}]}]}");
	assert_int_equal(fx.errs.n, 5);
	fx_assert_err(&fx, "t.json: Endpoints \"default/a\" is invalid: subsets[0].addresses[0].ip: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)");
	fx_assert_err(&fx, "subsets[0].addresses[2].ip: Invalid value: \"169.254.0.1\": may not be in the link-local range");
	fx_assert_err(&fx, "subsets[0].notReadyAddresses[0].ip: Invalid value: \"::\": may not be unspecified");
	fx_assert_err(&fx, "subsets[0].notReadyAddresses[1].ip: Invalid value: \"ff02::fb\": may not be in the link-local multicast range");
	fx_assert_err(&fx, "subsets[0].notReadyAddresses[2].ip: Invalid value: \"x\": must be a valid IP address");
	assert_true(fx.m->eps[0].invalid);
	fx_free(&fx);
}

static void test_slice_address_type(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx);
	fx_check(&fx, "{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"s\",\"labels\":"
		 "{\"kubernetes.io/service-name\":\"a\"}},\"addressType\":\"IPv4\",\"endpoints\":"
		 "[{\"addresses\":[\"fd00::1\"]}],\"ports\":[]}"
		 "{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"t\",\"labels\":"
		 "{\"kubernetes.io/service-name\":\"a\"}},\"addressType\":\"ipv6\"}");
	assert_int_equal(fx.errs.n, 2);
	fx_assert_err(&fx, "EndpointSlice \"default/s\" is invalid: endpoints[0].addresses[0]: Invalid value: \"fd00::1\": must be a valid IPv4 address");
	fx_assert_err(&fx, "EndpointSlice \"default/t\" is invalid: addressType: Unsupported value: \"ipv6\": supported values: \"FQDN\", \"IPv4\", \"IPv6\"");
	fx_free(&fx);
}

static void test_every_error_reported(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx);
	fx_check(&fx, SVC("a", "\"clusterIP\":\"10.0.0.1\",\"type\":\"Magic\",\"sessionAffinity\":\"Sticky\"," PORT80)
		 SVC("ok", "\"clusterIP\":\"10.0.0.2\"," PORT80)
		 SVC("b", "\"clusterIP\":\"10.0.0.3\",\"ports\":[{\"port\":80,\"nodePort\":30001}]"));
	assert_int_equal(fx.errs.n, 3);
	fx_assert_err(&fx, PFX "a\" is invalid: spec.type: Unsupported value: \"Magic\"");
	fx_assert_err(&fx, PFX "a\" is invalid: spec.sessionAffinity: Unsupported value: \"Sticky\"");
	fx_assert_err(&fx, PFX "b\" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'");
	assert_true(fx_svc(&fx, "default", "a")->invalid);
	assert_true(fx_svc(&fx, "default", "b")->invalid);
	assert_false(fx_svc(&fx, "default", "ok")->invalid);
	fx_free(&fx);
}

static void test_duplicate_service(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx);
	fx_load(&fx, SVC("a", "\"clusterIP\":\"10.0.0.1\"," PORT80));
	svcnft_model_load_buffer(fx.m, "u.json", SVC("a", "\"clusterIP\":\"10.0.0.2\"," PORT80),
				 strlen(SVC("a", "\"clusterIP\":\"10.0.0.2\"," PORT80)), &fx.errs);
	engine_free(engine_snapshot(&fx.cfg, fx.m, ENGINE_CHECK_ONLY, &fx.errs));
	assert_int_equal(fx.errs.n, 1);
	assert_string_equal(fx.errs.v[0].text, "u.json: Service \"default/a\" is invalid: metadata.name: "
			    "Duplicate value: \"a\": also defined in t.json");
	fx_free(&fx);
}

static void test_hostile_values_escaped(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx);
	fx_check(&fx, SVC("web", "\"clusterIP\":\"10.0.0.1\",\"ports\":[{\"name\":\"a\\\"b\\n\\\\\",\"port\":80}]"));
	assert_int_equal(fx.errs.n, 1);
	fx_assert_err(&fx, "spec.ports[0].name: Invalid value: \"a\\\"b\\n\\\\\": a lowercase RFC 1123 label");
	assert_null(strchr(fx.errs.v[0].text, '\n'));
	fx_free(&fx);
}

#define LB_LOCAL(name, extra) SVC(name, "\"clusterIP\":\"10.0.0.1\",\"type\":\"LoadBalancer\"," \
	"\"externalTrafficPolicy\":\"Local\",\"ports\":[{\"port\":80,\"nodePort\":30080}]" extra)

/* spec.healthCheckNodePort: where it may be set, its range, and one
 * allocator with the node ports (the later service loses). */
static void test_health_check_port(void **state)
{
	(void)state;
	expect_errors_on("n1", LB_LOCAL("a", ",\"healthCheckNodePort\":30100"), "");
	expect_errors_on("n1", LB_LOCAL("a", ""), "");	/* the API server allocates one */
	expect_errors_on("n1", SVC("a", "\"clusterIP\":\"10.0.0.1\",\"type\":\"NodePort\",\"externalTrafficPolicy\":\"Local\","
			  "\"ports\":[{\"port\":80}],\"healthCheckNodePort\":30100"),
		      PFX "a\" is invalid: spec.healthCheckNodePort: Invalid value: 30100: may only be set when "
		      "`type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'\n");
	expect_errors_on("n1", SVC("a", "\"clusterIP\":\"10.0.0.1\",\"type\":\"LoadBalancer\","
			  "\"ports\":[{\"port\":80}],\"healthCheckNodePort\":30100"),
		      PFX "a\" is invalid: spec.healthCheckNodePort: Invalid value: 30100: may only be set when "
		      "`type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'\n");
	expect_errors_on("n1", LB_LOCAL("a", ",\"healthCheckNodePort\":70000"),
		      PFX "a\" is invalid: spec.healthCheckNodePort: Invalid value: 70000: must be between 1 and 65535, inclusive\n");
	expect_errors_on("n1", LB_LOCAL("a", ",\"healthCheckNodePort\":10256"),
		      PFX "a\" is invalid: spec.healthCheckNodePort: Invalid value: 10256: failed to allocate requested "
		      "HealthCheck NodePort 10256: provided port is not in the valid range. The range of valid ports is 30000-32767\n");
	expect_errors_on("n1", LB_LOCAL("a", ",\"healthCheckNodePort\":\"x\""),
		      PFX "a\" is invalid: spec.healthCheckNodePort: Invalid value: must be an integer\n");
	/* its own node port, another health check, another node port */
	expect_errors_on("n1", LB_LOCAL("a", ",\"healthCheckNodePort\":30080"),
		      PFX "a\" is invalid: spec.healthCheckNodePort: Invalid value: 30080: failed to allocate requested "
		      "HealthCheck NodePort 30080: provided port is already allocated\n");
	expect_errors_on("n1", SVC("a", "\"clusterIP\":\"10.0.0.1\",\"type\":\"LoadBalancer\",\"externalTrafficPolicy\":\"Local\","
			  "\"ports\":[{\"port\":80,\"nodePort\":30080}],\"healthCheckNodePort\":30100")
		      SVC("b", "\"clusterIP\":\"10.0.0.2\",\"type\":\"LoadBalancer\",\"externalTrafficPolicy\":\"Local\","
			  "\"ports\":[{\"port\":80,\"nodePort\":30081}],\"healthCheckNodePort\":30100")
		      SVC("c", "\"clusterIP\":\"10.0.0.3\",\"type\":\"NodePort\","
			  "\"ports\":[{\"port\":80,\"nodePort\":30100}]"),
		      PFX "b\" is invalid: spec.healthCheckNodePort: Invalid value: 30100: failed to allocate requested "
		      "HealthCheck NodePort 30100: provided port is already allocated\n"
		      PFX "c\" is invalid: spec.ports[0].nodePort: Invalid value: 30100: provided port is already allocated\n");
}

/* follow (api_allocated): the allocators' refusals are warnings with the
 * same text, and the Service keeps its cluster IP. */
static void test_api_allocated(void **state)
{
	struct fixture fx;
	char *got;

	(void)state;
	fx_init(&fx);
	fx.cfg.api_allocated = true;
	fx.cfg.node_name = "n1";
	fx_check(&fx, SVC("a", "\"clusterIP\":\"10.1.0.5\",\"type\":\"LoadBalancer\","
			  "\"externalTrafficPolicy\":\"Local\",\"ports\":[{\"port\":80,\"nodePort\":20080}],"
			  "\"healthCheckNodePort\":10256"));
	got = fx_errtext(&fx);
	assert_string_equal(got,
		"t.json: warning: Service \"default/a\": spec.clusterIPs: Invalid value: [\"10.1.0.5\"]: failed to allocate "
		"IP 10.1.0.5: the provided IP (10.1.0.5) is not in the valid range. The range of valid IPs is 10.0.0.0/24\n"
		"t.json: warning: Service \"default/a\": spec.ports[0].nodePort: Invalid value: 20080: provided port is "
		"not in the valid range. The range of valid ports is 30000-32767\n"
		"t.json: warning: Service \"default/a\": spec.healthCheckNodePort: Invalid value: 10256: failed to allocate "
		"requested HealthCheck NodePort 10256: provided port is not in the valid range. The range of valid ports is 30000-32767\n");
	assert_int_equal(svcnft_errors_status(&fx.errs), SVCNFT_OK);
	assert_int_equal(fx_svc(&fx, "default", "a")->n_vip, 1);
	free(got);
	fx_free(&fx);
}

/* A ServiceCIDR holding one of the node's addresses is refused; one beside
 * them is not (the API server accepts both). */
static void test_cidr_holds_node_address(void **state)
{
	static const struct svcnft_node_addr addrs[] = {
		{ .family = AF_INET, .addr = { 192, 168, 77, 1 }, .ifname = "eth0" },
	};
	struct fixture fx;
	char *got;

	(void)state;
	fx_init(&fx);
	fx.cfg.node_addrs = addrs;
	fx.cfg.n_node_addrs = 1;
	fx_check_all(&fx, "[{\"kind\":\"ServiceCIDR\",\"metadata\":{\"name\":\"wide\"},"
		     "\"spec\":{\"cidrs\":[\"192.168.0.0/16\"]}},"
		     "{\"kind\":\"ServiceCIDR\",\"metadata\":{\"name\":\"beside\"},"
		     "\"spec\":{\"cidrs\":[\"192.169.0.0/16\"]}}]");
	got = fx_errtext(&fx);
	assert_string_equal(got, "t.json: ServiceCIDR \"wide\" is invalid: spec.cidrs[0]: Invalid value: "
			    "\"192.168.0.0/16\": refused by svcnft (the API server accepts it): contains "
			    "this node's address 192.168.77.1 (interface \"eth0\"); new connections to "
			    "unallocated service addresses are dropped, so the node's own traffic would be too\n");
	free(got);
	fx_free(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_affinity_timeout),
		cmocka_unit_test(test_cluster_ip),
		cmocka_unit_test(test_endpoint_ips),
		cmocka_unit_test(test_slice_address_type),
		cmocka_unit_test(test_every_error_reported),
		cmocka_unit_test(test_duplicate_service),
		cmocka_unit_test(test_hostile_values_escaped),
		cmocka_unit_test(test_health_check_port),
		cmocka_unit_test(test_api_allocated),
		cmocka_unit_test(test_cidr_holds_node_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
