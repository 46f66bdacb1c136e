/* YAML input: scalar typing as kubectl's, Lists, streams, limits. */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "limits.h"
#include "yaml_scalar.h"

static void load_yaml(struct fixture *fx, const char *yaml)
{
	svcnft_model_load_yaml(fx->m, "t.yaml", yaml, strlen(yaml), &fx->errs);
}

static void no_records(const struct fixture *fx)
{
	if (fx->errs.n) {
		char *t = fx_errtext(fx);

		print_error("unexpected records:\n%s", t);
		free(t);
		fail();
	}
}

/* The JSON text of the plain (or quoted) scalar S. */
static char *typed(const char *s, const char *tag, bool plain)
{
	const char *err = NULL;
	json_t *v = yaml_scalar_json(s, strlen(s), tag, plain, &err);
	char *j;

	if (!v)
		return strdup(err ? err : "?");
	j = json_dumps(v, JSON_ENCODE_ANY);
	json_decref(v);
	return j;
}

#define TYPED(s, tag, plain, want) do {				\
		char *got_ = typed(s, tag, plain);			\
		assert_string_equal(got_, want);			\
		free(got_);						\
	} while (0)

static void test_scalar_typing(void **state)
{
	static const char *const cases[][2] = {
		{ "80", "80" }, { "+80", "80" }, { "0x50", "80" }, { "0o120", "80" },
		{ "0120", "80" }, { "080", "80" }, { "0b1010000", "80" },
		{ "-0x10", "-16" }, { "8_0", "80" }, { "80.0", "80" }, { "8e1", "80" },
		{ "0.5", "0.5" }, { ".5", "0.5" },
		{ "yes", "true" }, { "Yes", "true" }, { "ON", "true" }, { "y", "true" },
		{ "True", "true" }, { "no", "false" }, { "off", "false" }, { "N", "false" },
		{ "~", "null" }, { "null", "null" }, { "", "null" },
		{ "nO", "\"nO\"" }, { "10.0.0.5", "\"10.0.0.5\"" },
		{ "2026-12-06", "\"2026-12-06\"" }, { "12:30", "\"12:30\"" },
		{ "0x", "\"0x\"" }, { "1e400", "\"1e400\"" }, { "fd00::1", "\"fd00::1\"" },
		{ ".inf", "infinity and NaN cannot be JSON values" },
		{ ".NaN", "infinity and NaN cannot be JSON values" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = typed(cases[i][0], NULL, true);

		if (strcmp(got, cases[i][1]))
			fail_msg("plain %s: got %s, want %s", cases[i][0], got, cases[i][1]);
		free(got);
	}
	TYPED("80", NULL, false, "\"80\"");
	TYPED("yes", NULL, false, "\"yes\"");
	TYPED("80", "tag:yaml.org,2002:str", true, "\"80\"");
	TYPED("80", "!", true, "\"80\"");
	TYPED("80", "tag:yaml.org,2002:int", false, "80");
	TYPED("80", "tag:yaml.org,2002:float", true, "80");
	TYPED("on", "tag:yaml.org,2002:bool", true, "true");
	TYPED("eighty", "tag:yaml.org,2002:int",
	      true, "the value does not match its tag (!!int, !!float, !!bool or !!null)");
	TYPED("x", "!local", true, "unsupported tag (only !!str, !!int, !!float, !!bool and !!null)");
}

static void test_service_fields(void **state)
{
	struct fixture fx;
	struct svc *s;

	(void)state;
	fx_init(&fx);
	load_yaml(&fx,
		  "# kubectl apply -f style\n"
		  "apiVersion: v1\n"
		  "kind: Service\n"
		  "metadata:\n"
		  "  name: web\n"
		  "  namespace: 'on'\n"
		  "spec:\n"
		  "  clusterIP: 10.0.0.5\n"
		  "  publishNotReadyAddresses: yes\n"
		  "  sessionAffinity: ClientIP\n"
		  "  sessionAffinityConfig: {clientIP: {timeoutSeconds: 1.08e4}}\n"
		  "  ports:\n"
		  "  - {name: \"80\", port: 0x50, targetPort: \"http\"}\n"
		  "  - name: b\n"
		  "    port: 81\n"
		  "    targetPort: !!str 8081\n");
	no_records(&fx);
	assert_int_equal(fx.m->n_svcs, 1);
	s = &fx.m->svcs[0];
	assert_string_equal(s->ns, "on");
	assert_string_equal(s->cluster_ip, "10.0.0.5");
	assert_true(s->publish_not_ready);
	assert_int_equal(s->aff_timeout.v, 10800);
	assert_string_equal(s->ports[0].name, "80");
	assert_int_equal(s->ports[0].port.v, 80);
	assert_string_equal(s->ports[0].target_name, "http");
	assert_string_equal(s->ports[1].target_name, "8081");
	fx_free(&fx);
}

/* Unquoted on/yes are booleans for kubectl: a string field refuses them. */
static void test_yaml11_bool_in_string_field(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx);
	load_yaml(&fx, "kind: Service\nmetadata: {name: x}\n"
		  "spec: {clusterIP: 10.0.0.5, ports: [{name: on, port: 80}]}\n");
	fx_assert_err(&fx, "t.yaml: Service \"default/x\" is invalid: spec.ports[0].name: Invalid value: must be a string");
	fx_free(&fx);
}

