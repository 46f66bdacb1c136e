/* nlbatch: nf_tables netlink batches built by hand (see nlbatch.h). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kernel.h"
#include "live.h"
#include "monotime.h"
#include "nlbatch.h"
#include "netlink.h"
#include "util.h"
#include "fileio.h"

static void put(struct msgs *m, const void *p, size_t n)
{
	buf_add(&m->b, p, n);
}

static void pad(struct msgs *m)
{
	static const char z[4];

	put(m, z, NLA_ALIGN(m->b.len) - m->b.len);
}

size_t nb_msg_begin(struct msgs *m, uint16_t type, uint16_t flags,
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

void nb_msg_end(struct msgs *m, size_t off)
{
	uint32_t len = (uint32_t)(m->b.len - off);

	memcpy(m->b.data + off, &len, sizeof(len));
}

void nb_attr(struct msgs *m, uint16_t type, const void *p, size_t n)
{
	struct nlattr a = { .nla_len = (uint16_t)(NLA_HDRLEN + n),
			    .nla_type = type };

	put(m, &a, sizeof(a));
	put(m, p, n);
	pad(m);
}

void nb_attr_str(struct msgs *m, uint16_t type, const char *s)
{
	nb_attr(m, type, s, strlen(s) + 1);
}

size_t nb_nest_begin(struct msgs *m, uint16_t type)
{
	struct nlattr a = { .nla_type = (uint16_t)(type | NLA_F_NESTED) };
	size_t off = m->b.len;

	put(m, &a, sizeof(a));
	return off;
}

void nb_nest_end(struct msgs *m, size_t off)
{
	uint16_t len = (uint16_t)(m->b.len - off);

	memcpy(m->b.data + off, &len, sizeof(len));
}

void nb_msgs_free(struct msgs *m)
{
	svcnft_buf_free(&m->b);
	free(m->w);
}

/* The template: the skeleton loaded into a private namespace by a child
 * process and dumped back through a pipe as the kernel holds it. */

/* The attributes of message H in their order, for copying: for (a =
 * attr_first(h); attr_ok(h, a); a = mnl_attr_next(a)). */
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
	const struct nlattr *a = nl_attr_get(h, type);

	return a ? mnl_attr_get_str(a) : NULL;
}

/* Dump the elements of every set named by the set dump in OUT from OFF. */
static int dump_elements(const char *table, struct svcnft_buf *out, size_t off)
{
	struct svcnft_buf names = {0};
	size_t end = out->len;
	int ret = 0;

	for (size_t o = off; o < end;) {
		const struct nlmsghdr *h = (const void *)(out->data + o);
		const char *s = msg_name(h, NFTA_SET_NAME);

		if (s)
			buf_add(&names, s, strlen(s) + 1);
		o += NLMSG_ALIGN(h->nlmsg_len);
	}
	for (size_t o = 0; !ret && o < names.len; o += strlen(names.data + o) + 1)
		ret = live_dump(NFT_MSG_GETSETELEM, table, names.data + o, out);
	svcnft_buf_free(&names);
	return ret;
}

int nb_dump_live(const char *table, const char *const *sets, size_t n,
		 struct svcnft_buf *out)
{
	int ret = live_dump(NFT_MSG_GETTABLE, table, NULL, out);

	for (size_t i = 0; !ret && i < n; i++)
		if ((ret = live_dump(NFT_MSG_GETSETELEM, table, sets[i], out)) == -ENOENT)
			ret = 0;	/* not in the live table */
	return ret;
}

static int template_dump(const char *table, struct svcnft_buf *out)
{
	size_t sets;
	int ret;

	if (!(ret = live_dump(NFT_MSG_GETTABLE, table, NULL, out)) &&
	    !(ret = live_dump(NFT_MSG_GETCHAIN, table, NULL, out))) {
		sets = out->len;
		if (!(ret = live_dump(NFT_MSG_GETSET, table, NULL, out)) &&
		    !(ret = dump_elements(table, out, sets)))
			ret = live_dump(NFT_MSG_GETRULE, table, NULL, out);
	}
	return ret;
}

