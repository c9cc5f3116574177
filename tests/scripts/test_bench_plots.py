"""scripts/plot's scale plots (benchlib/scaleplots.py): the http workload's and --vcpus'
figures become the right data blocks, and scripts/plot draws them for a result directory
that has only those CSVs (gnuplot: scripts/install-deps installs gnuplot-nox)."""
import os
import subprocess
import sys
import tempfile
import unittest

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts")
sys.path.insert(0, SCRIPTS)
from benchlib import scaleplots  # noqa: E402

HTTP_CSV = """conns,system,runs,ok_runs,requests_per_s,p50_ms,p99_ms,errors,exits_per_request,guest_exits_per_request,ratio_to_native
100,native,3,3,13000,5.1,22,0,,,
100,virtsocket,3,3,9800,6.9,24,0,0.064,0.058,0.754
1000,native,3,3,15000,45,110,0,,,
1000,virtsocket,3,3,9500,75,190,0,0.044,0.037,0.633
10000,native,3,2,7000,650,930,0,,,
10000,virtsocket,3,0,,,,12,,,
"""

SCALE_CSV = """workload,size,vcpus,system,native,virtsocket,ratio,exits_per_request_per_vcpu
stream,65536,1,adaptive/zero,150,160,1.0667,0.01
stream,65536,2,adaptive/zero,250,200,0.8,0.02 0.03
rr,64,1,adaptive/zero,5000,4000,0.8,0.2
rr,64,2,adaptive/zero,8000,,,
"""


def blocks(text):
    """gnuplot data text -> [[(x, y)]] per index block."""
    out = [[]]
    for line in text.split("\n"):
        if line:
            x, y = line.split()
            out[-1].append((float(x), float(y)))
        elif out[-1]:
            out.append([])
    return [b for b in out if b]


def rows(text):
    import csv
    import io
    return list(csv.DictReader(io.StringIO(text)))


class HttpPlots(unittest.TestCase):
    def test_each_server_its_own_series_without_missing_points(self):
        files, gp = scaleplots.http_plots(rows(HTTP_CSV), "here")
        rate = blocks(files["http_rate.dat"])
        self.assertEqual(rate[0], [(100, 13000), (1000, 15000), (10000, 7000)])
        # the 10,000 point of the guest had no run that counted: not drawn as 0
        self.assertEqual(rate[1], [(100, 9800), (1000, 9500)])
        self.assertEqual(rate[2], [(100, 0.754), (1000, 0.633)])
        lat = blocks(files["http_latency.dat"])
        self.assertEqual(lat[3], [(100, 24), (1000, 190)])
        ex = blocks(files["http_exits.dat"])
        self.assertEqual(ex[0], [(100, 0.058), (1000, 0.037)])  # the doorbells
        self.assertEqual(ex[1], [(100, 0.064), (1000, 0.044)])  # every exit
        outs = [g for g in gp if g.startswith("set output")]
        self.assertEqual(outs, ['set output "http/http_rate.png"',
                                'set output "http/http_latency.png"',
                                'set output "http/http_exits.png"'])
        # the targets are drawn
        self.assertTrue(any("target 0.8" in g for g in gp))
        self.assertTrue(any("target 0.01" in g for g in gp))

    def test_nothing_to_draw_without_both_servers(self):
        only_native = "\n".join(l for l in HTTP_CSV.splitlines() if ",virtsocket," not in l)
        self.assertEqual(scaleplots.http_plots(rows(only_native), "here"), ({}, []))


class VcpusPlot(unittest.TestCase):
    def test_one_curve_per_workload_size_and_system(self):
        files, gp = scaleplots.vcpus_plots(rows(SCALE_CSV), "here")
        curves = blocks(files["vcpus_ratio.dat"])
        # sorted by name: "rr 64 B ..." before "stream 64 KiB ..."
        self.assertEqual(curves, [[(1, 0.8)], [(1, 1.0667), (2, 0.8)]])
        plot = next(g for g in gp if g.startswith("plot"))
        self.assertIn('title "rr 64 B adaptive/zero"', plot)
        self.assertIn('title "stream 64 KiB adaptive/zero"', plot)
        self.assertIn("target 0.9", plot)

    def test_no_ratio_no_plot(self):
        text = SCALE_CSV.splitlines()[0] + "\nrr,64,2,adaptive/zero,8000,,,\n"
        self.assertEqual(scaleplots.vcpus_plots(rows(text), "here"), ({}, []))


class ScriptsPlot(unittest.TestCase):
    def run_plot(self, d):
        return subprocess.run([sys.executable, os.path.join(SCRIPTS, "plot"), d],
                              capture_output=True, text=True, timeout=60)

    def test_draws_the_scale_plots_of_a_directory_without_a_matrix(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "http"))
            with open(os.path.join(d, "http", "http.csv"), "w") as f:
                f.write(HTTP_CSV)
            with open(os.path.join(d, "scale.csv"), "w") as f:
                f.write(SCALE_CSV)
            r = self.run_plot(d)
            self.assertEqual(r.returncode, 0, r.stderr)
            for png in ("http/http_rate.png", "http/http_latency.png", "http/http_exits.png",
                        "vcpus_ratio.png"):
                with open(os.path.join(d, png), "rb") as f:
                    self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n", png)
            self.assertFalse(os.path.exists(os.path.join(d, "stream_throughput.png")))

    def test_a_directory_with_nothing_to_draw_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            r = self.run_plot(d)
            self.assertEqual(r.returncode, 2)
            self.assertIn("no figures to draw", r.stderr)


if __name__ == "__main__":
    unittest.main()