/* kubectl get -o yaml sorts keys: "items" comes before "kind". */
static void test_list_kind_after_items(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx);
	load_yaml(&fx,
		  "apiVersion: v1\n"
		  "items:\n"
		  "- metadata: {name: a}\n"
		  "  spec: {clusterIP: 10.0.0.5, ports: [{port: 80}]}\n"
		  "- kind: Endpoints\n"
		  "  metadata: {name: a}\n"
		  "  subsets: []\n"
		  "kind: ServiceList\n"
		  "---\n"
		  "---\n"
		  "# an empty document above, a bare array below\n"
		  "- {kind: Service, metadata: {name: b}, spec: {clusterIP: 10.0.0.6}}\n");
	no_records(&fx);
	assert_int_equal(fx.m->n_svcs, 2);
	assert_int_equal(fx.m->n_eps, 1);
	fx_free(&fx);
}

static void test_aliases_refused(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx);
	load_yaml(&fx, "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
		  "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		  "c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n");
	assert_int_equal(fx.errs.n, 1);
	assert_int_equal(svcnft_errors_status(&fx.errs), SVCNFT_EUSAGE);
	fx_assert_err(&fx, "t.yaml:2:8: malformed YAML: aliases (*a) are not supported");
	fx_free(&fx);
}

static void test_limits(void **state)
{
	struct svcnft_limits saved, l;
	struct fixture fx;

	(void)state;
	svcnft_limits_get(&saved);
	l = saved;
	l.depth = 3;
	l.string_bytes = 8;
	l.objects = 1;
	svcnft_limits_set(&l);
	fx_init(&fx);
	load_yaml(&fx, "a: {b: {c: [1]}}\n");
	fx_assert_err(&fx, "t.yaml:1:12: malformed YAML: nested deeper than the limit (--limit depth)");
	load_yaml(&fx, "kind: \"123456789\"\n");
	fx_assert_err(&fx, "t.yaml:1:7: malformed YAML: string longer than the limit (--limit string-bytes)");
	load_yaml(&fx, "- {kind: Service, metadata: {name: a}}\n- {kind: Service, metadata: {name: b}}\n");
	fx_assert_err(&fx, "t.yaml: more than 1 Services");
	svcnft_limits_set(&saved);
	fx_free(&fx);
}

static void test_empty_and_scalar(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx);
	load_yaml(&fx, "# only a comment\n");
	fx_assert_err(&fx, "t.yaml: empty input: no YAML document");
	load_yaml(&fx, "kind: Service\n---\n42\n");
	fx_assert_err(&fx, "t.yaml:3:1: malformed YAML: expected a mapping or a sequence");
	fx_free(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalar_typing),
		cmocka_unit_test(test_service_fields),
		cmocka_unit_test(test_yaml11_bool_in_string_field),
		cmocka_unit_test(test_list_kind_after_items),
		cmocka_unit_test(test_aliases_refused),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_empty_and_scalar),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
