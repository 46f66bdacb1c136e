/* kernel: libnftables for transactions, the table owner check. */
#define _GNU_SOURCE	/* unshare */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <sched.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kernel.h"
#include "live.h"
#include "netlink.h"
#include "util.h"

/* The table comment svcnft writes (see render_nft.c). */
#define OWNER_PREFIX "svcnft layout "

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

enum table_state kernel_table_state(const char *name, int *err, uint64_t *handle)
{
	bool exists, ours;
	int ret = live_owner(name, &exists, &ours, handle);

	*err = -ret;
	if (ret)
		return TABLE_ERROR;
	if (!exists)
		return TABLE_ABSENT;
	return ours ? TABLE_OURS : TABLE_FOREIGN;
}

int kernel_private_netns(bool own_user)
{
	if (!own_user && !unshare(CLONE_NEWNET))
		return 0;
	return unshare(CLONE_NEWUSER | CLONE_NEWNET) ? -errno : 0;
}

void kfail_set(struct kfail *f, enum kfail_kind kind, int err, const char *obj)
{
	kfail_free(f);
	f->kind = kind;
	f->err = err;
	if (obj)
		snprintf(f->obj, sizeof(f->obj), "%s", obj);
}

void kfail_free(struct kfail *f)
{
	free(f->text);
	*f = (struct kfail){0};
}

enum svcnft_status kernel_run(const char *script, bool dry_run,
			      struct kfail *f)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	const char *msg;
	int rc;

	if (!ctx) {
		kfail_set(f, KF_NO_CONTEXT, 0, NULL);
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
	if (rc) {
		kfail_set(f, KF_SCRIPT, 0, NULL);
		f->text = msg && *msg ? xstrdup(msg) : NULL;
	}
	nft_ctx_free(ctx);
	return rc ? SVCNFT_EKERNEL : SVCNFT_OK;
}

/* Standard error to /dev/null and back: libnftables writes some errors
 * there itself ("Operation not permitted (you must be root)"). */
static int stderr_off(void)
{
	int saved, null;

	fflush(stderr);
	saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDERR_FILENO);
		close(null);
	}
	return saved;
}

static void stderr_on(int saved)
{
	if (saved < 0)
		return;
	dup2(saved, STDERR_FILENO);
	close(saved);
}

/* A definition: its name is an identifier as a table's is, read in the
 * scanner's first state too (the same verdict as `add table inet NAME`
 * for the 3,400 words of nft's man page and library), and unlike a table
 * it needs nothing from the kernel, so not root. */
bool kernel_name_parses(const char *name)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	struct svcnft_buf b = {0};
	int rc, saved;

	if (!ctx)
		return true;	/* cannot tell: the script will say */
	nft_ctx_set_dry_run(ctx, true);
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	buf_printf(&b, "define %s = 1\n", name);
	saved = stderr_off();
	rc = nft_run_cmd_from_buffer(ctx, b.data);
	stderr_on(saved);
	nft_ctx_free(ctx);
	svcnft_buf_free(&b);
	return rc == 0;
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
