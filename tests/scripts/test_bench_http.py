"""scripts/benchlib/http.py: wrk's output parsed (units, socket errors, non-2xx), the
medians per connection count and the issue's targets judged from them."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from benchlib import http  # noqa: E402

WRK_OK = """Running 3s test @ http://127.0.0.1:35969/
  2 threads and 100 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.96ms   10.49ms  85.64ms   94.57%
    Req/Sec    46.87k    16.85k   74.81k    65.00%
  Latency Distribution
     50%  970.00us
     75%    2.83ms
     90%    5.86ms
     99%    1.20s
  93462 requests in 2.01s, 12.30MB read
Requests/sec:  46532.45
Transfer/sec:      6.12MB
"""

WRK_ERRORS = """Running 7s test @ http://127.0.0.1:1/
  2 threads and 10000 connections
  Latency Distribution
     50%   136.23ms
     75%   182.86ms
     90%   250.64ms
     99%   378.44ms
  2000 requests in 7.00s, 1.00MB read
  Socket errors: connect 12, read 3, write 0, timeout 40
  Non-2xx or 3xx responses: 5
Requests/sec:    285.71
Transfer/sec:    146.29KB
"""


def rec(system, conns, rps, errors=0, epr=None, ok=True):
    return {"system": system, "conns": conns, "ok": ok, "exits_per_request": epr,
            "guest_exits_per_request": epr,
            "wrk": {"requests_per_s": rps, "latency_ms": {"p50": 1.0, "p99": 9.0},
                    "errors_total": errors}}


class ParseWrk(unittest.TestCase):
    def test_figures_and_units(self):
        r = http.parse_wrk(WRK_OK)
        self.assertEqual(r["requests"], 93462)
        self.assertAlmostEqual(r["seconds"], 2.01)
        self.assertAlmostEqual(r["requests_per_s"], 46532.45)
        self.assertAlmostEqual(r["latency_ms"]["p50"], 0.97)
        self.assertAlmostEqual(r["latency_ms"]["p75"], 2.83)
        self.assertAlmostEqual(r["latency_ms"]["p99"], 1200.0)
        self.assertEqual(r["errors_total"], 0)

    def test_socket_errors_and_bad_statuses_count(self):
        r = http.parse_wrk(WRK_ERRORS)
        self.assertEqual(r["errors"], {"connect": 12, "read": 3, "write": 0, "timeout": 40,
                                       "status": 5})
        self.assertEqual(r["errors_total"], 60)

    def test_no_summary_is_no_result(self):
        self.assertIsNone(http.parse_wrk("Usage: wrk <options> <url>\n"))


class Targets(unittest.TestCase):
    def test_medians_ratio_and_targets(self):
        records = [rec("native", 100, x) for x in (1000, 1200, 1100)]
        records += [rec("virtsocket", 100, x, epr=0.002) for x in (900, 950, 700)]
        records += [rec("native", 10000, 800), rec("virtsocket", 10000, 500, errors=3,
                                                   epr=0.02)]
        rows = http.summarize(records, [100, 10000])
        self.assertEqual(rows[0]["native"]["requests_per_s"], 1100)
        self.assertEqual(rows[0]["virtsocket"]["requests_per_s"], 900)
        self.assertAlmostEqual(rows[0]["ratio"], 900 / 1100)
        got = {name: met for name, _, met in http.targets(rows)}
        self.assertTrue(got["100 connections: virtsocket ≥ 0.8× native requests/s"])
        self.assertFalse(got["10,000 connections held, no errors"])
        self.assertFalse(got["all KVM exits per request ≤ 0.01 under load (≥ 100 connections, "
                             "worst)"])
        self.assertFalse(got["doorbell exits (hypercalls + port I/O) per request ≤ 0.01 under "
                             "load (≥ 100 connections, worst)"])

    def test_failed_runs_fail_the_held_target(self):
        rows = http.summarize([rec("native", 10000, 800),
                               rec("virtsocket", 10000, 500, ok=False)], [10000])
        got = {name: met for name, _, met in http.targets(rows)}
        self.assertFalse(got["10,000 connections held, no errors"])


def threads(*named):
    """cputime.shares' threads from (comm, share) pairs."""
    return [{"name": n, "pid": 1, "tid": i, "share": x, "cpu": 0}
            for i, (n, x) in enumerate(named)]


