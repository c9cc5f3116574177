"""Running the matrix where KVM is: the exit cost, then every (repeat, point, config)."""
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import tempfile
import time

from .common import (ROOT, cpu_model, die, fmt, git_commit, host_kind, human_size, parse_result,
                     run_bounded, why)
from .hostend import Peer
from .metrics import PRIMARY, metrics
from . import exitwindow, http, iperf, peerruns
from .options import PEER_CONFIGS, points, sink_or_echo, workload_args
from .report import draw_plots, report

SANDBOX_NOTE = ("Measured inside the nested KVM sandbox (QEMU TCG emulating AMD SVM, "
                "kvm-amd inside). A VM exit there costs ~100x what it costs on hardware "
                "(35-135 us instead of ~0.5-1 us) and the 'host' side is emulated too; "
                "compare ratios within this table, not absolute figures with other hosts.")
PVM_NOTE = ("Measured natively on a PVM host: every guest instruction is emulated "
            "(~0.75 us each) and the doorbell is port I/O; guest figures are far below "
            "what the same code does under hardware KVM.")



def vmm_command(a, config, stats_file, wargs, vmm_args=()):
    """The vmm running the guest workload wargs in virtsocket mode config
    ("notify/copy"), its --stats-json to stats_file; vmm_args go before the image."""
    notify, copy = config.split("/")
    cmd = [os.path.join(a.build, "vmm"), "--timeout", str(int(a.seconds) + 60), "-m", a.mem,
           f"--notify={notify}", f"--copy={copy}", "--batch", str(a.batch),
           "--stats-json", stats_file] + list(vmm_args)
    if a.poll_us is not None:
        cmd += ["--poll-us", str(a.poll_us)]
    if a.spin_us is not None:
        cmd += ["--spin-us", str(a.spin_us)]
    return cmd + [os.path.join(a.build, "guest.img"), "--"] + wargs


def load_stats(stats_file):
    """The vmm's --stats-json, or None (not written, or cut short)."""
    if not stats_file or not os.path.exists(stats_file):
        return None
    try:
        with open(stats_file) as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError):
        return None


def run_command(a, workload, size, config, port, stats_file, flows=1, vmm_args=()):
    """native-bench's or the vmm's command for one run.  flows > 1: --flows N (scripts/bench
    --vcpus); one flow is the single-flow run itself, the very same command."""
    wargs = workload_args(workload, size, a.seconds)
    if flows > 1:
        wargs.insert(1, f"--flows={flows}")
    wargs += ["127.0.0.1", str(port)]
    if config == "native":
        return [os.path.join(a.build, "native-bench")] + wargs
    return vmm_command(a, config, stats_file, wargs, vmm_args)


def run_one(a, env, peer, workload, size, config, rep, raw_dir, idx, flows=1, vmm_args=(),
            label=None, observe=None):
    """One run of native-bench or of the vmm; its record (also written to raw/).
    scripts/bench --vcpus: flows, vmm_args (-c N, --workers), label (its config's name)
    and observe(pid, marks) (called with each sample, see run_bounded)."""
    port = peer.sink if sink_or_echo(workload) == "sink" else peer.echo
    stats_file = (None if config == "native"
                  else os.path.join(raw_dir, f"{idx:04d}.vmm-stats.json"))
    cmd = run_command(a, workload, size, config, port, stats_file, flows, vmm_args)
    # The vmm's console goes to a local file (/tmp: tmpfs in the sandbox, where raw/ is
    # 9p), followed for the guest's window marks at little cost (exitwindow.Marks).
    scratch = (os.path.join(raw_dir, f"{idx:04d}") if config == "native" else
               os.path.join(tempfile.gettempdir(), f"vs-bench-{os.getpid()}-{idx:04d}"))
    marks = None if config == "native" else exitwindow.Marks(scratch + ".stdout", a.seconds)
    sample = marks if observe is None else (lambda pid: observe(pid, marks))
    t0 = time.monotonic()
    status, out, err = run_bounded(cmd, a.seconds + 90, scratch, sample=sample)
    wall = time.monotonic() - t0
    result = parse_result(out)
    vmm = load_stats(stats_file)
    rec = {
        "index": idx, "rep": rep, "bench": workload, "size": size, "config": label or config,
        "kind": env["kind"], "command": cmd, "status": status, "wall_seconds": round(wall, 3),
        "ok": status == 0 and result is not None, "result": result, "vmm_stats": vmm,
        "stdout_tail": out[-2000:], "stderr_tail": err[-2000:],
    }
    if flows > 1:
        rec["vcpus"] = flows
    if marks is not None:
        # deltas over the measured period (the guest's marks), like a peer's
        rec["kvm_exits"], rec["kvm_exits_missing"] = marks.result()
        rec["kvm_mark_lag_s"] = marks.lag_s
    return save_record(raw_dir, rec)


