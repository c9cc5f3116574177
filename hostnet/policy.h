/* SPDX-License-Identifier: MIT */
/*
 * Egress policy: which host addresses a VM's sockets may reach (CONNECT,
 * SENDTO) and bind (BIND, LISTEN).  The guest is untrusted; the user says
 * where it may go with rules like
 *     127.0.0.1:8080   10.0.0.0/8   192.168.1.5:1000-2000   [::1]:443   [fd00::]/8:53
 * A rule is ADDR[/PREFIX][:PORT[-PORT]]; IPv6 addresses go in brackets when a
 * prefix or port follows them.  No rules at all means loopback only
 * (127.0.0.0/8 and ::1, any port); once the user gives rules, exactly those
 * apply (so "127.0.0.1:7000" alone narrows loopback to one port).
 * IPv4-mapped IPv6 destinations (::ffff:a.b.c.d) and IPv4-compatible ones
 * (::a.b.c.d, which Linux may tunnel to a.b.c.d) are judged as IPv4, and a
 * rule written as ::ffff:a.b.c.d/96+N is the IPv4 rule a.b.c.d/N.  An
 * unspecified destination (0.0.0.0/8, ::) is judged as loopback (127.0.0.1,
 * ::1): Linux connects it to the socket's own address or loopback.
 *
 * Local addresses (BIND, and LISTEN on a socket the kernel would bind to the
 * wildcard) must be loopback unless listen_any is set, and their port 0 (the
 * kernel picks one) or, without bind_ports rules, 1024 and up; with
 * bind_ports rules (PORT[-PORT]), 0 or one of those.
 *
 * Everything here is pure (no allocation, no I/O) except the rate-limited
 * denial log at the bottom.
 */
#ifndef VS_HOSTNET_POLICY_H
#define VS_HOSTNET_POLICY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define HOSTNET_POLICY_MAX_RULES 64u

struct hostnet_rule {
	uint8_t family;     /* 4 or 6 */
	uint8_t prefix;     /* 0..32 / 0..128 */
	uint16_t port_lo;   /* host order, inclusive; 0..65535 = any port */
	uint16_t port_hi;
	uint8_t addr[16];   /* network order; IPv4 in the first 4 bytes; masked */
};

struct hostnet_port_range {
	uint16_t lo, hi;    /* host order, inclusive */
};

/* Without bind_ports rules, local ports from this one up (0: any port). */
#define HOSTNET_DEFAULT_MIN_BIND_PORT 1024u

struct hostnet_policy {
	uint32_t nr_rules;  /* 0: loopback only */
	struct hostnet_rule rules[HOSTNET_POLICY_MAX_RULES];
	bool listen_any;    /* BIND/LISTEN may use non-loopback local addresses */
	uint32_t nr_bind_ports; /* 0: ports >= HOSTNET_DEFAULT_MIN_BIND_PORT */
	struct hostnet_port_range bind_ports[HOSTNET_POLICY_MAX_RULES];
};

/* Parse one rule.  0, or -EINVAL with one line (no newline) in msg. */
int hostnet_rule_parse(const char *text, struct hostnet_rule *out, char *msg, size_t msglen);

/* Append a parsed rule; -ENOSPC past HOSTNET_POLICY_MAX_RULES. */
int hostnet_policy_add(struct hostnet_policy *p, const char *text, char *msg, size_t msglen);

/* Append a local port rule "PORT[-PORT]" (--bind-ports); -EINVAL with a
 * message, -ENOSPC past HOSTNET_POLICY_MAX_RULES. */
int hostnet_policy_add_bind_ports(struct hostnet_policy *p, const char *text, char *msg,
				  size_t msglen);

/* May a socket send to / connect to sa?  Unknown families: no. */
bool hostnet_policy_allows_peer(const struct hostnet_policy *p, const struct sockaddr *sa,
				socklen_t len);

/* May a socket bind to / listen on local address sa? */
bool hostnet_policy_allows_local(const struct hostnet_policy *p, const struct sockaddr *sa,
				 socklen_t len);

/* "10.0.0.1:80" / "[::1]:80" into buf (for log lines). */
void hostnet_sockaddr_str(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen);

/* Denials are logged at most once a second per VM, with how many were not. */
struct hn_deny_log {
	pthread_mutex_t lock;
	uint64_t last_ns;       /* when the last line went out (0: never) */
	uint64_t suppressed;    /* denials since then without a line */
	uint64_t denied;        /* every denial, logged or not (statistics) */
};

void hn_deny_log_init(struct hn_deny_log *l);
void hn_deny_log_destroy(struct hn_deny_log *l);
/* Count a denial and log "op to sa denied" unless a line went out less than
 * a second ago. */
void hn_deny_log_note(struct hn_deny_log *l, const char *op, const struct sockaddr *sa,
		      socklen_t len, uint64_t now_ns);
/* Denials noted so far. */
uint64_t hn_deny_log_count(const struct hn_deny_log *l);

#endif
