/* kernel: libnftables for transactions, libmnl for a quick table lookup. */
#include <errno.h>
#include <netdb.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "kernel.h"
#include "util.h"

/* The table comment svcnft writes (see render_nft.c). */
#define OWNER_PREFIX "svcnft layout "

struct lookup {
	bool found;
	bool ours;
};

size_t kernel_udata_comment(const struct nlattr *a, const char **out)
{
	const uint8_t *p;
	size_t len;

	if (!a)
		return 0;
	p = mnl_attr_get_payload(a);
	len = mnl_attr_get_payload_len(a);
	while (len >= 2 && (size_t)p[1] + 2 <= len) {
		if (p[0] == 0) {
			*out = (const char *)p + 2;
			return strnlen(*out, p[1]);
		}
		len -= (size_t)p[1] + 2;
		p += p[1] + 2;
	}
	return 0;
}

bool kernel_owner_comment(const struct nlattr *userdata, int *layout)
{
	const char *c = NULL;
	size_t n = kernel_udata_comment(userdata, &c);

	if (n <= sizeof(OWNER_PREFIX) - 1 || memcmp(c, OWNER_PREFIX, sizeof(OWNER_PREFIX) - 1))
		return false;
	if (layout)
		*layout = atoi(c + sizeof(OWNER_PREFIX) - 1);
	return true;
}

static int table_attr(const struct nlattr *a, void *data)
{
	struct lookup *l = data;

	if (mnl_attr_get_type(a) == NFTA_TABLE_USERDATA)
		l->ours = kernel_owner_comment(a, NULL);
	return MNL_CB_OK;
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct lookup *l = data;

	l->found = true;
	return mnl_attr_parse(nlh, sizeof(struct nfgenmsg), table_attr, data);
}

struct mnl_socket *kernel_nl_open(void)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	struct timeval tv = { .tv_sec = KERNEL_NL_TIMEOUT };

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv,
		       sizeof(tv)) < 0) {
		int e = errno;

		mnl_socket_close(nl);
		errno = e;
		return NULL;
	}
	return nl;
}

enum table_state kernel_table_state(const char *name, int *err)
{
	static char buf[8192];
	struct mnl_socket *nl = kernel_nl_open();
	struct lookup l = {0};
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	unsigned int seq = (unsigned int)time(NULL);
	int ret = -1;

	*err = 0;
	if (!nl)
		goto out;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = NFPROTO_INET;
	nfg->version = NFNETLINK_V0;
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, name);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	do {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));

		if (n <= 0)
			break;
		ret = mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl),
				 table_cb, &l);
	} while (ret > 0);
out:
	if (ret < 0)
		*err = errno;
	if (nl)
		mnl_socket_close(nl);
	if (l.found)
		return l.ours ? TABLE_OURS : TABLE_FOREIGN;
	if (*err == ENOENT)
		return TABLE_ABSENT;
	return TABLE_ERROR;
}

enum svcnft_status kernel_check_owner(const char *table, const char *what,
				      bool *exists)
{
	int err;
	enum table_state st = kernel_table_state(table, &err);

	switch (st) {
	case TABLE_ABSENT:
	case TABLE_OURS:
		*exists = st == TABLE_OURS;
		return SVCNFT_OK;
	case TABLE_FOREIGN:
		fprintf(stderr, "svcnft: table inet %s exists and was not created by svcnft; "
			"leaving it alone (choose another --table)\n", table);
		return SVCNFT_EKERNEL;
	default:
		if (err == EPERM || err == EACCES)
			fprintf(stderr, "svcnft: %s needs CAP_NET_ADMIN (run as root)\n", what);
		else
			fprintf(stderr, "svcnft: cannot read table inet %s: %s\n",
				table, strerror(err));
		return SVCNFT_EKERNEL;
	}
}

/* libnftables repeats one kernel error for every command of the batch:
 * print the first few lines and count the rest. */
static void print_errors(const char *msg)
{
	const char *p = msg;
	size_t lines = 0;

	fputs("svcnft: the kernel refused the ruleset:\n", stderr);
	for (; *p && lines < 9; lines++) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);

		fwrite(p, 1, n, stderr);
		p += n;
	}
	for (lines = 0; *p; p++)
		lines += *p == '\n';
	if (lines)
		fprintf(stderr, "svcnft: (%zu more line%s of the same kind omitted)\n", lines,
			plural(lines));
}

enum svcnft_status kernel_run(const char *script, bool dry_run)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	const char *msg;
	int rc;

	if (!ctx) {
		fputs("svcnft: cannot create a libnftables context\n", stderr);
		return SVCNFT_EKERNEL;
	}
	nft_ctx_set_dry_run(ctx, dry_run);
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	/* nft resolves "tcp" with getprotobyname() per element; keeping
	 * /etc/protocols open saves ~0.3-0.8 s of system time at 10k services */
	setprotoent(1);
	rc = nft_run_cmd_from_buffer(ctx, script);
	endprotoent();
	msg = nft_ctx_get_error_buffer(ctx);
	if (rc && msg && *msg)
		print_errors(msg);
	else if (rc)
		fputs("svcnft: the kernel refused the ruleset\n", stderr);
	nft_ctx_free(ctx);
	return rc ? SVCNFT_EKERNEL : SVCNFT_OK;
}

void kernel_tune_malloc(char **argv)
{
	static const char tun[] = "glibc.malloc.hugetlb=1";
	const char *cur = getenv("GLIBC_TUNABLES");
	char *val;
	size_t n;

	if (getenv("SVCNFT_NO_HUGEPAGES") || (cur && strstr(cur, "glibc.malloc.hugetlb")))
		return;
	n = (cur ? strlen(cur) + 1 : 0) + sizeof(tun);
	val = malloc(n);
	if (!val)
		return;
	snprintf(val, n, "%s%s%s", cur ? cur : "", cur ? ":" : "", tun);
	if (setenv("GLIBC_TUNABLES", val, 1) == 0 && setenv("SVCNFT_NO_HUGEPAGES", "1", 1) == 0)
		execv("/proc/self/exe", argv);
	free(val);	/* exec failed: carry on without */
}