def plan_runs(a):
    """[(index, rep, workload, size, config)]: virtsocket and the host repeat-major (slow
    drifts of a noisy host hit every configuration alike), then each peer configuration
    (all of its runs in one guest boot).  iperf3 measures streams only."""
    plan = []
    local = [c for c in a.configs if c not in PEER_CONFIGS]
    for rep in range(1, a.repeats + 1):
        for (w, s) in points(a):
            for c in local:
                if c != "iperf3" or sink_or_echo(w) == "sink":
                    plan.append((rep, w, s, c))
    for c in (c for c in a.configs if c in PEER_CONFIGS):
        for rep in range(1, a.repeats + 1):
            for (w, s) in points(a):
                plan.append((rep, w, s, c))
    return [(i + 1,) + p for i, p in enumerate(plan)]


def new_record(env, idx, rep, w, s, c, cmd, status, result, wall, out="", err=""):
    return {"index": idx, "rep": rep, "bench": w, "size": s, "config": c,
            "kind": env["kind"], "command": cmd, "status": status,
            "wall_seconds": round(wall, 3), "ok": status == 0 and result is not None,
            "result": result, "vmm_stats": None,
            "stdout_tail": out[-2000:], "stderr_tail": err[-2000:]}


def run_iperf(a, env, server, w, s, rep, raw_dir, idx):
    t0 = time.monotonic()
    cmd, status, res, out, err = iperf.run(server, w, s, a.seconds,
                                           os.path.join(raw_dir, f"{idx:04d}"))
    rec = new_record(env, idx, rep, w, s, "iperf3", cmd, status, res,
                     time.monotonic() - t0, "", err)
    return save_record(raw_dir, rec)


def run_peer_group(a, env, config, runs, raw_dir, progress):
    """runs [(index, rep, workload, size)] of one peer configuration, one peer-vm boot."""
    # a file in raw/ before the boot: the sandbox watchdog counts files as progress
    with open(os.path.join(raw_dir, f"peer-{config}.started"), "w") as f:
        f.write(datetime.datetime.now().isoformat() + "\n")
    print(f"bench: {config}: booting its guest for {len(runs)} runs (scripts/peer-vm)", flush=True)

    def on_record(k, status, result, reason, line, wall):
        idx, rep, w, s = runs[k]
        rec = new_record(env, idx, rep, w, s, config, ["scripts/peer-vm", "--config", config, line],
                         status, result, wall, "", reason or "")
        if result is not None:
            rec["kvm_exits"] = result.get("kvm_exits")
        progress(save_record(raw_dir, rec))

    peerruns.run_group(a, config, [(rep, w, s) for (_, rep, w, s) in runs], raw_dir, on_record)


def save_record(raw_dir, rec):
    with open(os.path.join(raw_dir, f"{rec['index']:04d}.json"), "w") as f:
        json.dump(rec, f, indent=1)
    return rec


