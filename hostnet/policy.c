/* SPDX-License-Identifier: MIT */
/* Egress policy: rule parsing, matching, and the rate-limited denial log. */
#include "policy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "errmsg.h"


/* A decimal number <= max at *s, advancing *s; -1 if there is none. */
static long number(const char **s, long max)
{
	const char *p = *s;
	long v = 0;
	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (*p - '0');
		if (v > max)
			return -1;
	}
	*s = p;
	return v;
}

static void mask(uint8_t *addr, unsigned prefix, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++) {
		unsigned bits = prefix > i * 8 ? prefix - i * 8 : 0;
		if (bits < 8)
			addr[i] &= (uint8_t)(0xff00u >> bits);
	}
}

#define RULE_SYNTAX "expected ADDR[/PREFIX][:PORT[-PORT]], e.g. 10.0.0.0/8:80-443 or [::1]:22"

/* ADDR (IPv6 possibly in brackets) at the start of text into out->family and
 * out->addr; *rest points past it. */
static int parse_addr(const char *text, struct hostnet_rule *out, const char **rest, char *msg,
		      size_t msglen)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *p = text, *end;
	if (*p == '[') {
		end = strchr(p, ']');
		if (!end)
			return vs_errmsg(-EINVAL, msg, msglen, "bad rule '%s': no ']' after the IPv6 "
					 "address", text);
		p++;
		out->family = 6;
	} else {
		/* Two colons or more: a bare IPv6 address (no port possible). */
		const char *c = strchr(p, ':');
		out->family = c && strchr(c + 1, ':') ? 6 : 4;
		end = p + strcspn(p, out->family == 6 ? "/" : "/:");
	}
	if ((size_t)(end - p) >= sizeof(addr) || end == p)
		return vs_errmsg(-EINVAL, msg, msglen, "bad rule '%s': " RULE_SYNTAX, text);
	memcpy(addr, p, (size_t)(end - p));
	addr[end - p] = '\0';
	if (inet_pton(out->family == 4 ? AF_INET : AF_INET6, addr, out->addr) != 1)
		return vs_errmsg(-EINVAL, msg, msglen, "bad rule '%s': '%s' is not an IPv%u address",
				 text, addr, out->family);
	*rest = end + (*end == ']');
	return 0;
}

/* [:PORT[-PORT]] at p into out's port range (all ports without one). */
static int parse_ports(const char *text, const char *p, struct hostnet_rule *out, char *msg,
		       size_t msglen)
{
	out->port_lo = 0;
	out->port_hi = 65535;
	if (*p == ':' && out->family == 6 && text[0] != '[')
		return vs_errmsg(-EINVAL, msg, msglen, "bad rule '%s': put an IPv6 address in "
				 "brackets before a port, e.g. [::1]:22", text);
	if (*p == ':') {
		p++;
		long lo = number(&p, 65535), hi = lo;
		if (lo >= 0 && *p == '-') {
			p++;
			hi = number(&p, 65535);
		}
		if (lo < 0 || hi < 0 || hi < lo)
			return vs_errmsg(-EINVAL, msg, msglen, "bad rule '%s': ports are 0..65535, a "
					 "range is LOW-HIGH with LOW <= HIGH", text);
		out->port_lo = (uint16_t)lo;
		out->port_hi = (uint16_t)hi;
	}
	if (*p)
		return vs_errmsg(-EINVAL, msg, msglen, "bad rule '%s': unexpected '%s'; " RULE_SYNTAX,
				 text, p);
	return 0;
}

int hostnet_rule_parse(const char *text, struct hostnet_rule *out, char *msg, size_t msglen)
{
	const char *p = text;
	memset(out, 0, sizeof(*out));
	if (!text || !*text)
		return vs_errmsg(-EINVAL, msg, msglen, "empty rule: " RULE_SYNTAX);
	int err = parse_addr(text, out, &p, msg, msglen);
	if (err)
		return err;

	unsigned max_prefix = out->family == 4 ? 32 : 128;
	out->prefix = (uint8_t)max_prefix;
	if (*p == '/') {
		p++;
		long n = number(&p, max_prefix);
		if (n < 0)
			return vs_errmsg(-EINVAL, msg, msglen, "bad rule '%s': the prefix must be "
					 "0..%u", text, max_prefix);
		out->prefix = (uint8_t)n;
	}
	mask(out->addr, out->prefix, out->family == 4 ? 4 : 16);
	return parse_ports(text, p, out, msg, msglen);
}

