/* The element codec without root: canonical text -> record (compiler/
 * record.h) -> netlink message bytes (kernel/elcodec.h) -> parsed back ->
 * record -> the same text, for every set form; byte vectors the kernel
 * holds; the plan's records print as elements.h's strings, also through
 * their packed form (compiler/item.h), and plan_records() lists exactly
 * elements_from_plan()'s elements; malformed text refused. */
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "helpers.h"
#include "elcodec.h"
#include "elements.h"
#include "item.h"
#include "netlink.h"
#include "plan_records.h"
#include "lower.h"
#include "record.h"
#include "util.h"
#include "fileio.h"

/* Bytes of "WORD WORD ...", the 32-bit registers as `nft --debug=netlink`
 * prints them: each a host-order number in hex. */
static size_t words(const char *s, uint8_t *out)
{
	size_t n = 0;
	char *end;

	while (*s) {
		uint32_t v = (uint32_t)strtoul(s, &end, 16);

		assert_ptr_not_equal(end, s);
		memcpy(out + n, &v, 4);
		n += 4;
		s = end + strspn(end, " ");
	}
	return n;
}

static void assert_same_record(const struct el_record *a, const struct el_record *b)
{
	assert_string_equal(a->set, b->set);
	assert_int_equal(a->klen, b->klen);
	assert_memory_equal(a->key, b->key, a->klen);
	assert_int_equal(a->dlen, b->dlen);
	assert_memory_equal(a->data, b->data, a->dlen);
	assert_int_equal(a->has_verdict, b->has_verdict);
	assert_int_equal(a->verdict, b->verdict);
	assert_string_equal(a->chain, b->chain);
	assert_string_equal(a->comment, b->comment);
}

struct collect {
	struct el_record r[4];
	size_t n;
};

static void collect_cb(const struct el_record *r, void *arg)
{
	struct collect *c = arg;

	assert_true(c->n < ARRAY_SIZE(c->r));
	c->r[c->n++] = *r;
}

/* R written as one NEWSETELEM message and parsed back into C. */
static void through_netlink(const struct el_record *r, struct msgs *m,
			    struct collect *c)
{
	struct elc_writer w = { .m = m, .table = "svcnft" };
	const struct nlmsghdr *h;
	int len;

	elc_add(&w, r);
	elc_close(&w);
	h = nb_first(&m->b, &len);
	assert_non_null(h);
	assert_int_equal(nb_type(h), NFT_MSG_NEWSETELEM);
	assert_string_equal(nb_name(h), r->set);
	c->n = 0;
	assert_true(elc_each(h, collect_cb, c));
	assert_null(nb_next(h, &len));
	assert_int_equal(c->n, 1);
}

/* TEXT of SET: text -> record -> message -> record -> text. */
static void round_trip(const char *set, const char *text)
{
	struct svcnft_buf b = {0};
	struct el_record r;
	struct msgs m = {0};
	struct collect c;

	rec_init(&r, set);
	if (!rec_parse(&r, text, false)) {
		print_error("cannot parse \"%s\" of %s\n", text, set);
		fail();
	}
	through_netlink(&r, &m, &c);
	assert_same_record(&r, &c.r[0]);
	buf_puts(&b, "");
	assert_true(rec_format(&b, &c.r[0]));
	assert_string_equal(b.data, text);
	/* a delete carries the key alone */
	assert_true(rec_parse(&r, text, true));
	svcnft_buf_free(&b);
	nb_msgs_free(&m);
}

