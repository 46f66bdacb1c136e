/* stream.c: watch events split at every byte offset; malformed input and
 * limits.  objstore.c: mark and sweep, per-object fallback to the last
 * valid version. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "objstore.h"
#include "stream.h"
#include "util.h"

/* Three events as kubectl pretty-prints them; strings hold braces,
 * brackets, escaped quotes and a backslash before the closing quote. */
static const char events[] =
	"{\n    \"type\": \"ADDED\",\n    \"object\": {\n        \"kind\": \"Service\",\n"
	"        \"metadata\": {\"name\": \"a}{\", \"namespace\": \"x\\\"]\"}\n    }\n}\n"
	"{\n    \"type\": \"MODIFIED\",\n    \"object\": {\"kind\": \"Service\", \"metadata\": "
	"{\"name\": \"b\\\\\"}, \"spec\": {\"ports\": [{\"port\": 80}]}}\n}\n"
	"{\"type\": \"ERROR\", \"object\": {\"kind\": \"Status\", \"code\": 410}}\n";

/* Feed TEXT in pieces cut at CUT and CUT2; the types of the events seen. */
static void run_split(const char *text, size_t cut, size_t cut2, char *types)
{
	struct stream *s = stream_new("w");
	struct svcnft_errors errs = {0};
	size_t len = strlen(text), at[] = { 0, cut, cut2, len };
	json_t *v;

	types[0] = '\0';
	for (size_t k = 0; k + 1 < ARRAY_SIZE(at); k++) {
		assert_true(stream_feed(s, text + at[k], at[k + 1] - at[k], &errs));
		while (stream_next(s, &v, &errs) == 1) {
			struct watch_event ev;

			assert_true(watch_event_parse(v, "w", &ev, &errs));
			strcat(types, watch_type_name(ev.type));
			strcat(types, " ");
			json_decref(ev.object);
			json_decref(v);
		}
	}
	assert_int_equal(errs.n, 0);
	assert_int_equal(stream_pending(s), 0);
	svcnft_errors_free(&errs);
	stream_free(s);
}

static void test_every_split(void **state)
{
	size_t len = strlen(events);
	char types[64];

	(void)state;
	for (size_t i = 0; i <= len; i++)
		for (size_t j = i; j <= len; j += (j < i + 3 || j > len - 3) ? 1 : 7) {
			run_split(events, i, j, types);
			assert_string_equal(types, "ADDED MODIFIED ERROR ");
		}
}

static void test_byte_at_a_time(void **state)
{
	struct stream *s = stream_new("w");
	struct svcnft_errors errs = {0};
	int n = 0;
	json_t *v;

	(void)state;
	for (const char *p = events; *p; p++) {
		assert_true(stream_feed(s, p, 1, &errs));
		while (stream_next(s, &v, &errs) == 1) {
			n++;
			json_decref(v);
		}
	}
	assert_int_equal(n, 3);
	assert_int_equal(errs.n, 0);
	svcnft_errors_free(&errs);
	stream_free(s);
}

/* A malformed object is one record with the line, then -1. */
static void expect_malformed(const char *text, const char *needle)
{
	struct stream *s = stream_new("kubectl get services --watch");
	struct svcnft_errors errs = {0};
	json_t *v;
	int r;

	assert_true(stream_feed(s, text, strlen(text), &errs));
	while ((r = stream_next(s, &v, &errs)) == 1)
		json_decref(v);
	assert_int_equal(r, -1);
	assert_int_equal(errs.n, 1);
	if (!strstr(errs.v[0].text, needle)) {
		print_error("want \"%s\" in \"%s\"\n", needle, errs.v[0].text);
		fail();
	}
	svcnft_errors_free(&errs);
	stream_free(s);
}

static void test_malformed(void **state)
{
	(void)state;
	expect_malformed("{\"type\": \"ADDED\"}\nxyz", "kubectl get services --watch:2:1: malformed JSON: expected '{'");
	expect_malformed("{\"type\": \"ADDED\",\n \"object\": {\"a\": tru}}",
			 "kubectl get services --watch:2:");
	expect_malformed("{\"type\": \"ADDED\", \"object\": [}]}", "malformed JSON");
}

static void test_not_an_event(void **state)
{
	struct svcnft_errors errs = {0};
	struct watch_event ev;
	json_t *v = json_loads("{\"type\": \"SOMETHING\", \"object\": {}}", 0, NULL);

	(void)state;
	assert_false(watch_event_parse(v, "w", &ev, &errs));
	assert_int_equal(svcnft_errors_status(&errs), SVCNFT_EUSAGE);
	json_decref(v);
	svcnft_errors_free(&errs);
}