/* Exit status of the child: 0 when the dump was written. */
enum { TPL_UNSHARE = 3, TPL_REFUSED, TPL_DUMP };

/* In the private namespace: SKELETON loaded and dumped into OUT; 0 or
 * TPL_REFUSED, TPL_DUMP. */
static int template_load(const char *skeleton, const char *table,
			 struct svcnft_buf *out)
{
	struct kfail f = {0};
	enum svcnft_status st;

	if (getenv("SVCNFT_DEBUG_LOADER"))
		fputs(skeleton, stderr);
	st = kernel_run(skeleton, false, &f);
	kfail_free(&f);		/* the script will say what was refused */
	if (st != SVCNFT_OK)
		return TPL_REFUSED;
	return template_dump(table, out) ? TPL_DUMP : 0;
}

/* Standard error to /dev/null (libnftables' messages are the script's to
 * give), unless SVCNFT_DEBUG_LOADER. */
static void quiet_stderr(void)
{
	int null;

	if (!getenv("SVCNFT_DEBUG_LOADER") &&
	    (null = open("/dev/null", O_WRONLY)) >= 0)
		dup2(null, STDERR_FILENO);
}

/* In the child: exit status 0 when the dump was written to FD. */
static int template_child(const char *skeleton, const char *table, int fd)
{
	struct svcnft_buf out = {0};
	int st;

	if (kernel_private_netns(false))
		return TPL_UNSHARE;
	quiet_stderr();
	if ((st = template_load(skeleton, table, &out)))
		return st;
	return write_all(fd, out.data, out.len) ? 0 : TPL_DUMP;
}

/* The child must die by the signals watch blocks for its signalfd. */
static void unblock_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static bool fork_child(struct template *t, const char *skeleton,
		       const char *table)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC))
		return false;
	fflush(NULL);
	t->pid = fork();
	if (t->pid == 0) {
		unblock_signals();
		close(fds[0]);
		_exit(template_child(skeleton, table, fds[1]));
	}
	close(fds[1]);
	t->fd = fds[0];
	if (t->pid < 0)
		close(fds[0]);
	return t->pid > 0;
}

/* The daemons' template process (nb_template_daemon): the socket to it,
 * or -1.  A request is a struct tpl_msg (LEN: the table's name and the
 * skeleton, each with its NUL), the answer one (STATUS, LEN: the dump). */
static int helper = -1;
static pid_t helper_pid;

struct tpl_msg {
	int32_t status;
	uint32_t len;
};

/* N bytes sent from OUT (without SIGPIPE if the peer is gone: not
 * write_all) or else received into IN on socket FD; false if it is closed
 * or fails. */
static bool sock_all(int fd, const void *out, void *in, size_t n)
{
	for (size_t done = 0; done < n;) {
		ssize_t r = out ? send(fd, (const char *)out + done, n - done, MSG_NOSIGNAL) :
			recv(fd, (char *)in + done, n - done, MSG_WAITALL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		done += (size_t)r;
	}
	return true;
}

static bool send_all(int fd, const void *p, size_t n)
{
	return sock_all(fd, p, NULL, n);
}

static bool recv_all(int fd, void *p, size_t n)
{
	return sock_all(fd, NULL, p, n);
}

/* Serve requests on FD until the daemon goes: in one private namespace,
 * libnftables warm (a template costs ~1 ms instead of a fork, a new
 * namespace and a cold libnftables: 30-200 ms). */
static _Noreturn void helper_serve(int fd)
{
	struct svcnft_buf out = {0};
	struct tpl_msg m;
	char *in;

	for (;;) {
		if (!recv_all(fd, &m, sizeof(m)) || m.len < 2)
			_exit(0);
		in = xmalloc((size_t)m.len + 1);
		in[m.len] = '\0';
		if (!recv_all(fd, in, m.len))
			_exit(0);
		out.len = 0;
		m.status = template_load(in + strlen(in) + 1, in, &out);
		m.len = (uint32_t)out.len;
		free(in);
		if (!send_all(fd, &m, sizeof(m)) || !send_all(fd, out.data, out.len))
			_exit(0);
	}
}

/* The helper's start: nothing of the daemon's open but FD (as 3). */
static _Noreturn void helper_main(int fd, pid_t parent)
{
	int null = open("/dev/null", O_RDWR);

	unblock_signals();
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent || null < 0 ||
	    dup2(fd, 3) < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0)
		_exit(1);
	quiet_stderr();
	close_range(4, ~0u, 0);
	if (kernel_private_netns(false))
		_exit(TPL_UNSHARE);
	helper_serve(3);
}

