/* nlload: skeleton from libnftables in a private namespace, elements
 * encoded here, one batch (see nlload.h). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "elements.h"
#include "kernel.h"
#include "nlload.h"
#include "util.h"

/* Bytes of elements per message: their list is one attribute, whose
 * length field has 16 bits. */
#define LIST_MAX 60000
#define RXBUF (1 << 17)

/* Netlink messages back to back, and what each one is (for errors). */
struct msgs {
	struct svcnft_buf b;
	uint32_t seq;
	struct what { uint32_t seq; char s[128]; } *w;
	size_t n_w, cap_w;
};

static void put(struct msgs *m, const void *p, size_t n)
{
	buf_add(&m->b, p, n);
}

static void pad(struct msgs *m)
{
	static const char z[4];

	put(m, z, NLA_ALIGN(m->b.len) - m->b.len);
}

static size_t msg_begin(struct msgs *m, uint16_t type, uint16_t flags,
			const char *what)
{
	struct nlmsghdr h = {
		.nlmsg_type = (uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | type),
		.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags),
		.nlmsg_seq = ++m->seq,
	};
	struct nfgenmsg g = { .nfgen_family = NFPROTO_INET,
			      .version = NFNETLINK_V0 };
	size_t off = m->b.len;

	if (type == NFNL_MSG_BATCH_BEGIN || type == NFNL_MSG_BATCH_END) {
		h.nlmsg_type = type;
		g.nfgen_family = AF_UNSPEC;
		g.res_id = htons(NFNL_SUBSYS_NFTABLES);
	}
	put(m, &h, sizeof(h));
	put(m, &g, sizeof(g));
	m->w = grow(m->w, &m->cap_w, m->n_w + 1, sizeof(*m->w));
	m->w[m->n_w].seq = h.nlmsg_seq;
	snprintf(m->w[m->n_w++].s, sizeof(m->w->s), "%s", what);
	return off;
}

static void msg_end(struct msgs *m, size_t off)
{
	uint32_t len = (uint32_t)(m->b.len - off);

	memcpy(m->b.data + off, &len, sizeof(len));
}

static void attr(struct msgs *m, uint16_t type, const void *p, size_t n)
{
	struct nlattr a = { .nla_len = (uint16_t)(NLA_HDRLEN + n),
			    .nla_type = type };

	put(m, &a, sizeof(a));
	put(m, p, n);
	pad(m);
}

static void attr_str(struct msgs *m, uint16_t type, const char *s)
{
	attr(m, type, s, strlen(s) + 1);
}

static size_t nest_begin(struct msgs *m, uint16_t type)
{
	struct nlattr a = { .nla_type = (uint16_t)(type | NLA_F_NESTED) };
	size_t off = m->b.len;

	put(m, &a, sizeof(a));
	return off;
}

static void nest_end(struct msgs *m, size_t off)
{
	uint16_t len = (uint16_t)(m->b.len - off);

	memcpy(m->b.data + off, &len, sizeof(len));
}

static void msgs_free(struct msgs *m)
{
	svcnft_buf_free(&m->b);
	free(m->w);
}

/* Elements of one set, split over as many messages as they need. */

struct elem {
	uint8_t key[48], data[24];
	size_t klen, dlen;
	int verdict;			/* when !dlen and has_verdict */
	bool has_verdict;
	const char *chain;		/* of a goto, or NULL */
	const char *comment;		/* or NULL */
};

struct elw {
	struct msgs *m;
	const char *table;
	char set[64];
	size_t msg, list;
	bool open;
};

static void elw_open(struct elw *w)
{
	char what[128];

	snprintf(what, sizeof(what), "the elements of set %s", w->set);
	w->msg = msg_begin(w->m, NFT_MSG_NEWSETELEM, NLM_F_CREATE, what);
	attr_str(w->m, NFTA_SET_ELEM_LIST_TABLE, w->table);
	attr_str(w->m, NFTA_SET_ELEM_LIST_SET, w->set);
	w->list = nest_begin(w->m, NFTA_SET_ELEM_LIST_ELEMENTS);
	w->open = true;
}

