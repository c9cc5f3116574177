"""Helpers shared by scripts/bench's modules: where the tree is, sizes, number
formatting, host facts, and running one bounded command."""
import argparse
import json
import os
import platform
import re
import select
import signal
import subprocess
import sys
import time


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def die(msg, code=3):
    print(f"bench: {msg}", file=sys.stderr)
    sys.exit(code)


def parse_size(s):
    m = re.fullmatch(r"(\d+)([kKmM]?)", s.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"bad size '{s}' (e.g. 64, 4K, 1M)")
    return int(m.group(1)) << {"": 0, "k": 10, "m": 20}[m.group(2).lower()]


def human_size(n):
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n >> 10} KiB"
    return f"{n} B"


def read_first(path, pattern):
    try:
        with open(path) as f:
            for line in f:
                m = re.match(pattern, line)
                if m:
                    return m.group(1).strip()
    except OSError:
        pass
    return None


def git_commit():
    try:
        out = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out + ("-dirty" if dirty else "") if out else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def host_kind():
    try:
        return subprocess.run([os.path.join(ROOT, "scripts", "host-kind")], capture_output=True,
                              text=True, timeout=20).stdout.strip() or "none"
    except (OSError, subprocess.SubprocessError):
        return "none"


def cpu_model():
    return read_first("/proc/cpuinfo", r"model name\s*:\s*(.*)") or platform.processor() or "unknown"



def fmt(v, digits=3):
    if v is None:
        return "–"
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) >= 100):
        return f"{int(v):,}"
    av = abs(v)
    if av >= 100:
        return f"{v:,.0f}"
    if av >= 1:
        return f"{v:.{max(digits - 1, 1)}f}" if av < 10 else f"{v:.1f}"
    if av == 0:
        return "0"
    return f"{v:.{digits}g}"


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None



def parse_result(stdout):
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            try:
                return json.loads(line[len("RESULT "):])
            except json.JSONDecodeError:
                return None
    return None


# The vmm's register dump under a report ("vmm:   rax ...", "vmm:   cr0 ...").
_REGISTER_DUMP = re.compile(r"^vmm:\s+(r[a-z0-9]{1,2}|rflags|cr0|cs)\s")
# What the vmm adds when the host's emulated SVM, not the guest, lost the guest's state.
SANDBOX_FAULT = "emulated AMD SVM"


def why(rec):
    """What a failed run said, most telling first: the vmm's own messages when it has
    any (a triple fault, a timeout with where the vCPUs were), else the guest's last
    line.  A run the vmm blames on the sandbox's emulated SVM is marked so up front
    (docs/nested-sandbox.md): a truncated reason still says it."""
    vmm = [x.strip() for x in rec["stderr_tail"].splitlines()
           if x.startswith("vmm:") and not _REGISTER_DUMP.match(x)]
    if vmm:
        text = " ".join(x[len("vmm:"):].strip() for x in vmm)
        if any(SANDBOX_FAULT in x for x in vmm):
            text = "sandbox fault (docs/nested-sandbox.md): " + text
        return text
    for text in (rec["stdout_tail"], rec["stderr_tail"]):
        lines = [x for x in text.strip().splitlines() if x.strip()]
        if lines:
            return lines[-1]
    return ""


def wait_sampling(p, limit_s, sample, every_s=0.025):
    """p.wait(limit_s), calling sample(pid) every every_s while p lives, or after the
    seconds sample() returned, if it returned a number.  It sleeps on the process's
    pidfd: Popen.wait(timeout) would poll with backoff, several wake-ups per every_s,
    each a cost to the run being measured (in the sandbox)."""
    end = time.monotonic() + limit_s
    try:
        pidfd = os.pidfd_open(p.pid)
    except (AttributeError, OSError):
        pidfd = None
    try:
        while True:
            pause = sample(p.pid) or every_s
            left = end - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired(p.args, limit_s)
            if pidfd is None:
                try:
                    return p.wait(timeout=min(pause, left))
                except subprocess.TimeoutExpired:
                    continue
            select.select([pidfd], [], [], min(pause, left))
            status = p.poll()
            if status is not None:
                return status
    finally:
        if pidfd is not None:
            os.close(pidfd)


def run_bounded(cmd, limit_s, scratch, sample=None):
    """Run cmd with its output in files (not pipes: a process that cannot be killed,
    e.g. a vCPU thread stuck in KVM_RUN, must not hang us on a pipe), in its own
    process group; SIGKILL the group after limit_s.  Returns (status, stdout, stderr);
    status 124 = killed at the limit, 125 = could not even be reaped.  sample(pid), if
    given, is called every 25 ms while the command lives, or later if it returns how
    long it may wait (the guest's window marks: wait_sampling)."""
    out_path, err_path = scratch + ".stdout", scratch + ".stderr"
    with open(out_path, "w") as fo, open(err_path, "w") as fe:
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL,
                             start_new_session=True)
        try:
            status = (wait_sampling(p, limit_s, sample) if sample
                      else p.wait(timeout=limit_s))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=15)
                status = 124
            except subprocess.TimeoutExpired:
                status = 125  # unkillable (D state): leave it, go on
        except BaseException:  # we are being stopped: take the run with us
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            raise
    with open(out_path, errors="replace") as f:
        out = f.read()
    with open(err_path, errors="replace") as f:
        err = f.read()
    if status == 124:
        err += f"\nbench: killed after {limit_s:.0f} s"
    elif status == 125:
        err += f"\nbench: killed after {limit_s:.0f} s but it would not die"
    os.unlink(out_path)
    os.unlink(err_path)
    return status, out, err


