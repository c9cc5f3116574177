"""The host's own TCP limit, measured by iperf3 (Debian's; nobody here wrote it).

One stream over 127.0.0.1, writes of the benchmark's message size (`-l SIZE`), Nagle on
for stream-nagle and `-N` (TCP_NODELAY) for stream.  iperf3 counts whole seconds
(`-t` is an integer), so a run lasts at least 1 s.  Its figures are made to look like
native-bench's RESULT: MB/s and messages/s as the receiver got them (what was
delivered, like native-bench's stream, which waits for the sink's EOF).
"""
import json
import shutil
import signal
import subprocess

from .common import run_bounded
from .hostend import free_port, wait_listening


class Server:
    """iperf3 -s on 127.0.0.1 (one test at a time, which is how the matrix runs)."""

    def __init__(self):
        self.proc = None
        self.port = None
        self.error = None
        if not shutil.which("iperf3"):
            self.error = "iperf3 is not installed (scripts/install-deps)"
            return
        self.port = free_port()
        self.proc = subprocess.Popen(["iperf3", "-s", "-B", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_listening(self.port)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def command(port, workload, size, seconds):
    cmd = ["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(max(1, round(seconds))),
           "-l", str(size), "-J"]
    return cmd + (["-N"] if workload == "stream" else [])


def result_of(text, workload, size):
    """native-bench-like RESULT dict from iperf3 -J output, or None."""
    try:
        end = json.loads(text)["end"]
        got = end["sum_received"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return None
    if not got.get("seconds") or not got.get("bytes"):
        return None
    secs = got["seconds"]
    return {"bench": workload, "where": "iperf3", "size": size, "bytes": got["bytes"],
            "seconds": secs, "mb_per_s": got["bytes"] / secs / 1e6,
            "msgs_per_s": got["bytes"] / size / secs,
            "retransmits": end.get("sum_sent", {}).get("retransmits")}


def run(server, workload, size, seconds, scratch):
    """(cmd, status, result, stdout, stderr) of one iperf3 client run."""
    if server.error:
        return [], 127, None, "", server.error
    cmd = command(server.port, workload, size, seconds)
    status, out, err = run_bounded(cmd, seconds + 60, scratch)
    res = result_of(out, workload, size) if status == 0 else None
    if status != 0 and not err.strip():
        try:  # iperf3 -J puts its error in the JSON
            err = json.loads(out).get("error", "")
        except json.JSONDecodeError:
            pass
    return cmd, status, res, out, err
