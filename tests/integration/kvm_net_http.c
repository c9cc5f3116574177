/* SPDX-License-Identifier: MIT */
/*
 * HTTP both ways through virtsocket, with real host programs:
 *   - curl fetches pages from the guest's httpd (status line, headers and
 *     body exact; HEAD; an unknown method; then 20 curls at once);
 *   - the guest's http-get fetches files from python3 -m http.server and
 *     from nginx (IPv4 and IPv6), checked against sha256sum of the file.
 */
#include "net_peers.h" /* first: it defines _GNU_SOURCE */

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"

TestSuite(kvm_net_http, .timeout = 900);

/* ---- host curl -> guest httpd ------------------------------------------------ */

static const char page_text[] = "Hello from the virtsocket guest: 'curl' <test> & more\n";

/* Start the guest httpd (extra args after PORT) and return its port. */
static unsigned start_httpd(struct np_proc *vmm, const char *text, const char *max_requests,
			    const char *size)
{
	if (size)
		cr_assert_eq(np_vmm_start(vmm, 600, vs_guest_img(), "--", "httpd", "--size", size,
					  "0", "x", max_requests, NULL), 0);
	else
		cr_assert_eq(np_vmm_start(vmm, 600, vs_guest_img(), "--", "httpd", "0", text,
					  max_requests, NULL), 0);
	cr_assert(np_wait_output(vmm, "listening on 127.0.0.1:", 120),
		  "httpd never listened; it said:\n%s", vmm->out);
	unsigned port = np_listening_port(vmm);
	cr_assert_neq(port, 0);
	return port;
}

/* Run curl with args, return its stdout (caller frees) and exit status. */
static char *run_curl(int *status, size_t *len, const char *const args[])
{
	const char *argv[32];
	int n = 0;
	argv[n++] = "curl";
	argv[n++] = "-sS";
	argv[n++] = "--max-time";
	argv[n++] = "120";
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	struct np_proc c;
	cr_assert_eq(np_spawn(&c, argv, true, NULL), 0, "cannot start curl");
	cr_assert(np_wait_exit(&c, 180), "curl did not finish");
	*status = c.status;
	*len = c.out_len;
	char *out = c.out;
	c.out = NULL;
	np_proc_free(&c);
	return out;
}

Test(kvm_net_http, curl_gets_exact_pages_from_guest_httpd_and_20_at_once)
{
	enum { PARALLEL = 20 };
	struct np_proc vmm;
	/* 1 GET + 1 HEAD + 1 DELETE + 20 parallel GETs. */
	unsigned port = start_httpd(&vmm, "Hello%20from%20the%20virtsocket%20guest:%20'curl'%20"
				    "<test>%20&%20more", "23", NULL);
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/index.html", port);

	/* One GET: the whole response, byte for byte. */
	char expect[512];
	snprintf(expect, sizeof(expect),
		 "HTTP/1.0 200 OK\r\nServer: virtsocket-httpd\r\n"
		 "Content-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n"
		 "Connection: close\r\n\r\n%s", strlen(page_text), page_text);
	int st;
	size_t len;
	char *out = run_curl(&st, &len, (const char *[]){ "-i", url, NULL });
	cr_assert_eq(st, 0, "curl -i %s failed (%d)", url, st);
	cr_assert_str_eq(out, expect, "the response is not exactly what httpd should send");
	free(out);

	/* HEAD: the same headers, no body. */
	out = run_curl(&st, &len, (const char *[]){ "-I", url, NULL });
	cr_assert_eq(st, 0);
	cr_assert_eq(strncmp(out, expect, strlen(expect) - strlen(page_text)), 0,
		     "HEAD headers differ:\n%s", out);
	cr_assert_eq(len, strlen(expect) - strlen(page_text), "HEAD has a body:\n%s", out);
	free(out);

	/* A method httpd does not serve: 405 with Allow. */
	out = run_curl(&st, &len, (const char *[]){ "-i", "-X", "DELETE", url, NULL });
	cr_assert_eq(st, 0);
	cr_assert_eq(strncmp(out, "HTTP/1.0 405 ", 13), 0, "DELETE: %s", out);
	cr_assert_not_null(strstr(out, "\r\nAllow: GET, HEAD\r\n"));
	free(out);

	/* 20 curls at once, each its own process and connection. */
	char tmp[256];
	cr_assert(np_tmpdir(tmp));
	struct np_proc curls[PARALLEL];
	char *files[PARALLEL];
	for (int i = 0; i < PARALLEL; i++) {
		char name[32];
		snprintf(name, sizeof(name), "page%d", i);
		files[i] = np_join(tmp, name);
		cr_assert_eq(np_start(&curls[i], true, NULL, "curl", "-sS", "--max-time", "300",
				      "-o", files[i], "-w", "%{http_code}", url, NULL), 0);
	}
	for (int i = 0; i < PARALLEL; i++) {
		cr_assert(np_wait_exit(&curls[i], 320), "curl %d did not finish", i);
		cr_assert_eq(curls[i].status, 0, "curl %d failed with %d", i, curls[i].status);
		cr_assert_str_eq(curls[i].out, "200", "curl %d: HTTP status %s", i, curls[i].out);
		FILE *f = fopen(files[i], "rb");
		char body[256] = "";
		size_t n = f ? fread(body, 1, sizeof(body) - 1, f) : 0;
		if (f)
			fclose(f);
		body[n] = '\0';
		cr_assert_str_eq(body, page_text, "curl %d got a different body", i);
		np_proc_free(&curls[i]);
		free(files[i]);
	}
	np_rmtree(tmp);

	cr_assert(np_wait_exit(&vmm, 120), "httpd did not exit after 23 requests");
	fprintf(stderr, "---- httpd said:\n%s", vmm.out);
	cr_assert_eq(vmm.status, 0);
	cr_assert_not_null(strstr(vmm.out, "httpd: 23 responses"));
	np_proc_free(&vmm);
}

