/* SPDX-License-Identifier: MIT */
/*
 * getaddrinfo() without a resolver: numeric addresses, "localhost", and numeric
 * services.  One result per address and socket type (0: stream, then datagram), in
 * one allocation per result that freeaddrinfo() frees.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netdb.h>

struct ai_block {
	struct addrinfo ai;
	struct sockaddr_in6 sa; /* big enough for either family */
	char canon[64];
};

/* The service as a port in network order; false if it is not a number 0..65535. */
static bool parse_service(const char *service, uint16_t *port)
{
	char *end;
	unsigned long v;

	*port = 0;
	if (!service)
		return true;
	if (*service < '0' || *service > '9')
		return false;
	v = strtoul(service, &end, 10);
	if (*end || v > 65535)
		return false;
	*port = htons((uint16_t)v);
	return true;
}

/* One address of the node: family and bytes.  At most two (localhost: v4 and v6). */
struct node_addr {
	int family;
	uint8_t bytes[16];
};

static int node_addrs(const char *node, const struct addrinfo *h, struct node_addr out[2])
{
	static const uint8_t lo6[16] = { [15] = 1 }, lo4[4] = { 127, 0, 0, 1 };
	int want = h->ai_family, n = 0;

	memset(out, 0, 2 * sizeof(*out));
	if (node && inet_pton(AF_INET, node, out[0].bytes) == 1)
		out[n++].family = AF_INET;
	else if (node && inet_pton(AF_INET6, node, out[0].bytes) == 1)
		out[n++].family = AF_INET6;
	if (n)
		return want == AF_UNSPEC || want == out[0].family ? n : EAI_FAMILY;
	if (node && (h->ai_flags & AI_NUMERICHOST || strcmp(node, "localhost") != 0))
		return EAI_NONAME; /* no resolver in the guest */
	/* node NULL: the wildcard address (AI_PASSIVE) or loopback; or "localhost" */
	bool any = !node && (h->ai_flags & AI_PASSIVE);
	if (want != AF_INET6) {
		out[n].family = AF_INET;
		if (!any)
			memcpy(out[n].bytes, lo4, 4);
		n++;
	}
	if (want != AF_INET) {
		out[n].family = AF_INET6;
		if (!any)
			memcpy(out[n].bytes, lo6, 16);
		n++;
	}
	return n;
}

static struct addrinfo *new_result(const struct node_addr *a, uint16_t port, int socktype,
				   const char *canon)
{
	struct ai_block *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->ai.ai_family = a->family;
	b->ai.ai_socktype = socktype;
	b->ai.ai_protocol = socktype == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
	b->ai.ai_addr = (struct sockaddr *)&b->sa;
	if (a->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&b->sa;
		in->sin_family = AF_INET;
		in->sin_port = port;
		memcpy(&in->sin_addr, a->bytes, 4);
		b->ai.ai_addrlen = sizeof(*in);
	} else {
		b->sa.sin6_family = AF_INET6;
		b->sa.sin6_port = port;
		memcpy(&b->sa.sin6_addr, a->bytes, 16);
		b->ai.ai_addrlen = sizeof(b->sa);
	}
	if (canon) {
		strncpy(b->canon, canon, sizeof(b->canon) - 1);
		b->ai.ai_canonname = b->canon;
	}
	return &b->ai;
}

static int check_hints(const struct addrinfo *h)
{
	if (h->ai_flags & ~(AI_PASSIVE | AI_CANONNAME | AI_NUMERICHOST | AI_V4MAPPED |
			    AI_ALL | AI_ADDRCONFIG | AI_NUMERICSERV))
		return EAI_BADFLAGS;
	if (h->ai_family != AF_UNSPEC && h->ai_family != AF_INET && h->ai_family != AF_INET6)
		return EAI_FAMILY;
	if (h->ai_socktype != 0 && h->ai_socktype != SOCK_STREAM && h->ai_socktype != SOCK_DGRAM)
		return EAI_SOCKTYPE;
	return 0;
}

int getaddrinfo(const char *restrict node, const char *restrict service,
		const struct addrinfo *restrict hints, struct addrinfo **restrict res)
{
	static const struct addrinfo no_hints;
	const struct addrinfo *h = hints ? hints : &no_hints;
	struct node_addr addrs[2];
	struct addrinfo *head = NULL, **tail = &head;
	uint16_t port;
	int err = check_hints(h), n;

	if (err)
		return err;
	if (!node && !service)
		return EAI_NONAME;
	if (!parse_service(service, &port))
		return EAI_SERVICE; /* no services database in the guest */
	n = node_addrs(node, h, addrs);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++)
		for (int type = SOCK_STREAM; type <= SOCK_DGRAM; type++) {
			if (h->ai_socktype && h->ai_socktype != type)
				continue;
			*tail = new_result(&addrs[i], port, type,
					   head || !(h->ai_flags & AI_CANONNAME) ? NULL :
					   node ? node : "localhost");
			if (!*tail) {
				freeaddrinfo(head);
				return EAI_MEMORY;
			}
			tail = &(*tail)->ai_next;
		}
	*res = head;
	return 0;
}

void freeaddrinfo(struct addrinfo *res)
{
	while (res) {
		struct addrinfo *next = res->ai_next;
		free(res); /* the ai_block it heads */
		res = next;
	}
}

const char *gai_strerror(int err)
{
	switch (err) {
	case 0:            return "Success";
	case EAI_BADFLAGS: return "Bad value for ai_flags";
	case EAI_NONAME:   return "Name or service not known (the guest resolves only "
				  "numeric addresses and localhost)";
	case EAI_AGAIN:    return "Temporary failure in name resolution";
	case EAI_FAIL:     return "Non-recoverable failure in name resolution";
	case EAI_FAMILY:   return "ai_family not supported";
	case EAI_SOCKTYPE: return "ai_socktype not supported";
	case EAI_SERVICE:  return "Servname not supported for ai_socktype (the guest "
				  "knows only numeric services)";
	case EAI_MEMORY:   return "Memory allocation failure";
	case EAI_SYSTEM:   return "System error";
	default:           return "Unknown error";
	}
}