static const char *const forms[][2] = {
	{ "cluster-ips4", "10.96.0.10" },
	{ "cluster-ips6", "fd00:96::70" },
	{ "service-ports4", "10.96.0.10 . udp . 53" },
	{ "service-ports6", "fd00:96::70 . sctp . 9" },
	{ "firewall4", "198.51.100.7 . tcp . 443" },
	{ "firewall6", "2001:db8:1::70 . tcp . 443" },
	{ "hairpin4", "10.244.1.5 . 10.244.1.5" },
	{ "hairpin6", "fd00:244:1::70 . fd00:244:1::70" },
	{ "service-ips4", "10.96.0.10 . udp . 53 comment \"shop/web:dns\" : goto endpoints4-2" },
	{ "service-ips4", "10.96.0.50 . tcp . 80 comment \"shop/empty\" : goto reject-service" },
	{ "service-ips6", "fd00:96::70 . tcp . 80 comment \"shop/dual\" : goto endpoints6-1" },
	{ "external-local4", "198.51.100.30 . tcp . 8080 comment \"shop/remote\" : drop" },
	{ "external-local6", "2001:db8:1::70 . tcp . 80 comment \"shop/dual\" : goto local-endpoints6-1" },
	{ "nodeports4", "tcp . 30080 comment \"shop/web:http\" : goto nodeport-endpoints4-2" },
	{ "nodeports6", "udp . 30053 comment \"a/b\" : goto nodeport-endpoints6-3" },
	{ "nodeports-local4", "tcp . 30808 comment \"shop/remote\" : drop" },
	{ "nodeports-local6", "tcp . 30808 comment \"shop/remote\" : accept" },
	{ "backends4", "10.96.0.60 . tcp . 80 . 0 : 10.244.1.60 . 80" },
	{ "backends4", "198.51.100.7 . tcp . 443 . 16777216 : 10.244.1.7 . 8443" },
	{ "backends6", "fd00:96::70 . tcp . 80 . 0 : fd00:244:1::70 . 8080" },
	{ "nodeport-backends4", "tcp . 30856 . 1 : 10.244.2.60 . 80" },
	{ "nodeport-backends6", "tcp . 30856 . 16777216 : fd00:244:1::70 . 65535" },
	{ "affinity-ids4", "10.96.0.60 . tcp . 80 : 646916131" },
	{ "affinity-ids6", "fd00:96::70 . udp . 53 : 4294967295" },
	{ "nodeport-affinity-ids4", "tcp . 30856 : 646916131" },
	{ "nodeport-affinity-ids6", "sctp . 1 : 0" },
	{ "affinity-slots4-tcp-600", "0 : goto affinity4-tcp-slot-0-600" },
	{ "nodeport-local-affinity-slots6-udp-10800", "7 : goto nodeport-local-affinity6-udp-slot-7-10800" },
	/* what a foreign writer might leave: still one text */
	{ "service-ips4", "10.96.0.1 . 47 . 0 : verdict -5" },
	{ "service-ips4", "10.96.0.1 . tcp . 1 : jump x" },
};

static void test_every_form(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++)
		round_trip(forms[i][0], forms[i][1]);
}

/* Elements as the kernel holds them, copied once from a live dump of
 * testdata/external-traffic applied in a network namespace (`nft
 * --debug=netlink list map inet svcnft NAME`, kernel 6.18, nft 1.0.6). */
static const struct vec {
	const char *set, *text, *key, *data, *comment;
	int verdict;
} vecs[] = {
	{ "cluster-ips4", "10.96.0.60", "3c00600a", NULL, NULL, 0 },
	{ "cluster-ips6", "fd00:96::70", "960000fd 00000000 00000000 70000000", NULL, NULL, 0 },
	{ "hairpin4", "10.244.1.90 . 10.244.1.90", "5a01f40a 5a01f40a", NULL, NULL, 0 },
	{ "firewall4", "198.51.100.7 . tcp . 443", "076433c6 00000006 0000bb01", NULL, NULL, 0 },
	{ "service-ports4", "10.96.0.50 . tcp . 80", "3200600a 00000006 00005000", NULL, NULL, 0 },
	{ "service-ips4", "10.96.0.10 . udp . 53 comment \"shop/web:dns\" : goto endpoints4-2",
	  "0a00600a 00000011 00003500", NULL, "shop/web:dns", NFT_GOTO },
	{ "external-local4", "198.51.100.30 . tcp . 8080 comment \"shop/remote\" : drop",
	  "1e6433c6 00000006 0000901f", NULL, "shop/remote", NF_DROP },
	{ "nodeports4", "tcp . 30080 comment \"shop/web:http\" : goto nodeport-endpoints4-2",
	  "00000006 00008075", NULL, "shop/web:http", NFT_GOTO },
	{ "backends4", "10.96.0.60 . tcp . 80 . 0 : 10.244.1.60 . 80",
	  "3c00600a 00000006 00005000 00000000", "3c01f40a 00005000", NULL, 0 },
	{ "backends4", "198.51.100.7 . tcp . 443 . 16777216 : 10.244.1.7 . 8443",
	  "076433c6 00000006 0000bb01 01000000", "0701f40a 0000fb20", NULL, 0 },
	{ "backends6", "fd00:96::70 . tcp . 80 . 0 : fd00:244:1::70 . 8080",
	  "960000fd 00000000 00000000 70000000 00000006 00005000 00000000",
	  "440200fd 00000100 00000000 70000000 0000901f", NULL, 0 },
	{ "nodeport-backends4", "tcp . 30600 . 16777216 : 10.244.1.60 . 80",
	  "00000006 00008877 01000000", "3c01f40a 00005000", NULL, 0 },
	{ "affinity-ids4", "10.96.0.60 . tcp . 80 : 646916131",
	  "3c00600a 00000006 00005000", "268f2823", NULL, 0 },
	{ "nodeport-affinity-ids4", "tcp . 30600 : 646916131",
	  "00000006 00008877", "268f2823", NULL, 0 },
	{ "affinity-slots4-tcp-600", "1 : goto affinity4-tcp-slot-1-600",
	  "00000001", NULL, NULL, NFT_GOTO },
};