def environment(a):
    in_sandbox = os.environ.get("VS_IN_SANDBOX") == "1"
    if in_sandbox:
        kind, text, note = ("nested-sandbox", "full KVM (kvm_amd) inside QEMU TCG, "
                            "scripts/kvm-sandbox", SANDBOX_NOTE)
    else:
        hk = host_kind()
        if hk == "kvm":
            kind, text, note = "kvm", "hardware-assisted KVM, natively", ""
        elif hk == "pvm":
            kind, text, note = "pvm", "PVM host, natively, port-I/O doorbell", PVM_NOTE
        else:
            kind, text, note = hk, "no usable KVM", ""
    return {
        "kind": kind, "kind_text": text, "note": note,
        "cpu": cpu_model(), "kernel": platform.release(),
        "outer_cpu": os.environ.get("VS_BENCH_OUTER_CPU") if in_sandbox else None,
        "outer_kernel": os.environ.get("VS_BENCH_OUTER_KERNEL") if in_sandbox else None,
        "outer_kind": os.environ.get("VS_BENCH_OUTER_KIND") if in_sandbox else None,
        "nproc": os.cpu_count(),
        # git may refuse the 9p-mounted tree inside the sandbox: the outer run says it
        "commit": os.environ.get("VS_BENCH_COMMIT") if in_sandbox and os.environ.get(
            "VS_BENCH_COMMIT") else git_commit(),
        "loadavg_start": os.getloadavg(),
        "outer_loadavg_start": (json.loads(os.environ["VS_BENCH_OUTER_LOADAVG"])
                                if in_sandbox and os.environ.get("VS_BENCH_OUTER_LOADAVG") else None),
        "outer_nproc": (int(os.environ["VS_BENCH_OUTER_NPROC"])
                        if in_sandbox and os.environ.get("VS_BENCH_OUTER_NPROC") else None),
        "started": datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
    }


def load_done(raw_dir):
    """Runs already recorded in raw_dir (a resumed matrix), by index."""
    done = {}
    for name in sorted(os.listdir(raw_dir)) if os.path.isdir(raw_dir) else []:
        if re.fullmatch(r"\d{4}\.json", name):
            try:
                with open(os.path.join(raw_dir, name)) as f:
                    rec = json.load(f)
                done[rec["index"]] = rec
            except (OSError, json.JSONDecodeError, KeyError):
                pass  # half-written when the sandbox stalled: run it again
    return done


