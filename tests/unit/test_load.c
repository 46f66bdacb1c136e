/* load.c: streaming of Lists, arrays, concatenated documents; positions
 * of malformed JSON. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "helpers.h"
#include "util.h"

#define SVC(name) "{\"kind\":\"Service\",\"metadata\":{\"name\":\"" name "\"}," \
	"\"spec\":{\"clusterIP\":\"10.0.0.5\",\"ports\":[{\"port\":80}]}}"
#define EP(name) "{\"kind\":\"Endpoints\",\"metadata\":{\"name\":\"" name "\"}," \
	"\"subsets\":[{\"addresses\":[{\"ip\":\"10.244.0.1\"}],\"ports\":[{\"port\":80}]}]}"

static void load_ok(struct fixture *fx, const char *json)
{
	fx_load(fx, json);
	if (fx->errs.n) {
		char *t = fx_errtext(fx);

		print_error("unexpected records:\n%s", t);
		free(t);
		fail();
	}
}

static void test_list_items(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx);
	load_ok(&fx, "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[" SVC("a") ","
		EP("a") "," SVC("b") "],\"metadata\":{\"resourceVersion\":\"\"}}");
	assert_int_equal(fx.m->n_svcs, 2);
	assert_int_equal(fx.m->n_eps, 1);
	assert_string_equal(fx.m->svcs[0].name, "a");
	assert_string_equal(fx.m->svcs[0].ns, "default");
	assert_string_equal(fx.m->svcs[1].name, "b");
	assert_string_equal(fx.m->svcs[0].file, "t.json");
	fx_free(&fx);
}

static void test_single_object(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx);
	/* "kind" after "spec": the object is only known at its end */
	load_ok(&fx, "{\"metadata\":{\"name\":\"x\",\"namespace\":\"ns\"},"
		"\"spec\":{\"clusterIP\":\"10.0.0.7\",\"ports\":[{\"port\":81,\"name\":\"p\"}]},"
		"\"kind\":\"Service\"}");
	assert_int_equal(fx.m->n_svcs, 1);
	assert_string_equal(fx.m->svcs[0].ns, "ns");
	assert_string_equal(fx.m->svcs[0].cluster_ip, "10.0.0.7");
	assert_int_equal(fx.m->svcs[0].n_ports, 1);
	assert_int_equal(fx.m->svcs[0].ports[0].port.v, 81);
	assert_string_equal(fx.m->svcs[0].ports[0].name, "p");
	fx_free(&fx);
}

static void test_top_level_array(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx);
	load_ok(&fx, " [ " SVC("a") " , " EP("a") " ] ");
	assert_int_equal(fx.m->n_svcs, 1);
	assert_int_equal(fx.m->n_eps, 1);
	fx_free(&fx);
}

static void test_concatenated(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx);
	load_ok(&fx, SVC("a") "\n" SVC("b") SVC("c") "\n[" EP("a") "]\n"
		"{\"kind\":\"List\",\"items\":[" SVC("d") "]}\n");
	assert_int_equal(fx.m->n_svcs, 4);
	assert_int_equal(fx.m->n_eps, 1);
	assert_string_equal(fx.m->svcs[3].name, "d");
	fx_free(&fx);
}

static void test_nested_list(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx);
	load_ok(&fx, "{\"kind\":\"List\",\"items\":[{\"kind\":\"ServiceList\",\"items\":["
		SVC("a") ",{\"kind\":\"EndpointsList\",\"items\":[" EP("a") "]}]}," SVC("b") "]}");
	assert_int_equal(fx.m->n_svcs, 2);
	assert_int_equal(fx.m->n_eps, 1);
	fx_free(&fx);
}

/* No JSON document at all is an error: a half-written file must never
 * read as "no services". */
static void test_no_document(void **state)
{
	static const char *const inputs[] = { "", "   \n\t" };

	(void)state;
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct fixture fx;

		fx_init(&fx);
		fx_load(&fx, inputs[i]);
		assert_int_equal(svcnft_errors_status(&fx.errs), SVCNFT_EUSAGE);
		fx_assert_err(&fx, "t.json: empty input: no JSON document");
		fx_free(&fx);
	}
}

