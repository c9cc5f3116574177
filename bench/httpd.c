/* SPDX-License-Identifier: MIT */
/*
 * httpd (httpd.h): one epoll set over the listener and every connection.
 *
 * Per event the server does only that connection's work: the listener's event
 * accepts until EAGAIN, a connection's event reads what is there (non-blocking)
 * and answers each complete request in it.  Nothing walks all connections, so
 * 10,000 idle ones cost memory (a 32-byte struct conn each) and no time.
 *
 * A connection reads into the server's one scratch buffer, and gets a buffer
 * of its own only to keep a request that arrived in part.  So an idle
 * connection costs the server 32 bytes, not the 4 KiB a buffer each took (40
 * MiB of the guest's RAM at 10,000 connections), and a request touches the
 * one hot buffer, not a page untouched since that connection's last request.
 * (The nested sandbox measured no change in requests/s or in the guest's CPU
 * per request from the latter: docs/perf/http-cpu.md, "Session 11".)
 *
 * Responses are prebuilt; a response goes out whole (waiting for room if the
 * socket's buffer is full), which keeps the loop simple and costs nothing for
 * pages that fit a socket buffer.
 */
#include "httpd.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define HTTPD_BACKLOG  4096
#define HTTPD_REQ_MAX  4096u   /* request line + headers we accept */
#define HTTPD_EVENTS   256

const char httpd_usage[] =
	"[--size BYTES] [--keep-alive] PORT [TEXT [MAX_REQUESTS]]\n"
	"  Serve TEXT and a newline (%XX escapes decoded, so %20 is a space; default\n"
	"  'Hello from the virtsocket guest') or, with --size, BYTES of generated text,\n"
	"  on 127.0.0.1:PORT (0: any free port) to every GET/HEAD, on any number of\n"
	"  connections at once; exit 0 after MAX_REQUESTS responses (default: run\n"
	"  forever).  --keep-alive: HTTP/1.1 requests keep their connection.";

/* ---- the page -------------------------------------------------------------- */

