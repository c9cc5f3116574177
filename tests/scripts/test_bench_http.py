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


if __name__ == "__main__":
    unittest.main()