static void test_empty(void **state)
{
	static const char *const inputs[] = {
		"[]", "[ ]", "{\"kind\":\"List\",\"items\":[]}",
		"{\"kind\":\"List\",\"items\":[ \n ],\"metadata\":{}}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct fixture fx;

		fx_init(&fx);
		fx_load(&fx, inputs[i]);
		assert_int_equal(fx.m->n_svcs, 0);
		assert_int_equal(fx.m->n_eps, 0);
		assert_int_equal(svcnft_errors_status(&fx.errs), SVCNFT_OK);
		fx_free(&fx);
	}
}

/* The API server leaves `kind` out of list items: the list's kind names
 * them.  In a plain List an item without a kind is an error, so that a
 * list of the wrong shape can never read as "no services". */
static void test_api_server_lists(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx);
	fx_load(&fx, "{\"kind\":\"ServiceList\",\"apiVersion\":\"v1\",\"items\":["
		"{\"metadata\":{\"name\":\"a\"},\"spec\":{\"clusterIP\":\"10.96.0.5\","
		"\"ports\":[{\"port\":80}]}}]}"
		"{\"kind\":\"EndpointSliceList\",\"items\":[{\"metadata\":{\"name\":\"a-1\","
		"\"labels\":{\"kubernetes.io/service-name\":\"a\"}},\"addressType\":\"IPv4\"}]}");
	assert_int_equal(svcnft_errors_status(&fx.errs), SVCNFT_OK);
	assert_int_equal(fx.m->n_svcs, 1);
	assert_int_equal(fx.m->n_eps, 1);
	fx_free(&fx);
	fx_init(&fx);
	fx_load(&fx, "{\"kind\":\"List\",\"items\":[{\"metadata\":{\"name\":\"a\"}}]}");
	assert_int_equal(svcnft_errors_status(&fx.errs), SVCNFT_EUSAGE);
	fx_assert_err(&fx, "t.json: items[0]: object has no kind");
	fx_free(&fx);
}

static void test_brackets_in_strings(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx);
	load_ok(&fx, "{\"kind\":\"List\",\"items\":[{\"kind\":\"Service\",\"metadata\":"
		"{\"name\":\"a]}\\\"[{\",\"annotations\":{\"x\":\"}}]]\\\\\"}},\"spec\":{}},"
		SVC("b") "]}");
	assert_int_equal(fx.m->n_svcs, 2);
	assert_string_equal(fx.m->svcs[0].name, "a]}\"[{");
	fx_free(&fx);
}

/* One EUSAGE record, exactly TEXT. */
static void expect_malformed(const char *json, const char *text)
{
	struct fixture fx;

	fx_init(&fx);
	fx_load(&fx, json);
	assert_int_equal(svcnft_errors_status(&fx.errs), SVCNFT_EUSAGE);
	assert_int_equal(fx.errs.n - fx.errs.nwarn, 1);
	for (size_t i = 0; i < fx.errs.n; i++)
		if (fx.errs.v[i].status == SVCNFT_EUSAGE)
			assert_string_equal(fx.errs.v[i].text, text);
	fx_free(&fx);
}

/* A List whose "items" is not an array, or that has none, lists nothing
 * readable: malformed, not "an unknown kind" (issue 15, F1). */
static void test_items_not_array(void **state)
{
	(void)state;
	expect_malformed("{\"kind\":\"List\",\"items\":{}}",
			 "t.json:1:24: malformed JSON: \"items\" is not an array");
	expect_malformed("{\"apiVersion\":\"v1\",\"kind\":\"List\",\n \"items\": null}",
			 "t.json:2:11: malformed JSON: \"items\" is not an array");
	expect_malformed("{\"kind\":\"ServiceList\",\"items\":\"x\"}",
			 "t.json:1:31: malformed JSON: \"items\" is not an array");
	expect_malformed("{\"kind\":\"List\"}", "t.json:1:1: malformed JSON: a List without \"items\"");
}

