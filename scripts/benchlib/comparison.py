"""The paper's comparison: virtsocket beside the host's limit and the usual ways a guest
reaches the network (e1000, virtio-net, vhost-net, vhost-vsock), with ratios and the
issue's targets.  Pure functions of the medians (metrics.median_points), so that the
unit tests can feed them made-up points.
"""
from .common import fmt, human_size, ratio
from .metrics import KVM_COUNTERS
from .options import PEER_CONFIGS, VS_CONFIGS

# the para-virtual peers (e1000 is the emulated NIC)
PARAVIRT = ["virtio-net", "vhost-net", "vhost-vsock"]
LABEL = {"native": "host loopback (native-bench)", "iperf3": "host loopback (iperf3)"}
# per workload: (title, figure, unit) of the rate tables
RATES = {
    "stream-nagle": ("stream, Nagle on (default socket)", "mb_per_s", "MB/s"),
    "stream": ("stream, TCP_NODELAY", "mb_per_s", "MB/s"),
    "rr": ("rr (TCP_NODELAY)", "rtt_per_s", "round trips/s"),
    "crr": ("crr (TCP_NODELAY)", "conn_per_s", "connections/s"),
}
# what `beats` compares: (figure, higher is better)
BEAT_FIGURES = {
    "stream-nagle": [("mb_per_s", True), ("msgs_per_s", True)],
    "stream": [("mb_per_s", True), ("msgs_per_s", True)],
    "rr": [("rtt_per_s", True), ("lat_p50_us", False), ("lat_p99_us", False)],
    "crr": [("conn_per_s", True), ("lat_p50_us", False), ("lat_p99_us", False)],
}


def virtsocket_config(configs):
    """The virtsocket mode the comparison shows: adaptive/zero (the paper's design)."""
    for c in ["adaptive/zero"] + VS_CONFIGS:
        if c in configs:
            return c
    return None


def systems(configs):
    """Columns of the comparison, in order: host, virtsocket, peers (those run)."""
    vs = virtsocket_config(configs)
    return ([c for c in ("native", "iperf3") if c in configs] + ([vs] if vs else [])
            + [c for c in PEER_CONFIGS if c in configs])


class Notes:
    """Footnotes for cells without a figure: every missing cell says why."""

    def __init__(self):
        self.texts = []

    def mark(self, text):
        if text not in self.texts:
            self.texts.append(text)
        return f"n/a[{self.texts.index(text) + 1}]"

    def lines(self):
        return [f"[{i + 1}] {t}" for i, t in enumerate(self.texts)]


def missing_reason(w, s, c, key, med, configs, failures):
    """Why cell (w, s, c, key) has no figure."""
    if c not in configs:
        return f"{c} was not run (--configs)"
    if c == "iperf3" and w in ("rr", "crr"):
        return "iperf3 measures streams only"
    row = med.get((w, s, c))
    if row is None:
        return f"{w} {human_size(s)} was not run for {c}"
    if not row["ok_runs"]:
        why = failures.get((w, s, c)) or "no RESULT"
        # one footnote per configuration and cause, not per cell
        return f"{c}: every run of the point failed ({why})"
    if key.startswith("kvm_"):
        if c in PEER_CONFIGS:
            return f"{c}: peer-vm reported no KVM exit counters"
        return (f"{c}: KVM's counters were not read at the guest's window marks "
                "(raw/*.json, kvm_exits_missing, says why)")
    if key.startswith("lat_"):
        return f"{c} reported no latency for {w}"
    return f"{c} reported no {key} for {w}"


def cell(w, s, c, key, med, configs, failures, notes):
    v = (med.get((w, s, c)) or {}).get(key)
    if v is not None:
        return fmt(v)
    return notes.mark(missing_reason(w, s, c, key, med, configs, failures))