static void elw_close(struct elw *w)
{
	if (!w->open)
		return;
	nest_end(w->m, w->list);
	msg_end(w->m, w->msg);
	w->open = false;
}

static void elw_data(struct msgs *m, const struct elem *e)
{
	size_t d, v;
	uint32_t code = htonl((uint32_t)e->verdict);

	d = nest_begin(m, NFTA_SET_ELEM_DATA);
	if (e->dlen) {
		attr(m, NFTA_DATA_VALUE, e->data, e->dlen);
	} else {
		v = nest_begin(m, NFTA_DATA_VERDICT);
		attr(m, NFTA_VERDICT_CODE, &code, sizeof(code));
		if (e->chain)
			attr_str(m, NFTA_VERDICT_CHAIN, e->chain);
		nest_end(m, v);
	}
	nest_end(m, d);
}

/* A comment as libnftnl stores it: TLV type 0 with the NUL. */
static void elw_comment(struct msgs *m, const char *c)
{
	uint8_t u[2 + 256];
	size_t n = strnlen(c, 254);

	u[0] = 0;
	u[1] = (uint8_t)(n + 1);
	memcpy(u + 2, c, n);
	u[2 + n] = 0;
	attr(m, NFTA_SET_ELEM_USERDATA, u, n + 3);
}

static void elw_add(struct elw *w, const struct elem *e)
{
	size_t el, k;

	if (w->open && w->m->b.len - w->list > LIST_MAX)
		elw_close(w);
	if (!w->open)
		elw_open(w);
	el = nest_begin(w->m, NFTA_LIST_ELEM);
	k = nest_begin(w->m, NFTA_SET_ELEM_KEY);
	attr(w->m, NFTA_DATA_VALUE, e->key, e->klen);
	nest_end(w->m, k);
	if (e->dlen || e->has_verdict)
		elw_data(w->m, e);
	if (e->comment)
		elw_comment(w->m, e->comment);
	nest_end(w->m, el);
}

/* Keys and data as nft lays out a concatenation: every part in whole
 * 32-bit registers, numbers in network order except numgen's (host). */

static void k_addr(uint8_t *b, size_t *n, const struct ipaddr *a)
{
	size_t len = a->family == AF_INET6 ? 16 : 4;

	memcpy(b + *n, a->a, len);
	*n += len;
}

static void k_proto(uint8_t *b, size_t *n, enum proto p)
{
	static const uint8_t num[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP };

	memset(b + *n, 0, 4);
	b[*n] = num[p];
	*n += 4;
}

static void k_port(uint8_t *b, size_t *n, uint16_t port)
{
	memset(b + *n, 0, 4);
	b[*n] = (uint8_t)(port >> 8);
	b[*n + 1] = (uint8_t)port;
	*n += 4;
}

static void k_u32(uint8_t *b, size_t *n, uint32_t v)
{
	memcpy(b + *n, &v, 4);
	*n += 4;
}

/* "[VIP . ]protocol . port" of entry E. */
static void k_entry(struct elem *el, const struct plan_entry *e)
{
	if (!plan_views[e->view].nodeport)
		k_addr(el->key, &el->klen, &e->vip);
	k_proto(el->key, &el->klen, e->proto);
	k_port(el->key, &el->klen, e->port);
}

struct enc {
	struct elw w;
	const struct plan_family *f;
	struct svcnft_buf tmp;
};

static void enc_set(struct enc *x, const char *base)
{
	elw_close(&x->w);
	snprintf(x->w.set, sizeof(x->w.set), "%s%s", base, x->f->sfx);
}

static void enc_addrs(struct enc *x)
{
	const struct plan_family *f = x->f;

	enc_set(x, "cluster-ips");
	for (size_t i = 0; i < f->n_vips; i++) {
		struct elem el = {0};

		k_addr(el.key, &el.klen, &f->vips[i]);
		elw_add(&x->w, &el);
	}
	enc_set(x, "hairpin");
	for (size_t i = 0; i < f->n_hairpin; i++) {
		struct elem el = {0};

		k_addr(el.key, &el.klen, &f->hairpin[i]);
		k_addr(el.key, &el.klen, &f->hairpin[i]);
		elw_add(&x->w, &el);
	}
}