static void test_malformed_positions(void **state)
{
	(void)state;
	/* missing comma between items: at the second item's '{' */
	expect_malformed("{\n  \"kind\": \"List\",\n  \"items\": [\n    " SVC("a") "\n    "
			 SVC("b") "\n  ]\n}\n",
			 "t.json:5:5: malformed JSON: expected ',' or closing bracket");
	/* error inside an item, on the item's first line: file column */
	expect_malformed("{\"items\": [\n  {\"kind\": \"Service\" \"x\": 1}\n]}",
			 "t.json:2:24: malformed JSON: '}' expected near '\"x\"'");
	/* error inside an item, on a later line of the item */
	expect_malformed("{\"items\": [\n  {\"kind\": \"Service\",\n   \"spec\": {\"ports\": [1,]}}\n]}",
			 "t.json:3:25: malformed JSON: unexpected token near ']'");
	/* missing colon in the top-level object */
	expect_malformed("{\n\"kind\" \"List\"}",
			 "t.json:2:8: malformed JSON: unexpected character");
	/* a key that is not a string */
	expect_malformed("{kind: 1}", "t.json:1:2: malformed JSON: expected a string key");
	/* not an object or an array */
	expect_malformed("\n\n   42", "t.json:3:4: malformed JSON: expected an object or an array");
	/* unterminated string at the end of the input */
	expect_malformed("{\"kind\": \"Serv", "t.json:1:14: malformed JSON: premature end of input near '\"Serv'");
}

/* Blanks are dropped before jansson decodes an item, but never so that
 * two tokens merge ("1 2" is not 12), nor inside a string. */
static void test_blanks_between_tokens(void **state)
{
	struct fixture fx;

	(void)state;
	expect_malformed("{\"items\": [\n  {\"kind\": \"Service\", \"x\": [1 2]}\n]}",
			 "t.json:2:31: malformed JSON: ']' expected near '2'");
	expect_malformed("{\"items\": [\n  {\"kind\": \"Service\", \"x\": -\n 1}\n]}",
			 "t.json:2:28: malformed JSON: invalid token near '-'");
	expect_malformed("{\"items\": [{\"kind\": \"Service\", \"x\": tr ue}]}",
			 "t.json:1:38: malformed JSON: invalid token near 'tr'");
	fx_init(&fx);
	load_ok(&fx, "{\"items\": [ {\t\"kind\" :\r\n \"Service\" , \"metadata\" :"
		" { \"name\" : \"a \\\" \\t b\" } , \"spec\" : { } } ]}");
	assert_int_equal(fx.m->n_svcs, 1);
	assert_string_equal(fx.m->svcs[0].name, "a \" \t b");
	fx_free(&fx);
}

static void test_items_before_error_kept(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx);
	fx_load(&fx, "[" SVC("a") "," SVC("b") ",{\"kind\":}]");
	assert_int_equal(svcnft_errors_status(&fx.errs), SVCNFT_EUSAGE);
	assert_int_equal(fx.m->n_svcs, 2);
	fx_free(&fx);
}

static void test_unknown_kinds_warn(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx);
	fx_load(&fx, "[{\"kind\":\"ConfigMap\"},{\"kind\":\"Service\",\"apiVersion\":\"serving.knative.dev/v1\"},7,"
		"{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"s\"}}]");
	assert_int_equal(svcnft_errors_status(&fx.errs), SVCNFT_OK);
	assert_int_equal(fx.errs.n, 4);
	assert_int_equal(fx.errs.nwarn, 4);
	fx_assert_err(&fx, "t.json: warning: items[0]: kind \"ConfigMap\" is not used by svcnft, skipped");
	fx_assert_err(&fx, "t.json: warning: items[1]: Service of apiVersion \"serving.knative.dev/v1\" is not a core object, skipped");
	fx_assert_err(&fx, "t.json: warning: items[2]: not an object, skipped");
	fx_assert_err(&fx, "EndpointSlice \"default/s\": no kubernetes.io/service-name label, skipped");
	fx_free(&fx);
}

/* A List of N Services, one per line from line 2, item I replaced by
 * ODD[I] where given (NULL: the Service); caller frees. */
static char *long_list(size_t n, const char *const *odd)
{
	struct svcnft_buf b = {0};

	buf_puts(&b, "{\"kind\": \"List\", \"items\": [\n");
	for (size_t i = 0; i < n; i++) {
		if (odd[i])
			buf_puts(&b, odd[i]);
		else
			buf_printf(&b, SVC("s%zu"), i);
		buf_puts(&b, i + 1 < n ? ",\n" : "\n]}\n");
	}
	return b.data;
}

