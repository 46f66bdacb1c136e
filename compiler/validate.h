/* validate: the messages of the rules between objects, which the engine
 * checks (compiler/engine_batch.c).  Each marks S invalid
 * (the warning marks the address . port ignored) and records one message
 * in the API server's words. */
#ifndef SVCNFT_VALIDATE_H
#define SVCNFT_VALIDATE_H

#include "model.h"

/* IP, a cluster IP of S, is already another service's. */
void validate_vip_taken(struct svcnft_errors *errs, struct svc *s,
			const struct ipaddr *ip);
/* The node port of S's port IDX (SIZE_MAX: its healthCheckNodePort) is
 * already another service's. */
void validate_node_port_taken(struct svcnft_errors *errs, struct svc *s,
			      size_t idx);
/* External address EXT of S, port SP, is OWNER's (a warning): ignored. */
void validate_ext_taken(struct svcnft_errors *errs, struct svc *s, size_t ext,
			size_t sp, const struct svc *owner);
/* S is also defined in OTHER_FILE. */
void validate_duplicate(struct svcnft_errors *errs, struct svc *s,
			const char *other_file);

#endif
