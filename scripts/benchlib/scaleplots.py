"""The plots of issue 14's scale figures, as gnuplot commands (scripts/plot runs them).

  http/http_rate.png      wrk's requests/s against connections: native-httpd and the
                          guest's httpd (same source), and the guest's share of native
  http/http_latency.png   wrk's p50 and p99 latency against connections, both servers
  http/http_exits.png     exits per request against connections: the doorbells the guest
                          rings and every KVM exit, beside the issue's 0.01 line
  vcpus_ratio.png         scripts/bench --vcpus: virtsocket with N vCPUs ÷ native with N
                          threads, per workload and size, beside the issue's 0.9 line

Each reader takes the CSV scripts/bench wrote (http/http.csv, scale.csv) and returns
(data files to write, gnuplot lines), or nothing when the CSV has no figure to draw; the
caller writes both and runs gnuplot from the result directory.  Pure functions of the rows,
so that tests/scripts/test_bench_plots.py checks them without gnuplot.
"""
import csv
import os

from .common import human_size


def line(colour, pt, dt=1):
    return f'lc rgb "{colour}" lw 2 dt {dt} pt {pt}'


NATIVE = line("#000000", 7)
GUEST = line("#2ca02c", 11)  # scripts/plot's adaptive/zero
NATIVE_P99 = line("#000000", 6, dt=2)
GUEST_P99 = line("#2ca02c", 10, dt=2)
GUEST_RATIO = 'lc rgb "#2ca02c" pt 6 ps 2'
TARGET = 'lc rgb "#d62728" lw 1 dt 2'

# issue 14's targets, drawn as lines
HTTP_RATIO_TARGET = 0.8
HTTP_EXITS_TARGET = 0.01
VCPUS_RATIO_TARGET = 0.9


def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def read_csv(path):
    """The rows of a CSV, or None when there is none."""
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    except OSError:
        return None


def _series(rows, system, key):
    """[(conns, value)] of one server, sorted, points without a figure left out."""
    pts = [(int(r["conns"]), num(r.get(key))) for r in rows if r.get("system") == system]
    return sorted((c, v) for c, v in pts if v is not None)


def _dat(series):
    """gnuplot data: one block per series (selected with `index`), in order."""
    out = []
    for pts in series:
        out += [f"{x} {y}" for x, y in pts] + ["", ""]
    return "\n".join(out) + "\n"


def _conns_axis(conns):
    tics = ", ".join(f'"{c:,}" {c}' for c in conns)
    lo, hi = conns[0] / 2, conns[-1] * 2
    # (after the matrix's latency histogram: its tic rotation and x format stay set)
    return ["unset logscale", "set logscale x", f"set xrange [{lo}:{hi}]", "set xtics norotate",
            'set format x "% h"', f"set xtics ({tics})", 'set xlabel "concurrent connections (wrk -c)"']


