"""scripts/benchlib/scale (scripts/bench --vcpus): exits per request per vCPU, medians,
the guest/native ratio and the options, on made-up runs."""
import os
import sys
import tempfile
import types
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from benchlib import cputime, options, runner, scale  # noqa: E402


def stats(exits, serial, requests):
    return {"per_vcpu": [{"exits": e, "serial_bytes": s} for e, s in zip(exits, serial)],
            "hostnet": {"queues": [{"requests": r} for r in requests]}}


def run(config, n, value, vmm=None, ok=True, w="stream", size=64, rep=1):
    return {"bench": w, "size": size, "vcpus": n, "config": config, "ok": ok, "rep": rep,
            "result": {"mb_per_s": str(value)} if ok else None, "vmm_stats": vmm}


class ExitsPerRequest(unittest.TestCase):
    def test_console_bytes_are_not_transport_exits(self):
        self.assertEqual(scale.exits_per_request(stats([130, 20], [100, 0], [300, 40])),
                         [0.1, 0.5])

    def test_a_queue_without_requests_has_no_ratio(self):
        self.assertEqual(scale.exits_per_request(stats([5, 7], [0, 0], [10, 0])), [0.5, None])

    def test_native_runs_have_none(self):
        self.assertIsNone(scale.exits_per_request(None))
        self.assertIsNone(scale.exits_per_request({"per_vcpu": [], "hostnet": None}))


class Report(unittest.TestCase):
    def test_medians_ratio_and_failed_runs(self):
        recs = [run("native", 2, v, rep=i) for i, v in enumerate((100, 300, 200))]
        recs += [run("adaptive/zero", 2, v, stats([10, 10], [0, 0], [100, 50]), rep=i)
                 for i, v in enumerate((150, 190, 180))]
        recs.append(run("adaptive/zero", 2, 0, ok=False))
        s = scale.summarize(recs)
        self.assertEqual(s[("stream", 64, 2, "native")]["value"], 200)
        vs = s[("stream", 64, 2, "adaptive/zero")]
        self.assertEqual((vs["value"], vs["runs"], vs["failed"]), (180, 3, 1))
        self.assertEqual(vs["epr"], [0.1, 0.2])
        a = types.SimpleNamespace(workloads=["stream"], sizes=[64], vcpus=[2], repeats=3,
                                  seconds=0.5, batch=32, configs=["native", "adaptive/zero"])
        env = {"kind": "nested-sandbox", "kind_text": "sandbox", "cpu": "x", "nproc": 2,
               "outer_nproc": 2}
        with tempfile.TemporaryDirectory() as d:
            self.assertEqual(scale.report_scale(a, d, env, recs), 1, "a failed run fails it")
            with open(os.path.join(d, "scale.csv")) as f:
                self.assertIn("stream,64,2,adaptive/zero,200.0,180.0,0.9,0.1 0.2", f.read())
            with open(os.path.join(d, "scale.md")) as f:
                md = f.read()
            self.assertIn("QEMU -smp 2", md)
            # each guest run over the native run of its repeat: 1.5, 0.633, 0.9
            self.assertIn("| 0.9 | 0.9 [0.633–1.50] |", md)


class SameCommandAsTheMatrix(unittest.TestCase):
    """N = 1 of --vcpus is the matrix's single-flow run: the same command, through the
    same runner (console file, window marks), only the CPU readings added."""

    class FakePeer:
        sink, echo = 5001, 5002

        def pids(self):
            return []

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def commands(self, fn):
        seen = []

        def fake_run_bounded(cmd, limit_s, scratch, sample=None):
            seen.append(cmd)
            return 0, 'RESULT {"mb_per_s": "100"}\n', ""
        real, runner.run_bounded = runner.run_bounded, fake_run_bounded
        try:
            a = types.SimpleNamespace(build="build", mem="256M", batch=32, seconds=1.0,
                                      poll_us=None, spin_us=None)
            rec = fn(a, self.dir.name)
        finally:
            runner.run_bounded = real
        return seen[0], rec

    def matrix(self, config):
        return self.commands(lambda a, d: runner.run_one(
            a, {"kind": "kvm"}, self.FakePeer(), "stream", 65536, config, 1, d, 1))

    def scaled(self, n, config):
        return self.commands(lambda a, d: scale.run_scale_one(
            a, {"kind": "kvm"}, self.FakePeer(), n, "stream", 65536, config, 1, d, 1))

    def test_one_flow_is_the_single_flow_command(self):
        for config in ("native", "adaptive/zero"):
            cmd, rec = self.scaled(1, config)
            self.assertEqual(cmd, self.matrix(config)[0], config)
            self.assertEqual((rec["vcpus"], rec["config"], rec["ok"]), (1, config, True))

    def test_n_flows_on_n_vcpus(self):
        cmd, rec = self.scaled(2, "adaptive/zero/1worker")
        single = self.matrix("adaptive/zero")[0]
        self.assertIn("--flows=2", cmd)
        self.assertEqual(cmd[cmd.index("-c"):cmd.index("-c") + 4], ["-c", "2", "--workers", "1"])
        self.assertEqual([x for x in cmd if x not in ("--flows=2", "-c", "2", "--workers", "1")],
                         single)
        self.assertEqual(rec["config"], "adaptive/zero/1worker")
        native = self.scaled(2, "native")[0]
        self.assertEqual(native[:2], ["build/native-bench", "stream"])
        self.assertIn("--flows=2", native)