static int hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* TEXT with %XX decoded, plus a newline. */
static char *decode_text(const char *s, size_t *len)
{
	char *out = malloc(strlen(s) + 2), *o = out;
	if (!out)
		return NULL;
	for (; *s; s++) {
		int hi, lo;
		if (*s == '%' && (hi = hexdigit(s[1])) >= 0 && (lo = hexdigit(s[2])) >= 0) {
			*o++ = (char)(hi << 4 | lo);
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o++ = '\n';
	*len = (size_t)(o - out);
	return out;
}

/*
 * --size body: lines of 64 bytes, "virtsocket httpd line NNNNNNNNNN " padded
 * with letters to 63, then '\n' (a short last line has no newline).  Byte i
 * depends only on i, so a test can regenerate it.
 */
static void fill_sized_body(char *p, size_t len)
{
	for (size_t line = 0; line * 64 < len; line++) {
		char l[65];
		int n = snprintf(l, sizeof(l), "virtsocket httpd line %010zu ", line);
		for (int i = n; i < 63; i++)
			l[i] = (char)('a' + (line + (size_t)i) % 26);
		l[63] = '\n';
		size_t take = len - line * 64 < 64 ? len - line * 64 : 64;
		memcpy(p + line * 64, l, take);
	}
}

/* One prebuilt response: headers + body; HEAD sends the first head_len bytes. */
struct response {
	char *bytes;
	size_t len, head_len;
};

struct page {
	struct response close;  /* HTTP/1.0, Connection: close */
	struct response keep;   /* HTTP/1.1, the connection stays */
};

static bool build_response(struct response *r, const char *proto, const char *conn,
			   const char *body, size_t body_len)
{
	char hdr[256];
	int h = snprintf(hdr, sizeof(hdr),
			 "%s 200 OK\r\nServer: virtsocket-httpd\r\n"
			 "Content-Type: text/plain; charset=utf-8\r\n"
			 "Content-Length: %zu\r\n%s\r\n", proto, body_len, conn);
	r->bytes = malloc((size_t)h + body_len);
	if (!r->bytes)
		return false;
	memcpy(r->bytes, hdr, (size_t)h);
	memcpy(r->bytes + h, body, body_len);
	r->head_len = (size_t)h;
	r->len = (size_t)h + body_len;
	return true;
}

static bool build_page(struct page *pg, const struct httpd_opts *o)
{
	char *body;
	size_t body_len;
	if (o->sized) {
		body_len = o->size;
		body = malloc(o->size ? o->size : 1);
		if (body)
			fill_sized_body(body, o->size);
	} else {
		body = decode_text(o->text ? o->text : "Hello from the virtsocket guest", &body_len);
	}
	bool ok = body && build_response(&pg->close, "HTTP/1.0", "Connection: close\r\n", body,
					  body_len) &&
		  build_response(&pg->keep, "HTTP/1.1", "", body, body_len);
	free(body);
	return ok;
}

/* ---- arguments ------------------------------------------------------------- */

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	unsigned shift = *end == 'K' ? 10 : *end == 'M' ? 20 : 0;
	if (shift)
		end++;
	if (errno || *end || v > (UINT64_MAX >> shift))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

static int usage(const char *prog)
{
	printf("%s: usage: %s %s\n", prog, prog, httpd_usage);
	return HTTPD_EXIT_USAGE;
}

int httpd_parse(const char *prog, int argc, char **argv, struct httpd_opts *o)
{
	uint64_t port;
	int a = 1;
	memset(o, 0, sizeof(*o));
	for (; a < argc && argv[a][0] == '-' && argv[a][1] == '-'; a++) {
		if (!strcmp(argv[a], "--keep-alive")) {
			o->keep_alive = true;
		} else if (!strcmp(argv[a], "--size") && a + 1 < argc &&
			   parse_u64(argv[a + 1], &o->size) && o->size <= (64u << 20)) {
			o->sized = true;
			a++;
		} else {
			return usage(prog);
		}
	}
	if (argc - a < 1 || argc - a > 3 || !parse_u64(argv[a], &port) || port > 65535)
		return usage(prog);
	o->port = (uint16_t)port;
	if (argc - a >= 2)
		o->text = argv[a + 1];
	if (argc - a == 3 && (!parse_u64(argv[a + 2], &o->max_requests) || !o->max_requests))
		return usage(prog);
	return 0;
}

/* ---- connections ----------------------------------------------------------- */

struct conn {
	struct conn *next_spare;
	int fd;
	uint32_t used;       /* bytes of a partial request kept in req */
	uint64_t responses;  /* sent on this connection */
	char *req;           /* HTTPD_REQ_MAX bytes, allocated the first time a
	                        request arrives in part; kept with the struct */
};

struct server {
	const char *prog;
	const struct httpd_opts *o;
	struct page page;
	int ep, lfd;
	bool accepting;      /* the listener is in the set (not while out of descriptors) */
	struct conn **by_fd; /* connections by descriptor */
	struct conn *spare;  /* closed ones, kept for the next: no heap churn per connection
	                        (the guest's malloc walks its free list) */
	size_t nr_slots;
	uint64_t served, failed, open;
	char scratch[HTTPD_REQ_MAX]; /* where a connection without a partial request reads */
};

static void report(const char *prog, const char *what)
{
	printf("%s: %s: %s (%d)\n", prog, what, strerror(errno), errno);
}

/* All of len, waiting for room when the socket's buffer is full. */
static bool send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd w = { .fd = fd, .events = POLLOUT };
			if (poll(&w, 1, 10000) <= 0)
				return false;
		} else if (n < 0 && errno != EINTR) {
			return false;
		}
	}
	return true;
}

/* Does the request ask to keep the connection (HTTP/1.1, no "Connection: close")? */
static bool wants_keep(const char *req, size_t head_len)
{
	const char *eol = memchr(req, '\n', head_len);
	if (!eol || eol - req < 9 || strncmp(eol - (eol[-1] == '\r' ? 9 : 8), "HTTP/1.1", 8))
		return false;
	for (const char *line = eol + 1; line < req + head_len;) {
		const char *end = memchr(line, '\n', (size_t)(req + head_len - line));
		if (!end)
			break;
		if (end - line >= 17 && !strncasecmp(line, "connection:", 11)) {
			const char *v = line + 11;
			while (*v == ' ' || *v == '\t')
				v++;
			if (!strncasecmp(v, "close", 5))
				return false;
		}
		line = end + 1;
	}
	return true;
}

