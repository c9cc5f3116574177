"""scripts/benchlib/comparison: the paper's comparison tables, ratios, missing-cell
reasons and the issue's targets, on made-up medians."""
import os
import sys
import types
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from benchlib import comparison  # noqa: E402

CONFIGS = ["native", "iperf3", "adaptive/zero", "e1000", "virtio-net", "vhost-net", "vhost-vsock"]


def point(w, s, c, ok=1, **figures):
    row = {"bench": w, "size": s, "config": c, "runs": 3, "ok_runs": ok}
    row.update(figures)
    return (w, s, c), row


def opts(**kw):
    a = types.SimpleNamespace(configs=list(CONFIGS), workloads=["stream-nagle", "rr"],
                              sizes=[64], mem="512M")
    a.__dict__.update(kw)
    return a


def medians(vs_rtt=1500.0, vs_p99=500.0, vs_exits=0.01, vs_msgs=700000.0):
    med = dict([
        point("stream-nagle", 64, "native", mb_per_s=16.0, msgs_per_s=250000.0,
              kvm_exits_per_op=0.0),
        point("stream-nagle", 64, "iperf3", mb_per_s=17.0, msgs_per_s=265000.0,
              kvm_exits_per_op=0.0),
        point("stream-nagle", 64, "adaptive/zero", mb_per_s=vs_msgs * 64 / 1e6,
              msgs_per_s=vs_msgs, kvm_exits_per_op=vs_exits),
        point("stream-nagle", 64, "e1000", mb_per_s=0.44, msgs_per_s=6840.0,
              kvm_exits_per_op=3.0),
        point("stream-nagle", 64, "vhost-net", mb_per_s=0.88, msgs_per_s=13804.0,
              kvm_exits_per_op=1.5),
        point("stream-nagle", 64, "vhost-vsock", mb_per_s=1.15, msgs_per_s=18002.0,
              kvm_exits_per_op=1.2),
        point("stream-nagle", 64, "virtio-net", ok=0),
        point("rr", 64, "native", rtt_per_s=6443.0, lat_p50_us=130.0, lat_p99_us=324.0,
              kvm_exits_per_op=0.0),
        point("rr", 64, "adaptive/zero", rtt_per_s=vs_rtt, lat_p50_us=600.0,
              lat_p99_us=vs_p99, kvm_exits_per_op=vs_exits),
        point("rr", 64, "e1000", rtt_per_s=235.0, lat_p50_us=4044.0, lat_p99_us=8907.0,
              kvm_exits_per_op=12.3),
        point("rr", 64, "vhost-net", rtt_per_s=1202.0, lat_p50_us=712.0, lat_p99_us=2722.0,
              kvm_exits_per_op=4.0),
        point("rr", 64, "vhost-vsock", rtt_per_s=1200.0, lat_p50_us=709.0,
              lat_p99_us=3036.0, kvm_exits_per_op=4.0),
        point("rr", 64, "virtio-net", rtt_per_s=900.0, lat_p50_us=900.0, lat_p99_us=3000.0,
              kvm_exits_per_op=5.0),
    ])
    return med


def targets_by_name(a, med):
    return {name: (meas, met) for name, meas, met in comparison.paper_targets(a, med)}


class Targets(unittest.TestCase):
    def test_all_met(self):
        t = targets_by_name(opts(), medians())
        meas, met = t["adaptive/zero beats vhost-net on every workload and size (rates, p50, p99)"]
        self.assertTrue(met, meas)
        self.assertIn("2 points compared, no miss", meas)
        meas, met = t["stream-nagle 64 B: adaptive/zero ≥ 100 × e1000 (messages/s)"]
        self.assertTrue(met)
        self.assertEqual(meas, "102×")
        meas, met = t["rr 64 B: adaptive/zero makes ≥ 100 × fewer VM exits per operation "
                      "than the best peer"]
        self.assertTrue(met, meas)
        self.assertIn("400× fewer", meas)

    def test_a_peer_without_results_is_not_a_pass(self):
        t = targets_by_name(opts(), medians())
        meas, met = t["adaptive/zero beats virtio-net on every workload and size (rates, p50, p99)"]
        self.assertFalse(met)
        self.assertIn("not measured: stream-nagle 64 B", meas)

    def test_misses_are_stated(self):
        t = targets_by_name(opts(), medians(vs_rtt=1000.0, vs_p99=3000.0, vs_exits=0.1,
                                            vs_msgs=600000.0))
        meas, met = t["adaptive/zero beats vhost-net on every workload and size (rates, p50, p99)"]
        self.assertFalse(met)
        self.assertIn("rr 64 B rtt_per_s: 1,000 vs 1,202", meas)
        self.assertIn("rr 64 B lat_p99_us: 3,000 vs 2,722", meas)
        self.assertFalse(t["stream-nagle 64 B: adaptive/zero ≥ 100 × e1000 (messages/s)"][1])
        meas, met = t["rr 64 B: adaptive/zero makes ≥ 100 × fewer VM exits per operation "
                      "than the best peer"]
        self.assertFalse(met)
        self.assertIn("40.0× fewer", meas)


class Tables(unittest.TestCase):
    def test_every_cell_has_a_figure_or_a_reason(self):
        a = opts()
        med = medians()
        text = "\n".join(comparison.comparison_lines(
            a, med, {("stream-nagle", 64, "virtio-net"): "peer-vm: no carrier"}))
        self.assertIn("| 64 B | 16.0 | 17.0 | 44.8 | 0.44 | n/a[1] | 0.88 | 1.15 |", text)
        self.assertIn("[1] virtio-net: every run of the point failed (peer-vm: no carrier)",
                      text)
        self.assertIn("iperf3 measures streams only", text)
        for line in text.splitlines():
            if line.startswith("| 64 B"):
                self.assertNotIn("| – |", line)
                self.assertNotIn("|  |", line)

    def test_ratios_virtsocket_over_each_system(self):
        text = "\n".join(comparison.comparison_lines(opts(), medians(), {}))
        # rr 64 B: 1500 / 6443, / 235, / 900, / 1202, / 1200
        self.assertIn("| 64 B | 0.233 | n/a[", text)
        self.assertIn("| 6.38 | 1.67 | 1.25 | 1.25 |", text)

    def test_columns_follow_the_configs_run(self):
        a = opts(configs=["native", "adaptive/zero", "vhost-vsock"])
        self.assertEqual(comparison.systems(a.configs), ["native", "adaptive/zero", "vhost-vsock"])
        self.assertEqual(comparison.virtsocket_config(["native", "batch/zero"]), "batch/zero")


if __name__ == "__main__":
    unittest.main()