static void enc_ports(struct enc *x)
{
	const struct plan_family *f = x->f;

	enc_set(x, "service-ports");
	for (size_t i = 0; i < f->n_e; i++) {
		struct elem el = {0};

		if (!plan_entry_is_port(&f->e[i]))
			continue;
		k_entry(&el, &f->e[i]);
		elw_add(&x->w, &el);
	}
	enc_set(x, "firewall");
	for (size_t i = 0; i < f->n_fw; i++) {
		struct elem el = {0};

		k_entry(&el, &f->e[f->fw[i].e]);
		elw_add(&x->w, &el);
	}
}

/* A dispatch map: the entry's chain, or reject, or drop. */
static void enc_dispatch(struct enc *x, const char *map)
{
	const struct plan_family *f = x->f;
	char chain[64];

	enc_set(x, map);
	for (size_t i = 0; i < f->n_e; i++) {
		const struct plan_entry *e = &f->e[i];
		struct plan_group g = plan_entry_group(e);
		struct elem el = { .has_verdict = true };

		if (!plan_entry_in_map(e, map))
			continue;
		k_entry(&el, e);
		el.verdict = e->n || e->reject ? NFT_GOTO : NF_DROP;
		if (e->n) {
			plan_chain_lb(chain, sizeof(chain), f, &g);
			el.chain = chain;
		} else if (e->reject) {
			el.chain = "reject-service";
		}
		x->tmp.len = 0;
		plan_entry_comment(&x->tmp, e);
		el.comment = x->tmp.data;
		elw_add(&x->w, &el);
	}
}

/* KEY . slot : backend address . port. */
static void enc_backends(struct enc *x, const char *map)
{
	const struct plan_family *f = x->f;

	enc_set(x, map);
	for (size_t i = 0; i < f->n_e; i++) {
		const struct plan_entry *e = &f->e[i];

		if (strcmp(plan_views[e->view].backends, map))
			continue;
		for (size_t j = 0; j < e->n; j++) {
			struct elem el = {0};

			k_entry(&el, e);
			k_u32(el.key, &el.klen,
			      plan_views[e->view].offset + (uint32_t)j);
			k_addr(el.data, &el.dlen, &e->backends[j].ip);
			k_port(el.data, &el.dlen, e->backends[j].port);
			elw_add(&x->w, &el);
		}
	}
}

/* Every element of the sets render_direct_set() names. */
static void encode(struct msgs *m, const struct plan *p)
{
	static const char *const maps[] = {
		"service-ips", "external-local", "nodeports", "nodeports-local",
	};
	struct enc x = { .w = { .m = m, .table = p->cfg->table } };

	for (int i = 0; i < 2; i++) {
		x.f = &p->fam[i];
		enc_addrs(&x);
		enc_ports(&x);
		for (size_t k = 0; k < ARRAY_SIZE(maps); k++)
			enc_dispatch(&x, maps[k]);
		enc_backends(&x, "backends");
		enc_backends(&x, "nodeport-backends");
	}
	elw_close(&x.w);
	svcnft_buf_free(&x.tmp);
}

/* The template: the skeleton loaded into a private namespace by a child
 * process and dumped back through a pipe as the kernel holds it. */

struct dump {
	struct mnl_socket *s;
	char *buf;
	uint32_t seq;
	struct svcnft_buf *out;
};

/* Append every reply to a dump request of TYPE for TABLE (and SET) to
 * d->out; 0 or an errno. */
static int dump(struct dump *d, uint16_t type, const char *table,
		const char *set)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(d->buf);
	struct nfgenmsg *g;
	uint32_t seq = ++d->seq;

	h->nlmsg_type = (uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | type);
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	h->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
	g->nfgen_family = NFPROTO_INET;
	mnl_attr_put_strz(h, 1, table);	/* NFTA_*_TABLE, all 1 */
	if (set)
		mnl_attr_put_strz(h, NFTA_SET_ELEM_LIST_SET, set);
	if (mnl_socket_sendto(d->s, h, h->nlmsg_len) < 0)
		return errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(d->s, d->buf, RXBUF);
		int len = (int)n;

		if (n < 0)
			return errno;
		for (h = (struct nlmsghdr *)d->buf; mnl_nlmsg_ok(h, len);
		     h = mnl_nlmsg_next(h, &len)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -((struct nlmsgerr *)mnl_nlmsg_get_payload(h))->error;
			buf_add(d->out, (const char *)h, NLMSG_ALIGN(h->nlmsg_len));
		}
	}
}

