"""The host end of every run: bench-peer (sink + echo) or two socats on 127.0.0.1."""
import os
import re
import shutil
import signal
import socket
import subprocess
import time

from .common import die

class Peer:
    """The host end: bench-peer (sink + echo in one epoll process) or two socats."""

    def __init__(self, kind, build):
        self.procs = []
        if kind == "bench-peer":
            exe = os.path.join(build, "bench-peer")
            p = subprocess.Popen([exe, "--sink", "0", "--echo", "0"], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
            self.procs.append(p)
            line = p.stdout.readline()
            m = re.match(r"READY sink=(\d+) echo=(\d+)", line)
            if not m:
                self.stop()
                die(f"{exe} did not start (said {line!r})")
            self.sink, self.echo = int(m.group(1)), int(m.group(2))
        else:
            if not shutil.which("socat"):
                die("socat not found: scripts/install-deps, or --peer bench-peer")
            self.sink, self.echo = free_port(), free_port()
            self.procs.append(subprocess.Popen(
                ["socat", "-u", f"TCP-LISTEN:{self.sink},bind=127.0.0.1,reuseaddr,fork,backlog=1024",
                 "OPEN:/dev/null,wronly"], stderr=subprocess.DEVNULL))
            self.procs.append(subprocess.Popen(
                ["socat", f"TCP-LISTEN:{self.echo},bind=127.0.0.1,reuseaddr,fork,backlog=1024",
                 "PIPE"], stderr=subprocess.DEVNULL))
            for port in (self.sink, self.echo):
                wait_listening(port)
        self.kind = kind

    def pids(self):
        """The host end's processes (scripts/bench --vcpus counts their CPU time)."""
        return [p.pid for p in self.procs]

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    die(f"the peer never listened on port {port}")


