/* discovery internals, exposed for the unit tests. */
#ifndef SVCNFT_DISCOVERY_H
#define SVCNFT_DISCOVERY_H

#include "model.h"
#include "util.h"

/* Append S as one POSIX sh word: bare when every byte is in
 * [A-Za-z0-9._:/-] (plus '[' and ']' when ASSIGNMENT: the value of an
 * assignment is not subject to pathname expansion), else single-quoted. */
void disc_sh_word(struct svcnft_buf *b, const char *s, bool assignment);

/* An address as text, IPv6 always in hex groups (RFC 5952 otherwise). */
void disc_format_ip(const struct ipaddr *a, char *buf, size_t len);

/* "11.0.0.10.in-addr.arpa." or the 32-nibble ".ip6.arpa." name. */
void disc_reverse_name(const struct ipaddr *a, char *buf, size_t len);

/* The generated endpoint hostname: the IP with '.' and ':' as '-'; an IPv6
 * form starting or ending in '-' gets a '0' there ("::5" -> "0--5"). */
void disc_dashed_ip(const struct ipaddr *a, char *buf, size_t len);

/* FQDN (trailing dot) fits DNS: labels 1..63 bytes, 255 bytes on the wire. */
bool disc_name_ok(const char *fqdn);

#endif