/* Past the first 16 items a list's items are decoded on a second thread
 * while the ones before are loaded: they are still loaded in order, a
 * malformed item is placed by line and column, records come in the order
 * of the input, and nothing after an item that stops the list is said. */
static void test_long_list_in_order(void **state)
{
	const char *odd[200] = {0};
	struct svcnft_limits l, saved;
	struct fixture fx;
	char *text, *t;

	(void)state;
	fx_init(&fx);
	fx_load(&fx, text = long_list(200, odd));
	assert_int_equal(fx.errs.n, 0);
	assert_int_equal(fx.m->n_svcs, 200);
	for (size_t i = 0; i < 200; i++) {
		char name[16];

		snprintf(name, sizeof(name), "s%zu", i);
		assert_string_equal(fx.m->svcs[i].name, name);
	}
	fx_free(&fx);
	free(text);

	odd[150] = "  {\"kind\": tru}";
	expect_malformed(text = long_list(200, odd),
			 "t.json:152:14: malformed JSON: invalid token near 'tru'");
	free(text);

	odd[150] = NULL;
	odd[10] = odd[100] = "{\"kind\": \"ConfigMap\"}";
	odd[180] = SVC("x") " " SVC("y");
	fx_init(&fx);
	fx_load(&fx, text = long_list(200, odd));
	t = fx_errtext(&fx);
	assert_string_equal(t, "t.json: warning: items[10]: kind \"ConfigMap\" is not used by svcnft, skipped\n"
			    "t.json: warning: items[100]: kind \"ConfigMap\" is not used by svcnft, skipped\n"
			    "t.json:182:98: malformed JSON: expected ',' or closing bracket\n");
	assert_int_equal(fx.m->n_svcs, 179);	/* x, not y */
	free(t);
	fx_free(&fx);
	free(text);

	svcnft_limits_get(&saved);
	l = saved;
	l.objects = 50;
	svcnft_limits_set(&l);
	fx_init(&fx);
	fx_load(&fx, text = long_list(200, odd));
	svcnft_limits_set(&saved);
	t = fx_errtext(&fx);
	assert_string_equal(t, "t.json: warning: items[10]: kind \"ConfigMap\" is not used by svcnft, skipped\n"
			    "t.json: more than 50 Services, Endpoints and EndpointSlices (--limit objects)\n");
	free(t);
	fx_free(&fx);
	free(text);
}

/* Records of loading TEXT into a fresh model, one per line; caller frees. */
static char *records_of(const char *text, bool decoded)
{
	struct fixture fx;
	json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
	char *t;

	fx_init(&fx);
	if (decoded)
		svcnft_model_load_json(fx.m, "t.json", v, &fx.errs);
	else
		fx_load(&fx, text);
	t = fx_errtext(&fx);
	json_decref(v);
	fx_free(&fx);
	return t;
}

/* A decoded document reads as its text does: the same records. */
static void test_load_json_same_records(void **state)
{
	const char *texts[] = {
		SVC("a"),
		"{\"kind\":\"Service\",\"metadata\":{},\"spec\":{\"ports\":[{\"port\":\"x\"}]}}",
		"{\"kind\":\"Service\",\"apiVersion\":\"v2\",\"metadata\":{\"name\":\"a\"}}",
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}",
		"{\"kind\":\"ServiceList\",\"items\":[{\"metadata\":{\"name\":\"x\"},\"spec\":{\"ports\":[{}]}}," EP("b") "]}",
		"[" SVC("a") ",{\"kind\":\"Foo\"}]",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		char *want = records_of(texts[i], false), *got = records_of(texts[i], true);

		assert_string_equal(got, want);
		free(want);
		free(got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_items),
		cmocka_unit_test(test_single_object),
		cmocka_unit_test(test_top_level_array),
		cmocka_unit_test(test_concatenated),
		cmocka_unit_test(test_nested_list),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_no_document),
		cmocka_unit_test(test_api_server_lists),
		cmocka_unit_test(test_brackets_in_strings),
		cmocka_unit_test(test_items_not_array),
		cmocka_unit_test(test_malformed_positions),
		cmocka_unit_test(test_blanks_between_tokens),
		cmocka_unit_test(test_items_before_error_kept),
		cmocka_unit_test(test_unknown_kinds_warn),
		cmocka_unit_test(test_long_list_in_order),
		cmocka_unit_test(test_load_json_same_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
