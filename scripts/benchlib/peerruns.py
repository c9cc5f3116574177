"""The peers: the same workloads from a Linux guest in QEMU (scripts/peer-vm).

One peer-vm call per configuration (e1000, virtio-net, vhost-net, vhost-vsock) runs all
of that configuration's runs in one L2 boot.  Its interface:

    scripts/peer-vm --config NAME --build DIR [--mem SIZE] [--deadline SEC per run]
                    [--serial-log FILE] --runs FILE

FILE holds one native-bench command line per line, HOST and PORT left as words for
peer-vm to fill in (the tap's host address and the sink/echo port, or the vsock CID and
port); stdout gets, per line, `RESULT {json}` (native-bench's RESULT plus "config",
"run_index" "kvm_exits": KVM's debugfs counter deltas between the guest's BEGIN and END markers,
around native-bench's whole run, and "kvm_window_ns") or
`FAILED {"run_index": k, "config": ..., "reason": ...}`.  A line that got neither is
a failed run with peer-vm's last words as the reason: never an empty cell.
"""
import json
import os
import signal
import subprocess
import threading
import time

from .common import ROOT
from .options import workload_args

# L2 boot (TCG-slow L1, kernel + initramfs; peer-vm allows 240 s) and shut-down
BOOT_S = 240
# peer-vm's --deadline is per run: native-bench is killed after it
PER_RUN_EXTRA_S = 60
# boots per configuration at most (a guest that went away gets one more)
GUEST_BOOTS = 2
PEER_VM = os.path.join(ROOT, "scripts", "peer-vm")


def runs_file_lines(items, seconds):
    """items: [(rep, workload, size)] -> the command lines peer-vm runs, in order."""
    return [" ".join(workload_args(w, s, seconds) + ["HOST", "PORT"]) for (_, w, s) in items]


def run_deadline(seconds):
    """peer-vm's --deadline: one run's limit."""
    return int(seconds + PER_RUN_EXTRA_S)


def group_limit(n_runs, seconds):
    """How long a whole peer-vm call may take before it is killed."""
    return BOOT_S + 60 + n_runs * (run_deadline(seconds) + 5)


def parse_line(line):
    """('RESULT'|'FAILED', dict) or None for anything else peer-vm prints."""
    for tag in ("RESULT", "FAILED"):
        if line.startswith(tag + " "):
            try:
                d = json.loads(line[len(tag) + 1:])
            except json.JSONDecodeError:
                return None
            if isinstance(d, dict) and isinstance(d.get("run_index"), int):
                return tag, d
    return None


def run_group(a, config, items, raw_dir, on_record):
    """Run items [(rep, workload, size)] of one peer config in one peer-vm boot.
    on_record(k, status, result, reason, cmd_line, wall) is called as each line's
    outcome is known (so the matrix's watchdog sees progress); lines peer-vm never
    answered are reported at the end with its exit status and last stderr line.
    When the guest went away in the middle (QEMU exited: the L2 guest reset, seen
    once in ~10 boots in the nested sandbox, nothing on its console) or wedged, the
    runs it never answered get one more boot: a guest that fails again fails
    them."""
    lines = runs_file_lines(items, a.seconds)
    pending, not_run = list(range(len(items))), {}
    for boot in range(1, GUEST_BOOTS + 1):
        answered, status, why = run_boot(a, config, lines, pending, raw_dir, on_record,
                                         boot, not_run)
        pending = [k for k in pending if k not in answered]
        if not pending or boot == GUEST_BOOTS or not guest_went_away(why):
            break
        print(f"bench: {config}: {why}; booting it again for the {len(pending)} runs it "
              f"did not answer", flush=True)
    for k in pending:
        on_record(k, status or 1, None, not_run.get(k) or
                  f"no result from peer-vm (status {status}): {why}", lines[k], 0.0)


def guest_went_away(why):
    """QEMU exited under the runs, or the guest stopped making progress, at boot
    (nothing on its console within peer-vm's 240 s: seen once in CI on 2026-12-06,
    its next boot took 14 s) or in a run (vhost-vsock's guest in scripts/bench
    --quick the same day): the L2 guest wedged in the nested sandbox."""
    return "QEMU exited with status" in why or "made no progress in time" in why


def run_boot(a, config, lines, pending, raw_dir, on_record, boot, not_run):
    """One peer-vm call for the lines numbered in pending; (answered set, status, why).
    A run peer-vm says it did not run (the guest went away first) is not answered:
    its reason goes to not_run[k]."""
    tag = config if boot == 1 else f"{config}.boot{boot}"
    runs_path = os.path.join(raw_dir, f"peer-{tag}.runs")
    with open(runs_path, "w") as f:
        f.write("\n".join(lines[k] for k in pending) + "\n")
    limit = group_limit(len(pending), a.seconds)
    cmd = [PEER_VM, "--config", config, "--build", a.build,
           "--mem", a.mem, "--deadline", str(run_deadline(a.seconds)), "--runs", runs_path,
           "--serial-log", os.path.join(raw_dir, f"peer-{tag}.serial")]
    err_path = os.path.join(raw_dir, f"peer-{tag}.stderr")
    answered = set()
    t_last = time.monotonic()
    if not os.path.exists(cmd[0]):
        return answered, 127, "scripts/peer-vm is missing in this tree"
    with open(err_path, "w") as ferr:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=ferr, text=True,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        # peer-vm keeps its own deadline; this one is for a peer-vm that does not
        # (reading its stdout would block forever)
        killer = threading.Timer(limit, kill_group, (p.pid,))
        killer.start()
        try:
            for line in p.stdout:
                got = parse_line(line.strip())
                if not got:
                    continue
                tag_, d = got
                i = d["run_index"]
                if not 0 <= i < len(pending) or pending[i] in answered:
                    continue
                k = pending[i]
                reason = str(d.get("reason") or "peer-vm: FAILED")
                if tag_ == "FAILED" and reason.startswith("not run:"):
                    not_run[k] = reason
                    continue
                answered.add(k)
                now = time.monotonic()
                if tag_ == "RESULT":
                    on_record(k, 0, d, None, lines[k], now - t_last)
                else:
                    on_record(k, 1, None, reason, lines[k], now - t_last)
                t_last = now
            status = p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            status = 124
        finally:
            killer.cancel()
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    return answered, status, last_line(err_path) or f"peer-vm exited with status {status}"


def kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def last_line(path):
    try:
        with open(path, errors="replace") as f:
            lines = [x.strip() for x in f if x.strip()]
    except OSError:
        return ""
    return lines[-1][:200] if lines else ""
