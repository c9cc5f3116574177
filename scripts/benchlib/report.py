"""Outputs of a result directory: runs.csv, summary.csv, summary.md, the plots."""
import json
import os
import statistics
import subprocess
import sys

from .common import ROOT, die, fmt, human_size, ratio, why
from .metrics import METRIC_KEYS, median_points, metrics
from .comparison import comparison_lines, exit_kinds_lines, paper_targets
from .options import ALL_CONFIGS, PEER_CONFIGS, VS_CONFIGS, parse_args
from .sandbox import read_stalls

def write_csvs(out_dir, records, med):
    import csv
    with open(os.path.join(out_dir, "runs.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["index", "rep", "bench", "size", "config", "kind", "ok", "status",
                    "wall_seconds"] + METRIC_KEYS)
        for rec in records:
            m = metrics(rec) if rec["ok"] else {k: None for k in METRIC_KEYS}
            w.writerow([rec["index"], rec["rep"], rec["bench"], rec["size"], rec["config"],
                        rec["kind"], int(rec["ok"]), rec["status"], rec["wall_seconds"]] +
                       ["" if m[k] is None else m[k] for k in METRIC_KEYS])
    with open(os.path.join(out_dir, "summary.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["bench", "size", "config", "runs", "ok_runs", "spread"] + METRIC_KEYS)
        for key in sorted(med, key=lambda k: (k[0], k[1], ALL_CONFIGS.index(k[2]))):
            row = med[key]
            w.writerow([row["bench"], row["size"], row["config"], row["runs"], row["ok_runs"],
                        "" if row["spread"] is None else round(row["spread"], 4)] +
                       ["" if row[k] is None else row[k] for k in METRIC_KEYS])


def targets(a, med, exitcost_us):
    """[(target, measured text, met: True/False/None)]"""
    g = lambda b, s, c, k: (med.get((b, s, c)) or {}).get(k)
    out = []
    small = min(a.sizes)
    for cfg, want, test in (
            ("every/zero", "≈ 1", lambda x: 0.8 <= x <= 1.5),
            ("batch/zero", f"≈ 1/B = {1 / a.batch:.3f}", lambda x: x <= 2.0 / a.batch),
            ("adaptive/zero", "≤ 0.01", lambda x: x <= 0.01)):
        x = g("stream", small, cfg, "exits_per_request")
        out.append((f"stream {human_size(small)}, {cfg}: exits per request {want}",
                    fmt(x), None if x is None else test(x)))
    sub = g("stream", small, "batch/zero", "guest_submit_per_request")
    wait = g("stream", small, "batch/zero", "guest_wait_per_request")
    if sub is not None:
        out.append((f"stream {human_size(small)}, batch/zero: SUBMIT doorbells per request "
                    f"≈ 1/B (the rest are WAITs: {fmt(wait)} per request)", fmt(sub),
                    sub <= 2.0 / a.batch))
    zero = [r for r in med.values() if r["config"].endswith("/zero") and r["ok_runs"]]
    if zero:
        worst = max(r["bytes_copied"] or 0 for r in zero)
        out.append(("--copy=zero: 0 bytes copied by the VMM (every zero-copy run)",
                    f"max {worst:,} bytes", worst == 0))
    bounce = [r for r in med.values() if r["config"].endswith("/bounce") and r["ok_runs"]
              and r["bench"] == "stream"]
    if bounce:
        rs = [ratio(r["bytes_copied"], (r["bytes_sent"] or 0) + (r["bytes_received"] or 0))
              for r in bounce]
        rs = [x for x in rs if x is not None]
        if rs:
            out.append(("--copy=bounce: the VMM copies the payload (bytes copied / bytes moved)",
                        f"{min(rs):.2f} .. {max(rs):.2f}", min(rs) >= 1.0))
    if 65536 in a.sizes:
        x = ratio(g("stream", 65536, "adaptive/zero", "mb_per_s"), g("stream", 65536, "native", "mb_per_s"))
        out.append(("stream 64 KiB, adaptive/zero ≥ 0.9 × native (MB/s)", fmt(x) + "×" if x else "–",
                    None if x is None else x >= 0.9))
    x = ratio(g("stream", small, "adaptive/zero", "msgs_per_s"), g("stream", small, "every/zero", "msgs_per_s"))
    out.append((f"stream {human_size(small)}: adaptive ≥ 30 × every (messages/s)",
                fmt(x) + "×" if x else "–", None if x is None else x >= 30))
    p_ad, p_nat = g("rr", small, "adaptive/zero", "lat_p50_us"), g("rr", small, "native", "lat_p50_us")
    if p_ad is not None and p_nat is not None and exitcost_us is not None:
        out.append((f"rr {human_size(small)} p50, adaptive/zero ≤ native + one exit "
                    f"({fmt(p_nat)} + {fmt(exitcost_us)} µs)", f"{fmt(p_ad)} µs",
                    p_ad <= p_nat + exitcost_us))
    return out


def failure_texts(records):
    """{(workload, size, config): what the last failed run of that point said}."""
    out = {}
    for r in records:
        if not r["ok"]:
            out[(r["bench"], r["size"], r["config"])] = why(r)[:120].replace("|", "/")
    return out


def busy_host(env):
    """A sentence if the (outer) host was loaded beyond its CPU count, else ''."""
    outer, n = env.get("outer_loadavg_start"), env.get("outer_nproc")
    if outer and n and outer[0] > n:
        return (f"The outer host's load average was {outer[0]:.1f} on {n} CPUs when the "
                "sandbox started.")
    la, n = env.get("loadavg_start"), env.get("nproc")
    if not env.get("outer_loadavg_start") and la and n and la[0] > n:
        return f"The load average was {la[0]:.1f} on {n} CPUs at the start."
    return ""


def write_summary(out_dir, a, env, records, med, exitcost_us):
    L = []
    kind = env["kind"]
    L.append(f"# virtsocket benchmark — {env['started']}")
    L.append("")
    L.append(f"- **where:** `{kind}` — {env['kind_text']}")
    L.append(f"- **CPU:** {env['cpu']}" + (f" (outer host: {env['outer_cpu']})" if env.get("outer_cpu") else ""))
    L.append(f"- **kernel:** {env['kernel']}" + (f" (outer host: {env['outer_kernel']})" if env.get("outer_kernel") else ""))
    L.append(f"- **commit:** {env['commit']}; peer: {a.peer}; {a.repeats} runs per point of "
             f"{a.seconds:g} s, medians; vmm `--batch {a.batch}`"
             + (f" `--poll-us {a.poll_us}`" if a.poll_us is not None else "")
             + (f" `--spin-us {a.spin_us}`" if a.spin_us is not None else "") + f", `-m {a.mem}`")
    if exitcost_us is not None:
        L.append(f"- **one doorbell exit** (guest `exitcost`, empty WAIT round trip): {fmt(exitcost_us)} µs")
    if env.get("note"):
        L.append("")
        L.append(f"> **Note.** {env['note']}")
    stalls = read_stalls(out_dir)
    if stalls:
        L.append("")
        L.append(f"> **Sandbox restarts.** The sandbox stalled {stalls} time(s) (TCG's emulated "
                 "SVM wedged) and was restarted; the matrix resumed after the last recorded "
                 "run, and the run in progress at each stall was repeated.")
    busy = busy_host(env)
    if busy:
        L.append("")
        L.append(f"> **Busy host.** {busy} Other work competed for the CPUs: absolute figures "
                 "and run-to-run spread suffer; ratios between modes measured in the same "
                 "repeat are the more robust result.")
    failed = [r for r in records if not r["ok"]]
    L.append("")
    L.append(f"{len(records)} runs, {len(failed)} failed"
             + (" (see the list at the end)." if failed else "."))
    if any(c in a.configs for c in PEER_CONFIGS + ["iperf3"]):
        L.append("")
        L += comparison_lines(a, med, failure_texts(records))
        L.append("")
        L.append("### The issue's targets (virtsocket against the peers)")
        L.append("")
        L.append("| target | measured | met |")
        L.append("| --- | --- | --- |")
        for name, meas, met in paper_targets(a, med):
            L.append(f"| {name} | {meas} | {'yes' if met else ('no' if met is False else '–')} |")
        L += exit_kinds_lines(a, med)
    L.append("")
    L.append("## Targets")
    L.append("")
    L.append("| target | measured | met |")
    L.append("| --- | --- | --- |")
    for name, meas, met in targets(a, med, exitcost_us):
        L.append(f"| {name} | {meas} | {'yes' if met else ('no' if met is False else '–')} |")
    L.append("")
    L.append("Exits per request = doorbell exits (hypercall or port I/O, from the vmm's "
             "`--stats-json`) / requests hostnet consumed, for the whole run (connection "
             "setup included). Console output exits are not counted.")

    # virtsocket's modes against native-bench (the peers are in the comparison above)
    configs = [c for c in ["native"] + VS_CONFIGS if c in a.configs]
    guest = [c for c in configs if c != "native"]
    titles = {"stream-nagle": ("stream, Nagle on: throughput, MB/s (decimal)", "mb_per_s"),
              "stream": ("stream: throughput, MB/s (decimal)", "mb_per_s"),
              "rr": ("rr: round trips/s (one request outstanding)", "rtt_per_s"),
              "crr": ("crr: connections/s (connect, request, response, close)", "conn_per_s")}
    for w in a.workloads:
        title, key = titles[w]
        sizes = sorted({s for (b, s, c) in med if b == w})
        if not sizes:
            continue
        L.append("")
        L.append(f"## {title}")
        L.append("")
        hdr = ["size"] + configs
        if "native" in configs:
            hdr += [f"{c} / native" for c in guest]
        L.append("| " + " | ".join(hdr) + " |")
        L.append("|" + " --- |" * len(hdr))
        for s in sizes:
            row = [human_size(s)]
            vals = {c: (med.get((w, s, c)) or {}).get(key) for c in configs}
            row += [fmt(vals[c]) for c in configs]
            if "native" in configs:
                row += [fmt(ratio(vals[c], vals["native"])) for c in guest]
            L.append("| " + " | ".join(row) + " |")
        # mode ratios
        pairs = [("adaptive/zero", "every/zero", "adaptive / every"),
                 ("batch/zero", "every/zero", "batch / every"),
                 ("adaptive/zero", "adaptive/bounce", "zero / bounce (adaptive)"),
                 ("every/zero", "every/bounce", "zero / bounce (every)"),
                 ("batch/zero", "batch/bounce", "zero / bounce (batch)")]
        pairs = [p for p in pairs if p[0] in configs and p[1] in configs]
        if pairs:
            L.append("")
            L.append("| size | " + " | ".join(p[2] for p in pairs) + " |")
            L.append("|" + " --- |" * (len(pairs) + 1))
            for s in sizes:
                row = [human_size(s)]
                for x, y, _ in pairs:
                    row.append(fmt(ratio((med.get((w, s, x)) or {}).get(key),
                                         (med.get((w, s, y)) or {}).get(key))))
                L.append("| " + " | ".join(row) + " |")
        # exits per request and bytes copied
        if guest:
            L.append("")
            L.append(f"{w}: exits per request (whole run, vmm) · guest-side doorbells per "
                     "request (measured window: all / SUBMIT / WAIT) · VMM bytes copied per "
                     "payload byte moved")
            L.append("")
            L.append("| size | " + " | ".join(guest) + " |")
            L.append("|" + " --- |" * (len(guest) + 1))
            for s in sizes:
                row = [human_size(s)]
                for c in guest:
                    r = med.get((w, s, c)) or {}
                    moved = (r.get("bytes_sent") or 0) + (r.get("bytes_received") or 0)
                    copied = ratio(r.get("bytes_copied"), moved)
                    row.append(f"{fmt(r.get('exits_per_request'))} · "
                               f"{fmt(r.get('guest_doorbells_per_request'))} / "
                               f"{fmt(r.get('guest_submit_per_request'))} / "
                               f"{fmt(r.get('guest_wait_per_request'))} · {fmt(copied)}")
                L.append("| " + " | ".join(row) + " |")
        if w in ("rr", "crr"):
            L.append("")
            L.append(f"{w}: latency p50 / p90 / p99 / p99.9, µs")
            L.append("")
            L.append("| size | " + " | ".join(configs) + " |")
            L.append("|" + " --- |" * (len(configs) + 1))
            for s in sizes:
                row = [human_size(s)]
                for c in configs:
                    r = med.get((w, s, c)) or {}
                    row.append(" / ".join(fmt(r.get(f"lat_{p}_us")) for p in ("p50", "p90", "p99", "p999")))
                L.append("| " + " | ".join(row) + " |")
    spreads = [r["spread"] for r in med.values() if r["spread"] is not None]
    if spreads:
        L.append("")
        L.append(f"Run-to-run spread of the primary figure ((max - min) / median over the "
                 f"repeats): median {statistics.median(spreads):.0%}, worst {max(spreads):.0%}.")
    L.append("")
    L.append("Plots: `stream_throughput.png`, `stream_nagle_throughput.png`, `rr_rate.png`, "
             "`crr_rate.png`, `rr_latency.png`, `exits_per_request.png`, `kvm_exits_*.png` "
             "(those with data; redraw them with `scripts/plot DIR`).")
    if failed:
        L.append("")
        L.append("## Failed runs")
        L.append("")
        for r in failed:
            tail = why(r)[:400].replace("`", "'")
            L.append(f"- #{r['index']} {r['bench']} {human_size(r['size'])} {r['config']} "
                     f"rep {r['rep']}: status {r['status']}: `{tail}` (raw/{r['index']:04d}.json)")
    with open(os.path.join(out_dir, "summary.md"), "w") as f:
        f.write("\n".join(L) + "\n")



def draw_plots(out_dir):
    """scripts/plot on a result directory: every plot its CSVs have figures for."""
    plot = subprocess.run([os.path.join(ROOT, "scripts", "plot"), out_dir])
    if plot.returncode != 0:
        print("bench: plotting failed (is gnuplot installed?); the tables are complete",
              file=sys.stderr)


def report(a, out_dir, env, records):
    exitcosts = env.get("exitcost_us") or []
    exitcost_us = statistics.median(exitcosts) if exitcosts else None
    med = median_points(records)
    write_csvs(out_dir, records, med)
    write_summary(out_dir, a, env, records, med, exitcost_us)
    draw_plots(out_dir)
    failed = sum(1 for r in records if not r["ok"])
    print(f"bench: {len(records)} runs ({failed} failed) in {env.get('seconds')} s -> "
          f"{out_dir}/summary.md")
    return 1 if failed else 0


def rereport(d):
    try:
        with open(os.path.join(d, "results.json")) as f:
            data = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        die(f"cannot read {d}/results.json: {e}", 2)
    env = data["env"]
    a = parse_args([])
    for k, v in (env.get("options") or {}).items():
        setattr(a, k, v)
    return report(a, d, env, data["runs"])


