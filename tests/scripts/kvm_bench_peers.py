#!/usr/bin/python3
"""kvm test: scripts/bench runs a minimal peer matrix (rr 64 B, one point per peer
configuration plus virtsocket adaptive/zero, 3 repeats of 0.3 s) and every system
produces a result and a KVM exit count (debugfs), and summary.md has the comparison.
One point per system (a peer's repeats share one guest boot) keeps it well under
ctest's TIMEOUT (480 s): four L2 boots.  It prints scripts/bench's progress, and a
line of its own every TICK_S while a guest boots, which ctest -V (scripts/test's peers
group) shows as it comes: the sandbox calls 600 s of console silence a wedge.

    kvm_bench_peers.py BUILD_DIR

Runs where the kvm label runs (full KVM, or inside scripts/kvm-sandbox: --host-native
keeps scripts/bench from starting a sandbox of its own)."""
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SYSTEMS = ["adaptive/zero", "e1000", "virtio-net", "vhost-net", "vhost-vsock"]
DEADLINE_S = 450     # below ctest's TIMEOUT (480 s): our own message, not a kill
TICK_S = 60          # a line at least this often (the sandbox's silence limit is 600 s)


def progress(out):
    """What scripts/bench has done so far: its raw/ files."""
    try:
        names = os.listdir(os.path.join(out, "raw"))
    except OSError:
        return "no results yet"
    runs = sum(1 for n in names if n.endswith(".json") and n[:4].isdigit())
    booted = sorted(n[len("peer-"):-len(".started")] for n in names if n.endswith(".started"))
    return f"{runs} runs recorded; peers started: {', '.join(booted) or 'none'}"


def main(build):
    out = os.path.join(tempfile.mkdtemp(prefix="vs-kvm-bench-peers-"), "results")
    cmd = ["/usr/bin/python3", os.path.join(ROOT, "scripts", "bench"), "--no-build",
           "--build", build, "--host-native", "--out", out, "--configs", ",".join(SYSTEMS),
           "--workloads", "rr", "--sizes", "64", "--seconds", "0.3", "--repeats", "3"]
    print("$ " + " ".join(cmd), flush=True)
    # A session of its own: at the deadline the whole tree goes (a peer-vm left
    # running would keep its QEMU and tap0, and the next peer-vm could not start).
    p = subprocess.Popen(cmd, start_new_session=True)
    t0 = time.monotonic()
    rc = None
    while rc is None:
        left = DEADLINE_S - (time.monotonic() - t0)
        if left <= 0:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            print(f"FAIL: scripts/bench took longer than {DEADLINE_S} s", flush=True)
            return 1
        try:
            rc = p.wait(timeout=min(TICK_S, left))
        except subprocess.TimeoutExpired:
            # a peer's boot prints nothing for a while: say that we are alive
            print(f"kvm_bench_peers: {time.monotonic() - t0:.0f} s, scripts/bench still "
                  f"running ({progress(out)})", flush=True)
    problems = [] if rc == 0 else [f"scripts/bench exited {rc} (1: some runs failed)"]
    try:
        with open(os.path.join(out, "summary.csv")) as f:
            rows = {r["config"]: r for r in csv.DictReader(f) if r["bench"] == "rr"}
        with open(os.path.join(out, "results.json")) as f:
            runs = json.load(f)["runs"]
        with open(os.path.join(out, "summary.md")) as f:
            summary = f.read()
    except (OSError, json.JSONDecodeError) as e:
        print(f"FAIL: {out} is incomplete: {e}")
        return 1
    for c in SYSTEMS:
        r = rows.get(c)
        if not r or not r["ok_runs"] or int(r["ok_runs"]) < 1 or not r["rtt_per_s"]:
            why = [x.get("stderr_tail", "")[-200:] for x in runs if x["config"] == c]
            problems.append(f"{c}: no result ({why[-1] if why else 'not run'})")
            continue
        epo = r.get("kvm_exits_per_op")
        if not epo or float(epo) <= 0:
            why = [x.get("kvm_exits_missing") for x in runs if x["config"] == c]
            problems.append(f"{c}: no KVM exit count (kvm_exits_per_op={epo!r}"
                            + (f"; {why[-1]}" if why and why[-1] else "") + ")")
        print(f"{c}: {float(r['rtt_per_s']):.0f} round trips/s, "
              f"{epo} KVM exits per round trip")
    if "## The paper's comparison" not in summary:
        problems.append("summary.md has no comparison section")
    for p in problems:
        print("FAIL: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: kvm_bench_peers.py BUILD_DIR")
    sys.exit(main(os.path.abspath(sys.argv[1])))
