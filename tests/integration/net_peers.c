/* SPDX-License-Identifier: MIT */
/* Host peers, ports, files for the network integration tests: see net_peers.h. */
#include "net_peers.h"

#include <dirent.h>

#include "peer_child.h"

double np_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void np_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The process groups still running, for the atexit() clean-up.  Pids, not
 * the callers' structs: a failed assertion leaves a test function, and its
 * struct np_proc on the stack is gone by the time atexit() runs. */
#define NP_MAX_PROCS 64
static pid_t np_pids[NP_MAX_PROCS];

static void np_forget(struct np_proc *p)
{
	for (int i = 0; i < NP_MAX_PROCS; i++)
		if (np_pids[i] == p->pid)
			np_pids[i] = 0;
}

void np_stop(struct np_proc *p)
{
	if (p->pid > 0 && !p->exited) {
		int status = peer_stop(p->pid, 3000);
		if (status >= 0)
			p->status = status;
		p->exited = true;
	}
	if (p->pid > 0)
		kill(-p->pid, SIGKILL); /* whatever the group forked and left behind */
	if (p->out_fd >= 0)
		close(p->out_fd);
	p->out_fd = -1;
	np_forget(p);
}

void np_stop_all(void)
{
	for (int i = 0; i < NP_MAX_PROCS; i++)
		if (np_pids[i] > 0) {
			kill(-np_pids[i], SIGKILL);
			waitpid(np_pids[i], NULL, 0);
			np_pids[i] = 0;
		}
}