/* The attributes of message H: for (a = attr_first(h); attr_ok(h, a);
 * a = mnl_attr_next(a)), mnl_attr_for_each without its conversions. */
static const struct nlattr *attr_first(const struct nlmsghdr *h)
{
	return mnl_nlmsg_get_payload_offset(h, sizeof(struct nfgenmsg));
}

static bool attr_ok(const struct nlmsghdr *h, const struct nlattr *a)
{
	return mnl_attr_ok(a, (int)((const char *)mnl_nlmsg_get_payload_tail(h) -
				    (const char *)a));
}

static const char *msg_name(const struct nlmsghdr *h, uint16_t type)
{
	const struct nlattr *a;

	for (a = attr_first(h); attr_ok(h, a); a = mnl_attr_next(a))
		if (mnl_attr_get_type(a) == type)
			return mnl_attr_get_str(a);
	return NULL;
}

/* Dump elements of every set the set dump (from OFF in d->out) named. */
static int dump_elements(struct dump *d, const char *table, size_t off,
			 size_t end)
{
	struct svcnft_buf names = {0};
	int ret = 0;

	for (size_t o = off; o < end;) {
		const struct nlmsghdr *h = (const void *)(d->out->data + o);
		const char *s = msg_name(h, NFTA_SET_NAME);

		if (s)
			buf_add(&names, s, strlen(s) + 1);
		o += NLMSG_ALIGN(h->nlmsg_len);
	}
	for (size_t o = 0; !ret && o < names.len; o += strlen(names.data + o) + 1)
		ret = dump(d, NFT_MSG_GETSETELEM, table, names.data + o);
	svcnft_buf_free(&names);
	return ret;
}

static int template_dump(const char *table, struct svcnft_buf *out)
{
	struct dump d = { .out = out };
	size_t sets;
	int ret;

	d.s = kernel_nl_open();
	if (!d.s)
		return errno;
	d.buf = xmalloc(RXBUF);
	if (!(ret = dump(&d, NFT_MSG_GETTABLE, table, NULL)) &&
	    !(ret = dump(&d, NFT_MSG_GETCHAIN, table, NULL))) {
		sets = out->len;
		if (!(ret = dump(&d, NFT_MSG_GETSET, table, NULL)) &&
		    !(ret = dump_elements(&d, table, sets, out->len)))
			ret = dump(&d, NFT_MSG_GETRULE, table, NULL);
	}
	mnl_socket_close(d.s);
	free(d.buf);
	return ret;
}

static bool write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Exit status of the child: 0 when the dump was written. */
enum { TPL_UNSHARE = 3, TPL_REFUSED, TPL_DUMP };

/* In the child: exit status 0 when the dump was written to FD. */
static int template_child(const char *skeleton, const char *table, int fd)
{
	struct svcnft_buf out = {0};
	int null;

	/* without CAP_SYS_ADMIN, a user namespace of our own may still do */
	if (unshare(CLONE_NEWNET) && unshare(CLONE_NEWUSER | CLONE_NEWNET))
		return TPL_UNSHARE;
	if (!getenv("SVCNFT_DEBUG_LOADER") &&
	    (null = open("/dev/null", O_WRONLY)) >= 0)
		dup2(null, STDERR_FILENO);
	if (getenv("SVCNFT_DEBUG_LOADER"))
		fputs(skeleton, stderr);
	if (kernel_run(skeleton, false) != SVCNFT_OK)
		return TPL_REFUSED;
	if (template_dump(table, &out))
		return TPL_DUMP;
	return write_all(fd, out.data, out.len) ? 0 : TPL_DUMP;
}

struct template {
	pid_t pid;
	int fd;
};

