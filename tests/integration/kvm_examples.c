/* SPDX-License-Identifier: MIT */
/*
 * Ordinary C programs as guests (examples/): each test builds its program with the one
 * command, scripts/guest-cc, then boots the image and checks it byte for byte against
 * real host peers:
 *   - print_args: argv exactly as given (spaces, quotes, empty strings, non-ASCII bytes,
 *     200 arguments), main's return value as the vmm's status, atexit() handlers run;
 *     a command line over 2 KiB refused by the vmm with a clear message;
 *   - echo_server (getaddrinfo + select) echoes socat clients' bytes;
 *   - chat_server (poll) relays one socat client's bytes to another;
 *   - http_client (non-blocking connect) prints nginx's file exactly, and names the
 *     refusal when nothing listens;
 *   - outside the supported surface: a link error or a compile error naming the
 *     function, and ENOSYS for a signal handler.
 */
#include "net_peers.h"

#include <criterion/criterion.h>
#include <sys/stat.h>

#define EXAMPLES VS_SOURCE_DIR "/examples/"
#define IMAGES   VS_BUILD_DIR "/tests/examples/"

static void setup(void)
{
	mkdir(VS_BUILD_DIR "/tests", 0755);
	mkdir(IMAGES, 0755);
}

TestSuite(kvm_examples, .init = setup, .timeout = 360);

/* scripts/guest-cc ARGS... (NULL terminated), stdout and stderr into *out; its status. */
static int guest_cc(char **out, ...) __attribute__((sentinel));
static int guest_cc(char **out, ...)
{
	const char *argv[NP_MAX_ARGS + 1] = { "/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1",
					      VS_SOURCE_DIR "/scripts/guest-cc" };
	int n = 4;
	va_list ap;
	va_start(ap, out);
	for (const char *a; (a = va_arg(ap, const char *)) && n < NP_MAX_ARGS;)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	struct np_proc p;
	cr_assert_eq(np_spawn(&p, argv, true, NULL), 0);
	cr_assert(np_wait_exit(&p, 300), "guest-cc did not finish");
	*out = p.out;
	return p.status;
}

/* Build examples/NAME.c into IMAGES/NAME.img; the image's path. */
static char *build_example(const char *name)
{
	char *img, *src, *out;
	cr_assert(asprintf(&img, IMAGES "%s.img", name) > 0);
	cr_assert(asprintf(&src, EXAMPLES "%s.c", name) > 0);
	unlink(img);
	int st = guest_cc(&out, "-O2", "-Wall", "-o", img, src, NULL);
	cr_assert_eq(st, 0, "guest-cc %s failed (%d):\n%s", src, st, out);
	free(src);
	free(out);
	return img;
}