/* The attribute TYPE of element attribute EL, or fail. */
static const struct nlattr *elem_attr(const struct nlattr *el, int type)
{
	struct nl_attrs t;

	nl_parse_nested(el, &t);
	assert_non_null(t.a[type]);
	return t.a[type];
}

static const struct nlattr *data_value(const struct nlattr *a)
{
	struct nl_attrs t;

	nl_parse_nested(a, &t);
	assert_non_null(t.a[NFTA_DATA_VALUE]);
	return t.a[NFTA_DATA_VALUE];
}

/* The one NFTA_LIST_ELEM of the first message of M. */
static const struct nlattr *only_elem(const struct msgs *m)
{
	const struct nlmsghdr *h;
	const struct nlattr *list;
	int len;

	h = nb_first(&m->b, &len);
	list = nl_attr_get(h, NFTA_SET_ELEM_LIST_ELEMENTS);
	assert_non_null(list);
	return mnl_attr_get_payload(list);
}

static void check_vec(const struct vec *v)
{
	uint8_t key[64], data[64], ud[260];
	size_t klen = words(v->key, key), dlen = v->data ? words(v->data, data) : 0;
	struct elc_writer w;
	struct el_record r;
	struct msgs m = {0};
	const struct nlattr *el, *a;

	rec_init(&r, v->set);
	assert_true(rec_parse(&r, v->text, false));
	assert_int_equal(r.klen, klen);
	assert_memory_equal(r.key, key, klen);
	assert_int_equal(r.dlen, dlen);
	assert_memory_equal(r.data, data, dlen);
	w = (struct elc_writer){ .m = &m, .table = "svcnft" };
	elc_add(&w, &r);
	elc_close(&w);
	el = only_elem(&m);
	a = data_value(elem_attr(el, NFTA_SET_ELEM_KEY));
	assert_int_equal(mnl_attr_get_payload_len(a), klen);
	assert_memory_equal(mnl_attr_get_payload(a), key, klen);
	if (v->data) {
		a = data_value(elem_attr(el, NFTA_SET_ELEM_DATA));
		assert_int_equal(mnl_attr_get_payload_len(a), dlen);
		assert_memory_equal(mnl_attr_get_payload(a), data, dlen);
	}
	if (v->comment) {	/* libnftnl's TLV: type 0, length, text, NUL */
		a = elem_attr(el, NFTA_SET_ELEM_USERDATA);
		ud[0] = 0;
		ud[1] = (uint8_t)(strlen(v->comment) + 1);
		memcpy(ud + 2, v->comment, ud[1]);
		assert_int_equal(mnl_attr_get_payload_len(a), ud[1] + 2u);
		assert_memory_equal(mnl_attr_get_payload(a), ud, ud[1] + 2u);
	}
	if (!v->data && (v->comment || v->verdict)) {
		struct nl_attrs d, vd;

		nl_parse_nested(elem_attr(el, NFTA_SET_ELEM_DATA), &d);
		nl_parse_nested(d.a[NFTA_DATA_VERDICT], &vd);
		assert_non_null(vd.a[NFTA_VERDICT_CODE]);
		assert_int_equal((int32_t)ntohl(mnl_attr_get_u32(vd.a[NFTA_VERDICT_CODE])),
				 v->verdict);
	}
	nb_msgs_free(&m);
	round_trip(v->set, v->text);
}