static bool template_start(struct template *t, const char *skeleton,
			   const char *table)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC))
		return false;
	fflush(NULL);
	t->pid = fork();
	if (t->pid == 0) {
		close(fds[0]);
		_exit(template_child(skeleton, table, fds[1]));
	}
	close(fds[1]);
	t->fd = fds[0];
	if (t->pid < 0)
		close(fds[0]);
	return t->pid > 0;
}

static bool template_finish(struct template *t, struct svcnft_buf *out)
{
	char b[65536];
	ssize_t n;
	int st;

	while ((n = read(t->fd, b, sizeof(b))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			buf_add(out, b, (size_t)n);
	close(t->fd);
	while (waitpid(t->pid, &st, 0) < 0 && errno == EINTR)
		;
	st = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	/* TPL_REFUSED: the script itself will say what libnftables refused */
	if (st == TPL_UNSHARE)
		fputs("svcnft: cannot create a private network namespace for the netlink batch; "
		      "loading the script through libnftables (slower)\n", stderr);
	else if (st && st != TPL_REFUSED)
		fprintf(stderr, "svcnft: the netlink batch failed to prepare (%d); "
			"loading the script through libnftables\n", st);
	return n == 0 && st == 0;
}

/* Replaying the template: each object as a new message with the attributes
 * that describe it (not its handle, use count or counters). */

#define BIT(t) (1u << (t))

static const uint32_t keep_table = BIT(NFTA_TABLE_NAME) |
	BIT(NFTA_TABLE_FLAGS) | BIT(NFTA_TABLE_USERDATA);
static const uint32_t keep_chain = BIT(NFTA_CHAIN_TABLE) |
	BIT(NFTA_CHAIN_NAME) | BIT(NFTA_CHAIN_HOOK) | BIT(NFTA_CHAIN_POLICY) |
	BIT(NFTA_CHAIN_TYPE) | BIT(NFTA_CHAIN_USERDATA);
static const uint32_t keep_set = BIT(NFTA_SET_TABLE) | BIT(NFTA_SET_NAME) |
	BIT(NFTA_SET_FLAGS) | BIT(NFTA_SET_KEY_TYPE) | BIT(NFTA_SET_KEY_LEN) |
	BIT(NFTA_SET_DATA_TYPE) | BIT(NFTA_SET_DATA_LEN) |
	BIT(NFTA_SET_POLICY) | BIT(NFTA_SET_DESC) | BIT(NFTA_SET_TIMEOUT) |
	BIT(NFTA_SET_GC_INTERVAL) | BIT(NFTA_SET_USERDATA) |
	BIT(NFTA_SET_OBJ_TYPE) | BIT(NFTA_SET_EXPR) | BIT(NFTA_SET_EXPRESSIONS);
static const uint32_t keep_elems = BIT(NFTA_SET_ELEM_LIST_TABLE) |
	BIT(NFTA_SET_ELEM_LIST_SET) | BIT(NFTA_SET_ELEM_LIST_ELEMENTS);
static const uint32_t keep_rule = BIT(NFTA_RULE_TABLE) |
	BIT(NFTA_RULE_CHAIN) | BIT(NFTA_RULE_EXPRESSIONS) |
	BIT(NFTA_RULE_USERDATA);

static void copy_msg(struct msgs *m, const struct nlmsghdr *h, uint16_t type,
		     uint16_t flags, uint32_t keep, const char *what)
{
	const struct nlattr *a;
	size_t off = msg_begin(m, type, flags, what);

	for (a = attr_first(h); attr_ok(h, a); a = mnl_attr_next(a)) {
		uint16_t t = mnl_attr_get_type(a);

		if (t < 32 && (keep & BIT(t))) {
			put(m, a, a->nla_len);
			pad(m);
		}
	}
	if (type == NFT_MSG_NEWSET) {	/* required, unique in the batch */
		uint32_t id = htonl(m->seq);

		attr(m, NFTA_SET_ID, &id, sizeof(id));
	}
	msg_end(m, off);
}

/* The template's objects: table, chains, sets and their elements into
 * HEAD, rules into TAIL; false if it holds something else. */
static bool replay(struct msgs *head, struct msgs *tail,
		   const struct svcnft_buf *tpl)
{
	const struct nlmsghdr *h = (const void *)tpl->data;
	int len = (int)tpl->len;
	char what[128];

	for (; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
		uint16_t t = h->nlmsg_type & 0xff;
		const char *name = msg_name(h, t == NFT_MSG_NEWRULE ? NFTA_RULE_CHAIN :
					    t == NFT_MSG_NEWSETELEM ? NFTA_SET_ELEM_LIST_SET :
					    t == NFT_MSG_NEWTABLE ? NFTA_TABLE_NAME : 2);

		snprintf(what, sizeof(what), "%s %s",
			 t == NFT_MSG_NEWTABLE ? "table inet" :
			 t == NFT_MSG_NEWCHAIN ? "chain" :
			 t == NFT_MSG_NEWSET ? "set" :
			 t == NFT_MSG_NEWSETELEM ? "the elements of set" :
			 "a rule of chain", name ? name : "?");
		if (t == NFT_MSG_NEWTABLE)
			copy_msg(head, h, t, NLM_F_CREATE, keep_table, what);
		else if (t == NFT_MSG_NEWCHAIN)
			copy_msg(head, h, t, NLM_F_CREATE, keep_chain, what);
		else if (t == NFT_MSG_NEWSET)
			copy_msg(head, h, t, NLM_F_CREATE, keep_set, what);
		else if (t == NFT_MSG_NEWSETELEM)
			copy_msg(head, h, t, NLM_F_CREATE, keep_elems, what);
		else if (t == NFT_MSG_NEWRULE)
			copy_msg(tail, h, t, NLM_F_CREATE | NLM_F_APPEND,
				 keep_rule, what);
		else
			return false;
	}
	return len == 0;
}

/* Batch begin (checking generation GENID unless 0), then the table created if absent and deleted: what
 * `table inet T {}; delete table inet T` does in the script. */
static void prologue(struct msgs *m, const char *table, uint32_t genid)
{
	size_t off = msg_begin(m, NFNL_MSG_BATCH_BEGIN, 0, "the transaction");
	uint32_t g = htonl(genid);

	if (genid)	/* refused (ERESTART) once the ruleset has moved on */
		attr(m, NFNL_BATCH_GENID, &g, sizeof(g));
	msg_end(m, off);
	off = msg_begin(m, NFT_MSG_NEWTABLE, NLM_F_CREATE, "the old table");
	attr_str(m, NFTA_TABLE_NAME, table);
	msg_end(m, off);
	off = msg_begin(m, NFT_MSG_DELTABLE, 0, "the old table");
	attr_str(m, NFTA_TABLE_NAME, table);
	msg_end(m, off);
}

static const char *what_of(struct msgs *const *parts, size_t n, uint32_t seq)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < parts[i]->n_w; k++)
			if (parts[i]->w[k].seq == seq)
				return parts[i]->w[k].s;
	return "the transaction";
}

