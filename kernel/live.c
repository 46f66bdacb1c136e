/* live: netlink dumps of svcnft's table, decoded into canonical strings. */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "elcodec.h"
#include "kernel.h"
#include "live.h"
#include "netlink.h"
#include "record.h"
#include "util.h"

/* The table. */

struct table_q {
	struct elements *els;
	const char *name;
	uint64_t handle;
};

static int table_cb(const struct nlmsghdr *h, void *data)
{
	struct table_q *q = data;
	struct nl_attrs t;

	nl_parse(h, &t);
	if (strcmp(nl_attr_str(&t, NFTA_TABLE_NAME), q->name))
		return MNL_CB_OK;
	q->els->exists = true;
	if (t.a[NFTA_TABLE_HANDLE])
		q->handle = be64toh(mnl_attr_get_u64(t.a[NFTA_TABLE_HANDLE]));
	if (t.a[NFTA_TABLE_FLAGS] &&
	    ntohl(mnl_attr_get_u32(t.a[NFTA_TABLE_FLAGS])) & NFT_TABLE_F_DORMANT)
		q->els->dormant = true;
	q->els->ours = kernel_owner_comment(t.a[NFTA_TABLE_USERDATA], &q->els->layout);
	return MNL_CB_OK;
}

/* Table inet TABLE's existence, flags and comment into ELS, its handle
 * into *HANDLE unless NULL. */
static int read_table(struct nl *nl, const char *table, struct elements *els,
		      uint64_t *handle)
{
	struct nlmsghdr *h = nl_nft_msg(nl, NFT_MSG_GETTABLE, NLM_F_ACK);
	struct table_q q = { els, table, 0 };
	int ret;

	mnl_attr_put_strz(h, NFTA_TABLE_NAME, table);
	ret = nl_run(nl, h, table_cb, &q);
	if (handle)
		*handle = q.handle;
	return ret == -ENOENT ? 0 : ret;
}

/* Sets: names and sizes. */

struct sets_q {
	struct elements *els;
	const char *table;
	bool marker;		/* the ownership marker was seen */
};

/* The second ownership marker, beside the table's comment: a set
 * cluster-ips4 of type ipv4_addr (key length 4), which every svcnft table
 * since layout 1 declares first.  Another tool would not write a table
 * carrying both the comment "svcnft layout N" and that set by accident. */
#define MARKER_SET "cluster-ips4"
#define MARKER_KEY_TYPE 7	/* nft's TYPE_IPADDR */

static bool is_marker(const struct nl_attrs *t)
{
	return !strcmp(nl_attr_str(t, NFTA_SET_NAME), MARKER_SET) &&
	       t->a[NFTA_SET_KEY_TYPE] && t->a[NFTA_SET_KEY_LEN] &&
	       ntohl(mnl_attr_get_u32(t->a[NFTA_SET_KEY_TYPE])) == MARKER_KEY_TYPE &&
	       ntohl(mnl_attr_get_u32(t->a[NFTA_SET_KEY_LEN])) == 4;
}

static int set_cb(const struct nlmsghdr *h, void *data)
{
	struct sets_q *q = data;
	struct nl_attrs t, d;
	size_t size = 0;

	nl_parse(h, &t);
	if (strcmp(nl_attr_str(&t, NFTA_SET_TABLE), q->table))
		return MNL_CB_OK;
	q->marker |= is_marker(&t);
	if (!q->els)
		return MNL_CB_OK;
	nl_parse_nested(t.a[NFTA_SET_DESC], &d);
	if (d.a[NFTA_SET_DESC_SIZE])
		size = ntohl(mnl_attr_get_u32(d.a[NFTA_SET_DESC_SIZE]));
	elements_add_set(q->els, nl_attr_str(&t, NFTA_SET_NAME), size);
	return MNL_CB_OK;
}

/* Elements: decoded into records (kernel/elcodec.h), printed as their
 * canonical text (compiler/record.h); the interval sets' elements are
 * the starts and ends of ranges, joined here. */

enum kind { K_FORM, K_CIDR, K_SKIP };

struct interval {
	uint8_t a[16];
	bool end;
};

struct elem_q {
	struct el_set *set;
	enum kind kind;
	int family;
	struct svcnft_buf b;
	struct interval *iv;
	size_t n_iv, cap_iv;
	bool bad;
};

/* How set NAME's elements read: as records' text (rec_formatted), as
 * intervals, or not at all (connection state). */
static enum kind set_kind(const char *name, int *family)
{
	static const char *const cidrs[] = {
		"nodeport-addresses", "pod-cidrs", "service-cidrs",
	};
	size_t n = strlen(name), b;

