/* localaddr: this node's own addresses, as the kernel lists them (an
 * RTM_GETADDR dump through the netlink core). */
#ifndef SVCNFT_LOCALADDR_H
#define SVCNFT_LOCALADDR_H

#include <stddef.h>

#include "svcnft.h"

/* Every IPv4 and IPv6 address of every interface but the host ones
 * (/32, /128) into *OUT (the caller frees it) and *N: 0 or -errno. */
int local_addrs(struct svcnft_node_addr **out, size_t *n);

#endif