static void sock_opt(int fd, int level, int name, int v)
{
	/* best effort: without them errors only lose their detail */
	(void)setsockopt(fd, level, name, &v, sizeof(v));
}

/* Errors the kernel queued for the batch (it is processed within
 * sendmsg): 0, or the first one with a message.  Acks are not asked
 * for; an overflowing queue (ENOBUFS) can only hold errors. */
static int read_errors(int fd, struct msgs *const *parts, size_t n)
{
	char *buf = xmalloc(RXBUF);
	int first = 0, count = 0;
	ssize_t r;

	while ((r = recv(fd, buf, RXBUF, MSG_DONTWAIT)) != 0) {
		const struct nlmsghdr *h = (const void *)buf;
		int len = (int)r;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			if (errno == ENOBUFS && !first)
				first = ENOBUFS;
			if (errno != ENOBUFS)
				break;
			count++;
			continue;
		}
		for (; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

			if (h->nlmsg_type != NLMSG_ERROR || !e->error)
				continue;
			if (-e->error == ERESTART && !count) {
				first = ERESTART;	/* the caller retries */
				break;
			}
			if (!count++ || first == ENOBUFS) {
				first = -e->error;
				fprintf(stderr, "svcnft: the kernel refused %s: %s\n",
					what_of(parts, n, e->msg.nlmsg_seq),
					strerror(first));
			}
		}
	}
	if (first == ENOBUFS)
		fputs("svcnft: the kernel refused the batch (too many errors to list)\n", stderr);
	else if (count > 1)
		fprintf(stderr, "svcnft: ... and %d more errors; nothing was changed\n",
			count - 1);
	free(buf);
	return first;
}

