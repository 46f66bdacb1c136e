/* owner: the ownership check and its messages (see owner.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kernel.h"
#include "owner.h"
#include "util.h"

void owner_no_privilege(const char *what, const char *detail)
{
	fprintf(stderr, "svcnft: %s needs CAP_NET_ADMIN (run as root)%s%s\n", what,
		detail ? ": " : "", detail ? detail : "");
}

void owner_report(const char *what, const char *table, int err)
{
	if (err == EPERM || err == EACCES)
		owner_no_privilege(what, NULL);
	else if (err == EINTR)
		fprintf(stderr, "svcnft: table inet %s kept changing while being read (5 tries); "
			"try again\n", table);
	else if (err == EAGAIN)
		fprintf(stderr, "svcnft: no answer from the kernel while reading table inet %s\n",
			table);
	else if (err)
		fprintf(stderr, "svcnft: cannot read table inet %s: %s\n", table, strerror(err));
	else
		fprintf(stderr, "svcnft: table inet %s exists and was not created by svcnft; "
			"leaving it alone (choose another --table)\n", table);
}

void owner_report_live(const char *what, const char *table, int err,
		       const struct elements *live)
{
	if (err == EPROTO)	/* only a live read's elements say this */
		fprintf(stderr, "svcnft: set %s of table inet %s holds elements svcnft did not "
			"write; leaving it alone\n",
			live->foreign_set ? live->foreign_set : "(unnamed)", table);
	else
		owner_report(what, table, err);
}

/* libnftables repeats one kernel error for every command of the batch:
 * the first few lines of MSG, and how many more. */
static void script_errors(const char *msg)
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

/* A batch the kernel refused: the first object and error, how many more. */
static void refused(const struct kfail *f)
{
	fprintf(stderr, "svcnft: the kernel refused %s: %s\n", f->obj, strerror(f->err));
	if (f->more)
		fprintf(stderr, "svcnft: ... and %u more error%s; nothing was changed\n",
			f->more, plural(f->more));
}

void owner_kfail(struct kfail *f)
{
	switch (f->kind) {
	case KF_NONE: break;
	case KF_NO_CONTEXT: fputs("svcnft: cannot create a libnftables context\n", stderr); break;
	case KF_SCRIPT:
		if (f->text)
			script_errors(f->text);
		else
			fputs("svcnft: the kernel refused the ruleset\n", stderr);
		break;
	case KF_SOCKET:
		fprintf(stderr, "svcnft: cannot open a netlink socket: %s\n", strerror(f->err));
		break;
	case KF_SEND:
		fprintf(stderr, "svcnft: cannot send the batch (%zu bytes): %s\n", f->bytes,
			strerror(f->err));
		break;
	case KF_REFUSED: refused(f); break;
	case KF_OVERFLOW:
		fputs("svcnft: the kernel refused the batch (too many errors to list)\n", stderr);
		break;
	case KF_NOT_COMMITTED:
		fputs("svcnft: the kernel did not commit the batch (the ruleset generation did not move)\n",
		      stderr);
		break;
	case KF_NO_NETNS:
		fputs("svcnft: cannot create a private network namespace for the netlink batch; "
		      "loading the script through libnftables (slower)\n", stderr);
		break;
	case KF_TEMPLATE:
		fprintf(stderr, "svcnft: the netlink batch failed to prepare (%d); "
			"loading the script through libnftables\n", f->err);
		break;
	}
	kfail_free(f);
}

/* The verdict on state ST (errno ERR) of TABLE, with the message. */
static enum svcnft_status verdict(enum table_state st, int err, const char *table,
				  const char *what, uint64_t *handle)
{
	if (st == TABLE_ABSENT || st == TABLE_OURS) {
		if (st == TABLE_ABSENT)
			*handle = 0;
		return SVCNFT_OK;
	}
	owner_report(what, table, st == TABLE_FOREIGN ? 0 : err);
	return SVCNFT_EKERNEL;
}

enum svcnft_status owner_handle(const char *table, const char *what,
				uint64_t *handle)
{
	int err;
	enum table_state st = kernel_table_state(table, &err, handle);

	return verdict(st, err, table, what, handle);
}

enum svcnft_status owner_check(const char *table, const char *what,
			       bool *exists)
{
	uint64_t handle;
	enum svcnft_status st = owner_handle(table, what, &handle);

	*exists = st == SVCNFT_OK && handle;
	return st;
}

enum svcnft_status owner_check_script(const char *table, const char *script,
				      bool *private)
{
	struct kfail f = {0};
	uint64_t handle;
	int err;
	enum table_state st = kernel_table_state(table, &err, &handle);
	enum svcnft_status rc;

	*private = st == TABLE_ERROR && (err == EPERM || err == EACCES) &&
		   kernel_private_netns(true) == 0;
	if (!*private && verdict(st, err, table, "the input is valid; the kernel check",
				 &handle) != SVCNFT_OK)
		return SVCNFT_EKERNEL;
	rc = kernel_run(script, true, &f);	/* a private namespace has no table */
	owner_kfail(&f);
	return rc;
}