int np_spawn(struct np_proc *p, const char *const argv[], bool capture,
	     const char *cwd)
{
	int out[2] = { -1, -1 };
	memset(p, 0, sizeof(*p));
	p->out_fd = -1;
	snprintf(p->name, sizeof(p->name), "%s", argv[0]);
	p->out = calloc(1, 1);
	if (capture && pipe2(out, O_CLOEXEC) < 0)
		return -errno;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		peer_child_detach(parent, false);
		if (capture)
			dup2(out[1], STDOUT_FILENO);
		if (cwd && chdir(cwd) < 0)
			_exit(127);
		execvp(argv[0], (char *const *)argv);
		dprintf(STDERR_FILENO, "net_peers: cannot exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid); /* also here: no race with a kill(-pid) right after */
	p->pid = pid;
	if (capture) {
		close(out[1]);
		p->out_fd = out[0];
		fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
	}
	static bool registered;
	if (!registered) {
		atexit(np_stop_all);
		registered = true;
	}
	for (int i = 0; i < NP_MAX_PROCS; i++)
		if (!np_pids[i]) {
			np_pids[i] = pid;
			break;
		}
	return 0;
}

int np_start(struct np_proc *p, bool capture, const char *cwd, ...)
{
	const char *argv[NP_MAX_ARGS + 1];
	int n = 0;
	va_list ap;
	va_start(ap, cwd);
	for (const char *a; (a = va_arg(ap, const char *)) && n < NP_MAX_ARGS;)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return np_spawn(p, argv, capture, cwd);
}

bool np_pump(struct np_proc *p)
{
	if (p->out_fd < 0)
		return false;
	for (;;) {
		char chunk[8192];
		ssize_t n = read(p->out_fd, chunk, sizeof(chunk));
		if (n > 0) {
			if (p->out_len + (size_t)n + 1 > p->out_cap) {
				size_t cap = p->out_cap ? p->out_cap * 2 : 65536;
				while (cap < p->out_len + (size_t)n + 1)
					cap *= 2;
				char *d = realloc(p->out, cap);
				if (!d)
					abort();
				p->out = d;
				p->out_cap = cap;
			}
			memcpy(p->out + p->out_len, chunk, (size_t)n);
			p->out_len += (size_t)n;
			p->out[p->out_len] = '\0';
			continue;
		}
		if (n == 0) {
			close(p->out_fd);
			p->out_fd = -1;
			return false;
		}
		return errno == EAGAIN || errno == EINTR;
	}
}

bool np_wait_output(struct np_proc *p, const char *needle, double timeout_s)
{
	double deadline = np_now() + timeout_s;
	for (;;) {
		bool open = np_pump(p);
		if (strstr(p->out, needle))
			return true;
		if (!open || np_now() > deadline)
			return false;
		struct pollfd pfd = { .fd = p->out_fd, .events = POLLIN };
		poll(&pfd, 1, 50);
	}
}

bool np_wait_exit(struct np_proc *p, double timeout_s)
{
	double deadline = np_now() + timeout_s;
	while (!p->exited) {
		np_pump(p);
		int st;
		pid_t w = waitpid(p->pid, &st, WNOHANG);
		if (w == p->pid) {
			p->exited = true;
			p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			break;
		}
		if (np_now() > deadline)
			return false;
		np_sleep_ms(5);
	}
	/* Drain the rest of its output (a grandchild may hold the pipe: bounded). */
	double drain = np_now() + 2.0;
	while (np_pump(p) && np_now() < drain) {
		struct pollfd pfd = { .fd = p->out_fd, .events = POLLIN };
		poll(&pfd, 1, 50);
	}
	np_forget(p);
	return true;
}

void np_proc_free(struct np_proc *p)
{
	np_stop(p);
	free(p->out);
	p->out = NULL;
}

int np_vmm_start(struct np_proc *p, unsigned timeout_s, ...)
{
	const char *argv[NP_MAX_ARGS + 4];
	char t[16];
	int n = 0;
	snprintf(t, sizeof(t), "%u", timeout_s);
	argv[n++] = vs_vmm_path();
	argv[n++] = "--timeout";
	argv[n++] = t;
	va_list ap;
	va_start(ap, timeout_s);
	for (const char *a; (a = va_arg(ap, const char *)) && n < NP_MAX_ARGS;)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return np_spawn(p, argv, true, NULL);
}

unsigned np_listening_port(const struct np_proc *p)
{
	const char *s = strstr(p->out, "listening on 127.0.0.1:");
	return s ? (unsigned)strtoul(s + strlen("listening on 127.0.0.1:"), NULL, 10) : 0;
}

unsigned np_free_port(int type)
{
	int fd = socket(AF_INET, type, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	close(fd);
	return ntohs(sin.sin_port);
}

bool np_port_bound(unsigned port, bool udp)
{
	const char *files[2] = { udp ? "/proc/net/udp" : "/proc/net/tcp",
				 udp ? "/proc/net/udp6" : "/proc/net/tcp6" };
	for (int f = 0; f < 2; f++) {
		FILE *fp = fopen(files[f], "r");
		char line[512];
		if (!fp)
			continue;
		while (fgets(line, sizeof(line), fp)) {
			char local[80];
			unsigned st;
			if (sscanf(line, " %*u: %79s %*s %x", local, &st) != 2)
				continue;
			const char *colon = strrchr(local, ':');
			if (!colon || strtoul(colon + 1, NULL, 16) != port)
				continue;
			if (udp || st == 0x0a /* TCP_LISTEN */) {
				fclose(fp);
				return true;
			}
		}
		fclose(fp);
	}
	return false;
}

bool np_wait_bound(struct np_proc *peer, unsigned port, bool udp,
		   double timeout_s)
{
	double deadline = np_now() + timeout_s;
	while (!np_port_bound(port, udp)) {
		if (np_now() > deadline || (peer && np_wait_exit(peer, 0)))
			return false;
		np_sleep_ms(10);
	}
	return true;
}

int np_listen_loopback(unsigned *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

unsigned np_start_socat_listener(struct np_proc *socat, bool v6, const char *opts,
				 const char *peer)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		unsigned port = np_free_port(SOCK_STREAM);
		char listen[128];
		snprintf(listen, sizeof(listen), "%s:%u,bind=%s,reuseaddr%s%s",
			 v6 ? "TCP6-LISTEN" : "TCP4-LISTEN", port, v6 ? "[::1]" : "127.0.0.1",
			 *opts ? "," : "", opts);
		if (np_start(socat, false, NULL, "socat", listen, peer, NULL) != 0)
			return 0;
		if (np_wait_bound(socat, port, false, 10))
			return port;
		np_proc_free(socat);
	}
	return 0;
}

bool np_tmpdir(char path[256])
{
	const char *base = getenv("TMPDIR");
	snprintf(path, 256, "%s/vs-net-XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(path) != NULL;
}

static int np_rm_entry(const char *path, const struct stat *st, int flag,
		       struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void np_rmtree(const char *path)
{
	nftw(path, np_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *np_join(const char *dir, const char *name)
{
	char *p;
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		abort();
	return p;
}

bool np_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return false;
	bool ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok;
}

long long np_file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

bool np_sha256sum(const char *path, char hex[65])
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "sha256sum -b -- '%s'", path);
	FILE *p = popen(cmd, "r");
	if (!p)
		return false;
	bool ok = fscanf(p, "%64s", hex) == 1 && strlen(hex) == 64;
	return pclose(p) == 0 && ok;
}

uint64_t np_pattern_word(uint64_t seed, uint64_t index)
{
	uint64_t z = (seed + index + 1) * UINT64_C(0x9e3779b97f4a7c15);
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void np_pattern_fill(uint8_t *buf, size_t len, uint64_t offset)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = np_pattern_word(0, (offset + i) / 8);
		size_t n = len - i < 8 ? len - i : 8;
		memcpy(buf + i, &v, n);
	}
}

bool np_write_pattern_file(const char *path, uint64_t bytes)
{
	FILE *f = fopen(path, "wb");
	static uint8_t chunk[1 << 20];
	if (!f)
		return false;
	bool ok = true;
	for (uint64_t off = 0; off < bytes && ok; off += sizeof(chunk)) {
		size_t n = bytes - off < sizeof(chunk) ? (size_t)(bytes - off) : sizeof(chunk);
		np_pattern_fill(chunk, n, off);
		ok = fwrite(chunk, 1, n, f) == n;
	}
	return fclose(f) == 0 && ok;
}

long long np_pattern_mismatch(const char *path, uint64_t bytes)
{
	FILE *f = fopen(path, "rb");
	static uint8_t want[1 << 20], got[1 << 20];
	if (!f)
		return 0;
	uint64_t off = 0;
	for (;;) {
		size_t n = fread(got, 1, sizeof(got), f);
		if (n == 0)
			break;
		np_pattern_fill(want, n, off);
		if (memcmp(want, got, n)) {
			size_t i = 0;
			while (want[i] == got[i])
				i++;
			fclose(f);
			return (long long)(off + i);
		}
		off += n;
	}
	fclose(f);
	return off == bytes ? -1 : (long long)off;
}

bool np_parse_bulk(const char *out, const char *prog, unsigned long long *bytes,
		   char hex[65])
{
	char key[64];
	snprintf(key, sizeof(key), "%s: bytes=", prog);
	const char *s = strstr(out, key);
	return s && sscanf(s + strlen(key), "%llu sha256=%64[0-9a-f]", bytes, hex) == 2;
}

int np_count_lines_with(const char *s, const char *needle)
{
	int n = 0;
	for (const char *line = s; line && *line;) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		const char *hit = strstr(line, needle);
		if (hit && hit < line + len)
			n++;
		line = eol ? eol + 1 : NULL;
	}
	return n;
}


int np_open_fds(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}
