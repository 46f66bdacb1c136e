/* trace_cmd: the trace command (root): nftrace one flow and print the
 * kernel's trace events with service and endpoint names. */
#ifndef SVCNFT_TRACE_CMD_H
#define SVCNFT_TRACE_CMD_H

#include "explain_cmd.h"

struct trace_opts {
	const char *table;
	struct flow_opts flow;		/* --from */
	const char *dest;		/* DEST:PORT[/PROTO] */
	unsigned int count;		/* stop after COUNT packets; 0 = no */
	unsigned int timeout_s;		/* stop after; 0 = no */
};

enum svcnft_status cmd_trace(const struct trace_opts *o);

#endif