/* The --size body, as bench/httpd.c generates it (written again here from its
 * comment, so that a bug there shows). */
static void sized_body(char *p, size_t len)
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

Test(kvm_net_http, curl_downloads_a_large_page_from_guest_httpd)
{
	const size_t size = 3 * 1024 * 1024 + 17;
	struct np_proc vmm;
	unsigned port = start_httpd(&vmm, NULL, "1", "3145745");
	char url[64], tmp[256];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/big", port);
	cr_assert(np_tmpdir(tmp));
	char *file = np_join(tmp, "big");
	int st;
	size_t len;
	free(run_curl(&st, &len, (const char *[]){ "-o", file, url, NULL }));
	cr_assert_eq(st, 0, "curl failed (%d)", st);
	cr_assert_eq(np_file_size(file), (long long)size);
	char *want = malloc(size), *got = malloc(size);
	sized_body(want, size);
	FILE *f = fopen(file, "rb");
	cr_assert_eq(fread(got, 1, size, f), size);
	fclose(f);
	cr_assert_eq(memcmp(want, got, size), 0, "the large page differs");
	free(want);
	free(got);
	free(file);
	np_rmtree(tmp);
	cr_assert(np_wait_exit(&vmm, 120));
	cr_assert_eq(vmm.status, 0, "httpd:\n%s", vmm.out);
	np_proc_free(&vmm);
}

/* ---- guest http-get -> host HTTP servers ------------------------------------- */

static const char hello_txt[] =
	"Hello, guest.\nThis file came from a real HTTP server on the host.\n"
	"Tabs\tand UTF-8 \xc3\xa9\xc3\xa8 survive byte for byte.\n";

struct site {
	char dir[256];     /* temp dir; the document root is dir/www */
	char *www;
	char *blob;        /* www/blob.bin: pattern bytes, an odd size */
	unsigned long long blob_size;
	char blob_sha[65];
};

static void make_site(struct site *s)
{
	cr_assert(np_tmpdir(s->dir));
	s->www = np_join(s->dir, "www");
	cr_assert_eq(mkdir(s->www, 0755), 0);
	char *hello = np_join(s->www, "hello.txt");
	cr_assert(np_write_file(hello, hello_txt, strlen(hello_txt)));
	free(hello);
	s->blob = np_join(s->www, "blob.bin");
	s->blob_size = 5 * 1024 * 1024 + 12345;
	cr_assert(np_write_pattern_file(s->blob, s->blob_size));
	cr_assert(np_sha256sum(s->blob, s->blob_sha), "sha256sum failed");
}

static void free_site(struct site *s)
{
	np_rmtree(s->dir);
	free(s->www);
	free(s->blob);
}

static struct vs_result http_get(const char *url, bool sha_only)
{
	struct vs_result r;
	if (sha_only)
		cr_assert_eq(vs_vmm(&r, 600, vs_guest_img(), "--", "http-get", "--sha256-only", url,
				    NULL), 0);
	else
		cr_assert_eq(vs_vmm(&r, 600, vs_guest_img(), "--", "http-get", url, NULL), 0);
	vs_result_dump(&r, url);
	return r;
}