int hostnet_policy_add(struct hostnet_policy *pol, const char *text, char *msg, size_t msglen)
{
	if (pol->nr_rules >= HOSTNET_POLICY_MAX_RULES)
		return vs_errmsg(-ENOSPC, msg, msglen, "too many rules: at most %u",
				 HOSTNET_POLICY_MAX_RULES);
	int r = hostnet_rule_parse(text, &pol->rules[pol->nr_rules], msg, msglen);
	if (r == 0)
		pol->nr_rules++;
	return r;
}

/* An address reduced to what rules talk about: family 4 or 6, bytes, port. */
struct endpoint {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
};

static bool decode(const struct sockaddr *sa, socklen_t len, struct endpoint *e)
{
	memset(e, 0, sizeof(*e));
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		e->family = 4;
		memcpy(e->addr, &s4->sin_addr, 4);
		e->port = ntohs(s4->sin_port);
		return true;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		e->port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			/* A dual-stack socket reaches the IPv4 host: judge it as one. */
			e->family = 4;
			memcpy(e->addr, s6->sin6_addr.s6_addr + 12, 4);
		} else {
			e->family = 6;
			memcpy(e->addr, &s6->sin6_addr, 16);
		}
		return true;
	}
	return false;
}

static bool rule_matches(const struct hostnet_rule *r, const struct endpoint *e)
{
	if (r->family != e->family || e->port < r->port_lo || e->port > r->port_hi)
		return false;
	uint8_t a[16];
	memcpy(a, e->addr, sizeof(a));
	mask(a, r->prefix, r->family == 4 ? 4 : 16);
	return !memcmp(a, r->addr, r->family == 4 ? 4 : 16);
}

static bool is_loopback(const struct endpoint *e)
{
	static const uint8_t v6_loopback[16] = { [15] = 1 };
	if (e->family == 4)
		return e->addr[0] == 127;
	return !memcmp(e->addr, v6_loopback, 16);
}

bool hostnet_policy_allows_peer(const struct hostnet_policy *p, const struct sockaddr *sa,
				socklen_t len)
{
	struct endpoint e;
	if (!decode(sa, len, &e))
		return false;
	if (p->nr_rules == 0)
		return is_loopback(&e);
	for (uint32_t i = 0; i < p->nr_rules && i < HOSTNET_POLICY_MAX_RULES; i++)
		if (rule_matches(&p->rules[i], &e))
			return true;
	return false;
}

bool hostnet_policy_allows_local(const struct hostnet_policy *p, const struct sockaddr *sa,
				 socklen_t len)
{
	struct endpoint e;
	if (!decode(sa, len, &e))
		return false;
	return p->listen_any || is_loopback(&e);
}

void hostnet_sockaddr_str(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen)
{
	char a[INET6_ADDRSTRLEN];
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, buflen, "%s:%u", a, ntohs(s4->sin_port));
	} else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, buflen, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else {
		snprintf(buf, buflen, "(family %u)", sa->sa_family);
	}
}

void hn_deny_log_init(struct hn_deny_log *l)
{
	pthread_mutex_init(&l->lock, NULL);
	l->last_ns = 0;
	l->suppressed = 0;
	l->denied = 0;
}

void hn_deny_log_destroy(struct hn_deny_log *l)
{
	pthread_mutex_destroy(&l->lock);
}

void hn_deny_log_note(struct hn_deny_log *l, const char *op, const struct sockaddr *sa,
		      socklen_t len, uint64_t now_ns)
{
	pthread_mutex_lock(&l->lock);
	__atomic_fetch_add(&l->denied, 1, __ATOMIC_RELAXED); /* read without the lock */
	/* A flooding guest must not flood the user's terminal: one line a second. */
	if (l->last_ns && now_ns - l->last_ns < 1000000000ull) {
		l->suppressed++;
		pthread_mutex_unlock(&l->lock);
		return;
	}
	uint64_t suppressed = l->suppressed;
	l->suppressed = 0;
	l->last_ns = now_ns ? now_ns : 1;
	pthread_mutex_unlock(&l->lock);

	char where[INET6_ADDRSTRLEN + 16];
	hostnet_sockaddr_str(sa, len, where, sizeof(where));
	if (suppressed)
		fprintf(stderr, "hostnet: denied guest %s %s by the egress policy (allow it with "
			"--allow / --listen-any); %llu more denials not shown\n", op, where,
			(unsigned long long)suppressed);
	else
		fprintf(stderr, "hostnet: denied guest %s %s by the egress policy (allow it with "
			"--allow / --listen-any)\n", op, where);
}

uint64_t hn_deny_log_count(const struct hn_deny_log *l)
{
	return __atomic_load_n(&l->denied, __ATOMIC_RELAXED);
}
