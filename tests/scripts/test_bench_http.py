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


TRIPLE_FAULT_IN_SANDBOX = """httpd: listening on 127.0.0.1:35687
vmm: vCPU 0 at RIP 0xfff0: the guest stopped with a triple fault (KVM_EXIT_SHUTDOWN) after 192 hypercalls
vmm:   rax 0000000000000000 rbx 0000000000000000 rcx 0000000000000000 rdx 0000000000060fb1
vmm:   cr0 0000000000000010 cr2 0000000000000000 cr3 0000000000000000 cr4 0000000000000000 efer 0
vmm: this host's KVM runs on an emulated AMD SVM (kvm_amd nrips=0), which now and then gives a guest the hypervisor's own registers
"""


class FakeServer:
    """A server for serve(): dies under the runs named in `dies_at` (1-based, counted
    over all servers), with `log` as what it printed."""
    def __init__(self, n, runs, dies_at, log, system="virtsocket"):
        self.n, self.runs, self.dies_at, self.log, self.stopped = n, runs, dies_at, log, False
        self.system = system

    def run(self, conns):
        self.runs.append((self.n, conns) if self.system == "virtsocket"
                         else (self.system, self.n, conns))
        r = rec(self.system, conns, 100.0)
        if len(self.runs) in self.dies_at:
            r["ok"] = False
            r["server_died"] = http.server_death("virtsocket", 1, self.log)
            r["sandbox_fault"] = r["server_died"].startswith("sandbox fault")
        return r

    def stop(self):
        assert not self.stopped, "a server stopped twice"
        self.stopped = True


def serve(dies_at, log, repeats=2, conns=(100, 1000)):
    runs, servers = [], []

    def start(system, n):
        servers.append(FakeServer(n, runs, dies_at, log))
        return servers[-1]
    recs, used = http.serve(["virtsocket"], repeats, list(conns), start,
                            lambda srv, c: srv.run(c), lambda system, r: None)
    return recs, used["virtsocket"], runs, servers


class Interleaving(unittest.TestCase):
    def test_the_systems_take_turns_in_abba_order(self):
        runs, servers = [], []

        def start(system, n):
            servers.append(FakeServer(n, runs, set(), "", system))
            return servers[-1]
        recs, used = http.serve(["native", "guest"], 2, [100, 1000], start,
                                lambda srv, c: srv.run(c), lambda system, r: None)
        self.assertEqual(runs, [("native", 0, 100), ("guest", 0, 100),
                                ("native", 0, 1000), ("guest", 0, 1000),
                                ("guest", 0, 100), ("native", 0, 100),
                                ("guest", 0, 1000), ("native", 0, 1000)])
        self.assertEqual([r["rep"] for r in recs], [1, 1, 1, 1, 2, 2, 2, 2])
        self.assertEqual(sorted(used), ["guest", "native"])
        self.assertTrue(all(s.stopped for s in servers))
        self.assertEqual(len(servers), 2, "a server started more than once")