/* Length of the first complete request head in req[0 .. len) (through its
 * blank line), or 0. */
static size_t request_end(const char *req, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (req[i] != '\n')
			continue;
		if (req[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && req[i + 1] == '\r' && req[i + 2] == '\n')
			return i + 3;
	}
	return len == HTTPD_REQ_MAX ? len : 0; /* too long: answer what we have */
}

/* Answer the request whose head is req[0 .. head_len) on c.  Returns whether
 * the connection stays open. */
static bool respond(struct server *sv, struct conn *c, const char *req, size_t head_len)
{
	static const char bad_request[] =
		"HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\n"
		"Content-Length: 12\r\nConnection: close\r\n\r\nbad request\n";
	static const char not_allowed[] =
		"HTTP/1.0 405 Method Not Allowed\r\nAllow: GET, HEAD\r\n"
		"Content-Type: text/plain\r\nContent-Length: 19\r\nConnection: close\r\n\r\n"
		"method not allowed\n";
	bool keep = sv->o->keep_alive && wants_keep(req, head_len);
	const struct response *page = keep ? &sv->page.keep : &sv->page.close;
	const char *resp;
	size_t len;

	if (!strncmp(req, "GET ", 4)) {
		resp = page->bytes;
		len = page->len;
	} else if (!strncmp(req, "HEAD ", 5)) {
		resp = page->bytes;
		len = page->head_len;
	} else {
		keep = false;
		bool method = isupper((unsigned char)req[0]);
		resp = method ? not_allowed : bad_request;
		len = method ? sizeof(not_allowed) - 1 : sizeof(bad_request) - 1;
	}
	if (!send_all(c->fd, resp, len)) {
		sv->failed++;
		return false;
	}
	sv->served++;
	c->responses++;
	return keep;
}

static int watch(struct server *sv, int op, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)fd };
	return epoll_ctl(sv->ep, op, fd, &ev);
}

static void conn_close(struct server *sv, struct conn *c, bool answered)
{
	if (!answered)
		sv->failed++; /* the client gave up (or an error) before a response */
	/* FIN after the last response; everything sent was asked for, so the
	 * close sends no RST that could cut a response short. */
	shutdown(c->fd, SHUT_WR);
	close(c->fd); /* also out of the epoll set */
	sv->by_fd[c->fd] = NULL;
	c->next_spare = sv->spare;
	sv->spare = c;
	sv->open--;
	if (!sv->accepting && watch(sv, EPOLL_CTL_ADD, sv->lfd) == 0)
		sv->accepting = true; /* a descriptor is free again */
}

/* Keep the len bytes of a partial request at p (in the scratch buffer or in
 * c->req itself) as c's; false if there is no memory for them. */
static bool keep_partial(struct conn *c, const char *p, size_t len)
{
	if (len && !c->req && !(c->req = malloc(HTTPD_REQ_MAX)))
		return false;
	if (len)
		memmove(c->req, p, len);
	c->used = (uint32_t)len;
	return true;
}

/* Read what is there and answer every complete request. */
static void conn_ready(struct server *sv, struct conn *c)
{
	for (;;) {
		char *buf = c->used ? c->req : sv->scratch;
		ssize_t got = recv(c->fd, buf + c->used, HTTPD_REQ_MAX - c->used, 0);
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			conn_close(sv, c, c->responses > 0 && c->used == 0);
			return;
		}
		const char *p = buf;
		size_t left = c->used + (size_t)got, head;
		bool done = false;
		while (!done && (head = request_end(p, left)) != 0) {
			if (!respond(sv, c, p, head)) {
				conn_close(sv, c, true);
				return;
			}
			p += head;
			left -= head;
			done = sv->o->max_requests && sv->served >= sv->o->max_requests;
		}
		if (!keep_partial(c, p, left)) {
			report(sv->prog, "keeping a partial request");
			conn_close(sv, c, false);
			return;
		}
		if (done || c->used < HTTPD_REQ_MAX)
			return; /* level-triggered: more comes as another event */
	}
}