static int send_batch(struct msgs *const *parts, size_t n)
{
	struct mnl_socket *s = kernel_nl_open();
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct iovec iov[4];
	struct msghdr mh = { .msg_name = &sa, .msg_namelen = sizeof(sa),
			     .msg_iov = iov, .msg_iovlen = n };
	size_t total = 0;
	ssize_t r;
	int fd, err;

	if (!s) {
		fprintf(stderr, "svcnft: cannot open a netlink socket: %s\n", strerror(errno));
		return SVCNFT_EKERNEL;
	}
	for (size_t i = 0; i < n; i++) {
		iov[i] = (struct iovec){ parts[i]->b.data, parts[i]->b.len };
		total += parts[i]->b.len;
	}
	fd = mnl_socket_get_fd(s);
	sock_opt(fd, SOL_SOCKET, SO_SNDBUFFORCE,
		 total > (1u << 29) ? 1 << 29 : (int)total + 65536);
	sock_opt(fd, SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20);
	sock_opt(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
	r = sendmsg(fd, &mh, 0);
	err = r < 0 ? errno : (size_t)r != total ? EMSGSIZE : 0;
	if (err)
		fprintf(stderr, "svcnft: cannot send the batch (%zu bytes): %s\n",
			total, strerror(err));
	else
		err = read_errors(fd, parts, n);
	mnl_socket_close(s);
	if (err == ERESTART)
		return NLLOAD_RESTART;
	return err ? SVCNFT_EKERNEL : SVCNFT_OK;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Test aid: SVCNFT_TEST_BAD_ELEMENT=SET adds an element with a key of the
 * wrong length to SET, which the kernel refuses with EINVAL. */
static void test_fault(struct msgs *m, const char *table)
{
	const char *set = getenv("SVCNFT_TEST_BAD_ELEMENT");
	struct elw w = { .m = m, .table = table };
	struct elem el = { .klen = 3 };

	if (!set)
		return;
	snprintf(w.set, sizeof(w.set), "%s", set);
	elw_add(&w, &el);
	elw_close(&w);
}

int nlload_apply(const struct plan *p, uint32_t genid)
{
	const char *table = p->cfg->table;
	struct svcnft_buf skel = {0}, tpl = {0};
	struct msgs head = {0}, els = { .seq = 1u << 24 },
		    tail = { .seq = 2u << 24 };
	struct msgs *const parts[] = { &head, &els, &tail };
	struct template tp;
	int rc = NLLOAD_UNAVAILABLE;

	double t[5];

	t[0] = now_ms();
	render_nft_plan(&skel, p, true);
	if (!template_start(&tp, skel.data, table))
		goto out;
	encode(&els, p);	/* while the child loads the skeleton */
	t[1] = now_ms();
	if (!template_finish(&tp, &tpl))
		goto out;
	t[2] = now_ms();
	prologue(&head, table, genid);
	if (!replay(&head, &tail, &tpl))
		goto out;
	msg_end(&tail, msg_begin(&tail, NFNL_MSG_BATCH_END, 0, "the transaction"));
	test_fault(&els, table);
	t[3] = now_ms();
	rc = send_batch(parts, ARRAY_SIZE(parts));
	t[4] = now_ms();
	if (getenv("SVCNFT_DEBUG_LOADER"))
		fprintf(stderr, "svcnft: batch: skeleton+encode %.0f ms, template wait %.0f ms, replay %.0f ms, "
			"send+commit %.0f ms; %zu + %zu + %zu bytes\n",
			t[1] - t[0], t[2] - t[1], t[3] - t[2], t[4] - t[3],
			head.b.len, els.b.len, tail.b.len);
out:
	svcnft_buf_free(&skel);
	svcnft_buf_free(&tpl);
	msgs_free(&head);
	msgs_free(&els);
	msgs_free(&tail);
	return rc;
}
