/*
 * echo_server: a TCP echo server for many clients at once, in the textbook way:
 * getaddrinfo() with AI_PASSIVE for the listening address, one select() loop over the
 * listener and every client, each client's bytes sent straight back.
 *
 *   echo_server PORT [ADDRESS]      (ADDRESS: the one to bind; default: every address)
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

static int listen_on(const char *addr, const char *port)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, yes = 1, err;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((err = getaddrinfo(addr, port, &hints, &res)) != 0) {
		fprintf(stderr, "echo_server: getaddrinfo: %s\n", gai_strerror(err));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 16) == 0)
			break;
		perror("echo_server: bind/listen");
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

int main(int argc, char **argv)
{
	fd_set all, readable;
	char buf[4096];
	int listener, maxfd;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s PORT [ADDRESS]\n", argv[0]);
		return 2;
	}
	listener = listen_on(argc > 2 ? argv[2] : NULL, argv[1]);
	if (listener < 0)
		return 1;
	printf("echo_server: listening on port %s\n", argv[1]);
	FD_ZERO(&all);
	FD_SET(listener, &all);
	maxfd = listener;
	for (;;) {
		readable = all;
		if (select(maxfd + 1, &readable, NULL, NULL, NULL) < 0) {
			perror("echo_server: select");
			return 1;
		}
		for (int fd = 0; fd <= maxfd; fd++) {
			if (!FD_ISSET(fd, &readable))
				continue;
			if (fd == listener) {
				int client = accept(listener, NULL, NULL);
				if (client < 0) {
					perror("echo_server: accept");
					continue;
				}
				FD_SET(client, &all);
				if (client > maxfd)
					maxfd = client;
				printf("echo_server: client %d connected\n", client);
				continue;
			}
			ssize_t n = recv(fd, buf, sizeof(buf), 0);
			if (n <= 0) {
				printf("echo_server: client %d %s\n", fd,
				       n == 0 ? "left" : strerror(errno));
				close(fd);
				FD_CLR(fd, &all);
			} else if (send(fd, buf, (size_t)n, 0) != n) {
				perror("echo_server: send");
			}
		}
	}
}
