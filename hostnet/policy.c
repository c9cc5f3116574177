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

/* "PORT[-PORT]" at *s (advancing it) into lo/hi; false if malformed. */
static bool port_range(const char **s, uint16_t *lo, uint16_t *hi)
{
	long l = number(s, 65535), h = l;
	if (l >= 0 && **s == '-') {
		(*s)++;
		h = number(s, 65535);
	}
	if (l < 0 || h < 0 || h < l)
		return false;
	*lo = (uint16_t)l;
	*hi = (uint16_t)h;
	return true;
}

static const uint8_t v4_mapped_prefix[12] = { [10] = 0xff, [11] = 0xff };

/* A rule on ::ffff:a.b.c.d/96+N is the IPv4 rule a.b.c.d/N: destinations are
 * judged that way, so the IPv6 form would never match. */
static void rule_unmap_v4(struct hostnet_rule *r)
{
	if (r->family != 6 || r->prefix < 96 || memcmp(r->addr, v4_mapped_prefix, 12))
		return;
	r->family = 4;
	r->prefix = (uint8_t)(r->prefix - 96);
	memmove(r->addr, r->addr + 12, 4);
	memset(r->addr + 4, 0, 12);
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
		if (!port_range(&p, &out->port_lo, &out->port_hi))
			return vs_errmsg(-EINVAL, msg, msglen, "bad rule '%s': ports are 0..65535, a "
					 "range is LOW-HIGH with LOW <= HIGH", text);
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
	err = parse_ports(text, p, out, msg, msglen);
	if (!err)
		rule_unmap_v4(out);
	return err;
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

int hostnet_policy_add_bind_ports(struct hostnet_policy *pol, const char *text, char *msg,
				  size_t msglen)
{
	if (pol->nr_bind_ports >= HOSTNET_POLICY_MAX_RULES)
		return vs_errmsg(-ENOSPC, msg, msglen, "too many port rules: at most %u",
				 HOSTNET_POLICY_MAX_RULES);
	struct hostnet_port_range *r = &pol->bind_ports[pol->nr_bind_ports];
	const char *p = text ? text : "";
	if (!port_range(&p, &r->lo, &r->hi) || *p)
		return vs_errmsg(-EINVAL, msg, msglen, "bad port rule '%s': expected PORT[-PORT] "
				 "with ports 0..65535 and LOW <= HIGH, e.g. 8080 or 5000-5999",
				 text ? text : "");
	pol->nr_bind_ports++;
	return 0;
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
		const struct in6_addr *a = &s6->sin6_addr;
		e->port = ntohs(s6->sin6_port);
		bool compat = !memcmp(a->s6_addr, v4_mapped_prefix, 10) && !a->s6_addr[10] &&
			      !a->s6_addr[11] && !IN6_IS_ADDR_UNSPECIFIED(a) &&
			      !IN6_IS_ADDR_LOOPBACK(a);
		if (IN6_IS_ADDR_V4MAPPED(a) || compat) {
			/* A dual-stack socket reaches the IPv4 host (and Linux may
			 * tunnel ::a.b.c.d to a.b.c.d): judge it as IPv4. */
			e->family = 4;
			memcpy(e->addr, a->s6_addr + 12, 4);
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

/* Linux sends to an unspecified destination (0.0.0.0 or ::) via loopback:
 * judge it as 127.0.0.1 / ::1.  Only the address itself: since Linux 5.3 the
 * rest of 0.0.0.0/8 is routed like any other address (0.0.255.1 leaves by the
 * default route), so it is judged as what it is. */
static void unspecified_as_loopback(struct endpoint *e)
{
	static const uint8_t any[16]; /* 0.0.0.0 in its first 4 bytes, :: in all */
	if (e->family == 4 && !memcmp(e->addr, any, 4)) {
		memcpy(e->addr, (const uint8_t[4]){ 127, 0, 0, 1 }, 4);
	} else if (e->family == 6 && !memcmp(e->addr, any, 16)) {
		e->addr[15] = 1;
	}
}

bool hostnet_policy_allows_peer(const struct hostnet_policy *p, const struct sockaddr *sa,
				socklen_t len)
{
	struct endpoint e;
	if (!decode(sa, len, &e))
		return false;
	unspecified_as_loopback(&e);
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
	if (!p->listen_any && !is_loopback(&e))
		return false;
	if (e.port == 0) /* the kernel picks an ephemeral port */
		return true;
	if (p->nr_bind_ports == 0)
		return e.port >= HOSTNET_DEFAULT_MIN_BIND_PORT;
	for (uint32_t i = 0; i < p->nr_bind_ports && i < HOSTNET_POLICY_MAX_RULES; i++)
		if (e.port >= p->bind_ports[i].lo && e.port <= p->bind_ports[i].hi)
			return true;
	return false;
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
			"--allow / --listen-any / --bind-ports); %llu more denials not shown\n", op, where,
			(unsigned long long)suppressed);
	else
		fprintf(stderr, "hostnet: denied guest %s %s by the egress policy (allow it with "
			"--allow / --listen-any / --bind-ports)\n", op, where);
}

uint64_t hn_deny_log_count(const struct hn_deny_log *l)
{
	return __atomic_load_n(&l->denied, __ATOMIC_RELAXED);
}
