/* hello_net: connect to a host server, send a line, print the answer (README.md) */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char buf[256];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_port = htons(argc > 2 ? atoi(argv[2]) : 7000);
	inet_pton(AF_INET, argc > 1 ? argv[1] : "127.0.0.1", &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("connect");
		return 1;
	}
	write(fd, "hello\n", 6);
	ssize_t n = read(fd, buf, sizeof(buf));
	printf("%s got %zd bytes: %.*s", argv[0], n, (int)n, buf);
	return 0;
}
