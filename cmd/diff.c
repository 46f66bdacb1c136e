/* diff: the diff command: the desired table against the live one (or a
 * saved script), printed as a unified diff per service. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "changes.h"
#include "diff.h"
#include "live.h"
#include "util.h"

/* The diff command. */

/* The live table into LIVE; a message and false if it cannot be used. */
static bool read_live(const char *table, struct elements *live)
{
	int ret = live_read(table, live);

	if (ret == -EPERM || ret == -EACCES)
		fputs("svcnft: reading the kernel's table needs CAP_NET_ADMIN (run as root)\n", stderr);
	else if (ret == -EINTR)
		fprintf(stderr, "svcnft: table inet %s kept changing while being read (5 tries); try again\n",
			table);
	else if (ret == -EAGAIN)
		fprintf(stderr, "svcnft: no answer from the kernel while reading table inet %s\n",
			table);
	else if (ret)
		fprintf(stderr, "svcnft: cannot read table inet %s: %s\n", table, strerror(-ret));
	else if (live->exists && !live->ours)
		fprintf(stderr, "svcnft: table inet %s exists and was not created by svcnft; "
			"leaving it alone (choose another --table)\n", table);
	return !ret && (!live->exists || live->ours);
}

enum svcnft_status cmd_diff(const struct svcnft_model *m,
			    const struct svcnft_config *cfg, const char *against)
{
	struct elements want, live;
	struct diff_summary sum;
	struct svcnft_buf text = {0};
	struct changes c;
	struct plan p;
	char err[160];
	enum svcnft_status st = SVCNFT_EUSAGE;

	elements_init(&live);
	if (against && !buf_read_file(&text, against)) {
		fprintf(stderr, "svcnft: --against: cannot read %s: %s\n", against, strerror(errno));
		return SVCNFT_EUSAGE;
	}
	if (against && !elements_parse_script(&live, text.data, err, sizeof(err))) {
		fprintf(stderr, "svcnft: --against: %s: %s\n", against, err);
		svcnft_buf_free(&text);
		return SVCNFT_EUSAGE;
	}
	svcnft_buf_free(&text);
	if (!against && !read_live(cfg->table, &live)) {
		elements_free(&live);
		return SVCNFT_EKERNEL;
	}
	plan_build(&p, m, cfg);
	elements_from_plan(&want, &p);
	changes_compute(&c, &want, &live);
	diff_print(&text, &c, &want, &live, isatty(STDOUT_FILENO), &sum);
	if (text.len)
		fwrite(text.data, 1, text.len, stdout);
	svcnft_buf_free(&text);
	printf("%zu service%s added, %zu removed, %zu changed; %zu endpoint%s added, %zu removed\n",
	       sum.svc_added, plural(sum.svc_added), sum.svc_removed, sum.svc_changed,
	       sum.ep_added, plural(sum.ep_added), sum.ep_removed);
	if (!fflush(stdout))
		st = changes_empty(&c) ? SVCNFT_OK : SVCNFT_CHANGED;
	changes_free(&c);
	elements_free(&want);
	elements_free(&live);
	plan_free(&p);
	return st;
}
