/* stream.c: watch events and Lists split at every byte offset; malformed
 * input and limits.  (follow's per-object batches are tested in
 * test_engine.c.) */
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

/* Malformed input to S (freed): ITEMS values (-1: any number), then one
 * record holding NEEDLE and -1. */
static void expect_malformed_in(struct stream *s, const char *text, int items,
				const char *needle)
{
	struct svcnft_errors errs = {0};
	json_t *v;
	int r, n = 0;

	assert_true(stream_feed(s, text, strlen(text), &errs));
	while ((r = stream_next(s, &v, &errs)) > 0) {
		n += r == 1;
		json_decref(v);
	}
	assert_int_equal(r, -1);
	if (items >= 0)
		assert_int_equal(n, items);
	assert_int_equal(errs.n, 1);
	if (!strstr(errs.v[0].text, needle)) {
		print_error("want \"%s\" in \"%s\"\n", needle, errs.v[0].text);
		fail();
	}
	svcnft_errors_free(&errs);
	stream_free(s);
}

static void expect_malformed(const char *text, const char *needle)
{
	expect_malformed_in(stream_new("kubectl get services --watch"), text, -1, needle);
}

/* A List: the items before it, then NEEDLE. */
static void expect_list_malformed(const char *text, int items, const char *needle)
{
	expect_malformed_in(stream_new_list("kubectl get services"), text, items, needle);
}

static void test_malformed(void **state)
{
	(void)state;
	expect_malformed("{\"type\": \"ADDED\"}\nxyz", "kubectl get services --watch:2:1: malformed JSON: expected '{'");
	expect_malformed("{\"type\": \"ADDED\",\n \"object\": {\"a\": tru}}",
			 "kubectl get services --watch:2:");
	expect_malformed("{\"type\": \"ADDED\", \"object\": [}]}", "malformed JSON");
}

/* Lists as kubectl prints them, members before and after "items"; items
 * of every JSON type, strings with braces, brackets and escapes. */
static const char list_after[] =
	"{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n"
	"        {\"kind\": \"Service\", \"metadata\": {\"name\": \"a}{\", \"namespace\": \"x\\\"]\"}},\n"
	"        {\"metadata\": {\"name\": \"b\\\\\"}, \"spec\": {\"ports\": [{\"port\": 80}]}, \"n\": -1.5e3},\n"
	"        \"odd ]} string\", 7,true, null, [{\"k\": \"[\"}]\n    ],\n"
	"    \"kind\": \"List\",\n    \"metadata\": {\"resourceVersion\": \"\", \"x\": [1, {\"y\": \"}\"}]}\n}\n";
static const char list_before[] =
	"{\"items\":[{\"metadata\":{\"name\":\"c\"}}],\"kind\":\"ServiceList\",\"n\":12,\"t\":false}";

/* Each item compact, then "=" and the List's other members. */
static void want_of(const char *text, struct svcnft_buf *b)
{
	json_t *all = json_loads(text, 0, NULL), *v;
	size_t i;
	char *t;

	assert_non_null(all);
	json_array_foreach(json_object_get(all, "items"), i, v) {
		buf_puts(b, t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY));
		buf_puts(b, "|");
		free(t);
	}
	if (json_is_array(json_object_get(all, "items")))
		json_object_set_new(all, "items", json_array());
	buf_puts(b, "=");
	buf_puts(b, t = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS));
	free(t);
	json_decref(all);
}

/* Feed TEXT as a List in pieces ending at AT[0..N-1]; what it yielded in
 * want_of's form into GOT (items, then "=" and the rest at the end). */
static void run_list(const char *text, const size_t *at, size_t n,
		     struct svcnft_buf *got)
{
	struct stream *s = stream_new_list("l");
	struct svcnft_errors errs = {0};
	size_t from = 0;
	json_t *v;
	char *t;
	int r;

	got->len = 0;
	buf_puts(got, "");
	for (size_t k = 0; k < n; from = at[k++]) {
		assert_true(stream_feed(s, text + from, at[k] - from, &errs));
		while ((r = stream_next(s, &v, &errs)) > 0) {
			t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
					  (r == STREAM_LIST_END ? JSON_SORT_KEYS : 0));
			buf_puts(got, r == STREAM_LIST_END ? "=" : "");
			buf_puts(got, t);
			buf_puts(got, r == STREAM_LIST_END ? "" : "|");
			free(t);
			json_decref(v);
		}
		assert_int_equal(r, 0);
	}
	assert_int_equal(errs.n, 0);
	assert_int_equal(stream_pending(s), 0);
	stream_free(s);
}

