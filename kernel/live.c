/* live: netlink dumps of svcnft's table, decoded into canonical strings. */
#include <arpa/inet.h>
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

#include "kernel.h"
#include "live.h"
#include "netlink.h"
#include "util.h"

/* The table. */

struct table_q {
	struct elements *els;
	const char *name;
};

static int table_cb(const struct nlmsghdr *h, void *data)
{
	struct table_q *q = data;
	struct nl_attrs t;

	nl_parse(h, &t);
	if (strcmp(nl_attr_str(&t, NFTA_TABLE_NAME), q->name))
		return MNL_CB_OK;
	q->els->exists = true;
	if (t.a[NFTA_TABLE_FLAGS] &&
	    ntohl(mnl_attr_get_u32(t.a[NFTA_TABLE_FLAGS])) & NFT_TABLE_F_DORMANT)
		q->els->dormant = true;
	q->els->ours = kernel_owner_comment(t.a[NFTA_TABLE_USERDATA], &q->els->layout);
	return MNL_CB_OK;
}

static int read_table(struct nl *nl, const char *table, struct elements *els)
{
	struct nlmsghdr *h = nl_nft_msg(nl, NFT_MSG_GETTABLE, NLM_F_ACK);
	struct table_q q = { els, table };
	int ret;

	mnl_attr_put_strz(h, NFTA_TABLE_NAME, table);
	ret = nl_run(nl, h, table_cb, &q);
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

/* Elements.  Each set's layout is known by its name. */

enum kind { K_ADDR, K_PORTS, K_DISPATCH, K_HAIRPIN, K_CIDR, K_BACKEND,
	    K_FW, K_SLOT, K_ID, K_SKIP };

struct interval {
	uint8_t a[16];
	bool end;
};

struct elem_q {
	struct el_set *set;
	enum kind kind;
	int family;
	size_t alen;
	size_t kaddr;			/* bytes of the key's address: alen or 0 */
	struct svcnft_buf b;
	struct interval *iv;
	size_t n_iv, cap_iv;
	bool bad;
};

/* The layout of set NAME: its kind, family, and whether its keys start
 * with an address (node-port maps are keyed by protocol . port). */
static enum kind set_kind(const char *name, int *family, bool *addr)
{
	static const struct { const char *base; enum kind k; bool addr; } kinds[] = {
		{ "cluster-ips", K_ADDR, true }, { "service-ports", K_PORTS, true },
		{ "service-ips", K_DISPATCH, true },
		{ "external-local", K_DISPATCH, true },
		{ "nodeports", K_DISPATCH, false },
		{ "nodeports-local", K_DISPATCH, false },
		{ "nodeport-addresses", K_CIDR, true },
		{ "firewall", K_PORTS, true }, { "firewall-allow", K_FW, true },
		{ "hairpin", K_HAIRPIN, true }, { "pod-cidrs", K_CIDR, true },
		{ "service-cidrs", K_CIDR, true },
		{ "backends", K_BACKEND, true },
		{ "nodeport-backends", K_BACKEND, false },
		{ "affinity-ids", K_ID, true },
		{ "nodeport-affinity-ids", K_ID, false },
	};
	size_t n;

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		n = strlen(kinds[i].base);
		if (!strncmp(name, kinds[i].base, n) && (name[n] == '4' || name[n] == '6') &&
		    !name[n + 1]) {
			*family = name[n] == '4' ? AF_INET : AF_INET6;
			*addr = kinds[i].addr;
			return kinds[i].k;
		}
	}
	if (el_dynamic_set(name)) {
		*family = AF_INET;
		*addr = false;
		return K_SLOT;
	}
	return K_SKIP;
}

static void put_addr(struct elem_q *q, const uint8_t *p)
{
	char s[INET6_ADDRSTRLEN];

	inet_ntop(q->family, p, s, sizeof(s));
	buf_puts(&q->b, s);
}

static void put_proto(struct elem_q *q, uint8_t p)
{
	if (p == 6 || p == 17 || p == 132)
		buf_puts(&q->b, p == 6 ? "tcp" : p == 17 ? "udp" : "sctp");
	else
		buf_printf(&q->b, "%u", p);
}

static void put_port(struct elem_q *q, const uint8_t *p)
{
	buf_printf(&q->b, "%u", (unsigned int)p[0] << 8 | p[1]);
}

static uint32_t host_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static bool data_value(const struct nlattr *a, const uint8_t **p, size_t *len)
{
	struct nl_attrs t;

	nl_parse_nested(a, &t);
	if (!t.a[NFTA_DATA_VALUE])
		return false;
	*p = mnl_attr_get_payload(t.a[NFTA_DATA_VALUE]);
	*len = mnl_attr_get_payload_len(t.a[NFTA_DATA_VALUE]);
	return true;
}