/* The vmm on img with these guest arguments, in the background. */
static void start_vmm(struct np_proc *p, const char *img, int argc, const char *const *args)
{
	const char **argv = calloc((size_t)argc + 6, sizeof(*argv));
	int n = 0;
	argv[n++] = vs_vmm_path();
	argv[n++] = "--timeout";
	argv[n++] = "300";
	argv[n++] = img;
	argv[n++] = "--";
	for (int i = 0; i < argc; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	cr_assert_eq(np_spawn(p, argv, true, NULL), 0);
	free(argv);
}

/* print_args' output for these arguments (argv[0] is the image's name). */
static char *expected_args(int argc, const char *const *args)
{
	size_t cap = 4096;
	for (int i = 0; i < argc; i++)
		cap += strlen(args[i]) + 32;
	char *s = malloc(cap);
	size_t len = (size_t)sprintf(s, "argc %d\n0 10:print_args\n", argc + 1);
	for (int i = 0; i < argc; i++)
		len += (size_t)sprintf(s + len, "%d %zu:%s\n", i + 1, strlen(args[i]), args[i]);
	strcpy(s + len, "bye\n");
	return s;
}

static void check_args(const char *img, int argc, const char *const *args)
{
	struct np_proc vmm;
	start_vmm(&vmm, img, argc, args);
	cr_assert(np_wait_exit(&vmm, 300), "print_args did not exit");
	char *want = expected_args(argc, args);
	cr_assert_str_eq(vmm.out, want, "argv differs from what was passed");
	cr_assert_eq(vmm.status, argc % 64, "exit status %d, main returned %d", vmm.status,
		     argc % 64);
	free(want);
	np_proc_free(&vmm);
}

Test(kvm_examples, argv_arrives_exactly_as_the_shell_gave_it)
{
	char *img = build_example("print_args");
	static const char *const tricky[] = {
		"httpd", "18080", "hello from the guest", "", "it's", "\"double\"", "a\tb",
		"  two  spaces  ", "\xc3\xa9t\xc3\xa9 \xff\x01", "--", "-x", "$HOME", "",
	};
	check_args(img, (int)(sizeof(tricky) / sizeof(tricky[0])), tricky);

	static char words[200][8];
	const char *many[200];
	for (int i = 0; i < 200; i++) {
		snprintf(words[i], sizeof(words[i]), "w%d", i);
		many[i] = words[i];
	}
	check_args(img, 200, many);

	/* 2048 bytes with the NULs fit; one byte more is refused, with the reason. */
	static char big[2048];
	memset(big, 'x', sizeof(big) - 1);
	const char *fits[] = { big };
	check_args(img, 1, fits);
	const char *too_long[] = { big, "" };
	struct np_proc vmm;
	start_vmm(&vmm, img, 2, too_long);
	cr_assert(np_wait_exit(&vmm, 60));
	cr_assert_eq(vmm.status, 2, "vmm status %d for a 2049-byte command line", vmm.status);
	np_proc_free(&vmm);
	free(img);
}

/* Start a guest server and wait for its line saying it listens. */
static unsigned start_server(struct np_proc *vmm, const char *img, const char *ready)
{
	char port[8];
	unsigned p = np_free_port(SOCK_STREAM);
	snprintf(port, sizeof(port), "%u", p);
	const char *args[] = { port, "127.0.0.1" };
	start_vmm(vmm, img, 2, args);
	cr_assert(np_wait_output(vmm, ready, 120), "the server never got ready:\n%s", vmm->out);
	return p;
}

static char *tcp_addr(unsigned port)
{
	char *s;
	cr_assert(asprintf(&s, "TCP:127.0.0.1:%u", port) > 0);
	return s;
}

Test(kvm_examples, echo_server_with_select_echoes_socat_byte_for_byte)
{
	char *img = build_example("echo_server");
	struct np_proc vmm;
	unsigned port = start_server(&vmm, img, "echo_server: listening on port");
	char dir[256];
	cr_assert(np_tmpdir(dir));
	char *in = np_join(dir, "in.bin"), *out = np_join(dir, "out.bin"), *tcp = tcp_addr(port);
	uint8_t *data = malloc(100000);
	for (size_t i = 0; i < 100000; i++)
		data[i] = (uint8_t)(i * 7 + i / 256); /* every byte value */
	cr_assert(np_write_file(in, data, 100000));

	/* Two clients at once (select serves both), then the exact bytes back. */
	char *dual = NULL, *dual2 = NULL, *out2 = np_join(dir, "out2.bin");
	cr_assert(asprintf(&dual, "OPEN:%s!!CREATE:%s", in, out) > 0);
	cr_assert(asprintf(&dual2, "OPEN:%s!!CREATE:%s", in, out2) > 0);
	struct np_proc c1, c2;
	cr_assert_eq(np_start(&c1, false, NULL, "socat", "-t", "30", dual, tcp, NULL), 0);
	cr_assert_eq(np_start(&c2, false, NULL, "socat", "-t", "30", dual2, tcp, NULL), 0);
	cr_assert(np_wait_exit(&c1, 200) && np_wait_exit(&c2, 200), "socat did not finish");
	cr_assert_eq(c1.status, 0);
	cr_assert_eq(c2.status, 0);
	for (int k = 0; k < 2; k++) {
		const char *f = k ? out2 : out;
		cr_assert_eq(np_file_size(f), 100000, "%s: %lld bytes came back", f, np_file_size(f));
		FILE *fp = fopen(f, "rb");
		uint8_t *back = malloc(100000);
		cr_assert_eq(fread(back, 1, 100000, fp), 100000);
		fclose(fp);
		cr_assert(memcmp(back, data, 100000) == 0, "the echo differs");
		free(back);
	}
	np_pump(&vmm);
	cr_assert_eq(np_count_lines_with(vmm.out, "connected"), 2, "%s", vmm.out);
	np_proc_free(&vmm);
	np_proc_free(&c1);
	np_proc_free(&c2);
	np_rmtree(dir);
	free(data);
	free(dual);
	free(dual2);
	free(in);
	free(out);
	free(out2);
	free(tcp);
	free(img);
}

Test(kvm_examples, chat_server_with_poll_relays_between_socat_clients)
{
	char *img = build_example("chat_server");
	struct np_proc vmm;
	unsigned port = start_server(&vmm, img, "waiting for connections");
	char dir[256];
	cr_assert(np_tmpdir(dir));
	char *msg = np_join(dir, "msg"), *got = np_join(dir, "got"), *tcp = tcp_addr(port);
	static const char text[] = "hello, room \xe2\x9c\x93\n\0binary\x7f\n";
	cr_assert(np_write_file(msg, text, sizeof(text) - 1));
	char *listener, *speaker;
	cr_assert(asprintf(&listener, "CREATE:%s", got) > 0);
	cr_assert(asprintf(&speaker, "OPEN:%s", msg) > 0);

	struct np_proc b, a;
	cr_assert_eq(np_start(&b, false, NULL, "socat", "-u", tcp, listener, NULL), 0);
	cr_assert(np_wait_output(&vmm, "new connection", 60), "%s", vmm.out);
	cr_assert_eq(np_start(&a, false, NULL, "socat", "-u", "-t", "5", speaker, tcp, NULL), 0);
	cr_assert(np_wait_exit(&a, 60));
	double deadline = np_now() + 60;
	while (np_file_size(got) < (long long)sizeof(text) - 1 && np_now() < deadline)
		np_sleep_ms(50);
	cr_assert_eq(np_file_size(got), (long long)sizeof(text) - 1);
	FILE *fp = fopen(got, "rb");
	char back[sizeof(text)];
	cr_assert_eq(fread(back, 1, sizeof(text) - 1, fp), sizeof(text) - 1);
	fclose(fp);
	cr_assert(memcmp(back, text, sizeof(text) - 1) == 0, "the relayed message differs");
	cr_assert(np_wait_output(&vmm, "hung up", 60), "%s", vmm.out);
	np_proc_free(&b);
	np_proc_free(&a);
	np_proc_free(&vmm);
	np_rmtree(dir);
	free(listener);
	free(speaker);
	free(msg);
	free(got);
	free(tcp);
	free(img);
}

/* nginx on 127.0.0.1:port serving dir/www; returns the port. */
static unsigned start_nginx(struct np_proc *nginx, const char *dir, const char *www)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		unsigned port = np_free_port(SOCK_STREAM);
		char *conf = np_join(dir, "nginx.conf");
		FILE *f = fopen(conf, "w");
		cr_assert_not_null(f);
		fprintf(f, "daemon off; master_process off; pid %1$s/nginx.pid;\n"
			"error_log stderr warn; events { worker_connections 16; }\n"
			"http { access_log off; client_body_temp_path %1$s/b; proxy_temp_path "
			"%1$s/p; fastcgi_temp_path %1$s/f; uwsgi_temp_path %1$s/u; scgi_temp_path "
			"%1$s/s;\n server { listen 127.0.0.1:%2$u; root %3$s; } }\n",
			dir, port, www);
		fclose(f);
		cr_assert_eq(np_start(nginx, false, NULL, "nginx", "-p", dir, "-c", conf, "-e",
				      "stderr", NULL), 0);
		free(conf);
		if (np_wait_bound(nginx, port, false, 30))
			return port;
		np_proc_free(nginx);
	}
	cr_assert_fail("nginx never listened");
	return 0;
}

