/*
 * http_client: fetch one page over HTTP/1.0 and write its body to stdout, with the
 * textbook non-blocking connect: O_NONBLOCK, connect() says EINPROGRESS, select() for
 * writability with a timeout, then SO_ERROR tells whether the connection came up.
 *
 *   http_client HOST PORT PATH      (exit 0: status 2xx; 1: anything else)
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

/* Connect without blocking forever: at most timeout_s seconds. */
static int connect_timeout(const struct addrinfo *ai, int timeout_s)
{
	int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd < 0)
		return -1;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			perror("http_client: connect");
			close(fd);
			return -1;
		}
		fd_set wr;
		struct timeval tv = { .tv_sec = timeout_s, .tv_usec = 0 };
		FD_ZERO(&wr);
		FD_SET(fd, &wr);
		int n = select(fd + 1, NULL, &wr, NULL, &tv);
		int err = 0;
		socklen_t len = sizeof(err);
		if (n == 0)
			err = ETIMEDOUT;
		else if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			fprintf(stderr, "http_client: connection failed: %s\n", strerror(err));
			close(fd);
			return -1;
		}
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) & ~O_NONBLOCK);
	return fd;
}

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	static char buf[65536];
	char req[512];
	size_t have = 0;
	ssize_t n;
	int fd, rv;

	if (argc != 4) {
		fprintf(stderr, "usage: %s HOST PORT PATH\n", argv[0]);
		return 2;
	}
	if ((rv = getaddrinfo(argv[1], argv[2], &hints, &res)) != 0) {
		fprintf(stderr, "http_client: %s: %s\n", argv[1], gai_strerror(rv));
		return 1;
	}
	fd = connect_timeout(res, 10);
	freeaddrinfo(res);
	if (fd < 0)
		return 1;
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", argv[3], argv[1]);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		perror("http_client: write");
		return 1;
	}
	/* Headers: up to the blank line; what follows it is the body's start. */
	char *body = NULL;
	while (!body && have < sizeof(buf) - 1 && (n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
		have += (size_t)n;
		buf[have] = '\0';
		body = strstr(buf, "\r\n\r\n");
	}
	if (!body) {
		fprintf(stderr, "http_client: no complete response header\n");
		return 1;
	}
	int status = atoi(buf + 9);
	body += 4;
	fwrite(body, 1, have - (size_t)(body - buf), stdout);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	close(fd);
	return status >= 200 && status < 300 ? 0 : 1;
}
