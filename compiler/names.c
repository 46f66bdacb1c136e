/* names: DNS-1035/1123 labels, subdomains, IANA service names and label
 * values. */
#include <stdbool.h>
#include <string.h>

#include "names.h"

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool label_chars_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!lower_alnum(s[i]) && s[i] != '-')
			return false;
	return n > 0 && lower_alnum(s[0]) && lower_alnum(s[n - 1]);
}

const char *check_dns1035_label(const char *s)
{
	size_t n = strlen(s);

	if (n > 63)
		return "must be no more than 63 characters";
	if (!label_chars_ok(s, n) || !(s[0] >= 'a' && s[0] <= 'z'))
		return "a DNS-1035 label must consist of lower case alphanumeric "
		       "characters or '-', start with an alphabetic character, "
		       "and end with an alphanumeric character";
	return NULL;
}

const char *check_dns1123_label(const char *s)
{
	size_t n = strlen(s);

	if (n > 63)
		return "must be no more than 63 characters";
	if (!label_chars_ok(s, n))
		return "a lowercase RFC 1123 label must consist of lower case "
		       "alphanumeric characters or '-', and must start and end "
		       "with an alphanumeric character";
	return NULL;
}

const char *check_dns1123_subdomain(const char *s)
{
	size_t n = strlen(s);
	const char *p = s;

	if (n > 253)
		return "must be no more than 253 characters";
	do {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);

		if (!label_chars_ok(p, len))
			return "a lowercase RFC 1123 subdomain must consist of lower "
			       "case alphanumeric characters, '-' or '.', and must "
			       "start and end with an alphanumeric character";
		p = dot ? dot + 1 : NULL;
	} while (p);
	return NULL;
}

const char *check_iana_svc_name(const char *s)
{
	size_t n = strlen(s);
	bool letter = false;

	if (n > 15)
		return "must be no more than 15 characters";
	for (size_t i = 0; i < n; i++) {
		if (!lower_alnum(s[i]) && s[i] != '-')
			return "must contain only alpha-numeric characters (a-z, 0-9), "
			       "and hyphens (-)";
		letter |= s[i] >= 'a' && s[i] <= 'z';
	}
	if (strstr(s, "--"))
		return "must not contain consecutive hyphens";
	if (n && !letter)
		return "must contain at least one letter (a-z)";
	if (n && (s[0] == '-' || s[n - 1] == '-'))
		return "must not begin or end with a hyphen";
	return NULL;
}

static bool alnum(char c)
{
	return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

const char *check_label_value(const char *s)
{
	size_t n = strlen(s);

	if (n > 63)
		return "must be no more than 63 characters";
	for (size_t i = 0; i < n; i++)
		if (!alnum(s[i]) && !strchr("-_.", s[i]))
			n = 0;
	if (*s && (!n || !alnum(s[0]) || !alnum(s[n - 1])))
		return "a valid label must be an empty string or consist of "
		       "alphanumeric characters, '-', '_' or '.', and must start "
		       "and end with an alphanumeric character (e.g. 'MyValue',  "
		       "or 'my_value',  or '12345', regex used for validation is "
		       "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
	return NULL;
}
