/* SPDX-License-Identifier: MIT */
/*
 * The guest's POSIX layer logic, natively: guest-lib/posix/src/netdb.c and select.c are
 * compiled into this test under other names (guest_getaddrinfo, guest_select; their
 * poll() is fake_poll below), so glibc's own functions stay glibc's and serve as the
 * reference: for numeric hosts the guest's getaddrinfo must give what glibc gives.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/select.h>

#include <criterion/criterion.h>

#include "posix.h"

/* glibc's own, the reference: the build renamed the declarations above to guest_*. */
#undef getaddrinfo
#undef freeaddrinfo
int getaddrinfo(const char *restrict node, const char *restrict service,
		const struct addrinfo *restrict hints, struct addrinfo **restrict res);
void freeaddrinfo(struct addrinfo *res);

int posix_fail(int err)
{
	errno = -err;
	return -1;
}

/* ---- getaddrinfo ---------------------------------------------------------- */

static struct addrinfo hints_of(int family, int socktype, int flags)
{
	struct addrinfo h;
	memset(&h, 0, sizeof(h));
	h.ai_family = family;
	h.ai_socktype = socktype;
	h.ai_flags = flags;
	return h;
}

/* Same list, field by field, as glibc's own getaddrinfo. */
static void same_as_glibc(const char *node, const char *service, int family, int flags)
{
	struct addrinfo h = hints_of(family, SOCK_STREAM, flags), *ours, *ref;
	cr_assert_eq(guest_getaddrinfo(node, service, &h, &ours), 0, "%s", node);
	cr_assert_eq(getaddrinfo(node, service, &h, &ref), 0, "glibc: %s", node);
	struct addrinfo *a = ours, *b = ref;
	for (; a && b; a = a->ai_next, b = b->ai_next) {
		cr_assert_eq(a->ai_family, b->ai_family, "%s", node);
		cr_assert_eq(a->ai_socktype, b->ai_socktype);
		cr_assert_eq(a->ai_protocol, b->ai_protocol);
		cr_assert_eq(a->ai_addrlen, b->ai_addrlen);
		cr_assert(memcmp(a->ai_addr, b->ai_addr, a->ai_addrlen) == 0, "%s: address", node);
	}
	cr_assert(!a && !b, "%s: the lists differ in length", node);
	freeaddrinfo(ref);
	guest_freeaddrinfo(ours);
}

Test(guestlib_posix, getaddrinfo_numeric_hosts_as_glibc)
{
	same_as_glibc("127.0.0.1", "8080", AF_UNSPEC, 0);
	same_as_glibc("10.1.2.3", "0", AF_INET, AI_NUMERICHOST);
	same_as_glibc("::1", "443", AF_UNSPEC, AI_NUMERICSERV);
	same_as_glibc("fe80::1:2", "65535", AF_INET6, 0);
	same_as_glibc("127.0.0.1", NULL, AF_UNSPEC, 0);
	same_as_glibc(NULL, "7000", AF_INET, AI_PASSIVE);
	same_as_glibc(NULL, "7000", AF_INET6, AI_PASSIVE);
	same_as_glibc(NULL, "7000", AF_INET, 0);
}

static const struct sockaddr_in *v4(const struct addrinfo *ai)
{
	cr_assert_eq(ai->ai_family, AF_INET);
	return (const struct sockaddr_in *)ai->ai_addr;
}

Test(guestlib_posix, getaddrinfo_localhost_both_families_both_types)
{
	struct addrinfo h = hints_of(AF_UNSPEC, 0, AI_CANONNAME), *res;
	cr_assert_eq(guest_getaddrinfo("localhost", "9", &h, &res), 0);
	int types[4], families[4], n = 0;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next, n++) {
		cr_assert_lt(n, 4);
		types[n] = ai->ai_socktype;
		families[n] = ai->ai_family;
		cr_assert_eq(((struct sockaddr_in *)ai->ai_addr)->sin_port, htons(9));
	}
	cr_assert_eq(n, 4);
	cr_assert(families[0] == AF_INET && families[1] == AF_INET && families[2] == AF_INET6 &&
		  families[3] == AF_INET6, "127.0.0.1 first, then ::1");
	cr_assert(types[0] == SOCK_STREAM && types[1] == SOCK_DGRAM);
	cr_assert_eq(v4(res)->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	cr_assert_str_eq(res->ai_canonname, "localhost");
	cr_assert_null(res->ai_next->ai_canonname);
	guest_freeaddrinfo(res);
}