def table(rows_hdr, cols, rows):
    out = ["| " + " | ".join([rows_hdr] + cols) + " |", "|" + " --- |" * (len(cols) + 1)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def sizes_of(med, w):
    return sorted({s for (b, s, _) in med if b == w})


def comparison_lines(a, med, failures):
    """Markdown of the comparison section.  failures: {(w, s, c): last failure text}."""
    configs = list(a.configs)
    cols = systems(configs)
    vs = virtsocket_config(configs)
    notes = Notes()
    heads = [LABEL.get(c, "virtsocket " + c if c == vs else c) for c in cols]
    L = ["## The paper's comparison", "",
         f"virtsocket (`{vs}`) beside the host's own limit and the usual ways a guest reaches "
         "the network, same workloads, same run. The peers are a Linux guest (1 vCPU, "
         f"`-m {a.mem}`) in QEMU with KVM: they carry a full Linux TCP/IP stack in the guest, "
         "while virtsocket's guest has none (that is the design: its sockets are the host's). "
         "Exits per operation come from one counter for every system: KVM's per-VM debugfs "
         "`exits` (KVM-handled exits included), per message (stream), round trip (rr) or "
         "connection (crr)."]
    for w in [x for x in RATES if x in a.workloads]:
        title, key, unit = RATES[w]
        sizes = sizes_of(med, w)
        if not sizes:
            continue
        L += ["", f"### {title}: {unit}", ""]
        rows = [[human_size(s)] + [cell(w, s, c, key, med, configs, failures, notes)
                                   for c in cols] for s in sizes]
        L += table("size", heads, rows)
        if w.startswith("stream"):
            L += ["", f"{title}: messages/s", ""]
            rows = [[human_size(s)] + [cell(w, s, c, "msgs_per_s", med, configs, failures, notes)
                                       for c in cols] for s in sizes]
            L += table("size", heads, rows)
        else:
            L += ["", f"{title}: latency p50 / p99 / p99.9, µs", ""]
            rows = [[human_size(s)] + [" / ".join(cell(w, s, c, f"lat_{p}_us", med, configs,
                                                       failures, notes)
                                                  for p in ("p50", "p99", "p999"))
                                       for c in cols] for s in sizes]
            L += table("size", heads, rows)
        L += ["", f"{title}: VM exits per operation (KVM debugfs `exits`; hypercalls in "
              "brackets)", ""]
        rows = []
        for s in sizes:
            row = [human_size(s)]
            for c in cols:
                x = cell(w, s, c, "kvm_exits_per_op", med, configs, failures, notes)
                h = (med.get((w, s, c)) or {}).get("kvm_hypercalls_per_op")
                row.append(x + (f" ({fmt(h)})" if h else ""))
            rows.append(row)
        L += table("size", heads, rows)
        if vs:
            others = [c for c in cols if c != vs]
            L += ["", f"{title}: virtsocket ÷ each system ({unit}; > 1: virtsocket is "
                  "faster)", ""]
            rows = []
            for s in sizes:
                v = (med.get((w, s, vs)) or {}).get(key)
                rows.append([human_size(s)] + [
                    fmt(ratio(v, (med.get((w, s, c)) or {}).get(key))) if v is not None
                    and (med.get((w, s, c)) or {}).get(key) else
                    notes.mark(missing_reason(w, s, c if v is not None else vs, key, med,
                                              configs, failures))
                    for c in others])
            L += table("size", [f"÷ {LABEL.get(c, c)}" for c in others], rows)
    if notes.texts:
        L += ["", "Cells without a figure:", ""] + [f"- {t}" for t in notes.lines()]
    return L


def exit_kinds_lines(a, med):
    """Per workload at its smallest size: each VM system's KVM exits per operation by
    kind (what stands between virtsocket and the exit target)."""
    vm = [c for c in systems(a.configs) if c not in ("native", "iperf3")]
    rows = []
    for w in [x for x in RATES if x in a.workloads]:
        for s in sizes_of(med, w)[:1]:
            for c in vm:
                r = med.get((w, s, c)) or {}
                if r.get("kvm_exits_per_op") is None:
                    continue
                rows.append([f"{w} {human_size(s)}", c]
                            + [fmt(r.get(f"kvm_{k}_per_op")) for k in KVM_COUNTERS])
    if not rows:
        return []
    return (["", "KVM exits per operation by kind (debugfs counters; `exits` is the total, "
             "the others are parts of it)", ""]
            + table("point", ["system"] + list(KVM_COUNTERS), rows))


def beats(med, w, s, vs, peer):
    """[(figure, virtsocket, peer)] where vs does not beat peer at (w, s); None if
    either has no figures there."""
    a_row, p_row = med.get((w, s, vs)), med.get((w, s, peer))
    if not a_row or not p_row or not a_row["ok_runs"] or not p_row["ok_runs"]:
        return None
    misses = []
    for key, higher in BEAT_FIGURES[w]:
        x, y = a_row.get(key), p_row.get(key)
        if x is None or y is None:
            continue
        if (x <= y) if higher else (x >= y):
            misses.append((key, x, y))
    return misses


def paper_targets(a, med):
    """The issue's targets: [(target, measured text, met True/False/None)]."""
    out = []
    vs = virtsocket_config(a.configs)
    if not vs:
        return out
    for peer in [p for p in PARAVIRT if p in a.configs]:
        misses, unmeasured, compared = [], [], 0
        for w in [x for x in BEAT_FIGURES if x in a.workloads]:
            for s in sizes_of(med, w):
                m = beats(med, w, s, vs, peer)
                if m is None:
                    unmeasured.append(f"{w} {human_size(s)}")
                    continue
                compared += 1
                misses += [f"{w} {human_size(s)} {k}: {fmt(x)} vs {fmt(y)}" for k, x, y in m]
        text = "nothing to compare" if not compared else f"{compared} points compared"
        if misses:
            text += f"; misses: {'; '.join(misses[:6])}" + (
                f" (+{len(misses) - 6} more)" if len(misses) > 6 else "")
        elif compared:
            text += ", no miss"
        if unmeasured:
            text += f"; not measured: {', '.join(unmeasured[:4])}" + (
                f" (+{len(unmeasured) - 4} more)" if len(unmeasured) > 4 else "")
        met = None if not compared else (not misses and not unmeasured)
        out.append((f"{vs} beats {peer} on every workload and size (rates, p50, p99)",
                    text, met))
    if "e1000" in a.configs:
        small = 64 if 64 in a.sizes else min(a.sizes)
        for w in [x for x in ("stream-nagle", "stream") if x in a.workloads]:
            x = ratio((med.get((w, small, vs)) or {}).get("msgs_per_s"),
                      (med.get((w, small, "e1000")) or {}).get("msgs_per_s"))
            out.append((f"{w} {human_size(small)}: {vs} ≥ 100 × e1000 (messages/s)",
                        fmt(x) + "×" if x else "–", None if x is None else x >= 100))
    peers = [p for p in PEER_CONFIGS if p in a.configs]
    if peers:
        for w in a.workloads:
            for s in sizes_of(med, w)[:1]:
                mine = (med.get((w, s, vs)) or {}).get("kvm_exits_per_op")
                theirs = [(med.get((w, s, p)) or {}).get("kvm_exits_per_op") for p in peers]
                theirs = [t for t in theirs if t is not None]
                best = min(theirs) if theirs else None
                x = ratio(best, mine) if mine else (float("inf") if mine == 0 and best else None)
                text = (f"{fmt(mine)} vs {fmt(best)} (best peer): "
                        + ("∞" if x == float("inf") else (fmt(x) + "× fewer" if x else "–")))
                out.append((f"{w} {human_size(s)}: {vs} makes ≥ 100 × fewer VM exits per "
                            "operation than the best peer", text,
                            None if x is None else x >= 100))
    else:
        out.append(("the targets against the peers", "no peer configuration was run", None))
    return out
