"""bench/httpd.c built natively (build/native-httpd), against real sockets: requests that
arrive in pieces, pipelined requests, and a request split across a pipelined batch.

httpd reads into one scratch buffer and keeps a connection's bytes only while a request
is incomplete (bench/httpd.c, the header comment).  These are the paths where a byte kept
in the wrong place, or not kept, would show: each response must come back whole and
exactly once per request.  The guest's httpd is the same source (kvm_net_http and
kvm_net_many run it in the vmm).

The binary: $VS_NATIVE_HTTPD (ctest sets it), else build/native-httpd.
"""
import os
import pathlib
import re
import socket
import subprocess
import time
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
HTTPD = os.environ.get("VS_NATIVE_HTTPD", str(ROOT / "build" / "native-httpd"))
TEXT = "split%20and%20pipelined"
BODY = b"split and pipelined\n"


def expected(proto, keep):
    """The response httpd builds for TEXT (build_response in bench/httpd.c)."""
    head = (f"{proto} 200 OK\r\nServer: virtsocket-httpd\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(BODY)}\r\n"
            + ("" if keep else "Connection: close\r\n") + "\r\n").encode()
    return head + BODY


KEEP = expected("HTTP/1.1", True)
CLOSE = expected("HTTP/1.0", False)
GET11 = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
GET10 = b"GET / HTTP/1.0\r\n\r\n"


class NativeHttpd(unittest.TestCase):
    def setUp(self):
        if not os.access(HTTPD, os.X_OK):
            self.fail(f"{HTTPD} is not there: build it first (scripts/build)")
        self.proc = subprocess.Popen([HTTPD, "--keep-alive", "0", TEXT],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if not m:
            self.proc.kill()
            self.fail(f"native-httpd did not say where it listens: {line!r}")
        self.port = int(m.group(1))

    def tearDown(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def read_exactly(self, s, n):
        got = b""
        while len(got) < n:
            chunk = s.recv(n - len(got))
            if not chunk:
                break
            got += chunk
        return got

    def assert_nothing_more(self, s, wait=0.3):
        """No extra response: the server neither repeated nor invented one."""
        s.settimeout(wait)
        try:
            extra = s.recv(4096)
        except socket.timeout:
            extra = b""
        finally:
            s.settimeout(10)
        self.assertEqual(extra, b"")

    def send_in_pieces(self, s, data, cuts):
        last = 0
        for cut in list(cuts) + [len(data)]:
            s.sendall(data[last:cut])
            time.sleep(0.05)  # each piece its own segment, read by its own recv()
            last = cut

    def test_a_request_in_pieces_is_answered_once_when_whole(self):
        with self.connect() as s:
            self.send_in_pieces(s, GET11, [3, 9, len(GET11) - 1])
            self.assertEqual(self.read_exactly(s, len(KEEP)), KEEP)
            self.assert_nothing_more(s)
            # The connection goes on: its next request arrives whole.
            s.sendall(GET11)
            self.assertEqual(self.read_exactly(s, len(KEEP)), KEEP)

    def test_pipelined_requests_get_a_response_each_in_order(self):
        with self.connect() as s:
            s.sendall(GET11 * 3 + GET10)
            want = KEEP * 3 + CLOSE
            self.assertEqual(self.read_exactly(s, len(want) + 1), want)  # then EOF

    def test_a_pipelined_batch_ending_mid_request_keeps_the_rest(self):
        with self.connect() as s:
            data = GET11 * 2 + GET10
            self.send_in_pieces(s, data, [len(GET11) + 5, 2 * len(GET11) + 7])
            want = KEEP * 2 + CLOSE
            self.assertEqual(self.read_exactly(s, len(want) + 1), want)

    def test_many_connections_with_partial_requests_do_not_mix_their_bytes(self):
        conns = [self.connect() for _ in range(20)]
        try:
            # Half a request on every connection first, so that each keeps its own
            # partial bytes while the others are read; the halves differ (HEAD, GET).
            reqs = [(b"HEAD" if i % 2 else b"GET") + b" / HTTP/1.1\r\nHost: x\r\n\r\n"
                    for i in range(len(conns))]
            for s, r in zip(conns, reqs):
                s.sendall(r[:7])
            time.sleep(0.2)
            for s, r in zip(conns, reqs):
                s.sendall(r[7:])
            for i, s in enumerate(conns):
                want = KEEP[:KEEP.index(b"\r\n\r\n") + 4] if i % 2 else KEEP
                self.assertEqual(self.read_exactly(s, len(want)), want, f"connection {i}")
            time.sleep(0.3)
            for s in conns:
                self.assert_nothing_more(s, wait=0.01)
        finally:
            for s in conns:
                s.close()


if __name__ == "__main__":
    unittest.main()
