"""scripts/bench's http workload: wrk (a client nobody here wrote) against the same HTTP
server source run two ways, the guest's `httpd` in the vmm and build/native-httpd on the
host (bench/httpd.c, epoll over any number of connections, HTTP/1.1 keep-alive), at
--http-conns connections (default 1, 100, 1,000, 10,000), all on 127.0.0.1.

Per run: wrk's requests/s, its latency percentiles (--latency: 50/75/90/99 %), its
errors (connect, read, write, timeout, non-2xx), and for the guest KVM's exits during
wrk's run (the VM's debugfs counters just before and just after) per request, and
where the CPU went: each thread's CPU time over the middle of wrk's run (cputime.py:
the vCPU, the worker, wrk, native-httpd; as CPUs and as µs per request) and, from the
guest vmm's --stats-json at its stop, how long its worker was busy, polling and asleep
and its vCPU blocked in WAIT.  Each server starts once per system and serves every run;
the systems take turns run by run (serve()); medians over --repeats.  A server that dies
under wrk (a run against it would count refused connections as figures) fails that run
and is restarted; when the vmm blames the sandbox's emulated SVM (docs/nested-sandbox.md)
the run is run once more.  Writes
OUT/raw/http-*.json, OUT/http/http.csv and OUT/http/http.md (the table and the targets:
>= 0.8x native at 100 and 1,000 connections, 10,000 held without errors, exits per
request <= 0.01).
"""
import csv
import json
import os
import re
import resource
import statistics
import subprocess
import time

from .common import fmt, ratio, SANDBOX_FAULT
from . import cputime, exitwindow, kvm_debugfs

DEFAULT_CONNS = [1, 100, 1000, 10000]
SYSTEMS = ["native", "virtsocket"]
GUEST_MEM = "256M"            # 10,000 connections: guest-lib's 2 KiB read-ahead each + the set
GUEST_MAX_SOCKETS = 16384     # connections + a full backlog's reserved places
GUEST_MAX_BACKLOG = 4096
WRK_TIMEOUT = "30s"           # a response slower than this counts as a wrk timeout error
SERVER_RESTARTS = 3           # per system: a server that keeps dying is not restarted again
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def parse_conns(text):
    conns = [int(x) for x in text.split(",")] if text else list(DEFAULT_CONNS)
    if any(not 1 <= c <= 60000 for c in conns):
        raise ValueError("--http-conns: each within 1..60000")
    return conns


def seconds_for(a, conns):
    """wrk's duration: --seconds, and long enough for the connections to open first."""
    return max(a.seconds, 2.0) + conns / 2000.0


def budget(a):
    """Seconds the workload may take (the sandbox's budget)."""
    return sum(len(SYSTEMS) * a.repeats * (seconds_for(a, c) + 20) for c in a.http_conns) + 240


