/* owner: the ownership check and its messages (see owner.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kernel.h"
#include "owner.h"

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
	uint64_t handle;
	int err;
	enum table_state st = kernel_table_state(table, &err, &handle);

	*private = st == TABLE_ERROR && (err == EPERM || err == EACCES) &&
		   kernel_private_netns(true) == 0;
	if (!*private && verdict(st, err, table, "the input is valid; the kernel check",
				 &handle) != SVCNFT_OK)
		return SVCNFT_EKERNEL;
	return kernel_run(script, true);	/* a private namespace has no table */
}
