"""scripts/bench --vcpus LIST: every vCPU its own queue, under load (issue 14).

For each N in LIST, each workload (stream by default; rr too) and each size: the
workload with --flows N natively (N threads of build/native-bench) and in the
guest (vmm -c N: flow i on vCPU i, its own queue and, by default, its own host
worker), against the same host end.  Reported per point: aggregate throughput, the
guest / native ratio, and per vCPU the exits the vmm saw per request its queue
carried (--stats-json: per_vcpu[i].exits / hostnet.queues[i].requests).

How much of that parallelism is real is written beside the figures: the CPUs this
runs on (inside the sandbox: QEMU's vCPUs) and the host's own cores under them.
"""
import json
import os
import statistics
import types

from .common import fmt, human_size, ratio, why
from .hostend import Peer
from .options import SCALE_CONFIGS
from .report import draw_plots
from .runner import environment, load_done, run_one, save_record
from . import cputime, exitwindow

TARGET = 0.9  # issue 14: aggregate >= 0.9x native with as many threads


def parallelism_note(env):
    """What 'N in parallel' can mean here, in words (the CPU table gives the figures)."""
    cpus = env.get("nproc")
    where = (f"inside scripts/kvm-sandbox: {cpus} CPUs (QEMU -smp {cpus}, multi-threaded TCG) "
             f"on a host with {env.get('outer_nproc')} cores, shared with whatever else runs "
             "there" if env["kind"] == "nested-sandbox" else f"{cpus} CPUs here")
    return (f"{where}. A guest flow runs on two host threads, its vCPU (spinning for "
            "completions, or asleep in a WAIT) and its worker (polling, or in its system "
            "calls), plus its share of the host end (bench-peer: one thread for all flows); a "
            "native flow on one thread plus its share of the host end. N flows run in "
            "parallel only if the CPUs hold N times what one flow takes alone: the table "
            "below says, per system, what N = 1 took and what N of it would need.")


def scale_vmm_args(n, config):
    """The vmm's options for N vCPUs in config ("adaptive/zero" or ".../1worker"): none at
    N = 1 (the vmm's default is one vCPU and a worker per queue), so that N = 1 is the
    single-flow run of scripts/bench's matrix, command for command."""
    args = ["-c", str(n)] if n > 1 else []
    return args + (["--workers", "1"] if config.endswith("/1worker") else [])


def run_scale_one(a, env, peer, n, workload, size, config, rep, raw_dir, idx):
    """One run through the matrix's own runner.run_one (same command, console file, window
    marks and KVM exit counts), with --flows n and the threads' CPU time beside it."""
    window = cputime.ThreadWindow(a.seconds, peer.pids())
    system = "native" if config == "native" else "/".join(config.split("/")[:2])
    rec = run_one(a, env, peer, workload, size, system, rep, raw_dir, idx, flows=n,
                  vmm_args=scale_vmm_args(n, config), label=config, observe=window)
    rec["vcpus"] = n
    rec["cpu"] = window.result()
    return save_record(raw_dir, rec)


def exits_per_request(vmm):
    """[exits / request] for each vCPU i (queue i), from the vmm's --stats-json: every
    exit of the run but the console's (one per byte printed: the RESULT line, not the
    transport), over the requests queue i carried."""
    if not vmm or not vmm.get("per_vcpu") or not (vmm.get("hostnet") or {}).get("queues"):
        return None
    out = []
    for v, q in zip(vmm["per_vcpu"], vmm["hostnet"]["queues"]):
        exits = v["exits"] - v.get("serial_bytes", 0)
        out.append(exits / q["requests"] if q["requests"] else None)
    return out


def primary(workload):
    return "mb_per_s" if workload.startswith("stream") else "rtt_per_s"


def summarize(records):
    """{(workload, size, n, config): {value, epr: [per vCPU], runs, failed}} (medians)."""
    groups = {}
    for r in records:
        groups.setdefault((r["bench"], r["size"], r["vcpus"], r["config"]), []).append(r)
    out = {}
    for key, rs in groups.items():
        ok = [r for r in rs if r["ok"]]
        vals = [float(r["result"][primary(key[0])]) for r in ok]
        eprs = [e for e in (exits_per_request(r["vmm_stats"]) for r in ok) if e]
        per_vcpu = None
        if eprs:
            per_vcpu = [statistics.median([e[i] for e in eprs if e[i] is not None] or [0])
                        for i in range(len(eprs[0]))]
        out[key] = {"value": statistics.median(vals) if vals else None, "epr": per_vcpu,
                    "lo": min(vals) if vals else None, "hi": max(vals) if vals else None,
                    "cpu": cpu_medians([r["cpu"] for r in ok if r.get("cpu")]),
                    "runs": len(ok), "failed": len(rs) - len(ok)}
    return out