def parse_wrk(out):
    """wrk's text output -> {requests, seconds, requests_per_s, latency_ms{p50..p99},
    errors{...}, errors_total}, or None when it printed no summary."""
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m or not rps:
        return None
    dur = float(m.group(2)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[m.group(3)]
    lat = {}
    for pct, val, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        lat[f"p{pct}"] = float(val) * UNITS[unit]
    errors = {"connect": 0, "read": 0, "write": 0, "timeout": 0, "status": 0}
    se = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if se:
        for k, v in zip(("connect", "read", "write", "timeout"), se.groups()):
            errors[k] = int(v)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        errors["status"] = int(bad.group(1))
    return {"requests": int(m.group(1)), "seconds": dur, "requests_per_s": float(rps.group(1)),
            "latency_ms": lat, "errors": errors, "errors_total": sum(errors.values())}


def more_files():
    """preexec_fn: as many open files as the hard limit allows (root: raise it too)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(hard, 70000) if os.geteuid() == 0 else hard
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Server:
    """native-httpd or the vmm running the guest's httpd, in the background."""

    def __init__(self, system, a, scratch):
        self.system, self.log = system, scratch + ".stdout"
        self.stats_json = scratch + ".stats.json" if system != "native" else None
        if system == "native":
            self.cmd = [os.path.join(a.build, "native-httpd"), "--keep-alive", "0"]
        else:
            self.cmd = [os.path.join(a.build, "vmm"), "--timeout", str(int(budget(a))),
                        "-m", GUEST_MEM,
                        "--max-sockets", str(GUEST_MAX_SOCKETS),
                        "--max-backlog", str(GUEST_MAX_BACKLOG),
                        "--stats-json", self.stats_json]
            if a.poll_us is not None:
                self.cmd += ["--poll-us", str(a.poll_us)]
            if a.spin_us is not None:
                self.cmd += ["--spin-us", str(a.spin_us)]
            self.cmd += [os.path.join(a.build, "guest.img"), "--", "httpd", "--keep-alive", "0"]
        self.out = open(self.log, "w")
        self.p = subprocess.Popen(self.cmd, stdout=self.out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True,
                                  preexec_fn=more_files)
        self.port = self.wait_port(120)

    def text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def wait_port(self, limit_s):
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline and self.p.poll() is None:
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", self.text())
            if m:
                return int(m.group(1))
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.system} httpd never listened: {self.text()[-500:]}")

    def death(self):
        """None while the server lives, else why it stopped (server_death)."""
        if self.p.poll() is None:
            return None
        return server_death(self.system, self.p.returncode, self.text())

    def pids(self):
        """The server's process and its children (the vmm's worker process)."""
        return [self.p.pid] + cputime.children(self.p.pid)

    def vmm_stats(self):
        """The vmm's --stats-json, written as it stopped (None natively or missing)."""
        try:
            with open(self.stats_json) as f:
                return json.load(f)
        except (TypeError, OSError, ValueError):
            return None

    def vm_counters(self):
        """KVM's counters of the vmm's VM now ({} natively or when unreadable)."""
        if self.system == "native":
            return {}
        try:
            return kvm_debugfs.snapshot(kvm_debugfs.find_vm_dir(self.p.pid))
        except kvm_debugfs.KvmDebugfsError:
            return {}

    def stop(self):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, 15)
                self.p.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.p.pid, 9)
                except ProcessLookupError:
                    pass
                self.p.wait()
        self.out.close()


def server_death(system, status, log):
    """Why a server stopped under wrk: its exit status and the vmm's own messages (a
    triple fault, a watchdog), without the register dump.  Starts with "sandbox fault"
    when the vmm blames the sandbox's emulated SVM (docs/nested-sandbox.md), so that a
    reader of the report tells a fault of the machine from one of ours."""
    said = [x.strip()[len("vmm:"):].strip() for x in log.splitlines()
            if x.startswith("vmm:") and not x.startswith("vmm:  ")]
    text = f"{system} server exited with status {status}"
    if said:
        text += ": " + " ".join(said)[-600:]
    if any(SANDBOX_FAULT in x for x in said):
        text = "sandbox fault (docs/nested-sandbox.md): " + text
    return text


def cpu_window(secs, conns, base):
    """(first, second) read times after wrk's start: past its connection set-up (conns /
    2000 s of its run) and LEAD of the rest, and LEAD before its end."""
    setup = conns / 2000.0
    return setup + cputime.LEAD * base, secs - cputime.LEAD * base


def watch_cpu(p, pids, secs, conns, base, clock=time.monotonic, sleep=time.sleep):
    """Two reads of the threads of pids (and of wrk, p) inside wrk's run; their shares
    (cputime.shares) or None when wrk ended first."""
    t0 = clock()
    first_at, second_at = cpu_window(secs, conns, base)
    reads = []
    for at in (first_at, second_at):
        while p.poll() is None and clock() - t0 < at:
            sleep(min(0.05, max(0.001, at - (clock() - t0))))
        if p.poll() is not None:
            return None
        reads.append((clock(), cputime.read_threads(pids + [p.pid]), cputime.read_cpus()))
    return cputime.shares(*reads)


