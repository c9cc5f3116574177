/* SPDX-License-Identifier: MIT */
/*
 * http-get: fetch one URL over HTTP/1.0 (IP literals only: the guest has no
 * resolver) and print the body exactly as received, then a summary line.
 * (The guest's httpd is bench/httpd.c: the same server source builds natively.)
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <kernel/program.h>

#include "netprog.h"
#include "sha256.h"

#define HTTP_MAX_HEADER (16u * 1024u)
#define HTTP_CHUNK      (64u * 1024u)

/* ---- http-get --------------------------------------------------------------- */

static const char http_get_usage[] =
	"[--sha256-only] http://IP[:PORT]/PATH\n"
	"  IP is an IPv4 literal or an IPv6 one in brackets, PORT defaults to 80.\n"
	"  Prints the body exactly as received (not with --sha256-only), then the line\n"
	"  'http-get: status S, N bytes, sha256 HEX' (after a newline if the body did\n"
	"  not end with one).  Exit 0 for a 2xx status with the whole body.";

struct url {
	char host[64];      /* as written, with brackets for IPv6 (the Host header) */
	char ip[48];        /* without brackets */
	char port[8];
	const char *path;
};

static bool parse_url(const char *s, struct url *u)
{
	static const char scheme[] = "http://";
	if (strncmp(s, scheme, sizeof(scheme) - 1))
		return false;
	s += sizeof(scheme) - 1;
	const char *host_end, *ip = s, *ip_end;
	if (*s == '[') {
		ip = s + 1;
		ip_end = strchr(ip, ']');
		if (!ip_end)
			return false;
		host_end = ip_end + 1;
	} else {
		ip_end = host_end = s + strcspn(s, ":/");
	}
	size_t hlen = (size_t)(host_end - s), iplen = (size_t)(ip_end - ip);
	if (hlen == 0 || hlen >= sizeof(u->host) || iplen == 0 || iplen >= sizeof(u->ip))
		return false;
	memcpy(u->host, s, hlen);
	u->host[hlen] = '\0';
	memcpy(u->ip, ip, iplen);
	u->ip[iplen] = '\0';
	s = host_end;
	strcpy(u->port, "80");
	if (*s == ':') {
		size_t plen = strcspn(++s, "/");
		if (plen == 0 || plen >= sizeof(u->port))
			return false;
		memcpy(u->port, s, plen);
		u->port[plen] = '\0';
		s += plen;
	}
	if (*s != '/' && *s != '\0')
		return false;
	u->path = *s ? s : "/";
	return true;
}

/* Case-insensitive "Name:" header lookup in [hdr, end); the value, spaces skipped. */
static const char *find_header(const char *hdr, const char *end, const char *name)
{
	size_t n = strlen(name);
	for (const char *line = hdr; line < end;) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			eol = end;
		if ((size_t)(eol - line) > n && line[n] == ':') {
			size_t k = 0;
			while (k < n && tolower((unsigned char)line[k]) == tolower((unsigned char)name[k]))
				k++;
			if (k == n) {
				const char *v = line + n + 1;
				while (v < eol && (*v == ' ' || *v == '\t'))
					v++;
				return v;
			}
		}
		line = eol + 1;
	}
	return NULL;
}

/* One response as http-get reads it: buf holds the headers and the body's start. */
struct http_response {
	char *buf;        /* HTTP_MAX_HEADER + HTTP_CHUNK bytes */
	size_t have;      /* bytes in buf */
	char *body;       /* first byte after the blank line, inside buf */
	int status;
	uint64_t expect;  /* Content-Length, UINT64_MAX if none */
};

/* GET u.path over fd.  0, or the exit status after printing why. */
static int send_request(const char *prog, int fd, const struct url *u, char *buf)
{
	int reqlen = snprintf(buf, HTTP_MAX_HEADER,
			      "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: virtsocket-http-get\r\n"
			      "Accept: */*\r\nConnection: close\r\n\r\n", u->path, u->host);
	if (reqlen < 0 || (size_t)reqlen >= HTTP_MAX_HEADER) {
		printf("%s: the path is too long\n", prog);
		return NET_EXIT_USAGE;
	}
	if (net_send_all(fd, buf, (size_t)reqlen) < 0) {
		net_perror(prog, "send request");
		return NET_EXIT_FAIL;
	}
	return 0;
}

/* Status line and headers: read until the blank line. */
static int read_headers(const char *prog, int fd, struct http_response *res)
{
	res->have = 0;
	res->body = NULL;
	while (!res->body) {
		if (res->have == HTTP_MAX_HEADER) {
			printf("%s: no end of headers in the first %u bytes\n", prog,
			       HTTP_MAX_HEADER);
			return NET_EXIT_FAIL;
		}
		ssize_t n = recv(fd, res->buf + res->have, HTTP_MAX_HEADER - res->have, 0);
		if (n < 0) {
			net_perror(prog, "recv headers");
			return NET_EXIT_FAIL;
		}
		if (n == 0) {
			printf("%s: the server closed before the end of the headers (%zu bytes)\n",
			       prog, res->have);
			return NET_EXIT_FAIL;
		}
		res->have += (size_t)n;
		for (size_t i = 3; i < res->have && !res->body; i++)
			if (!memcmp(res->buf + i - 3, "\r\n\r\n", 4))
				res->body = res->buf + i + 1;
	}
	return 0;
}