class ServerDeaths(unittest.TestCase):
    def test_a_sandbox_fault_is_named_without_the_register_dump(self):
        why = http.server_death("virtsocket", 1, TRIPLE_FAULT_IN_SANDBOX)
        self.assertTrue(why.startswith("sandbox fault (docs/nested-sandbox.md): "), why)
        self.assertIn("triple fault", why)
        self.assertNotIn("rax", why)

    def test_a_death_of_ours_is_not_called_a_sandbox_fault(self):
        why = http.server_death("virtsocket", 134, "vmm: guest exception on cpu 0: #PF\n")
        self.assertEqual(why, "virtsocket server exited with status 134: guest exception on "
                              "cpu 0: #PF")

    def test_a_run_lost_to_a_sandbox_fault_is_run_again_on_a_new_server(self):
        recs, used, runs, servers = serve({2}, TRIPLE_FAULT_IN_SANDBOX)
        # the 1,000-connection run of repeat 1 died, was run again on server 1
        self.assertEqual(runs, [(0, 100), (0, 1000), (1, 1000), (1, 100), (1, 1000)])
        self.assertEqual(len(used), 2)
        self.assertTrue(all(s.stopped for s in servers))
        self.assertTrue(recs[1]["retried"] and not recs[1]["ok"])
        rows = http.summarize(recs, [100, 1000])
        self.assertEqual(rows[1]["virtsocket"]["runs"], 2)
        self.assertEqual(rows[1]["virtsocket"]["ok_runs"], 2)
        self.assertEqual(rows[1]["virtsocket"]["sandbox_faults"], 1)

    def test_a_death_of_ours_is_kept_failed_and_not_run_again(self):
        recs, used, runs, _ = serve({1}, "vmm: guest exception on cpu 0: #PF\n")
        self.assertEqual(runs, [(0, 100), (1, 1000), (1, 100), (1, 1000)])
        rows = http.summarize(recs, [100, 1000])
        self.assertEqual((rows[0]["virtsocket"]["runs"], rows[0]["virtsocket"]["ok_runs"]),
                         (2, 1))
        self.assertFalse(any(r.get("retried") for r in recs))

    def test_a_server_that_keeps_dying_is_given_up(self):
        recs, used, runs, servers = serve(set(range(1, 99)), "vmm: guest exception\n",
                                          repeats=5)
        self.assertEqual(len(used), http.SERVER_RESTARTS + 1)
        self.assertEqual(len(runs), http.SERVER_RESTARTS + 1)
        self.assertTrue(all(s.stopped for s in servers))


def threads(*named):
    """cputime.shares' threads from (comm, share) pairs."""
    return [{"name": n, "pid": 1, "tid": i, "share": x, "cpu": 0}
            for i, (n, x) in enumerate(named)]


def with_cpu(r, busy, *named, guest=None):
    cpu = {"window_s": 1.0, "cpus_busy": busy, "threads": threads(*named)}
    cpu["roles"] = http.cputime.role_totals(cpu)
    if guest is not None:
        cpu["guest_roles"] = {"vCPUs": guest}
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

    def test_vcpu_time_in_guest_mode_per_request(self):
        records = [with_cpu(rec("virtsocket", 100, rps), [1.0, 1.0], ("vmm", 0.8),
                            ("hostnet-w0", 0.5), guest=g)
                   for rps, g in ((4000, 0.2), (4000, 0.4), (4000, 0.6))]
        row = http.summarize(records, [100])[0]
        self.assertAlmostEqual(row["virtsocket"]["cpu"]["guest_us_per_request"]["vCPUs"], 100.0)
        self.assertNotIn("workers", row["virtsocket"]["cpu"]["guest_us_per_request"])
        self.assertIn("| 0.80 / 200 (guest mode 100) | 0.50 / 125 |",
                      http.cpu_line(100, "virtsocket", row["virtsocket"]))

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

    def test_the_vcpus_wake_after_a_completion(self):
        vmm = {"hostnet": {"worker_busy_ns": 1e9, "worker_poll_ns": 0, "worker_sleep_ns": 0,
                           "wait_ns": 1e9, "wait_wakes": 400, "wait_wake_ns": 60e6}}
        srv = http.server_record("virtsocket", vmm, [{"wall_seconds": 2.0}])
        self.assertEqual((srv["vcpu_wakes"], srv["vcpu_wake_us"]), (400, 150.0))
        self.assertIn("ran again 150 µs after the worker's wake, on average over 400 wakes",
                      http.server_text(srv))
        # no WAIT woken by a completion: no average of nothing
        vmm["hostnet"]["wait_wakes"] = 0
        srv = http.server_record("virtsocket", vmm, [{"wall_seconds": 2.0}])
        self.assertNotIn("vcpu_wake_us", srv)
        self.assertNotIn("ran again", http.server_text(srv))


if __name__ == "__main__":
    unittest.main()