static void list_every_split(const char *text)
{
	struct svcnft_buf want = {0}, got = {0};
	size_t len = strlen(text);

	want_of(text, &want);
	for (size_t i = 0; i <= len; i++)
		for (size_t j = i; j <= len; j += (j < i + 3 || j > len - 3) ? 1 : 7) {
			size_t at[] = { i, j, len };

			run_list(text, at, ARRAY_SIZE(at), &got);
			assert_string_equal(got.data, want.data);
		}
	svcnft_buf_free(&want);
	svcnft_buf_free(&got);
}

static void test_list_every_split(void **state)
{
	(void)state;
	list_every_split(list_after);
	list_every_split(list_before);
	list_every_split("{\"kind\": \"List\", \"items\": [ ]}");
	list_every_split("{}");
}

static void test_list_byte_at_a_time(void **state)
{
	struct svcnft_buf want = {0}, got = {0};
	size_t len = strlen(list_after), at[sizeof(list_after)];

	(void)state;
	for (size_t i = 0; i < len; i++)
		at[i] = i + 1;
	want_of(list_after, &want);
	run_list(list_after, at, len, &got);
	assert_string_equal(got.data, want.data);
	svcnft_buf_free(&want);
	svcnft_buf_free(&got);
}

/* An empty "items" array, and none: the List's end says which. */
static void test_list_items(void **state)
{
	const char *texts[] = { "{\"kind\": \"ServiceList\", \"items\": []}",
				"{\"kind\": \"Status\", \"code\": 403}",
				"{\"items\": {\"a\": []}}", "{\"items\": [1], \"items\": 2}",
				"{\"items\": 2, \"items\": []}" };
	const bool list[] = { true, false, false, false, true };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		struct stream *s = stream_new_list("l");
		struct svcnft_errors errs = {0};
		json_t *v;
		int r;

		assert_true(stream_feed(s, texts[i], strlen(texts[i]), &errs));
		while ((r = stream_next(s, &v, &errs)) == 1)
			json_decref(v);
		assert_int_equal(r, STREAM_LIST_END);
		assert_int_equal(json_is_array(json_object_get(v, "items")), list[i]);
		assert_int_equal(json_array_size(json_object_get(v, "items")), 0);
		json_decref(v);
		stream_free(s);
	}
}

/* A List cut short: its whole items, never its end. */
static void test_list_ends_early(void **state)
{
	size_t len = strlen(list_after);

	(void)state;
	for (size_t cut = 0; cut < len - 2; cut++) {
		struct stream *s = stream_new_list("l");
		struct svcnft_errors errs = {0};
		json_t *v;
		int r, n = 0;

		assert_true(stream_feed(s, list_after, cut, &errs));
		while ((r = stream_next(s, &v, &errs)) == 1) {
			n++;
			json_decref(v);
		}
		assert_int_equal(r, 0);
		assert_true(n <= 7);
		assert_int_equal(errs.n, 0);
		stream_free(s);
	}
}

static void test_list_malformed(void **state)
{
	(void)state;
	expect_list_malformed("{\"items\": [\n  {\"a\": 1},\n  {\"a\": tru}\n]}", 1,
			      "kubectl get services:3:11: malformed JSON: invalid token near 'tru'");
	expect_list_malformed("{\"items\": [{\"a\": 1},\n {\"a\": [}]}", 1,
			      "kubectl get services:2:");
	expect_list_malformed("{\"items\": [1 2]}", 1,
			      "kubectl get services:1:14: malformed JSON: expected ',' or ']'");
	expect_list_malformed("{\"items\": [1,]}", 1,
			      "kubectl get services:1:14: malformed JSON: unexpected character");
	expect_list_malformed("{\"kind\" \"List\"}", 0, ":1:9: malformed JSON: expected ':'");
	expect_list_malformed("{\"kind\": \"List\" \"items\"}", 0, "expected ',' or '}'");
	expect_list_malformed("{\"kind\": \"List\",}", 0, "expected a string key");
	expect_list_malformed("{\"kind\": Lis}", 0, ":1:12: malformed JSON: invalid token near 'Lis'");
	expect_list_malformed("\n [{}]", 0, "kubectl get services:2:2: malformed JSON: expected '{' (a List)");
	expect_list_malformed("{\"items\": [{}]}\n{\"items\": []}", 1,
			      "kubectl get services: more than one List");
	expect_list_malformed("{\"items\": []} x", 0, "expected nothing after the List");
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
	expect_list_malformed("{\"items\": [[1], [[1]]]}", 1, ":1:18: malformed JSON: nested deeper than the limit");
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
		cmocka_unit_test(test_list_every_split),
		cmocka_unit_test(test_list_byte_at_a_time),
		cmocka_unit_test(test_list_items),
		cmocka_unit_test(test_list_ends_early),
		cmocka_unit_test(test_list_malformed),
		cmocka_unit_test(test_not_an_event),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
