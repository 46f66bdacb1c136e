/* stream.c: watch events split at every byte offset; malformed input and
 * limits.  (follow's per-object batches are tested in test_engine.c.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_byte_at_a_time),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_not_an_event),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