	*family = n && name[n - 1] == '6' ? AF_INET6 : AF_INET;
	if (rec_formatted(name))
		return K_FORM;
	for (size_t i = 0; i < ARRAY_SIZE(cidrs); i++) {
		b = strlen(cidrs[i]);
		if (n == b + 1 && !strncmp(name, cidrs[i], b) &&
		    (name[b] == '4' || name[b] == '6'))
			return K_CIDR;
	}
	return K_SKIP;
}

static void one_elem(const struct el_record *r, void *arg)
{
	struct elem_q *q = arg;
	size_t alen = q->family == AF_INET ? 4 : 16;

	if (q->kind == K_CIDR) {
		if (r->klen != alen) {
			q->bad = true;
			return;
		}
		q->iv = grow(q->iv, &q->cap_iv, q->n_iv, sizeof(*q->iv));
		memset(&q->iv[q->n_iv], 0, sizeof(*q->iv));
		memcpy(q->iv[q->n_iv].a, r->key, alen);
		q->iv[q->n_iv++].end = r->interval_end;
		return;
	}
	q->b.len = 0;
	if (!rec_format(&q->b, r))
		q->bad = true;
	else
		el_add(&q->set->el, q->b.data, q->b.len);
}

static int elem_cb(const struct nlmsghdr *h, void *data)
{
	struct elem_q *q = data;

	if (!elc_each(h, one_elem, q))
		q->bad = true;
	return MNL_CB_OK;
}

static size_t iv_len;

static int iv_cmp(const void *x, const void *y)
{
	const struct interval *a = x, *b = y;
	int c = memcmp(a->a, b->a, iv_len);

	/* at the same address, the end of one interval before the next start */
	return c ? c : (int)b->end - (int)a->end;
}

static void finish_intervals(struct elem_q *q)
{
	iv_len = q->family == AF_INET ? 4 : 16;
	if (q->n_iv)
		qsort(q->iv, q->n_iv, sizeof(*q->iv), iv_cmp);
	for (size_t i = 0; i < q->n_iv; i++) {
		if (q->iv[i].end)
			continue;
		q->b.len = 0;
		rec_format_range(&q->b, q->family, q->iv[i].a,
				 i + 1 < q->n_iv && q->iv[i + 1].end ? q->iv[i + 1].a : NULL);
		el_add(&q->set->el, q->b.data, q->b.len);
	}
}

static int read_elements(struct nl *nl, const char *table, struct el_set *set)
{
	struct elem_q q = { .set = set };
	struct nlmsghdr *h;
	int ret;

	q.kind = set_kind(set->name, &q.family);
	if (q.kind == K_SKIP)
		return 0;
	buf_puts(&q.b, "");
	h = nl_nft_msg(nl, NFT_MSG_GETSETELEM, NLM_F_DUMP | NLM_F_ACK);
	mnl_attr_put_strz(h, NFTA_SET_ELEM_LIST_TABLE, table);
	mnl_attr_put_strz(h, NFTA_SET_ELEM_LIST_SET, set->name);
	ret = nl_run(nl, h, elem_cb, &q);
	if (!ret && q.kind == K_CIDR)
		finish_intervals(&q);
	if (!ret && q.bad)
		ret = -EPROTO;
	svcnft_buf_free(&q.b);
	free(q.iv);
	return ret;
}

/* Chains and the comments of the masquerade rules. */

bool live_trace_chain(const char *name)
{
	return !strncmp(name, LIVE_TRACE_PREFIX, strlen(LIVE_TRACE_PREFIX));
}

/* A base chain's type, hook, priority and policy (compiler/elements.h). */
static void put_base(struct elements *els, const char *name, const struct nl_attrs *t)
{
	struct svcnft_buf b = {0};
	struct nl_attrs h;
	uint32_t hook = ~0u, prio = 0, policy = ~0u;

	nl_parse_nested(t->a[NFTA_CHAIN_HOOK], &h);
	if (h.a[NFTA_HOOK_HOOKNUM])
		hook = ntohl(mnl_attr_get_u32(h.a[NFTA_HOOK_HOOKNUM]));
	if (h.a[NFTA_HOOK_PRIORITY])
		prio = ntohl(mnl_attr_get_u32(h.a[NFTA_HOOK_PRIORITY]));
	if (t->a[NFTA_CHAIN_POLICY])
		policy = ntohl(mnl_attr_get_u32(t->a[NFTA_CHAIN_POLICY]));
	el_fmt_base(&b, name, nl_attr_str(t, NFTA_CHAIN_TYPE), hook, (int32_t)prio, policy);
	el_add(&els->base, b.data, b.len);
	svcnft_buf_free(&b);
}