def run_matrix(a, out_dir):
    env = environment(a)
    if env["kind"] not in ("kvm", "nested-sandbox", "pvm"):
        die("no KVM here to run guests on")
    if "http" in a.workloads:  # its own runs and tables (benchlib/http.py)
        rc = http.run(a, out_dir, env)
        if not points(a):
            draw_plots(out_dir)  # the matrix's report() draws them otherwise
            return rc
    for exe in ("vmm", "guest.img", "native-bench", "bench-peer"):
        if not os.path.exists(os.path.join(a.build, exe)):
            die(f"{os.path.join(a.build, exe)} is missing: build it (without --no-build)")
    raw_dir = os.path.join(out_dir, "raw")
    os.makedirs(raw_dir, exist_ok=True)
    # A restarted sandbox (see main) resumes: keep what an earlier attempt measured.
    done = load_done(raw_dir)
    old_env = {}
    if done and os.path.exists(os.path.join(out_dir, "env.json")):
        with open(os.path.join(out_dir, "env.json")) as f:
            old_env = json.load(f)
    env["attempt"] = int(os.environ.get("VS_BENCH_ATTEMPT", "1"))
    env["options"] = {k: v for k, v in vars(a).items() if k != "inside_sandbox"}
    if old_env.get("started"):
        env["started"] = old_env["started"]
    with open(os.path.join(out_dir, "env.json"), "w") as f:
        json.dump(env, f, indent=1)

    print(f"bench: {env['kind']} ({env['kind_text']}); CPU {env['cpu']}; kernel {env['kernel']}"
          + (f"; resuming after {len(done)} runs (attempt {env['attempt']})" if done else ""))
    # exit cost first: the "one exit" of the rr target
    exitcosts = list(old_env.get("exitcost_us") or [])
    for rep in range(len(exitcosts), a.repeats):
        cmd = [os.path.join(a.build, "vmm"), "--timeout", "60", "-m", a.mem,
               os.path.join(a.build, "guest.img"), "--", "exitcost", "2000"]
        status, out, _ = run_bounded(cmd, 120, os.path.join(raw_dir, f"exitcost-{rep}"))
        r = parse_result(out) if status == 0 else None
        if r:
            exitcosts.append(r["ns_per_exit"] / 1000.0)
    exitcost_us = statistics.median(exitcosts) if exitcosts else None
    print(f"bench: one doorbell exit ≈ {fmt(exitcost_us)} µs ({len(exitcosts)} runs)")
    env["exitcost_us"] = exitcosts
    with open(os.path.join(out_dir, "env.json"), "w") as f:
        json.dump(env, f, indent=1)

    env["kvm_debugfs"] = exitwindow.ensure_debugfs() or "mounted"
    if env["kvm_debugfs"] != "mounted":
        print(f"bench: KVM's exit counters are not readable: {env['kvm_debugfs']}")
    peer = Peer(a.peer, a.build)
    ipf = iperf.Server() if "iperf3" in a.configs else None
    plan = plan_runs(a)
    total = len(plan)
    records, t_start = [], time.monotonic() - float(old_env.get("seconds_so_far", 0))

    def progress(rec):
        records.append(rec)
        env["seconds_so_far"] = round(time.monotonic() - t_start, 1)
        if rec["index"] % 10 == 0:
            with open(os.path.join(out_dir, "env.json"), "w") as f:
                json.dump(env, f, indent=1)
        w = rec["bench"]
        m = metrics(rec) if rec["ok"] else None
        what = (f"{fmt(m[PRIMARY[w]])} {PRIMARY[w]}" if m else
                f"FAILED status {rec['status']}: " + why(rec)[:100])
        epr = m.get("exits_per_request") if m else None
        kpo = m.get("kvm_exits_per_op") if m else None
        print(f"[{rec['index']}/{total} {time.monotonic() - t_start:.0f}s] {w} "
              f"{human_size(rec['size'])} {rec['config']} #{rec['rep']}: {what}"
              + (f", {fmt(epr)} exits/req (vmm)" if epr is not None else "")
              + (f", {fmt(kpo)} KVM exits/op" if kpo is not None else ""), flush=True)

    def is_done(idx, rep, w, s, c):
        # a resumed matrix runs a peer configuration's failed runs again (its guest boots
        # anyway, and a peer that could not start then may start now)
        d = done.get(idx)
        return (d is not None and (d["bench"], d["size"], d["config"], d["rep"]) == (w, s, c, rep)
                and (d["ok"] or c not in PEER_CONFIGS))

    try:
        groups = {}
        for (idx, rep, w, s, c) in plan:
            if is_done(idx, rep, w, s, c):
                records.append(done[idx])
            elif c in PEER_CONFIGS:
                groups.setdefault(c, []).append((idx, rep, w, s))
            elif c == "iperf3":
                progress(run_iperf(a, env, ipf, w, s, rep, raw_dir, idx))
            else:
                progress(run_one(a, env, peer, w, s, c, rep, raw_dir, idx))
        for c, runs in groups.items():  # one L2 boot per peer configuration
            run_peer_group(a, env, c, runs, raw_dir, progress)
    finally:
        peer.stop()
        if ipf:
            ipf.stop()
    records.sort(key=lambda r: r["index"])
    env["finished"] = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    env["loadavg_end"] = os.getloadavg()
    env["seconds"] = round(time.monotonic() - t_start, 1)
    with open(os.path.join(out_dir, "env.json"), "w") as f:
        json.dump(env, f, indent=1)
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump({"env": env, "runs": records}, f, indent=1)
    return report(a, out_dir, env, records)



def build(a):
    cmds = [["cmake", "-S", ROOT, "-B", a.build],
            ["cmake", "--build", a.build, "-j", str(os.cpu_count() or 2), "--target",
             "vmm", "guest_img", "native-bench", "bench-peer", "native-bench-static",
             "native-httpd"]]
    for c in cmds:
        if subprocess.run(c, stdout=subprocess.DEVNULL).returncode != 0:
            die(f"build failed: {' '.join(c)}")