static void test_kernel_bytes(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(vecs); i++)
		check_vec(&vecs[i]);
}

/* firewall-allow ranges are read back only: key . start, key_end . last. */
static void test_firewall_allow(void **state)
{
	static const struct { const char *key, *end, *text; } v[] = {
		{ "1e6433c6 00000006 0000901f 0000000a", "1e6433c6 00000006 0000901f ffffff0a",
		  "198.51.100.30 . tcp . 8080 . 10.0.0.0/8" },
		{ "1e6433c6 00000006 0000901f 0100a8c0", "1e6433c6 00000006 0000901f 0100a8c0",
		  "198.51.100.30 . tcp . 8080 . 192.168.0.1/32" },
		{ "00000000 00000006 0000901f 00000000", "00000000 00000006 0000901f ffffffff",
		  "0.0.0.0 . tcp . 8080 . 0.0.0.0/0" },
	};
	struct svcnft_buf b = {0};
	struct el_record r;
	struct collect c;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		struct msgs m = {0};

		rec_init(&r, "firewall-allow4");
		r.klen = words(v[i].key, r.key);
		r.kelen = words(v[i].end, r.key_end);
		through_netlink(&r, &m, &c);
		assert_int_equal(c.r[0].kelen, r.kelen);
		b.len = 0;
		buf_puts(&b, "");
		assert_true(rec_format(&b, &c.r[0]));
		assert_string_equal(b.data, v[i].text);
		nb_msgs_free(&m);
	}
	/* an end of another service port is no range of this one */
	rec_init(&r, "firewall-allow4");
	r.klen = words(v[0].key, r.key);
	r.kelen = words("1e6433c6 00000006 0000911f ffffff0a", r.key_end);
	assert_false(rec_format(&b, &r));
	svcnft_buf_free(&b);
}

static void test_malformed(void **state)
{
	static const char *const bad[][2] = {
		{ "cluster-ips4", "" },
		{ "cluster-ips4", "10.96.0.256" },
		{ "cluster-ips4", "fd00::1" },
		{ "cluster-ips6", "10.96.0.1" },
		{ "cluster-ips4", "10.96.0.1 extra" },
		{ "service-ports4", "10.96.0.1 . tcp" },
		{ "service-ports4", "10.96.0.1 . tcp . 65536" },
		{ "service-ports4", "10.96.0.1 . tcp . -1" },
		{ "service-ports4", "10.96.0.1 . icmp . 80" },
		{ "service-ports4", "10.96.0.1 . 256 . 80" },
		{ "service-ports4", "10.96.0.1 , tcp . 80" },
		{ "service-ports4", "10.96.0.1  . tcp . 80" },
		{ "backends4", "10.96.0.1 . tcp . 80 . 4294967296 : 10.244.0.1 . 80" },
		{ "backends4", "10.96.0.1 . tcp . 80 . 0 : 10.244.0.1" },
		{ "backends4", "10.96.0.1 . tcp . 80 . 0 10.244.0.1 . 80" },
		{ "backends4", "10.96.0.1 . tcp . 80 . 0 : 10.244.0.1 . 80 . 1" },
		{ "service-ips4", "10.96.0.1 . tcp . 80 : goto" },
		{ "service-ips4", "10.96.0.1 . tcp . 80 : return" },
		{ "service-ips4", "10.96.0.1 . tcp . 80 comment \"x : drop" },
		{ "service-ips4", "10.96.0.1 . tcp . 80 comment \"\" : drop" },
		{ "service-ips4", "10.96.0.1 . tcp . 80 : verdict 2147483648" },
		{ "service-ips4", "10.96.0.1 . tcp . 80 : drop now" },
		{ "affinity-ids4", "10.96.0.1 . tcp . 80 : x" },
		{ "affinity-slots4-tcp-600", "0 : 1" },
		{ "pod-cidrs4", "10.244.0.0/33" },
		{ "pod-cidrs4", "10.244.0.0" },
		{ "pod-cidrs4", "fd00::/8" },
		{ "pod-cidrs4", "10.244.0.0/16 . 1" },
		{ "service-cidrs6", "fd00::-fd00::1:0 x" },
		{ "firewall-allow4", "198.51.100.30 . tcp . 8080 10.0.0.0/8" },
		{ "firewall-allow4", "198.51.100.30 . tcp . 10.0.0.0/8" },
		{ "no-such-set4", "10.96.0.1" },
	};
	struct el_record r;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		rec_init(&r, bad[i][0]);
		if (rec_parse(&r, bad[i][1], false)) {
			print_error("accepted \"%s\" of %s\n", bad[i][1], bad[i][0]);
			fail();
		}
	}
}