Test(guestlib_posix, getaddrinfo_says_what_it_cannot_do)
{
	struct addrinfo h = hints_of(AF_UNSPEC, SOCK_STREAM, 0), *res;
	cr_assert_eq(guest_getaddrinfo("example.com", "80", &h, &res), EAI_NONAME);
	cr_assert_not_null(strstr(guest_gai_strerror(EAI_NONAME), "numeric"));
	cr_assert_eq(guest_getaddrinfo("127.0.0.1", "http", &h, &res), EAI_SERVICE);
	cr_assert_eq(guest_getaddrinfo("127.0.0.1", "70000", &h, &res), EAI_SERVICE);
	cr_assert_eq(guest_getaddrinfo("localhost", "80", &(struct addrinfo){ .ai_flags =
		     AI_NUMERICHOST }, &res), EAI_NONAME);
	h.ai_family = AF_INET;
	cr_assert_eq(guest_getaddrinfo("::1", "80", &h, &res), EAI_FAMILY);
	h.ai_socktype = 5;
	cr_assert_eq(guest_getaddrinfo("::1", "80", &h, &res), EAI_SOCKTYPE);
	cr_assert_eq(guest_getaddrinfo(NULL, NULL, NULL, &res), EAI_NONAME);
}

/* ---- select over a fake poll ---------------------------------------------- */

static struct pollfd seen[8];
static nfds_t nr_seen;
static int seen_timeout;
static short answer[FD_SETSIZE];   /* revents to report, by fd */

int fake_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	int ready = 0;
	cr_assert_leq(n, 8);
	memcpy(seen, fds, n * sizeof(*fds));
	nr_seen = n;
	seen_timeout = timeout_ms;
	for (nfds_t i = 0; i < n; i++) {
		fds[i].revents = answer[fds[i].fd];
		ready += fds[i].revents != 0;
	}
	return ready;
}

Test(guestlib_posix, select_asks_poll_for_each_fd_and_rewrites_the_sets)
{
	fd_set rd, wr;
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(3, &rd);
	FD_SET(5, &rd);
	FD_SET(5, &wr);
	FD_SET(700, &rd);
	memset(answer, 0, sizeof(answer));
	answer[3] = POLLIN;
	answer[5] = POLLOUT;
	struct timeval tv = { .tv_sec = 1, .tv_usec = 500 };
	cr_assert_eq(guest_select(701, &rd, &wr, NULL, &tv), 2);
	cr_assert_eq(nr_seen, 3);
	cr_assert(seen[0].fd == 3 && seen[0].events == POLLIN);
	cr_assert(seen[1].fd == 5 && seen[1].events == (POLLIN | POLLOUT));
	cr_assert(seen[2].fd == 700 && seen[2].events == POLLIN);
	cr_assert_eq(seen_timeout, 1001, "1 s 500 us rounds up to 1001 ms");
	cr_assert(FD_ISSET(3, &rd) && !FD_ISSET(5, &rd) && !FD_ISSET(700, &rd));
	cr_assert(FD_ISSET(5, &wr));
	cr_assert(tv.tv_sec <= 1 && (tv.tv_sec == 1 || tv.tv_usec > 0), "time left kept");

	/* A hang-up is readable; fds at or above nfds are not asked about. */
	FD_ZERO(&rd);
	FD_SET(4, &rd);
	FD_SET(9, &rd);
	answer[4] = POLLHUP;
	cr_assert_eq(guest_select(5, &rd, NULL, NULL, NULL), 1);
	cr_assert_eq(nr_seen, 1);
	cr_assert_eq(seen_timeout, -1, "no timeval: wait forever");
	cr_assert(FD_ISSET(4, &rd));
}

Test(guestlib_posix, select_refuses_bad_descriptors_and_sizes)
{
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(6, &rd);
	memset(answer, 0, sizeof(answer));
	answer[6] = POLLNVAL;
	errno = 0;
	cr_assert_eq(guest_select(7, &rd, NULL, NULL, NULL), -1);
	cr_assert_eq(errno, EBADF);
	cr_assert_eq(guest_select(FD_SETSIZE + 1, &rd, NULL, NULL, NULL), -1);
	cr_assert_eq(errno, EINVAL);
	struct timeval bad = { .tv_sec = -1 };
	cr_assert_eq(guest_select(7, &rd, NULL, NULL, &bad), -1);
	cr_assert_eq(errno, EINVAL);
}