Test(kvm_examples, http_client_with_nonblocking_connect_prints_nginx_file_exactly)
{
	char *img = build_example("http_client");
	char dir[256];
	cr_assert(np_tmpdir(dir));
	char *www = np_join(dir, "www");
	cr_assert_eq(mkdir(www, 0755), 0);
	char *page = np_join(www, "page.txt");
	static const char body[] = "line one\r\nUTF-8: \xc3\xa9\xc3\xa8\ttab\n"
				   "bytes \x01\x7f\xfe end\n";
	cr_assert(np_write_file(page, body, sizeof(body) - 1));
	struct np_proc nginx, vmm;
	unsigned port = start_nginx(&nginx, dir, www);
	char p[8];
	snprintf(p, sizeof(p), "%u", port);

	const char *args[] = { "127.0.0.1", p, "/page.txt" };
	start_vmm(&vmm, img, 3, args);
	cr_assert(np_wait_exit(&vmm, 120));
	cr_assert_eq(vmm.status, 0, "http_client:\n%s", vmm.out);
	cr_assert_eq(vmm.out_len, sizeof(body) - 1, "%zu bytes printed", vmm.out_len);
	cr_assert(memcmp(vmm.out, body, sizeof(body) - 1) == 0, "the body differs:\n%s", vmm.out);
	np_proc_free(&vmm);

	/* Nothing listening: refused, said either by connect() itself (loopback refuses
	 * within the host's connect) or after EINPROGRESS by SO_ERROR. */
	np_proc_free(&nginx);
	start_vmm(&vmm, img, 3, args);
	cr_assert(np_wait_exit(&vmm, 120));
	cr_assert_eq(vmm.status, 1, "http_client:\n%s", vmm.out);
	cr_assert(!strcmp(vmm.out, "http_client: connect: ECONNREFUSED\n") ||
		  !strcmp(vmm.out, "http_client: connection failed: ECONNREFUSED\n"), "%s", vmm.out);
	np_proc_free(&vmm);
	np_rmtree(dir);
	free(page);
	free(www);
	free(img);
}