def run_wrk(a, server, conns, scratch):
    secs = seconds_for(a, conns)
    threads = max(1, min(conns, getattr(a, "http_threads", None) or os.cpu_count() or 1))
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{int(secs + 0.999)}s", "--latency",
           "--timeout", WRK_TIMEOUT, f"http://127.0.0.1:{server.port}/"]
    before = server.vm_counters()
    t0 = time.monotonic()
    cpu = None
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=more_files)
    try:
        cpu = watch_cpu(p, server.pids(), int(secs + 0.999), conns, max(a.seconds, 2.0))
        out, err = p.communicate(timeout=secs + 120)
        status = p.returncode
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        status, err = 124, "wrk: killed at its time limit"
    wall = time.monotonic() - t0
    after = server.vm_counters()
    res = parse_wrk(out)
    # wrk against a server that died mid-run still prints figures (of refused
    # connections): such a run is failed, whatever wrk's status
    death = server.death()
    rec = {"system": server.system, "conns": conns, "threads": threads, "command": cmd, "status": status,
           "wall_seconds": round(wall, 3), "ok": status == 0 and res is not None and not death,
           "wrk": res, "cpu": cpu, "stdout": out[-3000:], "stderr": err[-2000:]}
    if death:
        rec["server_died"] = death
        rec["sandbox_fault"] = death.startswith("sandbox fault")
    if cpu:
        cpu["roles"] = cputime.role_totals(cpu)
        cpu["guest_roles"] = cputime.guest_totals(cpu)
    if before and after and res and res["requests"]:
        try:
            d = kvm_debugfs.diff(before, after)
            rec["kvm_exits"] = {k: d[k] for k in kvm_debugfs.MAIN_COUNTERS if k in d}
            rec["exits_per_request"] = d.get("exits", 0) / res["requests"]
            # the ones the guest causes (doorbells: hypercalls, or port I/O), apart
            # from the host's own interrupts and the like that land on the vCPU
            rec["guest_exits_per_request"] = ((d.get("hypercalls", 0) + d.get("io_exits", 0))
                                              / res["requests"])
        except kvm_debugfs.KvmDebugfsError:
            pass
    with open(scratch + ".json", "w") as f:
        json.dump(rec, f, indent=1)
    return rec


def median_of(recs, get):
    vals = [v for v in (get(r) for r in recs if r["ok"]) if v is not None]
    return statistics.median(vals) if vals else None


# The roles of the CPU table, in its order (cputime.role's names)
CPU_ROLES = ["vCPUs", "workers", "native httpd", "wrk"]


def cpu_summary(recs):
    """Medians over the runs that have a CPU reading: {"share": {role: CPUs},
    "us_per_request": {role: CPU microseconds per request}, "busy": CPUs busy in all},
    or None."""
    runs = [r for r in recs if r["ok"] and r.get("cpu") and r["wrk"]["requests_per_s"]]
    if not runs:
        return None
    out = {"share": {}, "us_per_request": {}, "guest_us_per_request": {}, "runs": len(runs),
           "busy": statistics.median(sum(r["cpu"]["cpus_busy"]) for r in runs)}
    for role in CPU_ROLES:
        shares = [r["cpu"]["roles"][role] for r in runs if role in r["cpu"]["roles"]]
        if shares:
            out["share"][role] = statistics.median(shares)
            out["us_per_request"][role] = statistics.median(
                r["cpu"]["roles"][role] / r["wrk"]["requests_per_s"] * 1e6
                for r in runs if role in r["cpu"]["roles"])
        guest = [r["cpu"]["guest_roles"][role] / r["wrk"]["requests_per_s"] * 1e6
                 for r in runs if role in r["cpu"].get("guest_roles", {})]
        if guest:
            out["guest_us_per_request"][role] = statistics.median(guest)
    return out


def summarize(records, conns_list, servers=()):
    rows = []
    server = {x["system"]: x for x in servers}
    for conns in conns_list:
        row = {"conns": conns}
        for system in SYSTEMS:
            every = [r for r in records if r["system"] == system and r["conns"] == conns]
            # a run lost to a sandbox fault and run again counts once, by its retry
            rs = [r for r in every if not r.get("retried")]
            row[system] = {
                "runs": len(rs), "ok_runs": sum(1 for r in rs if r["ok"]),
                "sandbox_faults": sum(1 for r in every if r.get("sandbox_fault")),
                "server_deaths": sum(1 for r in every if r.get("server_died")),
                "requests_per_s": median_of(rs, lambda r: r["wrk"]["requests_per_s"]),
                "p50_ms": median_of(rs, lambda r: r["wrk"]["latency_ms"].get("p50")),
                "p99_ms": median_of(rs, lambda r: r["wrk"]["latency_ms"].get("p99")),
                "errors": sum((r["wrk"] or {}).get("errors_total", 0) for r in rs if r["wrk"]),
                "exits_per_request": median_of(rs, lambda r: r.get("exits_per_request")),
                "guest_exits_per_request": median_of(
                    rs, lambda r: r.get("guest_exits_per_request")),
                "cpu": cpu_summary(rs),
            }
        row["server"] = server.get("virtsocket")
        row["ratio"] = ratio(row["virtsocket"]["requests_per_s"], row["native"]["requests_per_s"])
        rows.append(row)
    return rows


