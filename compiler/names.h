/* Kubernetes name rules.  Each returns NULL when S is valid, otherwise the
 * API server's detail text. */
#ifndef SVCNFT_NAMES_H
#define SVCNFT_NAMES_H

const char *check_dns1035_label(const char *s);
const char *check_dns1123_label(const char *s);
const char *check_dns1123_subdomain(const char *s);
const char *check_iana_svc_name(const char *s);
const char *check_label_value(const char *s);

#endif
