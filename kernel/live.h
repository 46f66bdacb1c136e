/* live: read svcnft's table back from the kernel over netlink (libmnl).
 *
 * The result uses the canonical strings of compiler/elements.h, so that it
 * compares with what the compiler would load.  The dynamic affinity sets
 * (connection state) are listed without their elements. */
#ifndef SVCNFT_LIVE_H
#define SVCNFT_LIVE_H

#include <stdint.h>

#include "elements.h"

/* Chains of `svcnft trace` (kernel/trace.h) carry this prefix: reads skip
 * them and their rules, so a trace running is no drift for apply. */
#define LIVE_TRACE_PREFIX "trace-"
bool live_trace_chain(const char *name);

/* Read table inet TABLE into ELS (initialised here).  A missing table gives
 * exists = false; a table without svcnft's comment gives ours = false and
 * nothing else.  A dump the kernel flags as interrupted, or during which
 * the generation id moved, is read again, up to 5 times.  Returns 0, or
 * -errno (EINTR: the ruleset kept changing; EAGAIN: no answer within
 * NL_TIMEOUT seconds; EPROTO: a set holds elements svcnft did not write). */
int live_read(const char *table, struct elements *els);

/* A hash of every rule of table inet TABLE (as live_read puts in
 * rules_hash): equal hashes, equal rules.  0 or -errno. */
int live_rules_hash(const char *table, uint64_t *hash);

/* Whether table inet TABLE exists and is svcnft's: it carries the comment
 * "svcnft layout N" and the marker set cluster-ips4 of type ipv4_addr
 * (what live_read checks too); its handle (never 0) into *HANDLE, as read
 * with the comment.  0 or -errno. */
int live_owner(const char *table, bool *exists, bool *ours, uint64_t *handle);

/* A digest of table inet TABLE's objects (not their elements or rules):
 * the table's handle, flags and comment, each set's and chain's name and
 * handle, the base chains' hooks and policies.  0 or -errno. */
int live_digest(const char *table, uint64_t *digest);

/* Dump request TYPE (NFT_MSG_GETCHAIN ...) for table inet TABLE (and set
 * SET): every reply message appended to OUT as the kernel sent it.  0 or
 * -errno (-EINTR: the ruleset changed during the dump). */
int live_dump(uint16_t type, const char *table, const char *set,
	      struct svcnft_buf *out);

/* The ruleset generation id; 0 or -errno. */
int live_genid(uint32_t *gen);

#endif