def targets(rows):
    by = {r["conns"]: r for r in rows}
    out = []
    for c in (100, 1000):
        if c in by:
            x = by[c]["ratio"]
            out.append((f"{c:,} connections: virtsocket ≥ 0.8× native requests/s", fmt(x),
                        None if x is None else x >= 0.8))
    if 10000 in by:
        v = by[10000]["virtsocket"]
        ok = v["ok_runs"] == v["runs"] and v["runs"] > 0 and v["errors"] == 0
        out.append(("10,000 connections held, no errors", f"{v['errors']} errors, "
                    f"{v['ok_runs']}/{v['runs']} runs ok", ok))
    for key, what in (("guest_exits_per_request", "doorbell exits (hypercalls + port I/O)"),
                      ("exits_per_request", "all KVM exits")):
        loaded = [r["virtsocket"][key] for r in rows
                  if r["conns"] >= 100 and r["virtsocket"][key] is not None]
        if loaded:
            worst = max(loaded)
            out.append((f"{what} per request ≤ 0.01 under load (≥ 100 connections, worst)",
                        fmt(worst), worst <= 0.01))
    return out


def cpu_line(conns, system, v):
    """One row of the CPU table."""
    c = v.get("cpu")
    cells = []
    for role in CPU_ROLES:
        if c and role in c["share"]:
            cell = f"{c['share'][role]:.2f} / {c['us_per_request'][role]:.0f}"
            guest = c.get("guest_us_per_request", {}).get(role)
            if guest is not None:
                cell += f" (guest mode {guest:.0f})"
            cells.append(cell)
        else:
            cells.append("–")
    busy = f"{c['busy']:.2f}" if c else "–"
    return f"| {conns:,} | {system} | " + " | ".join(cells) + f" | {busy} |"


def server_text(srv):
    """The line under the CPU table: the guest server's worker and vCPU over its runs."""
    if not srv or "worker_poll" not in srv:
        return "(no vmm statistics for the guest's server)"
    return (f"The guest's server over all its runs ({srv['run_seconds']:.0f} s of wrk, the vmm's "
            f"statistics at its stop): the worker busy {fmt(srv['worker_busy'])}, in its poll "
            f"window {fmt(srv['worker_poll'])} (wall time: spinning or yielding, "
            f"{fmt(srv.get('poll_loops'))} looks), asleep {fmt(srv['worker_sleep'])}; the vCPU "
            f"blocked in WAIT doorbells {fmt(srv.get('vcpu_wait'))} (shares of wrk's wall time)"
            + (f"; a WAIT woken by a completion ran again {fmt(srv['vcpu_wake_us'])} µs after the "
               f"worker's wake, on average over {fmt(srv['vcpu_wakes'])} wakes"
               if srv.get("vcpu_wake_us") is not None else "") + ".")


