"""Running the matrix inside scripts/kvm-sandbox (no hardware KVM here): one boot,
restarted and resumed when TCG's emulated SVM wedges."""
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time

from .common import ROOT, cpu_model, git_commit
from .options import PEER_CONFIGS, points
from .peerruns import BOOT_S
from . import http

def run_in_sandbox(a, argv, kind, out_dir, stamp):
    """The whole matrix in scripts/kvm-sandbox; scripts/bench's exit status."""
    # No hardware KVM here: the whole matrix in one sandbox boot.  The sandbox writes
    # only below this directory, so a --out elsewhere is filled afterwards.
    inside_out = out_dir
    if not (out_dir + os.sep).startswith(ROOT + os.sep):
        inside_out = os.path.join(ROOT, "results", f".sandbox-{stamp}")
    runs = a.repeats * len(points(a)) * len(a.configs) * len(a.vcpus or [1])
    # each peer configuration boots its Linux guest once (BOOT_S covers it and more)
    budget = int(runs * (a.seconds + 6) + a.repeats * 10 + 300
                 + sum(BOOT_S for c in a.configs if c in PEER_CONFIGS)
                 + (http.budget(a) if "http" in a.workloads else 0))
    # Multi-threaded TCG: the guest's vCPU and the host worker must run at once.
    env = dict(os.environ, VS_SANDBOX_TCG_THREAD="multi",
               VS_BENCH_OUTER_CPU=cpu_model(), VS_BENCH_OUTER_KERNEL=platform.release(),
               VS_BENCH_OUTER_KIND=kind, VS_BENCH_OUTER_LOADAVG=json.dumps(os.getloadavg()),
               VS_BENCH_OUTER_NPROC=str(os.cpu_count() or 1), VS_BENCH_COMMIT=git_commit())
    # /usr/bin/python3: the sandbox has no $HOME-based interpreter shims
    inner = ["/usr/bin/python3", os.path.join(ROOT, "scripts", "bench"), "--inside-sandbox",
             "--no-build", "--out", inside_out] + [
                 x for x in strip_option(argv, "--out") if x != "--no-build"]
    print(f"bench: host kind '{kind}': running the matrix ({runs} runs) in scripts/kvm-sandbox "
          f"(budget {budget} s)" + (" — use --host-native to run on PVM itself" if kind == "pvm" else ""))
    # TCG's emulated SVM can wedge the sandbox (a vCPU stuck, then the whole kernel; see
    # scripts/kvm-sandbox, status 123).  A run never takes more than --seconds plus its
    # start-up, so a matrix that writes no result for STALL_S is stuck: stop that
    # sandbox and start another one, which resumes after the last recorded run.
    # (a peer configuration's first result comes after its guest booted: BOOT_S)
    stall_s = a.seconds + (BOOT_S + 60 if any(c in PEER_CONFIGS for c in a.configs) else 150)
    rc = 0
    for attempt in range(1, SANDBOX_ATTEMPTS + 1):
        env["VS_BENCH_ATTEMPT"] = str(attempt)
        rc, stalled = sandbox_with_watchdog(
            [os.path.join(ROOT, "scripts", "kvm-sandbox"), "-t", str(budget), "--"] + inner,
            env, os.path.join(inside_out, "raw"), stall_s)
        if rc not in (123, 124) and not stalled:
            break
        count_stall(inside_out)
        print(f"bench: the sandbox {'stalled' if stalled or rc == 123 else 'timed out'} "
              f"(attempt {attempt} of {SANDBOX_ATTEMPTS})"
              + ("; starting another one, resuming" if attempt < SANDBOX_ATTEMPTS else ""),
              file=sys.stderr)
    if inside_out != out_dir and os.path.isdir(inside_out):
        os.makedirs(os.path.dirname(out_dir), exist_ok=True)
        shutil.move(inside_out, out_dir)
        print(f"bench: results moved to {out_dir}")
    return rc


SANDBOX_ATTEMPTS = 5
STALLS_FILE = "sandbox-stalls.txt"


def read_stalls(out_dir):
    try:
        with open(os.path.join(out_dir, STALLS_FILE)) as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def count_stall(out_dir):
    """Count a stalled sandbox in out_dir (over every invocation that resumed it)."""
    os.makedirs(out_dir, exist_ok=True)
    n = read_stalls(out_dir) + 1
    with open(os.path.join(out_dir, STALLS_FILE), "w") as f:
        f.write(f"{n}\n")


def sandbox_with_watchdog(cmd, env, raw_dir, stall_s):
    """Run the sandbox; stop it if raw_dir gains no file for stall_s seconds (once the
    first result is in: boot and the exit-cost runs come first).  (rc, stalled)."""
    p = subprocess.Popen(cmd, env=env, start_new_session=True)
    last_count, last_change = -1, time.monotonic()
    while True:
        try:
            return p.wait(timeout=5), False
        except subprocess.TimeoutExpired:
            pass
        try:
            count = len(os.listdir(raw_dir))
        except OSError:
            count = 0
        now = time.monotonic()
        if count != last_count:
            last_count, last_change = count, now
        elif now - last_change > stall_s + (300 if count == 0 else 0):
            print(f"bench: no result for {now - last_change:.0f} s: the sandbox is stuck; "
                  "stopping it", file=sys.stderr)
            p.send_signal(signal.SIGTERM)  # kvm-sandbox stops QEMU on TERM
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            return 124, True


def strip_option(args, name):
    """args without `name VALUE` / `name=VALUE`."""
    out, skip = [], False
    for x in args:
        if skip:
            skip = False
            continue
        if x == name:
            skip = True
            continue
        if x.startswith(name + "="):
            continue
        out.append(x)
    return out

