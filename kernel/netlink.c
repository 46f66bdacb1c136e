/* netlink: socket, request loop and attribute parser (see netlink.h). */
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "netlink.h"
#include "util.h"

#define RXBUF (1 << 17)

static struct mnl_socket *socket_open(int bus)
{
	struct mnl_socket *s = mnl_socket_open2(bus, SOCK_CLOEXEC);
	struct timeval tv = { .tv_sec = NL_TIMEOUT };

	if (!s)
		return NULL;
	if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    setsockopt(mnl_socket_get_fd(s), SOL_SOCKET, SO_RCVTIMEO, &tv,
		       sizeof(tv)) < 0) {
		int e = errno;

		mnl_socket_close(s);
		errno = e;
		return NULL;
	}
	return s;
}

struct mnl_socket *nl_socket_open(void)
{
	return socket_open(NETLINK_NETFILTER);
}

int nl_open(struct nl *nl)
{
	return nl_open_bus(nl, NETLINK_NETFILTER);
}

int nl_open_bus(struct nl *nl, int bus)
{
	nl->buf = xcalloc(1, RXBUF);	/* libmnl leaves attribute padding as is */
	nl->s = socket_open(bus);
	if (!nl->s)
		return -errno;
	nl->portid = mnl_socket_get_portid(nl->s);
	nl->seq = (unsigned int)time(NULL);
	return 0;
}

void nl_close(struct nl *nl)
{
	if (nl->s)
		mnl_socket_close(nl->s);
	free(nl->buf);
	nl->s = NULL;
	nl->buf = NULL;
}

struct nlmsghdr *nl_msg(struct nl *nl, uint8_t subsys, uint8_t type,
			uint16_t flags, uint8_t family)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(nl->buf);
	struct nfgenmsg *g;

	h->nlmsg_type = (uint16_t)(subsys << 8 | type);
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_seq = ++nl->seq;
	g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	return h;
}

struct nlmsghdr *nl_nft_msg(struct nl *nl, uint8_t type, uint16_t flags)
{
	return nl_msg(nl, NFNL_SUBSYS_NFTABLES, type, flags,
		      type == NFT_MSG_GETGEN ? AF_UNSPEC : NFPROTO_INET);
}

/* What mnl_cb_run does not pass on from NLMSG_DONE: NLM_F_DUMP_INTR on any
 * message of a batch, and an error the kernel put in DONE's payload (the
 * dump was cut short): 0 or -errno. */
static int dump_status(const void *buf, size_t len, bool *intr)
{
	const struct nlmsghdr *h = buf;
	int n = (int)len, err = 0;

	for (; mnl_nlmsg_ok(h, n); h = mnl_nlmsg_next(h, &n)) {
		int32_t e = 0;

		*intr |= (h->nlmsg_flags & NLM_F_DUMP_INTR) != 0;
		if (h->nlmsg_type == NLMSG_DONE &&
		    mnl_nlmsg_get_payload_len(h) >= sizeof(e)) {
			memcpy(&e, mnl_nlmsg_get_payload(h), sizeof(e));
			if (e < 0)
				err = e;
		}
	}
	return err;
}

/* What one receive loop is asked: messages of sequence SEQ and port id
 * PORTID (0: any; notifications carry the port of whoever made the
 * change) to CB, NLMSG_ERROR to ERR unless NULL (libmnl's handling
 * otherwise: an error or ACK ends the loop); DRAIN: without waiting,
 * until nothing is queued, counting lost messages (ENOBUFS) in LOST. */
struct rx {
	unsigned int seq, portid;
	mnl_cb_t cb, err;
	void *data;
	bool drain;
	unsigned int lost;
};

/* The one receive loop of kernel/: 0 or -errno. */
static int rx_loop(struct nl *nl, struct rx *r)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = r->err };
	int fd = mnl_socket_get_fd(nl->s), ret = MNL_CB_OK, err;
	bool intr = false;

	while (ret > 0 || (r->drain && ret == 0)) {
		ssize_t n = recv(fd, nl->buf, RXBUF, MSG_TRUNC |
				 (r->drain ? MSG_DONTWAIT : 0));

		if (r->drain && (n == 0 || (n < 0 && (errno == EAGAIN ||
						     errno == EWOULDBLOCK))))
			return 0;
		if (n < 0 && r->drain && (errno == ENOBUFS || errno == EINTR)) {
			r->lost += errno == ENOBUFS;
			continue;
		}
		if (n < 0 || n > RXBUF)
			return n < 0 ? -errno : -ENOSPC;
		if ((err = dump_status(nl->buf, (size_t)n, &intr)))
			return err;
		ret = mnl_cb_run2(nl->buf, (size_t)n, r->seq, r->portid, r->cb,
				  r->data, r->err ? ctl : NULL,
				  r->err ? NLMSG_MIN_TYPE : 0);
	}
	if (ret < 0)
		return -errno;
	return intr ? -EINTR : 0;
}

int nl_run(struct nl *nl, struct nlmsghdr *h, mnl_cb_t cb, void *data)
{
	struct rx r = { .seq = h->nlmsg_seq, .portid = nl->portid, .cb = cb,
			.data = data };

	if (mnl_socket_sendto(nl->s, h, h->nlmsg_len) < 0)
		return -errno;
	return rx_loop(nl, &r);
}

int nl_drain(struct nl *nl, mnl_cb_t cb, mnl_cb_t err, void *data,
	     unsigned int *lost)
{
	struct rx r = { .cb = cb, .err = err, .data = data, .drain = true };
	int ret = rx_loop(nl, &r);

	if (lost)
		*lost = r.lost;
	return ret;
}

static int attr_cb(const struct nlattr *a, void *data)
{
	struct nl_attrs *t = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type < NL_MAXATTR)
		t->a[type] = a;
	return MNL_CB_OK;
}

void nl_parse(const struct nlmsghdr *h, struct nl_attrs *t)
{
	nl_parse_after(h, sizeof(struct nfgenmsg), t);
}

void nl_parse_after(const struct nlmsghdr *h, size_t hdrlen,
		    struct nl_attrs *t)
{
	memset(t, 0, sizeof(*t));
	if (mnl_nlmsg_get_payload_len(h) >= hdrlen)
		mnl_attr_parse(h, (unsigned int)hdrlen, attr_cb, t);
}

void nl_parse_nested(const struct nlattr *a, struct nl_attrs *t)
{
	memset(t, 0, sizeof(*t));
	if (a)
		mnl_attr_parse_nested(a, attr_cb, t);
}

const char *nl_attr_str(const struct nl_attrs *t, int type)
{
	return t->a[type] ? mnl_attr_get_str(t->a[type]) : "";
}

const struct nlattr *nl_attr_get(const struct nlmsghdr *h, uint16_t type)
{
	struct nl_attrs t;

	nl_parse(h, &t);
	return type < NL_MAXATTR ? t.a[type] : NULL;
}