def with_cpu(r, busy, *named):
    cpu = {"window_s": 1.0, "cpus_busy": busy, "threads": threads(*named)}
    cpu["roles"] = http.cputime.role_totals(cpu)
    r["cpu"] = cpu
    return r


class WhereTheCpuWent(unittest.TestCase):
    def test_roles_add_threads_up(self):
        cpu = {"threads": threads(("wrk", 0.4), ("wrk", 0.3), ("wrk", 0.0), ("vmm", 0.5),
                                  ("vmm", 0.0), ("hostnet-w0", 0.25), ("native-httpd", 0.1))}
        self.assertEqual(http.cputime.role_totals(cpu),
                         {"wrk": 0.7, "vCPUs": 0.5, "workers": 0.25, "native httpd": 0.1})

    def test_shares_and_cpu_per_request_are_medians(self):
        records = [with_cpu(rec("virtsocket", 100, rps), [0.9, 1.0], ("vmm", v),
                            ("hostnet-w0", w), ("wrk", 0.3), ("wrk", 0.3))
                   for rps, v, w in ((5000, 0.7, 0.5), (4000, 0.8, 0.4), (2000, 0.9, 0.6))]
        records.append(rec("virtsocket", 100, 9999, ok=False))  # failed: not counted
        c = http.summarize(records, [100])[0]["virtsocket"]["cpu"]
        self.assertEqual(c["runs"], 3)
        self.assertAlmostEqual(c["share"]["vCPUs"], 0.8)
        self.assertAlmostEqual(c["share"]["workers"], 0.5)
        self.assertAlmostEqual(c["share"]["wrk"], 0.6)
        self.assertAlmostEqual(c["busy"], 1.9)
        # CPU-seconds per second over requests per second: 0.7/5000, 0.8/4000, 0.9/2000 s
        self.assertAlmostEqual(c["us_per_request"]["vCPUs"], 200.0)
        self.assertAlmostEqual(c["us_per_request"]["workers"], 100.0)
        self.assertNotIn("native httpd", c["share"])

    def test_no_reading_no_figures(self):
        rows = http.summarize([rec("native", 100, 1000)], [100])
        self.assertIsNone(rows[0]["native"]["cpu"])
        self.assertIn("| 100 | native | – | – | – | – | – |", http.cpu_line(100, "native",
                                                                          rows[0]["native"]))

    def test_the_window_is_inside_wrks_run_after_its_connections(self):
        first, second = http.cpu_window(7, 10000, 2.0)  # wrk -d 7s: 5 s of connecting
        self.assertAlmostEqual(first, 5.0 + 0.4)
        self.assertAlmostEqual(second, 7 - 0.4)
        first, second = http.cpu_window(3, 100, 2.0)
        self.assertTrue(0.05 < first < second < 3)

    def test_the_servers_time_over_wrks(self):
        vmm = {"hostnet": {"worker_busy_ns": 3e9, "worker_poll_ns": 1e9,
                           "worker_sleep_ns": 2e9, "wait_ns": 5e8, "poll_loops": 7,
                           "worker_wakeups": 3}}
        runs = [{"wall_seconds": 2.5}, {"wall_seconds": 2.5}]
        srv = http.server_record("virtsocket", vmm, runs)
        self.assertEqual((srv["worker_busy"], srv["worker_poll"], srv["worker_sleep"],
                          srv["vcpu_wait"]), (0.6, 0.2, 0.4, 0.1))
        self.assertIn("blocked in WAIT doorbells 0.1", http.server_text(srv))
        self.assertNotIn("worker_poll", http.server_record("virtsocket", None, runs))


if __name__ == "__main__":
    unittest.main()