def http_plots(rows, subtitle):
    """From http/http.csv's rows: ({data file: text}, gnuplot lines); ({}, []) when no
    connection count has both servers' requests/s."""
    nat = _series(rows, "native", "requests_per_s")
    vs = _series(rows, "virtsocket", "requests_per_s")
    if not nat or not vs:
        return {}, []
    conns = sorted({c for c, _ in nat} | {c for c, _ in vs})
    ratio = _series(rows, "virtsocket", "ratio_to_native")
    files = {
        "http_rate.dat": _dat([nat, vs, ratio]),
        "http_latency.dat": _dat([_series(rows, "native", "p50_ms"),
                                       _series(rows, "native", "p99_ms"),
                                       _series(rows, "virtsocket", "p50_ms"),
                                       _series(rows, "virtsocket", "p99_ms")]),
        "http_exits.dat": _dat([_series(rows, "virtsocket", "guest_exits_per_request"),
                                     _series(rows, "virtsocket", "exits_per_request")]),
    }
    d = "plots/http"
    gp = _conns_axis(conns)
    gp += [f'set output "http/http_rate.png"',
           f'set title "http: wrk against the same server, native and in the guest\\n'
           f'{{/*0.8 {subtitle}}}"',
           'set ylabel "requests / s"', "set yrange [0:*]", "set y2range [0:1.2]",
           'set y2label "virtsocket ÷ native"', "set y2tics 0.2", "set ytics nomirror",
           f'plot "{d}_rate.dat" index 0 using 1:2 with linespoints {NATIVE} title "native-httpd", \\',
           f'     "{d}_rate.dat" index 1 using 1:2 with linespoints {GUEST} title "guest httpd (virtsocket)", \\',
           f'     "{d}_rate.dat" index 2 using 1:2 axes x1y2 with points {GUEST_RATIO} '
           f'title "virtsocket ÷ native (right)", \\',
           f'     {HTTP_RATIO_TARGET} axes x1y2 with lines {TARGET} title "target {HTTP_RATIO_TARGET} (right)"',
           "unset y2tics", "unset y2label", "set ytics mirror", "set autoscale y"]
    gp += [f'set output "http/http_latency.png"',
           f'set title "http: wrk\'s latency\\n{{/*0.8 {subtitle}}}"',
           'set ylabel "ms"', "set logscale y",
           f'plot "{d}_latency.dat" index 0 using 1:2 with linespoints {NATIVE} title "native p50", \\',
           f'     "{d}_latency.dat" index 1 using 1:2 with linespoints {NATIVE_P99} title "native p99", \\',
           f'     "{d}_latency.dat" index 2 using 1:2 with linespoints {GUEST} title "virtsocket p50", \\',
           f'     "{d}_latency.dat" index 3 using 1:2 with linespoints {GUEST_P99} title "virtsocket p99"',
           "unset logscale y"]
    if any(_series(rows, "virtsocket", k) for k in ("guest_exits_per_request",
                                                     "exits_per_request")):
        gp += [f'set output "http/http_exits.png"',
               f'set title "http: VM exits per request under wrk (KVM debugfs)\\n'
               f'{{/*0.8 {subtitle}}}"',
               'set ylabel "exits / request"', "set logscale y", "set yrange [0.001:*]",
               f'plot "{d}_exits.dat" index 0 using 1:2 with linespoints {GUEST} '
               f'title "doorbells (hypercalls + port I/O)", \\',
               f'     "{d}_exits.dat" index 1 using 1:2 with linespoints {GUEST_P99} '
               f'title "all exits", \\',
               f'     {HTTP_EXITS_TARGET} with lines {TARGET} title "target {HTTP_EXITS_TARGET}"',
               "unset logscale y", "set autoscale y"]
    return files, gp


def vcpus_plots(rows, subtitle):
    """From scale.csv's rows: ({data file: text}, gnuplot lines); ({}, []) when no
    point has a ratio."""
    curves = {}
    for r in rows:
        ratio = num(r.get("ratio"))
        if ratio is None:
            continue
        name = f"{r['workload']} {human_size(int(r['size']))} {r['system']}"
        curves.setdefault(name, []).append((int(r["vcpus"]), ratio))
    if not curves:
        return {}, []
    names = sorted(curves)
    ns = sorted({n for pts in curves.values() for n, _ in pts})
    files = {"vcpus_ratio.dat": _dat([sorted(curves[k]) for k in names])}
    gp = ["unset logscale", f"set xrange [{ns[0] - 0.5}:{ns[-1] + 0.5}]", "set xtics norotate",
          'set format x "% h"',
          "set xtics (" + ", ".join(f'"{n}" {n}' for n in ns) + ")",
          'set xlabel "N: vCPUs (virtsocket) = threads (native)"',
          'set output "vcpus_ratio.png"',
          f'set title "aggregate throughput with N flows: virtsocket ÷ native\\n'
          f'{{/*0.8 {subtitle}}}"',
          'set ylabel "virtsocket ÷ native"', "set yrange [0:*]"]
    parts = [f'"plots/vcpus_ratio.dat" index {i} using 1:2 with linespoints lw 2 pt {5 + i} '
             f'title "{k}"' for i, k in enumerate(names)]
    parts.append(f"{VCPUS_RATIO_TARGET} with lines {TARGET} title \"target {VCPUS_RATIO_TARGET}\"")
    gp.append("plot " + ", \\\n     ".join(parts))
    gp += ["set autoscale y"]
    return files, gp


def scale_plots(d, subtitle):
    """Both kinds for result directory d: ({file name in d/plots: text}, gnuplot lines)."""
    files, gp = {}, []
    rows = read_csv(os.path.join(d, "http", "http.csv"))
    if rows:
        f, g = http_plots(rows, subtitle)
        files.update(f)
        gp += g
    rows = read_csv(os.path.join(d, "scale.csv"))
    if rows:
        f, g = vcpus_plots(rows, subtitle)
        files.update(f)
        gp += g
    return files, gp
