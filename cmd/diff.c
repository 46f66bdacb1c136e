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
#include "conntrack.h"
#include "diff.h"
#include "kernel.h"
#include "live.h"
#include "owner.h"
#include "stale.h"
#include "util.h"
#include "fileio.h"

/* The diff command. */

/* The live table into LIVE; a message and false if it cannot be used. */
static bool read_live(const char *table, struct elements *live)
{
	int ret = live_read(table, live);

	if (ret || (live->exists && !live->ours))
		owner_report_live("diff", table, -ret, live);
	return !ret && (!live->exists || live->ours);
}

/* How many UDP/SCTP conntrack entries an apply that checks every service
 * port would delete after changes C (a line only when P has such ports). */
static void report_conntrack(const struct plan *p, const struct changes *c)
{
	struct conntrack_result r;
	struct stale_set ct;

	stale_build(&ct, p, c, true);
	if (ct.n) {
		conntrack_clean(&ct, true, &r);
		printf("conntrack: %zu stale entr%s of %zu UDP/SCTP service port%s would be deleted\n",
		       r.deleted, r.deleted == 1 ? "y" : "ies", r.keys, plural(r.keys));
		if (r.err)
			fprintf(stderr, "svcnft: warning: conntrack: some entries could not be checked: %s\n",
				strerror(-r.err));
	}
	stale_free(&ct);
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
	if (c.full && live.exists && !against)
		fprintf(stderr, "svcnft: apply would replace the whole table: %s\n", c.full);
	if (!against)
		report_conntrack(&p, &c);
	if (!fflush(stdout))
		st = changes_empty(&c) ? SVCNFT_OK : SVCNFT_CHANGED;
	changes_free(&c);
	elements_free(&want);
	elements_free(&live);
	plan_free(&p);
	return st;
}
