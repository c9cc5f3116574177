/*
 * chat_server: a multi-client chat server in the textbook way, around poll(): whatever
 * one client sends goes to every other client connected at that moment.
 *
 *   chat_server PORT [ADDRESS]      (ADDRESS: the one to bind; default: every address)
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CLIENTS 32

static int get_listener(const char *addr, const char *port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE };
	struct addrinfo *res, *p;
	int fd = -1, yes = 1, rv;

	if ((rv = getaddrinfo(addr, port, &hints, &res)) != 0) {
		fprintf(stderr, "chat_server: %s\n", gai_strerror(rv));
		exit(1);
	}
	for (p = res; p != NULL; p = p->ai_next) {
		fd = socket(p->ai_family, p->ai_socktype, p->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(int));
		if (bind(fd, p->ai_addr, p->ai_addrlen) < 0) {
			close(fd);
			continue;
		}
		break;
	}
	freeaddrinfo(res);
	if (p == NULL || listen(fd, 10) == -1) {
		perror("chat_server: bind/listen");
		exit(1);
	}
	return fd;
}

static void broadcast(struct pollfd *pfds, int count, int listener, int from,
		      const char *buf, int n)
{
	for (int j = 0; j < count; j++) {
		int dest = pfds[j].fd;

		if (dest != listener && dest != from && send(dest, buf, (size_t)n, MSG_NOSIGNAL) == -1)
			perror("chat_server: send");
	}
}

int main(int argc, char *argv[])
{
	struct pollfd pfds[MAX_CLIENTS + 1];
	char buf[256], ip[INET6_ADDRSTRLEN];
	int count = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s PORT [ADDRESS]\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	int listener = get_listener(argc > 2 ? argv[2] : NULL, argv[1]);
	pfds[count].fd = listener;
	pfds[count++].events = POLLIN;
	printf("chat_server: waiting for connections on port %s\n", argv[1]);
	for (;;) {
		if (poll(pfds, (nfds_t)count, -1) == -1) {
			perror("chat_server: poll");
			return 1;
		}
		for (int i = 0; i < count; i++) {
			if (!(pfds[i].revents & (POLLIN | POLLHUP)))
				continue;
			if (pfds[i].fd == listener) {
				struct sockaddr_storage remote;
				socklen_t len = sizeof(remote);
				int fd = accept(listener, (struct sockaddr *)&remote, &len);
				if (fd == -1) {
					perror("chat_server: accept");
				} else if (count == MAX_CLIENTS + 1) {
					close(fd);
				} else {
					pfds[count].fd = fd;
					pfds[count++].events = POLLIN;
					inet_ntop(remote.ss_family,
						  remote.ss_family == AF_INET ?
						  (void *)&((struct sockaddr_in *)&remote)->sin_addr :
						  (void *)&((struct sockaddr_in6 *)&remote)->sin6_addr,
						  ip, sizeof(ip));
					printf("chat_server: new connection from %s on socket %d\n",
					       ip, fd);
				}
				continue;
			}
			int n = (int)recv(pfds[i].fd, buf, sizeof(buf), 0);
			if (n <= 0) {
				printf("chat_server: socket %d hung up\n", pfds[i].fd);
				close(pfds[i].fd);
				pfds[i--] = pfds[--count];
				continue;
			}
			broadcast(pfds, count, listener, pfds[i].fd, buf, n);
		}
	}
}