/* The status code, Content-Length and Transfer-Encoding of the headers read. */
static int parse_head(const char *prog, struct http_response *res)
{
	const char *buf = res->buf;

	if (res->body - buf < 16 || strncmp(buf, "HTTP/1.", 7) || buf[8] != ' ' ||
	    !isdigit((unsigned char)buf[9]) || !isdigit((unsigned char)buf[10]) ||
	    !isdigit((unsigned char)buf[11])) {
		printf("%s: not an HTTP/1.x status line\n", prog);
		return NET_EXIT_FAIL;
	}
	res->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	const char *cl = find_header(buf, res->body, "Content-Length");
	const char *te = find_header(buf, res->body, "Transfer-Encoding");
	res->expect = UINT64_MAX;
	if (te && strncmp(te, "identity", 8)) {
		printf("%s: Transfer-Encoding %.*s is not supported (asked for HTTP/1.0)\n", prog,
		       (int)strcspn(te, "\r\n"), te);
		return NET_EXIT_FAIL;
	}
	if (cl) {
		char *end;
		res->expect = strtoull(cl, &end, 10);
		if (end == cl) {
			printf("%s: bad Content-Length\n", prog);
			return NET_EXIT_FAIL;
		}
	}
	return 0;
}

/* Body: what came with the headers, then until EOF (or Content-Length); hashed, and
 * printed if print_body.  *got: its length; *last: its last byte. */
static int read_body(const char *prog, int fd, struct http_response *res, bool print_body,
		     struct sha256 *sha, uint64_t *got, char *last)
{
	size_t n = res->have - (size_t)(res->body - res->buf);
	char *chunk = res->body;

	*got = 0;
	*last = '\n';
	for (;;) {
		if (res->expect != UINT64_MAX && *got + n > res->expect)
			n = (size_t)(res->expect - *got); /* ignore anything past the body */
		if (n) {
			sha256_update(sha, chunk, n);
			if (print_body)
				fwrite(chunk, 1, n, stdout);
			*last = chunk[n - 1];
			*got += n;
		}
		if (*got == res->expect)
			return 0;
		ssize_t r = recv(fd, res->buf, HTTP_MAX_HEADER + HTTP_CHUNK, 0);
		if (r < 0) {
			net_perror(prog, "recv body");
			return NET_EXIT_FAIL;
		}
		if (r == 0)
			return 0;
		chunk = res->buf;
		n = (size_t)r;
	}
}

/* The summary line, then whether the body was whole and the status a success. */
static int report(const char *prog, const struct http_response *res, struct sha256 *sha,
		  uint64_t got, bool newline_first)
{
	char hex[SHA256_HEX_BYTES];

	sha256_final_hex(sha, hex);
	printf("%shttp-get: status %d, %lu bytes, sha256 %s\n", newline_first ? "\n" : "",
	       res->status, got, hex);
	if (res->expect != UINT64_MAX && got != res->expect) {
		printf("%s: the body ended after %lu of %lu bytes (Content-Length)\n", prog, got,
		       res->expect);
		return NET_EXIT_FAIL;
	}
	if (res->status < 200 || res->status > 299) {
		printf("%s: HTTP status %d\n", prog, res->status);
		return NET_EXIT_FAIL;
	}
	return 0;
}

static int http_get_main(int argc, char **argv)
{
	const char *prog = argv[0];
	bool print_body = true;
	int a = 1, err;
	struct url u;
	struct http_response res;

	if (a < argc && !strcmp(argv[a], "--sha256-only")) {
		print_body = false;
		a++;
	}
	if (argc - a != 1 || !parse_url(argv[a], &u))
		return net_usage(prog, http_get_usage);

	res.buf = malloc(HTTP_MAX_HEADER + HTTP_CHUNK);
	if (!res.buf) {
		printf("%s: out of memory\n", prog);
		return NET_EXIT_FAIL;
	}
	int fd = net_connect_tcp(prog, u.ip, u.port);
	if (fd < 0)
		return NET_EXIT_FAIL;
	err = send_request(prog, fd, &u, res.buf);
	if (!err)
		err = read_headers(prog, fd, &res);
	if (!err)
		err = parse_head(prog, &res);
	if (err)
		return err;

	struct sha256 sha;
	uint64_t got;
	char last;
	sha256_init(&sha);
	err = read_body(prog, fd, &res, print_body, &sha, &got, &last);
	if (err)
		return err;
	close(fd);
	return report(prog, &res, &sha, got, print_body && last != '\n');
}
GUEST_PROGRAM("http-get", http_get_main, "[--sha256-only] http://IP[:PORT]/PATH",
	      "fetch a URL (HTTP/1.0), print the body and its SHA-256");