def median_ranks(lists):
    """Element-wise medians of lists of different lengths (rank i over those that have it)."""
    return [statistics.median(x[i] for x in lists if len(x) > i)
            for i in range(max((len(x) for x in lists), default=0))]


def cpu_medians(cpus):
    """Median CPU shares over runs: {"roles": {role: [busiest thread's, next, ...]},
    "busy": [per CPU]}, or None without any CPU reading."""
    if not cpus:
        return None
    per_run = [cputime.by_role(c) for c in cpus]
    roles = {r: median_ranks([x[r] for x in per_run if r in x])
             for r in sorted({r for x in per_run for r in x})}
    return {"roles": roles, "busy": median_ranks([c["cpus_busy"] for c in cpus])}


def cpu_total(cpu):
    """CPUs a run's own threads took together (their medians added), or None."""
    if not cpu:
        return None
    return sum(sum(v) for r, v in cpu["roles"].items() if r != "other")


def cpu_text(cpu):
    """'vCPUs 0.25 + 0.20; workers 0.9; host end 0.5 | 0.99 / 0.98' for the report."""
    if not cpu:
        return "– | –"
    roles = "; ".join(f"{r} " + " + ".join(f"{x:.2f}" for x in v)
                      for r, v in cpu["roles"].items())
    return f"{roles} | " + " / ".join(f"{x:.2f}" for x in cpu["busy"])


def paired_ratios(records):
    """{(workload, size, n, config): [guest / native of the same repeat]}: each guest run
    against the native run next to it in time, which a load that drifts over the matrix
    hits alike (on a shared machine the medians of the two columns may come from
    different moments)."""
    native = {(r["bench"], r["size"], r["vcpus"], r["rep"]): float(r["result"][primary(r["bench"])])
              for r in records if r["ok"] and r["config"] == "native"}
    out = {}
    for r in records:
        nat = native.get((r["bench"], r["size"], r["vcpus"], r["rep"]))
        if r["ok"] and r["config"] != "native" and nat:
            out.setdefault((r["bench"], r["size"], r["vcpus"], r["config"]), []).append(
                float(r["result"][primary(r["bench"])]) / nat)
    return out


def paired_text(ratios):
    if not ratios:
        return "–"
    return f"{fmt(statistics.median(ratios))} [{fmt(min(ratios))}–{fmt(max(ratios))}]"


def spread(point):
    """'[min–max]' of a point's runs, or ''."""
    if point.get("lo") is None or point.get("runs", 0) < 2:
        return ""
    return f"[{fmt(point['lo'])}–{fmt(point['hi'])}]"