static void put_verdict(struct elem_q *q, const struct nlattr *a)
{
	struct nl_attrs t, v;
	int32_t code;

	nl_parse_nested(a, &t);
	nl_parse_nested(t.a[NFTA_DATA_VERDICT], &v);
	if (!v.a[NFTA_VERDICT_CODE]) {
		q->bad = true;
		return;
	}
	code = (int32_t)ntohl(mnl_attr_get_u32(v.a[NFTA_VERDICT_CODE]));
	if (code == NFT_GOTO || code == NFT_JUMP)
		buf_printf(&q->b, "%s %s", code == NFT_GOTO ? "goto" : "jump",
			   nl_attr_str(&v, NFTA_VERDICT_CHAIN));
	else if (code == NF_DROP || code == NF_ACCEPT)
		buf_puts(&q->b, code == NF_DROP ? "drop" : "accept");
	else
		buf_printf(&q->b, "verdict %d", code);
}

/* "[VIP . ]proto . port" from the first kaddr + 8 bytes of K (each part
 * of a concatenation takes a multiple of 4 bytes). */
static void put_service_key(struct elem_q *q, const uint8_t *k)
{
	if (q->kaddr) {
		put_addr(q, k);
		buf_puts(&q->b, " . ");
	}
	put_proto(q, k[q->kaddr]);
	buf_puts(&q->b, " . ");
	put_port(q, k + q->kaddr + 4);
}

static bool key_len_ok(struct elem_q *q, size_t len)
{
	static const size_t extra[] = {
		[K_ADDR] = 0, [K_PORTS] = 8, [K_DISPATCH] = 8, [K_BACKEND] = 12,
		[K_CIDR] = 0, [K_SLOT] = 4, [K_ID] = 8,
	};

	if (q->kind == K_SLOT)
		return len == 4;
	if (q->kind == K_HAIRPIN)
		return len == 2 * q->alen;
	if (q->kind == K_FW)
		return len == 2 * q->alen + 8;
	return len == q->kaddr + extra[q->kind];
}

static void put_range(struct elem_q *q, const uint8_t *s, const uint8_t *e);
static bool inc(uint8_t *a, size_t len);

/* A firewall-allow element: VIP . proto . port . source range, the range
 * from the start key K to the (inclusive) end key, as "addr/len". */
static bool put_fw(struct elem_q *q, const struct nl_attrs *e, const uint8_t *k)
{
	const uint8_t *end;
	uint8_t last[16];
	size_t len, off = q->alen + 8;

	if (!data_value(e->a[NFTA_SET_ELEM_KEY_END], &end, &len) ||
	    len != off + q->alen || memcmp(k, end, off)) {
		q->bad = true;
		return false;
	}
	memcpy(last, end + off, q->alen);
	put_service_key(q, k);
	buf_puts(&q->b, " . ");
	put_range(q, k + off, inc(last, q->alen) ? NULL : last);
	return true;
}

static void decode(struct elem_q *q, const struct nl_attrs *e, const uint8_t *k)
{
	const uint8_t *d;
	const char *c = NULL;
	size_t dlen, clen;

	switch (q->kind) {
	case K_ADDR:
		put_addr(q, k);
		break;
	case K_PORTS:
		put_service_key(q, k);
		break;
	case K_HAIRPIN:
		put_addr(q, k);
		buf_puts(&q->b, " . ");
		put_addr(q, k + q->alen);
		break;
	case K_DISPATCH:
		put_service_key(q, k);
		clen = kernel_udata_comment(e->a[NFTA_SET_ELEM_USERDATA], &c);
		if (c)
			buf_printf(&q->b, " comment \"%.*s\"", (int)clen, c);
		buf_puts(&q->b, " : ");
		put_verdict(q, e->a[NFTA_SET_ELEM_DATA]);
		break;
	case K_BACKEND:
		put_service_key(q, k);
		buf_printf(&q->b, " . %u : ", host_u32(k + q->kaddr + 8));
		if (!data_value(e->a[NFTA_SET_ELEM_DATA], &d, &dlen) || dlen != q->alen + 4) {
			q->bad = true;
			return;
		}
		put_addr(q, d);
		buf_puts(&q->b, " . ");
		put_port(q, d + q->alen);
		break;
	case K_ID:
		put_service_key(q, k);
		if (!data_value(e->a[NFTA_SET_ELEM_DATA], &d, &dlen) || dlen != 4) {
			q->bad = true;
			return;
		}
		buf_printf(&q->b, " : %u", host_u32(d));
		break;
	case K_SLOT:
		buf_printf(&q->b, "%u : ", host_u32(k));
		put_verdict(q, e->a[NFTA_SET_ELEM_DATA]);
		break;
	case K_FW:
		if (!put_fw(q, e, k))
			return;
		break;
	default:
		return;
	}
	el_add(&q->set->el, q->b.data, q->b.len);
	q->b.len = 0;
}

static void one_elem(struct elem_q *q, const struct nlattr *a)
{
	struct nl_attrs e;
	const uint8_t *k;
	size_t klen;
	uint32_t flags = 0;

	nl_parse_nested(a, &e);
	if (!data_value(e.a[NFTA_SET_ELEM_KEY], &k, &klen) || !key_len_ok(q, klen)) {
		q->bad = true;
		return;
	}
	if (e.a[NFTA_SET_ELEM_FLAGS])
		flags = ntohl(mnl_attr_get_u32(e.a[NFTA_SET_ELEM_FLAGS]));
	if (q->kind == K_CIDR) {
		q->iv = grow(q->iv, &q->cap_iv, q->n_iv, sizeof(*q->iv));
		memset(&q->iv[q->n_iv], 0, sizeof(*q->iv));
		memcpy(q->iv[q->n_iv].a, k, q->alen);
		q->iv[q->n_iv++].end = flags & NFT_SET_ELEM_INTERVAL_END;
		return;
	}
	decode(q, &e, k);
}