/* Fetch hello.txt, blob.bin and a missing file from the server at base. */
static void fetch_site(const struct site *s, const char *base)
{
	char url[128], want[256];

	/* Text: printed exactly, then the summary line. */
	snprintf(url, sizeof(url), "%s/hello.txt", base);
	struct vs_result r = http_get(url, false);
	cr_assert_eq(r.status, 0, "http-get %s: status %d", url, r.status);
	char hello_sha[65];
	char *hello = np_join(s->www, "hello.txt");
	cr_assert(np_sha256sum(hello, hello_sha));
	free(hello);
	char *expect;
	cr_assert(asprintf(&expect, "%shttp-get: status 200, %zu bytes, sha256 %s\n", hello_txt,
			   strlen(hello_txt), hello_sha) > 0);
	cr_assert_str_eq(r.out, expect, "http-get must print the body exactly, then the summary");
	free(expect);
	vs_result_free(&r);

	/* Binary, 5 MiB: only the digest is printed. */
	snprintf(url, sizeof(url), "%s/blob.bin", base);
	r = http_get(url, true);
	cr_assert_eq(r.status, 0, "http-get %s: status %d", url, r.status);
	snprintf(want, sizeof(want), "http-get: status 200, %llu bytes, sha256 %s\n",
		 s->blob_size, s->blob_sha);
	cr_assert_str_eq(r.out, want, "the digest differs from sha256sum's");
	vs_result_free(&r);

	/* Missing: 404 is a failure, said as such. */
	snprintf(url, sizeof(url), "%s/no-such-file", base);
	r = http_get(url, true);
	cr_assert_eq(r.status, 1, "a 404 must fail (status %d)", r.status);
	cr_assert_not_null(strstr(r.out, "http-get: status 404, "));
	vs_result_free(&r);
}

Test(kvm_net_http, http_get_from_python_http_server)
{
	struct site s;
	make_site(&s);
	struct np_proc py;
	unsigned port = 0;
	for (int attempt = 0; attempt < 5 && !port; attempt++) {
		port = np_free_port(SOCK_STREAM);
		char p[8];
		snprintf(p, sizeof(p), "%u", port);
		/* /usr/bin/python3: Debian's, whatever PATH says (a pyenv shim may not
		 * work with the sandbox's HOME). */
		cr_assert_eq(np_start(&py, false, NULL, "/usr/bin/python3", "-m", "http.server",
				      "--bind", "127.0.0.1", "--directory", s.www, p, NULL), 0);
		if (!np_wait_bound(&py, port, false, 60)) {
			np_proc_free(&py);
			port = 0;
		}
	}
	cr_assert_neq(port, 0, "python3 -m http.server never listened");
	char base[64];
	snprintf(base, sizeof(base), "http://127.0.0.1:%u", port);
	fetch_site(&s, base);
	np_proc_free(&py);
	free_site(&s);
}

Test(kvm_net_http, http_get_from_nginx_over_ipv4_and_ipv6)
{
	struct site s;
	make_site(&s);
	struct np_proc nginx;
	unsigned port = 0;
	for (int attempt = 0; attempt < 5 && !port; attempt++) {
		port = np_free_port(SOCK_STREAM);
		char *conf = np_join(s.dir, "nginx.conf");
		FILE *f = fopen(conf, "w");
		cr_assert_not_null(f);
		/* Everything nginx writes goes to the temp dir (the sandbox's / is
		 * read-only); one process, in the foreground. */
		fprintf(f,
			"daemon off;\nmaster_process off;\nworker_processes 1;\n"
			"pid %1$s/nginx.pid;\nerror_log stderr warn;\n"
			"events { worker_connections 64; }\n"
			"http {\n  access_log off;\n"
			"  client_body_temp_path %1$s/body;\n  proxy_temp_path %1$s/proxy;\n"
			"  fastcgi_temp_path %1$s/fastcgi;\n  uwsgi_temp_path %1$s/uwsgi;\n"
			"  scgi_temp_path %1$s/scgi;\n"
			"  types { text/plain txt; application/octet-stream bin; }\n"
			"  server {\n    listen 127.0.0.1:%2$u;\n    listen [::1]:%2$u;\n"
			"    root %3$s;\n  }\n}\n", s.dir, port, s.www);
		fclose(f);
		cr_assert_eq(np_start(&nginx, false, NULL, "nginx", "-p", s.dir, "-c", conf, "-e",
				      "stderr", NULL), 0);
		free(conf);
		if (!np_wait_bound(&nginx, port, false, 30)) {
			np_proc_free(&nginx);
			port = 0;
		}
	}
	cr_assert_neq(port, 0, "nginx never listened");
	char base[64];
	snprintf(base, sizeof(base), "http://127.0.0.1:%u", port);
	fetch_site(&s, base);
	snprintf(base, sizeof(base), "http://[::1]:%u", port);
	fetch_site(&s, base);
	np_proc_free(&nginx);
	free_site(&s);
}