def write_outputs(d, env, records, rows):
    with open(os.path.join(d, "http.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["conns", "system", "runs", "ok_runs", "requests_per_s", "p50_ms", "p99_ms",
                    "errors", "exits_per_request", "guest_exits_per_request",
                    "ratio_to_native"])
        for r in rows:
            for s in SYSTEMS:
                v = r[s]
                w.writerow([r["conns"], s, v["runs"], v["ok_runs"], v["requests_per_s"],
                            v["p50_ms"], v["p99_ms"], v["errors"], v["exits_per_request"],
                            v["guest_exits_per_request"], r["ratio"] if s == "virtsocket" else ""])
    lines = ["# http: wrk against the guest's httpd and native-httpd (same source)", "",
             f"Where: {env.get('kind_text', env.get('kind'))}. " + (env.get("note") or ""), "",
             "| connections | native req/s | virtsocket req/s | virtsocket/native | "
             "native p50 / p99 ms | virtsocket p50 / p99 ms | errors native / virtsocket | "
             "exits per request: doorbell / all |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        n, v = r["native"], r["virtsocket"]
        lines.append(f"| {r['conns']:,} | {fmt(n['requests_per_s'])} | {fmt(v['requests_per_s'])}"
                     f" | {fmt(r['ratio'])} | {fmt(n['p50_ms'])} / {fmt(n['p99_ms'])} | "
                     f"{fmt(v['p50_ms'])} / {fmt(v['p99_ms'])} | {n['errors']} / {v['errors']} | "
                     f"{fmt(v['guest_exits_per_request'])} / {fmt(v['exits_per_request'])} |")
    lines += ["", "Where the CPU went (each thread's CPU time from /proc over the middle of "
              f"wrk's run, {round(100 * (1 - 2 * cputime.LEAD))} % of it past its connection "
              "set-up; CPUs = CPU-seconds per second, µs = CPU per request; guest mode = the "
              "vCPU threads' µs running the guest, its spinning included, the rest being KVM's "
              "exits and the vmm's own code):", "",
              "| connections | system | " + " | ".join(f"{r} CPUs / µs" for r in CPU_ROLES)
              + " | CPUs busy (all) |",
              "|---|---|" + "---|" * (len(CPU_ROLES) + 1)]
    for r in rows:
        for s in SYSTEMS:
            lines.append(cpu_line(r["conns"], s, r[s]))
    lines += ["", server_text(rows[0]["server"] if rows else None)]
    deaths = [(r["conns"], s, r[s]) for r in rows for s in SYSTEMS if r[s].get("server_deaths")]
    if deaths:
        lines += ["", "Servers that died under wrk (restarted; a run lost to a sandbox fault "
                  "was run once more and counts by its retry; docs/nested-sandbox.md): " +
                  "; ".join(f"{c:,} connections, {s}: {v['server_deaths']} "
                            f"({v['sandbox_faults']} sandbox faults)" for c, s, v in deaths) + "."]
    lines += ["", "Medians of the runs per point; errors are wrk's (connect, read, write, "
              "timeout, non-2xx), summed over the runs; exits per request are KVM's exits "
              "during wrk's run (its connection set-up included) over wrk's requests: "
              "doorbell = hypercalls + port I/O (what the guest causes), all = every exit "
              "(host interrupts landing on the vCPU included).", "",
              "| target | measured | met |", "|---|---|---|"]
    for name, got, met in targets(rows):
        lines.append(f"| {name} | {got} | {'yes' if met else ('no' if met is False else '?')} |")
    lines += ["", "Plots: `http_rate.png`, `http_latency.png`, `http_exits.png` here (redraw them "
              "with `scripts/plot DIR`, DIR being this directory's parent)."]
    with open(os.path.join(d, "http.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return lines


def run_line(rec):
    """One run's progress line (after its label)."""
    w = rec["wrk"] or {}
    if rec.get("server_died"):
        return "FAILED, the server died: " + rec["server_died"][:400]
    if not rec["ok"]:
        return f"FAILED status {rec['status']}: {rec['stderr'][-200:]}"
    line = (f"{fmt(w.get('requests_per_s'))} req/s, p99 "
            f"{fmt((w.get('latency_ms') or {}).get('p99'))} ms, {w.get('errors_total')} errors")
    if rec.get("exits_per_request") is not None:
        line += f", {fmt(rec['exits_per_request'])} exits/req"
    if rec.get("cpu"):
        line += "; CPU " + ", ".join(f"{r} {v:.2f}" for r, v in sorted(rec["cpu"]["roles"].items())
                                     if v >= 0.01)
        line += " | busy " + " / ".join(f"{x:.2f}" for x in rec["cpu"]["cpus_busy"])
    return line


def server_record(system, vmm, recs):
    """What the guest's server spent over all its runs (every connection count) (the vmm's --stats-json at its stop):
    the worker's time busy, polling idle rings and asleep, and the vCPU's time blocked in
    WAIT doorbells, each as a share of wrk's wall time over those runs (between runs
    the worker polls at most --poll-us before it sleeps, so polling outside the runs is
    negligible)."""
    run_s = sum(r["wall_seconds"] for r in recs)
    out = {"system": system, "run_seconds": round(run_s, 3)}
    h = (vmm or {}).get("hostnet") or {}
    if not h or run_s <= 0:
        return out
    for key, name in (("worker_busy_ns", "worker_busy"), ("worker_poll_ns", "worker_poll"),
                      ("worker_sleep_ns", "worker_sleep"), ("wait_ns", "vcpu_wait")):
        if key in h:
            out[name] = round(h[key] / 1e9 / run_s, 3)
    out["worker_wakeups"] = h.get("worker_wakeups")
    out["poll_loops"] = h.get("poll_loops")
    # a WAIT woken by a completion: µs from the worker's futex wake to the
    # vCPU thread running again (the scheduler's share of a batch's latency)
    if h.get("wait_wakes"):
        out["vcpu_wakes"] = h["wait_wakes"]
        out["vcpu_wake_us"] = round(h["wait_wake_ns"] / h["wait_wakes"] / 1e3, 1)
    return out


class Served:
    """One system's server across the runs: start(n) starts it (n = restarts so far).  A
    server that dies is restarted (at most SERVER_RESTARTS times); a run it died under is
    kept, failed, and when the vmm blamed the sandbox's emulated SVM it is run once more,
    so that one fault of the machine does not cost a point."""

    def __init__(self, start):
        self.start, self.used = start, []
        self.server = self.fresh()

    def fresh(self):
        if len(self.used) > SERVER_RESTARTS:
            return None
        try:
            self.used.append(self.start(len(self.used)))
        except RuntimeError as e:
            print(f"bench: http: {e}", flush=True)
            return None
        return self.used[-1]

    def runs(self, conns, run_one):
        """One point's run (two when a sandbox fault cost the first): its records."""
        recs = []
        for _attempt in (1, 2):
            if self.server is None:
                break
            rec = run_one(self.server, conns)
            recs.append(rec)
            if not rec.get("server_died"):
                break
            self.server.stop()
            self.server = self.fresh()
            if not rec.get("sandbox_fault"):
                break
            rec["retried"] = True
        return recs

    def stop(self):
        if self.server is not None:
            self.server.stop()
            self.server = None


def serve(systems, repeats, conns_list, start, run_one, report):
    """Every run of every system, interleaved: each repeat runs each connection count
    against every system in turn, the order reversed every other repeat (ABBA), so that
    a machine whose speed drifts over minutes (the nested sandbox's does, by 1.5x
    within a run) moves both sides of a ratio alike; run back to back, one system's
    runs would all land in one stretch of it.  Both servers are up throughout; the one
    not under wrk is idle (the guest's vCPU and worker asleep).  start(system, n) starts a server,
    run_one(server, conns) runs wrk once, report(system, rec) prints a run.  Returns
    (records, {system: the servers used})."""
    served = {}
    recs = []
    try:
        for system in systems:
            served[system] = Served(lambda n, system=system: start(system, n))
        for rep in range(1, repeats + 1):
            for conns in conns_list:
                order = systems if rep % 2 else list(reversed(systems))
                for system in order:
                    for rec in served[system].runs(conns, run_one):
                        rec["rep"] = rep
                        recs.append(rec)
                        report(system, rec)
    finally:
        for x in served.values():
            x.stop()
    return recs, {system: x.used for system, x in served.items()}


def merged_stats(servers):
    """The vmm statistics of a system's servers (one per restart), summed."""
    total = {}
    for srv in servers:
        h = ((srv.vmm_stats() or {}).get("hostnet") or {})
        for k, v in h.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                total[k] = total.get(k, 0) + v
    return {"hostnet": total} if total else None


def run(a, out_dir, env):
    """The http workload; scripts/bench's exit status (0: every run worked)."""
    d = os.path.join(out_dir, "http")
    # raw/ beside the matrix's (the sandbox watchdog counts its files as progress)
    raw = os.path.join(out_dir, "raw")
    os.makedirs(raw, exist_ok=True)
    os.makedirs(d, exist_ok=True)
    idx = [0]

    def next_idx():
        idx[0] += 1
        return idx[0]
    why_no_exits = exitwindow.ensure_debugfs()
    if why_no_exits:
        print(f"bench: http: KVM's exit counters are not readable: {why_no_exits}")
    scratch = {system: os.path.join(raw, f"http-server-{system}") for system in SYSTEMS}
    records, used = serve(
        SYSTEMS, a.repeats, a.http_conns,
        lambda system, n: Server(system, a, scratch[system] + (f"-restart{n}" if n else "")),
        lambda server, conns: run_wrk(a, server, conns, os.path.join(raw, f"http-{next_idx():04d}")),
        lambda system, rec: print(f"[http {idx[0]}] {system} {rec['conns']} conns "
                                  f"#{rec['rep']}: " + run_line(rec), flush=True))
    servers = [server_record(system, merged_stats(used[system]),
                             [r for r in records if r["system"] == system])
               for system in SYSTEMS if system != "native" and used[system]]
    rows = summarize(records, a.http_conns, servers)
    with open(os.path.join(d, "results.json"), "w") as f:
        json.dump({"env": env, "runs": records, "servers": servers, "rows": rows}, f, indent=1)
    print("\n".join(write_outputs(d, env, records, rows)))
    expected = len(SYSTEMS) * a.repeats * len(a.http_conns)
    return 0 if len(records) == expected and all(r["ok"] for r in records) else 1
