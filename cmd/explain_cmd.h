/* explain_cmd: the explain command, and the flow arguments it shares with
 * trace (cmd/trace.c). */
#ifndef SVCNFT_EXPLAIN_CMD_H
#define SVCNFT_EXPLAIN_CMD_H

#include "model.h"

#define EXPLAIN_MAX_LOCAL 64

/* A flow as the options and DEST:PORT[/PROTO] give it. */
struct flow_opts {
	const char *from;		/* ADDR, "node" or NULL */
	const char *local[EXPLAIN_MAX_LOCAL];	/* --local-address */
	size_t n_local;
	const char *dest;		/* DEST:PORT[/PROTO] */
	bool json;			/* -o json */
};

/* A parsed flow; FROM_NODE leaves SRC unset. */
struct flow {
	struct ipaddr src, dst;
	bool src_set, from_node;
	enum proto proto;
	uint16_t port;
};

/* Parse O's destination and --from (same family); false with a message. */
bool flow_parse(const struct flow_opts *o, struct flow *f);

/* Where the ruleset compiled from M with CFG sends the flow of O. */
enum svcnft_status cmd_explain(const struct svcnft_model *m,
			       const struct svcnft_config *cfg,
			       const struct flow_opts *o);

#endif