static int chain_cb(const struct nlmsghdr *h, void *data)
{
	struct sets_q *q = data;
	struct nl_attrs t;
	const char *name;

	nl_parse(h, &t);
	if (strcmp(nl_attr_str(&t, NFTA_CHAIN_TABLE), q->table))
		return MNL_CB_OK;
	name = nl_attr_str(&t, NFTA_CHAIN_NAME);
	if (live_trace_chain(name))
		return MNL_CB_OK;
	el_add(&q->els->chains, name, strlen(name));
	if (t.a[NFTA_CHAIN_HOOK])
		put_base(q->els, name, &t);
	return MNL_CB_OK;
}

/* FNV-1a over LEN bytes of P, continuing H. */
static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t hash_attr(uint64_t h, const struct nlattr *a)
{
	return a ? fnv(h, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a)) : h;
}

/* Every rule goes into the hash (chain, expressions, comment: not the
 * handle); the masquerade rules' comments are also kept as text. */
static int rule_cb(const struct nlmsghdr *h, void *data)
{
	struct sets_q *q = data;
	const char *chain, *c = NULL;
	struct nl_attrs t;
	char *m;
	size_t n, len = sizeof(q->els->masq[0]), clen;
	uint64_t *hash = &q->els->rules_hash;

	nl_parse(h, &t);
	chain = nl_attr_str(&t, NFTA_RULE_CHAIN);
	if (strcmp(nl_attr_str(&t, NFTA_RULE_TABLE), q->table) || live_trace_chain(chain))
		return MNL_CB_OK;
	*hash = fnv(*hash, chain, strlen(chain) + 1);
	*hash = hash_attr(*hash, t.a[NFTA_RULE_EXPRESSIONS]);
	*hash = hash_attr(*hash, t.a[NFTA_RULE_USERDATA]);
	if (strcmp(chain, "masquerade4") && strcmp(chain, "masquerade6"))
		return MNL_CB_OK;
	m = q->els->masq[chain[10] == '6'];
	n = strlen(m);
	clen = kernel_udata_comment(t.a[NFTA_RULE_USERDATA], &c);
	snprintf(m + n, len - n, "%s%.*s", n ? ", " : "", (int)clen, c ? c : "");
	return MNL_CB_OK;
}

static int read_rules(struct nl *nl, const char *table, struct elements *els)
{
	struct sets_q q = { els, table, false };
	struct nlmsghdr *h;

	els->rules_hash = 0xcbf29ce484222325ULL;
	h = nl_nft_msg(nl, NFT_MSG_GETRULE, NLM_F_DUMP | NLM_F_ACK);
	mnl_attr_put_strz(h, NFTA_RULE_TABLE, table);
	return nl_run(nl, h, rule_cb, &q);
}

static int read_chains(struct nl *nl, const char *table, struct elements *els)
{
	struct sets_q q = { els, table, false };
	struct nlmsghdr *h;
	int ret;

	h = nl_nft_msg(nl, NFT_MSG_GETCHAIN, NLM_F_DUMP | NLM_F_ACK);
	mnl_attr_put_strz(h, NFTA_CHAIN_TABLE, table);
	if ((ret = nl_run(nl, h, chain_cb, &q)))
		return ret;
	return read_rules(nl, table, els);
}

int live_rules_hash(const char *table, uint64_t *hash)
{
	struct nl nl = {0};
	struct elements els;
	int ret;

	elements_init(&els);
	ret = nl_open(&nl);
	if (!ret)
		ret = read_rules(&nl, table, &els);
	nl_close(&nl);
	*hash = els.rules_hash;
	elements_free(&els);
	return ret;
}

/* The digest: the table's handle, flags, use count and comment, then every
 * set's and chain's name, handle, flags and (base chains) hook, type and
 * policy, as the kernel lists them.  A table deleted and made again, or
 * any set or chain replaced, gets new handles. */
static int digest_cb(const struct nlmsghdr *h, void *data)
{
	static const int keep[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16 };
	uint64_t *d = data;
	struct nl_attrs t;

	nl_parse(h, &t);
	*d = fnv(*d, &h->nlmsg_type, sizeof(h->nlmsg_type));
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (t.a[keep[i]] && !(NFNL_MSG_TYPE(h->nlmsg_type) == NFT_MSG_NEWCHAIN &&
				      keep[i] == NFTA_CHAIN_COUNTERS))
			*d = hash_attr(fnv(*d, &keep[i], sizeof(keep[i])), t.a[keep[i]]);
	return MNL_CB_OK;
}

int live_owner(const char *table, bool *exists, bool *ours, uint64_t *handle)
{
	struct nl nl = {0};
	struct elements els;
	struct sets_q q = { NULL, table, false };
	int ret = nl_open(&nl);

	elements_init(&els);
	if (!ret)
		ret = read_table(&nl, table, &els, handle);
	if (!ret && els.exists && els.ours) {
		struct nlmsghdr *h = nl_nft_msg(&nl, NFT_MSG_GETSET, NLM_F_ACK);

		mnl_attr_put_strz(h, NFTA_SET_TABLE, table);
		mnl_attr_put_strz(h, NFTA_SET_NAME, MARKER_SET);
		ret = nl_run(&nl, h, set_cb, &q);
		if (ret == -ENOENT)
			ret = 0;
	}
	*exists = els.exists;
	*ours = els.ours && q.marker;
	nl_close(&nl);
	elements_free(&els);
	return ret;
}