/* R -> packed -> record: the same record, bytes and text. */
static void packed_round_trip(const struct el_record *r, const char *text)
{
	struct item *it = item_pack(r), *again;
	struct svcnft_buf got = {0};
	struct el_record back;

	item_unpack(it, &back);
	assert_same_record(r, &back);
	assert_string_equal(back.set, r->set);
	assert_memory_equal(back.key_end, r->key_end, r->kelen);
	assert_int_equal(back.kelen, r->kelen);
	again = item_pack(&back);
	assert_int_equal(item_size(again), item_size(it));
	assert_memory_equal(again, it, item_size(it));
	buf_puts(&got, "");
	assert_true(item_format(&got, it));
	assert_string_equal(got.data, text);
	free(again);
	free(it);
	svcnft_buf_free(&got);
}

/* Interval sets' elements: text -> record -> packed -> the same text. */
static void test_ranges(void **state)
{
	static const char *const ok[][2] = {
		{ "pod-cidrs4", "10.244.0.0/16" },
		{ "pod-cidrs4", "0.0.0.0/0" },
		{ "pod-cidrs6", "fd00:244::/48" },
		{ "service-cidrs4", "10.96.0.1-10.96.0.6" },
		{ "nodeport-addresses4", "10.0.0.3-" },
		{ "nodeport-addresses6", "::/0" },
		{ "firewall-allow4", "198.51.100.30 . tcp . 8080 . 10.0.0.0/8" },
		{ "firewall-allow6", "2001:db8::30 . udp . 53 . 2001:db8::-2001:db8::3" },
	};
	struct svcnft_buf b = {0};
	struct el_record r;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		rec_init(&r, ok[i][0]);
		assert_true(rec_parse(&r, ok[i][1], false));
		b.len = 0;
		buf_puts(&b, "");
		assert_true(rec_format(&b, &r));
		assert_string_equal(b.data, ok[i][1]);
		packed_round_trip(&r, ok[i][1]);
	}
	svcnft_buf_free(&b);
}

/* Records whose bytes do not fit their set's form print nothing valid. */
static void test_bad_records(void **state)
{
	struct svcnft_buf b = {0};
	struct el_record r;

	(void)state;
	buf_puts(&b, "");
	rec_init(&r, "backends4");
	assert_true(rec_parse(&r, "10.96.0.1 . tcp . 80 . 0 : 10.244.0.1 . 80", false));
	r.dlen = 4;
	assert_false(rec_format(&b, &r));
	r.dlen = 8;
	r.klen = 12;
	assert_false(rec_format(&b, &r));
	rec_init(&r, "service-ips4");
	assert_true(rec_parse(&r, "10.96.0.1 . tcp . 80 : drop", false));
	r.has_verdict = false;
	assert_false(rec_format(&b, &r));
	rec_init(&r, "pod-cidrs4");
	r.klen = 4;
	assert_false(rec_format(&b, &r));
	svcnft_buf_free(&b);
}

/* The plan's records: each prints as the el_fmt_* string of the same
 * element, and every canonical string of the plan (every set form, both
 * families) goes through the codec unchanged. */

static struct svcnft_cidr cidrs[6];

