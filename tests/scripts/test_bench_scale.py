"""scripts/benchlib/scale (scripts/bench --vcpus): exits per request per vCPU, medians,
the guest/native ratio and the options, on made-up runs."""
import os
import sys
import tempfile
import types
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from benchlib import options, scale  # noqa: E402


def stats(exits, serial, requests):
    return {"per_vcpu": [{"exits": e, "serial_bytes": s} for e, s in zip(exits, serial)],
            "hostnet": {"queues": [{"requests": r} for r in requests]}}


def run(config, n, value, vmm=None, ok=True, w="stream", size=64):
    return {"bench": w, "size": size, "vcpus": n, "config": config, "ok": ok,
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
        recs = [run("native", 2, v) for v in (100, 300, 200)]
        recs += [run("adaptive/zero", 2, v, stats([10, 10], [0, 0], [100, 50]))
                 for v in (150, 190, 180)]
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
                self.assertIn("QEMU -smp 2", f.read())


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
