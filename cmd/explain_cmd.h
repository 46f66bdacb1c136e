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
	char **dests;			/* DEST:PORT[/PROTO]... */
	size_t n_dests;
	bool json;			/* -o json */
};

/* A parsed flow; FROM_NODE leaves SRC unset. */
struct flow {
	struct ipaddr src, dst;
	bool src_set, from_node;
	enum proto proto;
	uint16_t port;
};

/* Whether S has the form of a destination (not a PATH). */
bool flow_is_dest(const char *s);
/* Parse destination DEST and O's --from (same family); false with a
 * message. */
bool flow_parse(const struct flow_opts *o, const char *dest, struct flow *f);

/* Where the ruleset compiled from M with CFG sends the flows of O (one
 * per destination: text blocks, or one JSON object per line). */
enum svcnft_status cmd_explain(const struct svcnft_model *m,
			       const struct svcnft_config *cfg,
			       const struct flow_opts *o);

#endif