/* A program that uses what the guest does not have fails to build, saying what. */
Test(kvm_examples, outside_the_surface_fails_to_link_or_compile_or_says_enosys)
{
	char *out, *src, *img = IMAGES "outside.img";

	src = IMAGES "uses_fork.c";
	static const char fork_user[] = "extern int fork(void);\nint main(void) { return fork(); }\n";
	cr_assert(np_write_file(src, fork_user, sizeof(fork_user) - 1));
	cr_assert_neq(guest_cc(&out, "-o", img, src, NULL), 0);
	cr_assert_not_null(strstr(out, "undefined reference to `fork'"), "%s", out);
	free(out);

	src = IMAGES "uses_gethostbyname.c";
	static const char resolver[] = "#include <netdb.h>\n"
				       "int main(void) { return gethostbyname(\"x\") != 0; }\n";
	cr_assert(np_write_file(src, resolver, sizeof(resolver) - 1));
	cr_assert_neq(guest_cc(&out, "-o", img, src, NULL), 0);
	cr_assert(strstr(out, "implicit declaration of function") && strstr(out, "gethostbyname") &&
		  strstr(out, "error"), "%s", out); /* quotes depend on the locale */
	free(out);

	src = IMAGES "uses_handler.c";
	static const char handler[] =
		"#include <errno.h>\n#include <signal.h>\n#include <stdio.h>\n#include <string.h>\n"
		"static void on_int(int s) { (void)s; }\n"
		"int main(void) {\n"
		"  if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) return 1;\n"
		"  if (signal(SIGINT, on_int) != SIG_ERR) return 2;\n"
		"  printf(\"errno %s\\n\", strerror(errno));\n  return 0;\n}\n";
	cr_assert(np_write_file(src, handler, sizeof(handler) - 1));
	cr_assert_eq(guest_cc(&out, "-o", img, src, NULL), 0, "%s", out);
	free(out);
	struct np_proc vmm;
	start_vmm(&vmm, img, 0, NULL);
	cr_assert(np_wait_exit(&vmm, 60));
	cr_assert_eq(vmm.status, 0, "%s", vmm.out);
	cr_assert_not_null(strstr(vmm.out, "signal handlers are not supported"), "%s", vmm.out);
	cr_assert_not_null(strstr(vmm.out, "errno ENOSYS\n"), "%s", vmm.out);
	np_proc_free(&vmm);

	/* A double reaches printf (gcc passes it on the stack without SSE): it stops,
	 * saying why, instead of printing something wrong. */
	src = IMAGES "uses_double.c";
	static const char dbl[] = "#include <stdio.h>\n"
				  "int main(void) { printf(\"%f\\n\", 1.5); return 0; }\n";
	cr_assert(np_write_file(src, dbl, sizeof(dbl) - 1));
	cr_assert_eq(guest_cc(&out, "-o", img, src, NULL), 0, "%s", out);
	free(out);
	start_vmm(&vmm, img, 0, NULL);
	cr_assert(np_wait_exit(&vmm, 60));
	cr_assert_eq(vmm.status, 63, "%s", vmm.out);
	cr_assert_not_null(strstr(vmm.out, "no floating point"), "%s", vmm.out);
	np_proc_free(&vmm);
}

/* README.md's example, as printed there, against a socat echo server. */
Test(kvm_examples, readme_example_talks_to_socat)
{
	char *img = build_example("hello_net");
	struct np_proc socat, vmm;
	unsigned port = np_start_socat_listener(&socat, false, "", "PIPE");
	cr_assert_neq(port, 0);
	char p[8];
	snprintf(p, sizeof(p), "%u", port);
	const char *args[] = { "127.0.0.1", p };
	start_vmm(&vmm, img, 2, args);
	cr_assert(np_wait_exit(&vmm, 120));
	cr_assert_eq(vmm.status, 0, "%s", vmm.out);
	cr_assert_str_eq(vmm.out, "hello_net got 6 bytes: hello\n");
	np_proc_free(&vmm);
	np_proc_free(&socat);
	free(img);
}