void nb_template_daemon(void)
{
	pid_t parent = getpid();
	int sv[2];

	if (helper >= 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return;
	fflush(NULL);
	helper_pid = fork();
	if (helper_pid == 0)
		helper_main(sv[1], parent);
	close(sv[1]);
	if (helper_pid < 0)
		close(sv[0]);
	else
		helper = sv[0];
}

/* The helper gone or out of step: never used again. */
static void helper_stop(void)
{
	close(helper);
	helper = -1;
	kill(helper_pid, SIGKILL);
	while (waitpid(helper_pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static bool helper_ask(const char *skeleton, const char *table)
{
	size_t nt = strlen(table) + 1, ns = strlen(skeleton) + 1;
	struct tpl_msg m = { .len = (uint32_t)(nt + ns) };

	if (helper < 0 || nt + ns > UINT32_MAX)
		return false;
	if (send_all(helper, &m, sizeof(m)) && send_all(helper, table, nt) &&
	    send_all(helper, skeleton, ns))
		return true;
	helper_stop();
	return false;
}

/* The helper's answer appended to OUT: its status, or -1 when it is gone. */
static int helper_answer(struct svcnft_buf *out)
{
	char b[65536];
	struct tpl_msg m;

	if (!recv_all(helper, &m, sizeof(m)))
		return -1;
	for (size_t left = m.len, n; left; left -= n) {
		n = left < sizeof(b) ? left : sizeof(b);
		if (!recv_all(helper, b, n))
			return -1;
		buf_add(out, b, n);
	}
	return m.status;
}

bool nb_template_start(struct template *t, const char *skeleton,
		       const char *table)
{
	t->skeleton = skeleton;
	t->table = table;
	t->pid = 0;
	return helper_ask(skeleton, table) || fork_child(t, skeleton, table);
}

/* A status of the template, as *F; TPL_REFUSED is none: the script
 * itself will say what libnftables refused. */
static bool template_ok(int st, struct kfail *f)
{
	if (st == TPL_UNSHARE)
		kfail_set(f, KF_NO_NETNS, 0, NULL);
	else if (st && st != TPL_REFUSED)
		kfail_set(f, KF_TEMPLATE, st, NULL);
	return st == 0;
}

/* The child's dump into OUT, and its exit status. */
static int child_answer(struct template *t, struct svcnft_buf *out)
{
	char b[65536];
	ssize_t n;
	int st = -1;

	while ((n = read(t->fd, b, sizeof(b))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			buf_add(out, b, (size_t)n);
	close(t->fd);
	while (waitpid(t->pid, &st, 0) < 0 && errno == EINTR)
		;	/* other errors leave st -1: not a success */
	st = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return n == 0 ? st : -1;
}

bool nb_template_finish(struct template *t, struct svcnft_buf *out,
			struct kfail *f)
{
	if (!t->pid) {
		size_t start = out->len;
		int st = helper_answer(out);

		if (st >= 0)
			return template_ok(st, f);
		/* the helper is gone: once more in a child of its own */
		helper_stop();
		out->len = start;
		if (!fork_child(t, t->skeleton, t->table))
			return false;
	}
	return template_ok(child_answer(t, out), f);
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

void nb_begin(struct msgs *m, uint32_t genid)
{
	size_t off = nb_msg_begin(m, NFNL_MSG_BATCH_BEGIN, 0, "the transaction");
	uint32_t g = htonl(genid);

	m->genid = genid;
	if (genid)
		nb_attr(m, NFNL_BATCH_GENID, &g, sizeof(g));
	nb_msg_end(m, off);
}

void nb_end(struct msgs *m)
{
	nb_msg_end(m, nb_msg_begin(m, NFNL_MSG_BATCH_END, 0, "the transaction"));
}

const struct nlmsghdr *nb_first(const struct svcnft_buf *t, int *len)
{
	const struct nlmsghdr *h = (const void *)t->data;

	*len = (int)t->len;
	return t->data && mnl_nlmsg_ok(h, *len) ? h : NULL;
}

const struct nlmsghdr *nb_next(const struct nlmsghdr *h, int *len)
{
	h = mnl_nlmsg_next(h, len);
	return mnl_nlmsg_ok(h, *len) ? h : NULL;
}

uint16_t nb_type(const struct nlmsghdr *h)
{
	return h->nlmsg_type & 0xff;
}

const char *nb_name(const struct nlmsghdr *h)
{
	uint16_t a;
	const char *s;

	switch (nb_type(h)) {
	case NFT_MSG_NEWTABLE: a = NFTA_TABLE_NAME; break;
	case NFT_MSG_NEWCHAIN: a = NFTA_CHAIN_NAME; break;
	case NFT_MSG_NEWSET: a = NFTA_SET_NAME; break;
	case NFT_MSG_NEWSETELEM: a = NFTA_SET_ELEM_LIST_SET; break;
	default: a = NFTA_RULE_CHAIN; break;
	}
	s = msg_name(h, a);
	return s ? s : "?";
}

/* What to keep of each object: not its handle, use count or counters. */

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

void nb_copy(struct msgs *m, const struct nlmsghdr *h)
{
	uint16_t type = nb_type(h), flags = NLM_F_CREATE;
	const struct nlattr *a;
	uint32_t keep;
	char what[128];
	size_t off;

	switch (type) {
	case NFT_MSG_NEWTABLE: keep = keep_table; break;
	case NFT_MSG_NEWCHAIN: keep = keep_chain; break;
	case NFT_MSG_NEWSET: keep = keep_set; break;
	case NFT_MSG_NEWSETELEM: keep = keep_elems; break;
	default: keep = keep_rule; flags |= NLM_F_APPEND; break;
	}
	snprintf(what, sizeof(what), "%s %s",
		 type == NFT_MSG_NEWTABLE ? "table inet" :
		 type == NFT_MSG_NEWCHAIN ? "chain" :
		 type == NFT_MSG_NEWSET ? "set" :
		 type == NFT_MSG_NEWSETELEM ? "the elements of set" :
		 "a rule of chain", nb_name(h));
	off = nb_msg_begin(m, type, flags, what);
	for (a = attr_first(h); attr_ok(h, a); a = mnl_attr_next(a)) {
		uint16_t t = mnl_attr_get_type(a);

		if (t < 32 && (keep & BIT(t))) {
			put(m, a, a->nla_len);
			pad(m);
		}
	}
	if (type == NFT_MSG_NEWSET) {	/* required, unique in the batch */
		uint32_t id = htonl(m->seq);

		nb_attr(m, NFTA_SET_ID, &id, sizeof(id));
	}
	nb_msg_end(m, off);
}

/* The errors the kernel queued for a batch of PARTS: the first into F
 * (named), how many in all. */
struct refusal {
	struct msgs *const *parts;
	size_t n;
	int first, count;
	struct kfail *f;
};

static int refusal_cb(const struct nlmsghdr *h, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
	struct refusal *q = data;

	if (mnl_nlmsg_get_payload_len(h) < sizeof(*e) || !e->error ||
	    q->first == ERESTART)
		return MNL_CB_OK;
	if (-e->error == ERESTART && !q->count) {
		q->first = ERESTART;	/* nothing was done: the caller retries */
		return MNL_CB_OK;
	}
	if (!q->count++) {
		q->first = -e->error;
		kfail_set(q->f, KF_REFUSED, q->first,
			  what_of(q->parts, q->n, e->msg.nlmsg_seq));
	}
	return MNL_CB_OK;
}

/* Errors the kernel queued for the batch (it is processed within
 * sendmsg): 0, or the first one, named in *F.  Acks are not asked for; an
 * overflowing queue (ENOBUFS) can only hold errors. */
static int read_errors(struct nl *nl, struct msgs *const *parts, size_t n,
		       struct kfail *f)
{
	struct refusal q = { parts, n, 0, 0, f };
	unsigned int lost = 0;

	/* another read error leaves the check of the generation */
	(void)nl_drain(nl, NULL, refusal_cb, &q, &lost);
	if (q.first == ERESTART) {
		kfail_free(f);
		return ERESTART;
	}
	if (!q.count && lost) {
		kfail_set(f, KF_OVERFLOW, ENOBUFS, NULL);
		return ENOBUFS;
	}
	if (q.count)
		f->more = (unsigned int)q.count - 1 + lost;
	return q.first;
}

/* After a batch checked against generation GENID reported no error: the
 * kernel drops a malformed batch without a word, so success also needs
 * the generation to have moved. */
static int committed(uint32_t genid, struct kfail *f)
{
	uint32_t now;

	if (!genid || live_genid(&now) || now != genid)
		return 0;
	kfail_set(f, KF_NOT_COMMITTED, EPROTO, NULL);
	return EPROTO;
}

/* Size the socket's buffers for TOTAL bytes of batch. */
static void sock_size(int fd, size_t total)
{
	int snd = total > (1u << 29) ? 1 << 29 : (int)total + 65536;

	/* SO_SNDBUFFORCE needs CAP_NET_ADMIN in the initial user namespace */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)))
		sock_opt(fd, SOL_SOCKET, SO_SNDBUF, snd);
	sock_opt(fd, SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20);
	sock_opt(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
}

int nb_send(struct msgs *const *parts, size_t n, struct kfail *f)
{
	struct nl nl = {0};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct iovec iov[4];
	struct msghdr mh = { .msg_name = &sa, .msg_namelen = sizeof(sa),
			     .msg_iov = iov, .msg_iovlen = n };
	size_t total = 0;
	ssize_t r;
	int err;

	if ((err = -nl_open(&nl))) {
		kfail_set(f, KF_SOCKET, err, NULL);
		nl_close(&nl);
		return SVCNFT_EKERNEL;
	}
	for (size_t i = 0; i < n; i++) {
		iov[i] = (struct iovec){ parts[i]->b.data, parts[i]->b.len };
		total += parts[i]->b.len;
	}
	sock_size(mnl_socket_get_fd(nl.s), total);
	r = sendmsg(mnl_socket_get_fd(nl.s), &mh, 0);
	err = r < 0 ? errno : (size_t)r != total ? EMSGSIZE : 0;
	if (err) {
		kfail_set(f, KF_SEND, err, NULL);
		f->bytes = total;
	} else if (!(err = read_errors(&nl, parts, n, f))) {
		err = committed(parts[0]->genid, f);
	}
	nl_close(&nl);
	if (err == ERESTART)
		return NB_RESTART;
	return err ? SVCNFT_EKERNEL : SVCNFT_OK;
}

int nb_delete_table(const char *table, uint32_t genid, struct kfail *f)
{
	struct msgs m = {0};
	struct msgs *const parts[] = { &m };
	char what[96];
	size_t off;
	int r;

	snprintf(what, sizeof(what), "the deletion of table inet %s", table);
	nb_begin(&m, genid);
	off = nb_msg_begin(&m, NFT_MSG_DELTABLE, 0, what);
	nb_attr_str(&m, NFTA_TABLE_NAME, table);
	nb_msg_end(&m, off);
	nb_end(&m);
	r = nb_send(parts, ARRAY_SIZE(parts), f);
	nb_msgs_free(&m);
	return r;
}