int live_digest(const char *table, uint64_t *digest)
{
	static const uint8_t types[] = { NFT_MSG_GETTABLE, NFT_MSG_GETSET, NFT_MSG_GETCHAIN };
	struct nl nl = {0};
	int ret = nl_open(&nl);

	*digest = 0xcbf29ce484222325ULL;
	for (size_t i = 0; !ret && i < sizeof(types) / sizeof(types[0]); i++) {
		struct nlmsghdr *h = nl_nft_msg(&nl, types[i], NLM_F_ACK | (i ? NLM_F_DUMP : 0));

		mnl_attr_put_strz(h, i ? NFTA_SET_TABLE : NFTA_TABLE_NAME, table);
		ret = nl_run(&nl, h, digest_cb, digest);
	}
	nl_close(&nl);
	return ret;
}

static int read_all(struct nl *nl, const char *table, struct elements *els)
{
	struct sets_q q = { els, table, false };
	struct nlmsghdr *h;
	int ret;

	if ((ret = read_table(nl, table, els, NULL)) || !els->exists || !els->ours)
		return ret;
	h = nl_nft_msg(nl, NFT_MSG_GETSET, NLM_F_DUMP | NLM_F_ACK);
	mnl_attr_put_strz(h, NFTA_SET_TABLE, table);
	ret = nl_run(nl, h, set_cb, &q);
	if (!ret && !q.marker) {	/* the comment alone is no proof */
		els->ours = false;
		return 0;
	}
	for (size_t i = 0; !ret && i < els->n_sets; i++)
		if ((ret = read_elements(nl, table, &els->sets[i])) == -EPROTO)
			els->foreign_set = els->sets[i].name;
	if (!ret)
		ret = read_chains(nl, table, els);
	/* the table or a set vanished while being read: a concurrent change */
	return ret == -ENOENT ? -EINTR : ret;
}

/* A read that a concurrent change interrupted is done again from the
 * start, at most LIVE_TRIES times in all.  The kernel flags a dump
 * (NLM_F_DUMP_INTR) only between messages of one kind; a change between
 * dumps, or in a set element dump, shows only in the generation id. */
#define LIVE_TRIES 5

int live_read(const char *table, struct elements *els)
{
	int ret = 0;

	for (int i = 0; i < LIVE_TRIES; i++) {
		struct nl nl = {0};
		uint32_t g1, g2;

		if (i)
			elements_free(els);
		elements_init(els);
		ret = live_genid(&g1);
		if (!ret)
			ret = nl_open(&nl);
		if (!ret)
			ret = read_all(&nl, table, els);
		if (!ret && !live_genid(&g2) && g2 != g1)
			ret = -EINTR;
		nl_close(&nl);
		elements_finish(els);
		if (ret != -EINTR)
			break;
	}
	return ret;
}

static int gen_cb(const struct nlmsghdr *h, void *data)
{
	struct nl_attrs t;

	nl_parse(h, &t);
	if (t.a[NFTA_GEN_ID])
		*(uint32_t *)data = ntohl(mnl_attr_get_u32(t.a[NFTA_GEN_ID]));
	return MNL_CB_OK;
}

int live_genid(uint32_t *gen)
{
	struct nl nl = {0};
	int ret;

	*gen = 0;
	ret = nl_open(&nl);
	if (!ret)
		ret = nl_run(&nl, nl_nft_msg(&nl, NFT_MSG_GETGEN, NLM_F_ACK), gen_cb, gen);
	nl_close(&nl);
	return ret;
}

static int raw_cb(const struct nlmsghdr *h, void *data)
{
	buf_add(data, (const char *)h, NLMSG_ALIGN(h->nlmsg_len));
	return MNL_CB_OK;
}

int live_dump(uint16_t type, const char *table, const char *set,
	      struct svcnft_buf *out)
{
	struct nl nl = {0};
	struct nlmsghdr *h;
	int ret = nl_open(&nl);

	if (!ret) {
		h = nl_nft_msg(&nl, (uint8_t)type, NLM_F_DUMP | NLM_F_ACK);
		mnl_attr_put_strz(h, 1, table);	/* NFTA_*_TABLE: all 1 */
		if (set)
			mnl_attr_put_strz(h, NFTA_SET_ELEM_LIST_SET, set);
		ret = nl_run(&nl, h, raw_cb, out);
	}
	nl_close(&nl);
	return ret;
}