static bool grow_slots(struct server *sv, int fd)
{
	if ((size_t)fd < sv->nr_slots)
		return true;
	size_t n = sv->nr_slots ? sv->nr_slots : 1024;
	while (n <= (size_t)fd)
		n *= 2;
	struct conn **v = realloc(sv->by_fd, n * sizeof(*v));
	if (!v)
		return false;
	memset(v + sv->nr_slots, 0, (n - sv->nr_slots) * sizeof(*v));
	sv->by_fd = v;
	sv->nr_slots = n;
	return true;
}

/* Accept every waiting connection. */
static int accept_all(struct server *sv)
{
	for (;;) {
		int fd = accept(sv->lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			    errno == ECONNABORTED)
				return 0;
			if (errno == EMFILE || errno == ENFILE) {
				/* Out of descriptors: stop listening until one closes. */
				report(sv->prog, "accept (waiting for a connection to close)");
				if (epoll_ctl(sv->ep, EPOLL_CTL_DEL, sv->lfd, NULL) == 0)
					sv->accepting = false;
				return 0;
			}
			report(sv->prog, "accept");
			return -1;
		}
		struct conn *c = sv->spare;
		if (c)
			sv->spare = c->next_spare;
		else if ((c = malloc(sizeof(*c))))
			c->req = NULL;
		if (!c || !grow_slots(sv, fd) || fcntl(fd, F_SETFL, O_NONBLOCK) < 0 ||
		    watch(sv, EPOLL_CTL_ADD, fd) < 0) {
			report(sv->prog, "a new connection");
			if (c) {
				c->next_spare = sv->spare;
				sv->spare = c;
			}
			close(fd);
			sv->failed++;
			continue;
		}
		c->fd = fd;
		c->used = 0;
		c->responses = 0;
		sv->by_fd[fd] = c;
		sv->open++;
	}
}

static int listen_on(const char *prog, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	socklen_t len = sizeof(sa);
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, HTTPD_BACKLOG) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		report(prog, "listen");
		return -1;
	}
	printf("%s: listening on 127.0.0.1:%u\n", prog, ntohs(sa.sin_port));
	fflush(stdout);
	return fd;
}

int httpd_run(const char *prog, const struct httpd_opts *o)
{
	struct server sv = { .prog = prog, .o = o };
	if (!build_page(&sv.page, o)) {
		printf("%s: out of memory\n", prog);
		return HTTPD_EXIT_FAIL;
	}
	sv.lfd = listen_on(prog, o->port);
	sv.ep = epoll_create1(0);
	if (sv.lfd < 0 || sv.ep < 0 || watch(&sv, EPOLL_CTL_ADD, sv.lfd) < 0) {
		report(prog, "epoll");
		return HTTPD_EXIT_FAIL;
	}
	sv.accepting = true;

	struct epoll_event *ev = malloc(HTTPD_EVENTS * sizeof(*ev));
	while (ev && (!o->max_requests || sv.served < o->max_requests)) {
		int n = epoll_wait(sv.ep, ev, HTTPD_EVENTS, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			report(prog, "epoll_wait");
			return HTTPD_EXIT_FAIL;
		}
		for (int i = 0; i < n; i++) {
			int fd = (int)ev[i].data.u64;
			if (fd == sv.lfd) {
				if (accept_all(&sv) < 0)
					return HTTPD_EXIT_FAIL;
			} else if ((size_t)fd < sv.nr_slots && sv.by_fd[fd]) {
				conn_ready(&sv, sv.by_fd[fd]);
			}
			if (o->max_requests && sv.served >= o->max_requests)
				break;
		}
	}
	for (size_t fd = 0; fd < sv.nr_slots; fd++)
		if (sv.by_fd[fd])
			conn_close(&sv, sv.by_fd[fd], true);
	close(sv.ep);
	close(sv.lfd);
	printf("%s: %llu responses, %llu connections without one\n", prog,
	       (unsigned long long)sv.served, (unsigned long long)sv.failed);
	return ev ? 0 : HTTPD_EXIT_FAIL;
}
