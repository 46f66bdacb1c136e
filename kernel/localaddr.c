/* localaddr: the node's own addresses (see localaddr.h). */
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "localaddr.h"
#include "netlink.h"
#include "util.h"

struct addrs {
	struct svcnft_node_addr *v;
	size_t n, cap;
};

static int addr_cb(const struct nlmsghdr *h, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(h);
	struct addrs *out = data;
	const struct nlattr *a;
	struct svcnft_node_addr *x;
	struct nl_attrs t;
	uint16_t len;

	if (h->nlmsg_type != RTM_NEWADDR || mnl_nlmsg_get_payload_len(h) < sizeof(*ifa) ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return MNL_CB_OK;
	nl_parse_after(h, sizeof(*ifa), &t);
	a = t.a[IFA_LOCAL] ? t.a[IFA_LOCAL] : t.a[IFA_ADDRESS];	/* LOCAL: ptp */
	len = ifa->ifa_family == AF_INET ? 4 : 16;
	/* a host address (/32, /128) is left out: NodeLocal DNSCache and
	 * kube-proxy's IPVS mode bind cluster IPs that way (kube-dns's
	 * 10.96.0.10 on a dummy interface), and those are service addresses */
	if (!a || mnl_attr_get_payload_len(a) != len || ifa->ifa_prefixlen == len * 8)
		return MNL_CB_OK;
	out->v = grow(out->v, &out->cap, out->n, sizeof(*out->v));
	x = memset(&out->v[out->n++], 0, sizeof(*x));
	x->family = ifa->ifa_family;
	memcpy(x->addr, mnl_attr_get_payload(a), len);
	if (!if_indextoname(ifa->ifa_index, x->ifname))
		snprintf(x->ifname, sizeof(x->ifname), "#%u", ifa->ifa_index);
	return MNL_CB_OK;
}

static int dump(struct nl *nl, struct addrs *r)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(nl->buf);
	struct ifaddrmsg *ifa;

	h->nlmsg_type = RTM_GETADDR;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	h->nlmsg_seq = ++nl->seq;
	ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	r->n = 0;
	return nl_run(nl, h, addr_cb, r);
}

int local_addrs(struct svcnft_node_addr **out, size_t *n)
{
	struct nl nl = {0};
	struct addrs r = {0};
	int err = nl_open_bus(&nl, NETLINK_ROUTE);

	/* an address changed during the dump (-EINTR): read it again */
	for (int tries = 0; !err && (err = dump(&nl, &r)) == -EINTR && tries < 3; tries++)
		;
	nl_close(&nl);
	if (err) {
		free(r.v);
		return err;
	}
	*out = r.v;
	*n = r.n;
	return 0;
}