static void plan_fixture(struct fixture *fx, struct plan *p)
{
	const char *dir = getenv("SVCNFT_TESTDATA");
	struct svcnft_buf json = {0}, path = {0};

	assert_non_null(dir);
	buf_printf(&path, "%s/external-traffic/cluster.json", dir);
	assert_true(buf_read_file(&json, path.data));
	fx_init(fx);
	assert_true(svcnft_cidr_parse("10.96.0.0/16", &cidrs[0]));
	assert_true(svcnft_cidr_parse("fd00:96::/112", &cidrs[1]));
	assert_true(svcnft_cidr_parse("10.244.0.0/16", &cidrs[2]));
	assert_true(svcnft_cidr_parse("fd00:244::/48", &cidrs[3]));
	assert_true(svcnft_cidr_parse("192.168.77.0/24", &cidrs[4]));
	assert_true(svcnft_cidr_parse("2001:db8:77::/64", &cidrs[5]));
	fx->cfg.service_cidrs = &cidrs[0];
	fx->cfg.n_service_cidrs = 2;
	fx->cfg.cluster_cidrs = &cidrs[2];
	fx->cfg.n_cluster_cidrs = 2;
	fx->cfg.nodeport_cidrs = &cidrs[4];
	fx->cfg.n_nodeport_cidrs = 2;
	fx->cfg.node_name = "node-a";
	fx_valid(fx, json.data);
	plan_build(p, fx->m, &fx->cfg);
	svcnft_buf_free(&json);
	svcnft_buf_free(&path);
}

static void same_text(struct svcnft_buf *want, const struct el_record *r)
{
	struct svcnft_buf got = {0};

	buf_puts(&got, "");
	assert_true(rec_format(&got, r));
	assert_string_equal(got.data, want->data);
	packed_round_trip(r, want->data);
	svcnft_buf_free(&got);
	want->len = 0;
	want->data[0] = '\0';
}

static void check_entry(const struct plan_family *f, const struct plan_entry *e,
			struct el_record *r, struct svcnft_buf *b)
{
	if (!plan_views[e->view].nodeport) {	/* a key with no set of its own */
		snprintf(r->set, sizeof(r->set), "service-ports%s", f->sfx);
		rec_entry(r, e);
		el_fmt_key(b, e);
		same_text(b, r);
	}
	if (plan_entry_dispatched(e)) {
		snprintf(r->set, sizeof(r->set), "%s%s", plan_views[e->view].map, f->sfx);
		rec_dispatch(r, f, e);
		el_fmt_dispatch(b, f, e);
		same_text(b, r);
	}
	snprintf(r->set, sizeof(r->set), "%s%s", plan_views[e->view].backends, f->sfx);
	for (size_t j = 0; j < e->n; j++) {
		rec_backend(r, e, j);
		el_fmt_backend(b, e, j);
		same_text(b, r);
	}
	if (plan_entry_has_id(e)) {
		snprintf(r->set, sizeof(r->set), "%s%s", plan_ids_map(e->view), f->sfx);
		rec_id(r, e);
		el_fmt_id(b, e);
		same_text(b, r);
	}
}

static void check_family(const struct plan_family *f)
{
	struct svcnft_buf b = {0};
	struct el_record r;
	char chain[64];

	buf_puts(&b, "");
	rec_init(&r, "");
	for (size_t i = 0; i < f->n_e; i++)
		check_entry(f, &f->e[i], &r, &b);
	snprintf(r.set, sizeof(r.set), "cluster-ips%s", f->sfx);
	for (size_t i = 0; i < f->n_vips; i++) {
		rec_addr(&r, &f->vips[i]);
		el_fmt_ip(&b, &f->vips[i]);
		same_text(&b, &r);
	}
	snprintf(r.set, sizeof(r.set), "hairpin%s", f->sfx);
	for (size_t i = 0; i < f->n_hairpin; i++) {
		rec_hairpin(&r, &f->hairpin[i]);
		el_fmt_hairpin(&b, &f->hairpin[i]);
		same_text(&b, &r);
	}
	for (size_t i = 0; i < f->n_affs; i++)
		for (size_t s = 0; s < f->affs[i].slots; s++) {
			plan_slot_map(r.set, sizeof(r.set), f, &f->affs[i]);
			plan_chain_slot(chain, sizeof(chain), f, &f->affs[i], s);
			rec_slot(&r, s, chain);
			el_fmt_slot(&b, s, chain);
			same_text(&b, &r);
		}
	svcnft_buf_free(&b);
}