def fake_proc(root, threads, cpus):
    """A /proc with threads {(pid, tid): (comm, utime+stime ticks, cpu[, guest ticks])}
    and cpus [(busy, idle)] ticks; without guest ticks a stat ends at field 39."""
    for (pid, tid), (comm, ticks, cpu, *guest) in threads.items():
        os.makedirs(f"{root}/{pid}/task/{tid}", exist_ok=True)
        fields = ["S", "1"] + ["0"] * 9 + [str(ticks), "0"] + ["0"] * 23 + [str(cpu)]
        if guest:
            fields += ["0", "0", "0", str(guest[0]), "0"]  # fields 40-42, 43, 44
        with open(f"{root}/{pid}/task/{tid}/stat", "w") as f:
            f.write(f"{tid} ({comm}) " + " ".join(fields) + "\n")
        with open(f"{root}/{pid}/stat", "w") as f:
            f.write(f"{pid} ({comm}) " + " ".join(fields) + "\n")
    with open(f"{root}/stat", "w") as f:
        f.write("cpu  0 0 0 0 0 0 0\n")
        for i, (busy, idle) in enumerate(cpus):
            f.write(f"cpu{i} {busy} 0 0 {idle} 0 0 0\n")


class CpuTime(unittest.TestCase):
    def test_threads_shares_over_the_window(self):
        hz = os.sysconf("SC_CLK_TCK")
        t = [0.0]
        with tempfile.TemporaryDirectory() as d:
            fake_proc(d, {(10, 10): ("vmm", 0, 0), (10, 11): ("vmm", hz, 1),
                          (20, 20): ("bench-peer", 0, 0)}, [(0, 0), (0, 0)])
            w = cputime.ThreadWindow(2.0, [20], proc=d, clock=lambda: t[0])
            self.assertAlmostEqual(w(10, None), 0.4)   # natively: 0.2 of 2 s in
            t[0] = 0.4
            self.assertAlmostEqual(w(10, None), 1.2)   # first read; the second at 1.6 s
            self.assertIsNone(w.result())
            fake_proc(d, {(10, 10): ("vmm", 0, 1), (10, 11): ("vmm", 2 * hz, 1),
                          (20, 20): ("bench-peer", hz // 2, 0)},
                      [(hz // 2, hz // 2 + hz // 5), (hz, 0)])
            t[0] = 1.6
            w(10, None)
            r = w.result()
        self.assertEqual(r["window_s"], 1.2)
        self.assertEqual([(x["tid"], x["share"], x["cpu"]) for x in r["threads"]],
                         [(11, round(1 / 1.2, 3), 1), (20, round(0.5 / 1.2, 3), 0), (10, 0.0, 1)])
        self.assertEqual(r["cpus_busy"][1], 1.0)
        self.assertLess(r["cpus_busy"][0], 0.6)
        self.assertEqual(cputime.by_role(r), {"vCPUs": [0.833], "host end": [0.417]})

    def test_guest_mode_time_of_vcpu_threads(self):
        hz = os.sysconf("SC_CLK_TCK")
        with tempfile.TemporaryDirectory() as d:
            fake_proc(d, {(10, 11): ("vmm", 0, 1, 0), (10, 12): ("hostnet-w0", 0, 0, 0),
                          (20, 20): ("wrk", 0, 0)}, [(0, 0)])
            first = (0.0, cputime.read_threads([10, 20], d), cputime.read_cpus(d))
            fake_proc(d, {(10, 11): ("vmm", hz, 1, hz // 4), (10, 12): ("hostnet-w0", hz, 0, 0),
                          (20, 20): ("wrk", hz // 2, 0)}, [(hz, 0)])
            second = (2.0, cputime.read_threads([10, 20], d), cputime.read_cpus(d))
        r = cputime.shares(first, second)
        by_tid = {t["tid"]: t for t in r["threads"]}
        self.assertEqual(by_tid[11]["share"], 0.5)
        self.assertEqual(by_tid[11]["guest_share"], 0.125)   # a quarter of its time
        self.assertNotIn("guest_share", by_tid[20])           # no field 43 in this stat
        self.assertEqual(cputime.guest_totals(r), {"vCPUs": 0.125})  # 0 ticks: no role

    def test_guest_window_starts_at_its_mark(self):
        t = [5.0]
        calls = []

        class FakeMarks:
            before = None  # until the guest's BEGIN line

            def __call__(self, pid):
                calls.append(pid)
                return 0.9
        marks = FakeMarks()
        w = cputime.ThreadWindow(1.0, proc="/nonexistent", clock=lambda: t[0])
        self.assertEqual(w(7, marks), 0.9)             # not begun: Marks decides
        marks.before = {"exits": 0}
        self.assertAlmostEqual(w(7, marks), cputime.SETTLE_S + 0.2)
        self.assertEqual(calls, [7, 7], "Marks is called every time")

    def test_cpu_table(self):
        cpu = {"threads": [{"name": "hostnet-w0", "share": 0.9}, {"name": "vmm", "share": 0.3},
                           {"name": "vmm", "share": 0.005}, {"name": "bench-peer", "share": 0.5}],
               "cpus_busy": [0.95, 0.9]}
        recs = [dict(run("adaptive/zero", 1, v), cpu=cpu) for v in (1, 2, 3)]
        s = scale.summarize(recs)[("stream", 64, 1, "adaptive/zero")]
        self.assertEqual(scale.cpu_text(s["cpu"]),
                         "host end 0.50; vCPUs 0.30; workers 0.90 | 0.95 / 0.90")
        self.assertEqual((s["lo"], s["hi"]), (1, 3))
        self.assertAlmostEqual(scale.cpu_total(s["cpu"]), 1.7)
        recs += [dict(run("adaptive/zero", 2, 2), cpu=cpu)]
        a = types.SimpleNamespace(workloads=["stream"], sizes=[64], vcpus=[1, 2], repeats=3,
                                  seconds=0.5, batch=32, configs=["adaptive/zero"])
        env = {"kind": "kvm", "kind_text": "kvm", "cpu": "x", "nproc": 2}
        with tempfile.TemporaryDirectory() as d:
            scale.report_scale(a, d, env, recs)
            with open(os.path.join(d, "scale.md")) as f:
                self.assertIn("| stream | 64 B | 2 | adaptive/zero | host end 0.50; vCPUs 0.30; "
                              "workers 0.90 | 0.95 / 0.90 | 3.40 of 2 |", f.read())


class Resume(unittest.TestCase):
    def test_only_what_worked_and_is_the_same_point(self):
        good = run("adaptive/zero", 2, 5, rep=3)
        self.assertTrue(scale.reusable(good, ("stream", 64, 2, "adaptive/zero", 3)))
        self.assertFalse(scale.reusable(good, ("stream", 64, 1, "adaptive/zero", 3)))
        self.assertFalse(scale.reusable(good, ("stream", 64, 2, "native", 3)))
        self.assertFalse(scale.reusable(run("adaptive/zero", 2, 0, ok=False, rep=3),
                                        ("stream", 64, 2, "adaptive/zero", 3)))
        self.assertFalse(scale.reusable(None, ("stream", 64, 2, "adaptive/zero", 3)))


class Options(unittest.TestCase):
    def test_defaults_and_limits(self):
        a = options.parse_args(["--vcpus", "1,2,4"])
        self.assertEqual((a.vcpus, a.workloads, a.sizes), ([1, 2, 4], ["stream"], [64, 65536]))
        self.assertEqual(a.configs, ["native", "adaptive/zero"])
        for bad in (["--vcpus", "0"], ["--vcpus", "a"], ["--vcpus", "2", "--workloads", "crr"]):
            with self.assertRaises(SystemExit):
                with open(os.devnull, "w") as null:
                    err, sys.stderr = sys.stderr, null
                    try:
                        options.parse_args(bad)
                    finally:
                        sys.stderr = err


if __name__ == "__main__":
    unittest.main()