static void test_limits(void **state)
{
	struct svcnft_limits l, saved;
	struct stream *s = stream_new("w");
	struct svcnft_errors errs = {0};
	const char big[] = "{\"type\": \"ADDED\", \"object\": {\"kind\": \"Service\"}}";

	(void)state;
	svcnft_limits_get(&saved);
	l = saved;
	l.input_bytes = 20;
	svcnft_limits_set(&l);
	assert_true(stream_feed(s, big, 15, &errs));
	assert_false(stream_feed(s, big + 15, sizeof(big) - 16, &errs));
	assert_non_null(strstr(errs.v[0].text, "--limit input-bytes"));
	stream_reset(s);
	l = saved;
	l.depth = 3;
	svcnft_limits_set(&l);
	expect_malformed("{\"a\": [[[1]]]}", "--limit depth");
	svcnft_limits_set(&saved);
	svcnft_errors_free(&errs);
	stream_free(s);
}

#define STORE_SVC(name, ip) "{\"kind\":\"Service\",\"metadata\":{\"name\":\"" name \
	"\",\"namespace\":\"d\"},\"spec\":{\"clusterIP\":\"" ip "\",\"ports\":[{\"port\":80}]}}"

static int put(struct objstore *st, const char *text)
{
	json_t *v = json_loads(text, 0, NULL);
	int r = objstore_put(st, v, "Service", "src", NULL);

	json_decref(v);
	return r;
}

/* The cluster IP of service d/NAME in M, or NULL if it is absent or
 * invalid. */
static const char *vip(const struct svcnft_model *m, const char *name)
{
	for (size_t i = 0; i < m->n_svcs; i++)
		if (!strcmp(m->svcs[i].name, name) && !m->svcs[i].invalid)
			return m->svcs[i].cluster_ip;
	return NULL;
}

static void test_store_sweep(void **state)
{
	struct objstore *st = objstore_new();
	size_t n;

	(void)state;
	assert_int_equal(put(st, STORE_SVC("a", "10.0.0.1")), 1);
	assert_int_equal(put(st, STORE_SVC("b", "10.0.0.2")), 1);
	assert_int_equal(put(st, STORE_SVC("a", "10.0.0.1")), 0);
	objstore_changed(st, &n);
	assert_int_equal(n, 2);
	objstore_unmark(st, "Service");
	assert_int_equal(put(st, STORE_SVC("b", "10.0.0.2")), 0);
	assert_int_equal(objstore_sweep(st, "EndpointSlice"), 0);
	assert_int_equal(objstore_sweep(st, "Service"), 1);
	assert_int_equal(objstore_count(st, "Service"), 1);
	objstore_free(st);
}

static void test_store_invalid_object(void **state)
{
	struct fixture fx;
	struct objstore *st = objstore_new();
	struct svcnft_errors errs = {0};
	struct svcnft_model *m;

	(void)state;
	fx_init(&fx);
	put(st, STORE_SVC("a", "10.0.0.1"));
	put(st, STORE_SVC("b", "10.0.0.2"));
	put(st, STORE_SVC("m", "10.0.0.9"));
	m = objstore_model(st, &fx.cfg, &errs);
	assert_int_equal(errs.n, 0);
	svcnft_model_free(m);
	/* a: outside the service CIDR; b: a good change; c: never valid;
	 * d: claims b's old address, which b has just given up */
	put(st, STORE_SVC("a", "192.168.0.1"));
	put(st, STORE_SVC("b", "10.0.0.3"));
	put(st, STORE_SVC("c", "nonsense"));
	put(st, STORE_SVC("d", "10.0.0.2"));
	/* new ones claim what m holds: they are refused, not m, though
	 * validation blames the first by name */
	for (const char *n = "abcz"; *n; n++) {
		char t[256];

		snprintf(t, sizeof(t), STORE_SVC("%c2", "10.0.0.9"), *n);
		put(st, t);
	}
	m = objstore_model(st, &fx.cfg, &errs);
	assert_string_equal(vip(m, "m"), "10.0.0.9");
	assert_null(vip(m, "a2"));
	assert_null(vip(m, "z2"));
	fx.errs = errs;
	fx_assert_err(&fx, "src: warning: Service \"d/a2\": skipped: no valid version of it was seen");
	fx.errs = (struct svcnft_errors){0};
	assert_string_equal(vip(m, "a"), "10.0.0.1");
	assert_string_equal(vip(m, "b"), "10.0.0.3");
	assert_null(vip(m, "c"));
	assert_string_equal(vip(m, "d"), "10.0.0.2");
	assert_int_equal(svcnft_errors_status(&errs), SVCNFT_EINVALID);
	fx.errs = errs;
	fx_assert_err(&fx, "src: Service \"d/a\" is invalid: spec.clusterIPs");
	fx_assert_err(&fx, "src: warning: Service \"d/a\": this version is skipped; the last valid version stays");
	fx_assert_err(&fx, "src: warning: Service \"d/c\": skipped: no valid version of it was seen");
	svcnft_model_free(m);
	fx_free(&fx);
	objstore_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_byte_at_a_time),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_not_an_event),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_store_sweep),
		cmocka_unit_test(test_store_invalid_object),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