static int elem_cb(const struct nlmsghdr *h, void *data)
{
	struct elem_q *q = data;
	const struct nlattr *a;
	struct nl_attrs t;

	nl_parse(h, &t);
	if (!t.a[NFTA_SET_ELEM_LIST_ELEMENTS])
		return MNL_CB_OK;
	for (a = mnl_attr_get_payload(t.a[NFTA_SET_ELEM_LIST_ELEMENTS]);
	     mnl_attr_ok(a, (int)((const char *)mnl_attr_get_payload(t.a[NFTA_SET_ELEM_LIST_ELEMENTS]) +
				  mnl_attr_get_payload_len(t.a[NFTA_SET_ELEM_LIST_ELEMENTS]) - (const char *)a));
	     a = mnl_attr_next(a))
		if (mnl_attr_get_type(a) == NFTA_LIST_ELEM)
			one_elem(q, a);
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

/* Add one to the big-endian number A of LEN bytes; true on overflow. */
static bool inc(uint8_t *a, size_t len)
{
	for (size_t i = len; i-- > 0;)
		if (++a[i])
			return false;
	return true;
}

/* [S, E) (E NULL: to the end of the address space) as a CIDR, or "S-E". */
static void put_range(struct elem_q *q, const uint8_t *s, const uint8_t *e)
{
	size_t bits = q->alen * 8;

	for (size_t plen = 0; plen <= bits; plen++) {
		uint8_t end[16];
		bool ok = true, over;

		memcpy(end, s, q->alen);
		for (size_t b = plen; b < bits; b++) {
			ok &= !(s[b / 8] & (0x80 >> (b % 8)));
			end[b / 8] |= (uint8_t)(0x80 >> (b % 8));
		}
		over = inc(end, q->alen);
		if (ok && (e ? !over && !memcmp(end, e, q->alen) : over)) {
			put_addr(q, s);
			buf_printf(&q->b, "/%zu", plen);
			return;
		}
	}
	put_addr(q, s);
	buf_puts(&q->b, "-");
	if (e)
		put_addr(q, e);
}

static void finish_intervals(struct elem_q *q)
{
	iv_len = q->alen;
	if (q->n_iv)
		qsort(q->iv, q->n_iv, sizeof(*q->iv), iv_cmp);
	for (size_t i = 0; i < q->n_iv; i++) {
		if (q->iv[i].end)
			continue;
		put_range(q, q->iv[i].a, i + 1 < q->n_iv && q->iv[i + 1].end ? q->iv[i + 1].a : NULL);
		el_add(&q->set->el, q->b.data, q->b.len);
		q->b.len = 0;
	}
}

static int read_elements(struct nl *nl, const char *table, struct el_set *set)
{
	struct elem_q q = { .set = set };
	struct nlmsghdr *h;
	bool addr;
	int ret;

	q.kind = set_kind(set->name, &q.family, &addr);
	if (q.kind == K_SKIP)
		return 0;
	q.alen = q.family == AF_INET ? 4 : 16;
	q.kaddr = addr ? q.alen : 0;
	buf_puts(&q.b, "");
	h = nl_nft_msg(nl, NFT_MSG_GETSETELEM, NLM_F_DUMP | NLM_F_ACK);
	mnl_attr_put_strz(h, NFTA_SET_ELEM_LIST_TABLE, table);
	mnl_attr_put_strz(h, NFTA_SET_ELEM_LIST_SET, set->name);
	ret = nl_run(nl, h, elem_cb, &q);
	if (!ret && q.kind == K_CIDR)
		finish_intervals(&q);
	if (!ret && q.bad) {
		fprintf(stderr, "svcnft: set %s of table inet %s has elements svcnft did not write\n",
			set->name, table);
		ret = -EPROTO;
	}
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

int live_owner(const char *table, bool *exists, bool *ours)
{
	struct nl nl = {0};
	struct elements els;
	struct sets_q q = { NULL, table, false };
	int ret = nl_open(&nl);

	elements_init(&els);
	if (!ret)
		ret = read_table(&nl, table, &els);
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

	if ((ret = read_table(nl, table, els)) || !els->exists || !els->ours)
		return ret;
	h = nl_nft_msg(nl, NFT_MSG_GETSET, NLM_F_DUMP | NLM_F_ACK);
	mnl_attr_put_strz(h, NFTA_SET_TABLE, table);
	ret = nl_run(nl, h, set_cb, &q);
	if (!ret && !q.marker) {	/* the comment alone is no proof */
		els->ours = false;
		return 0;
	}
	for (size_t i = 0; !ret && i < els->n_sets; i++)
		ret = read_elements(nl, table, &els->sets[i]);
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