def report_scale(a, out_dir, env, records):
    s = summarize(records)
    note = parallelism_note(env)
    lines = ["# Every vCPU its own queue: aggregate throughput, N vCPUs vs N native threads", "",
             f"Where: {env['kind_text']}; CPU {env['cpu']}.", "",
             f"Parallelism: {note}", "",
             f"Medians of {a.repeats} runs of {a.seconds} s; virtsocket = --notify=adaptive "
             f"--copy=zero --batch {a.batch}, flow i on vCPU i (queue i), with a worker per "
             "queue (the vmm's default) or, '1worker', one worker for all (--workers 1). "
             f"Target: guest >= {TARGET}x native for each N the machine really runs in "
             "parallel.", "",
             "| workload | size | N | native (N threads) | virtsocket (N vCPUs) | system | ratio | "
             "ratio within each repeat: median [min–max] | "
             "exits/request per vCPU (console output not counted) | runs (failed) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    pairs = paired_ratios(records)
    csv = ["workload,size,vcpus,system,native,virtsocket,ratio,exits_per_request_per_vcpu"]
    for w in a.workloads:
        unit = "MB/s" if primary(w) == "mb_per_s" else "round trips/s"
        for size in a.sizes:
            for n in a.vcpus:
                nat = s.get((w, size, n, "native"), {})
                for c in (c for c in SCALE_CONFIGS[1:] if c in a.configs):
                    vs = s.get((w, size, n, c), {})
                    r = ratio(vs.get("value"), nat.get("value"))
                    epr = vs.get("epr")
                    epr_s = " / ".join(fmt(x) for x in epr) if epr else "–"
                    runs = (f"{vs.get('runs', 0)} ({vs.get('failed', 0)}), native "
                            f"{nat.get('runs', 0)} ({nat.get('failed', 0)})")
                    lines.append(f"| {w} | {human_size(size)} | {n} | {fmt(nat.get('value'))} "
                                 f"{spread(nat)} {unit} | {fmt(vs.get('value'))} {spread(vs)} "
                                 f"{unit} | {c} | {fmt(r)} | {paired_text(pairs.get((w, size, n, c)))} | "
                                 f"{epr_s} | {runs} |")
                    csv.append(f"{w},{size},{n},{c},{nat.get('value') or ''},"
                               f"{vs.get('value') or ''},{'' if r is None else round(r, 4)},"
                               f"{'' if not epr else ' '.join(str(round(x, 5)) for x in epr)}")
    lines += ["", "Plot: `vcpus_ratio.png` (the ratio against N; redraw it with `scripts/plot "
              "DIR`)."]
    lines += ["", "Where the CPU went: each thread's CPU time over the middle "
              f"{round(100 * (1 - 2 * cputime.LEAD))} % of the measured period, as a share of "
              "one CPU (threads under 1 % left out; medians over the runs, busiest thread "
              "first), how busy each CPU was (everything on it, not only this run), and what N "
              "flows would need at what one took alone (its threads and the host end's "
              "share added: the host end reads every flow's bytes).", "",
              "| workload | size | N | system | threads that ran | CPUs busy | N x what one "
              "flow took alone (N = 1), in CPUs |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for w in a.workloads:
        for size in a.sizes:
            for n in a.vcpus:
                for c in (c for c in SCALE_CONFIGS if c in a.configs):
                    alone = cpu_total(s.get((w, size, 1, c), {}).get("cpu"))
                    need = (f"{n * alone:.2f} of {env.get('nproc')}" if alone is not None
                            else "–")
                    lines.append(f"| {w} | {human_size(size)} | {n} | {c} | "
                                 f"{cpu_text(s.get((w, size, n, c), {}).get('cpu'))} | {need} |")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out_dir, "scale.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out_dir, "scale.csv"), "w") as f:
        f.write("\n".join(csv) + "\n")
    draw_plots(out_dir)  # vcpus_ratio.png
    print(text)
    failed = sum(1 for r in records if not r["ok"])
    return 1 if failed else 0


def rereport(out_dir):
    """scripts/bench --report DIR of a --vcpus result: scale.md and scale.csv again from
    its results.json (with its own options); None when DIR is not one."""
    try:
        with open(os.path.join(out_dir, "results.json")) as f:
            res = json.load(f)
    except (OSError, json.JSONDecodeError):
        return None
    if res["env"].get("mode") != "vcpus":
        return None
    return report_scale(types.SimpleNamespace(**res["env"]["options"]), out_dir, res["env"],
                        res["runs"])


def reusable(rec, point):
    """Whether a run recorded before a restart is point (workload, size, N, config,
    repeat) and worked: a resumed --vcpus run keeps it; failed runs run again."""
    return (rec is not None and rec["ok"]
            and (rec["bench"], rec["size"], rec.get("vcpus"), rec["config"], rec["rep"]) == point)


def run_scale(a, out_dir):
    env = environment(a)
    for exe in ("vmm", "guest.img", "native-bench", "bench-peer"):
        if not os.path.exists(os.path.join(a.build, exe)):
            print(f"bench: {os.path.join(a.build, exe)} is missing: build it")
            return 3
    raw_dir = os.path.join(out_dir, "raw")
    os.makedirs(raw_dir, exist_ok=True)
    env["mode"] = "vcpus"
    env["parallelism"] = parallelism_note(env)
    env["options"] = {k: v for k, v in vars(a).items() if k != "inside_sandbox"}
    with open(os.path.join(out_dir, "env.json"), "w") as f:
        json.dump(env, f, indent=1)
    print(f"bench: --vcpus {','.join(map(str, a.vcpus))}: {env['kind_text']}; "
          f"{env['parallelism']}", flush=True)
    env["kvm_debugfs"] = exitwindow.ensure_debugfs() or "mounted"
    peer = Peer(a.peer, a.build)
    plan = [(rep, w, size, n, c) for rep in range(1, a.repeats + 1) for w in a.workloads
            for size in a.sizes for n in a.vcpus for c in SCALE_CONFIGS if c in a.configs]
    records = []
    done = load_done(raw_dir)  # a stalled sandbox, restarted, resumes (failed runs again)
    try:
        for idx, (rep, w, size, n, c) in enumerate(plan, 1):
            if reusable(done.get(idx), (w, size, n, c, rep)):
                records.append(done[idx])
                continue
            rec = run_scale_one(a, env, peer, n, w, size, c, rep, raw_dir, idx)
            records.append(rec)
            res = rec["result"] or {}
            epr = exits_per_request(rec["vmm_stats"])
            what = (f"{fmt(float(res[primary(w)]))} {primary(w)}" if rec["ok"]
                    else f"FAILED status {rec['status']}: {why(rec)[:100]}")
            print(f"[{idx}/{len(plan)}] {w} {human_size(size)} N={n} {c} #{rep}: {what}"
                  + (f", exits/request per vCPU {' / '.join(fmt(x) for x in epr)}" if epr else ""),
                  flush=True)
    finally:
        peer.stop()
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump({"env": env, "runs": records}, f, indent=1)
    return report_scale(a, out_dir, env, records)