static void test_plan(void **state)
{
	static const char *const want[] = {
		"cluster-ips", "service-ports", "firewall", "hairpin", "service-ips",
		"external-local", "nodeports", "nodeports-local", "backends",
		"nodeport-backends", "affinity-ids", "nodeport-affinity-ids",
	};
	struct fixture fx;
	struct elements els;
	struct plan p;
	size_t seen = 0, slots = 0, n = 0;

	(void)state;
	plan_fixture(&fx, &p);
	check_family(&p.fam[0]);
	check_family(&p.fam[1]);
	elements_init(&els);
	elements_from_plan(&els, &p);
	elements_finish(&els);
	for (size_t i = 0; i < els.n_sets; i++) {
		const struct el_set *s = &els.sets[i];
		const char *key, *data;

		if (!el_form(s->name, &key, &data))
			continue;
		for (size_t k = 0; k < s->el.n; k++, n++)
			round_trip(s->name, s->el.v[k]);
		if (el_dynamic_set(s->name))
			slots += s->el.n;
		for (size_t k = 0; k < ARRAY_SIZE(want); k++)
			if (s->el.n && !strncmp(s->name, want[k], strlen(want[k])) &&
			    !strcmp(s->name + strlen(want[k]), "4"))
				seen |= 1u << k;
	}
	/* every form has elements in this plan */
	assert_int_equal(seen, (1u << ARRAY_SIZE(want)) - 1);
	assert_true(slots > 0);
	print_message("%zu canonical elements through the codec\n", n);
	assert_true(n > 50);
	elements_free(&els);
	plan_free(&p);
	fx_free(&fx);
}

/* The records plan_records(ALL) lists, as text, by set. */
struct texts {
	struct elements els;
	char last[REC_NAME_MAX];
	struct el_set *set;
};

static void add_text(const struct el_record *r, void *arg)
{
	struct texts *t = arg;
	struct svcnft_buf b = {0};

	if (strcmp(t->last, r->set)) {
		snprintf(t->last, sizeof(t->last), "%s", r->set);
		t->set = elements_find(&t->els, r->set);
		if (!t->set)
			t->set = elements_add_set(&t->els, r->set, 0);
	}
	buf_puts(&b, "");
	assert_true(rec_format(&b, r));
	packed_round_trip(r, b.data);
	el_add(&t->set->el, b.data, b.len);
	svcnft_buf_free(&b);
}

/* plan_records(ALL) lists every element of elements_from_plan(), in its
 * order, set by set, each printing as its string; without ALL the sets
 * nlload sends. */
static void test_plan_records(void **state)
{
	struct texts t = {0};
	struct fixture fx;
	struct elements els;
	struct plan p;
	size_t n = 0, ranges = 0;

	(void)state;
	plan_fixture(&fx, &p);
	elements_from_plan(&els, &p);
	elements_init(&t.els);
	plan_records(&p, true, add_text, &t);
	elements_finish(&t.els);
	for (size_t i = 0; i < els.n_sets; i++) {
		const struct el_set *w = &els.sets[i], *g = elements_find(&t.els, w->name);

		assert_int_equal(g ? g->el.n : 0, w->el.n);
		for (size_t k = 0; k < w->el.n; k++, n++)
			assert_string_equal(g->el.v[k], w->el.v[k]);
		ranges += strchr(w->name, '-') && (strstr(w->name, "cidrs") ||
						   strstr(w->name, "allow")) ? w->el.n : 0;
	}
	for (size_t i = 0; i < t.els.n_sets; i++)
		assert_non_null(elements_find(&els, t.els.sets[i].name));
	print_message("%zu elements, %zu of them ranges\n", n, ranges);
	assert_true(ranges >= 4);
	elements_free(&t.els);
	elements_free(&els);
	plan_free(&p);
	fx_free(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_form),
		cmocka_unit_test(test_kernel_bytes),
		cmocka_unit_test(test_firewall_allow),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_bad_records),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_plan_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
