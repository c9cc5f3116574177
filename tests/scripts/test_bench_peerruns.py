"""scripts/benchlib/peerruns: a peer guest that goes away in the middle (QEMU exited)
gets one more boot for the runs it did not answer; a second loss fails them."""
import os
import sys
import tempfile
import types
import unittest
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from benchlib import peerruns  # noqa: E402

# A fake scripts/peer-vm: answers run 0 of its runs file, then "the guest went away"
# (FAILED "not run" for the rest) -- on every boot, or only on the first (LOSE_ONCE).
FAKE = r'''#!/usr/bin/python3
import json, os, sys
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
runs = [l for l in open(args["--runs"]).read().splitlines() if l.strip()]
state = os.path.join(os.path.dirname(args["--runs"]), "boots")
boots = int(open(state).read()) + 1 if os.path.exists(state) else 1
open(state, "w").write(str(boots))
lose = boots == 1 or os.environ.get("LOSE_ALWAYS") == "1"
if boots == 1 and os.environ.get("NO_BOOT") == "1":  # the guest never booted
    for i in range(len(runs)):
        print("FAILED " + json.dumps({"run_index": i, "config": "e1000", "reason":
              "not run: the guest made no progress in time (boot); console: (nothing)"}))
    print("[peer-vm] stopped early: the guest made no progress in time (boot)",
          file=sys.stderr)
    sys.exit(1)
for i, line in enumerate(runs):
    if lose and i > 0:
        print("FAILED " + json.dumps({"run_index": i, "config": "e1000", "reason":
              "not run: QEMU exited with status 0; console: PEERVM BEGIN 1"}))
    else:
        print("RESULT " + json.dumps({"run_index": i, "rtt_per_s": 100.0, "line": line,
                                      "kvm_exits": {"exits": 5}}))
if lose:
    print("[peer-vm] stopped early: QEMU exited with status 0", file=sys.stderr)
sys.exit(1 if lose else 0)
'''


class GuestWentAway(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.fake = os.path.join(self.tmp.name, "peer-vm")
        with open(self.fake, "w") as f:
            f.write(FAKE)
        os.chmod(self.fake, 0o755)
        self.raw = os.path.join(self.tmp.name, "raw")
        os.makedirs(self.raw)
        self.a = types.SimpleNamespace(seconds=0.3, build="build", mem="256M")
        self.items = [(1, "rr", 64), (2, "rr", 64), (3, "rr", 64)]

    def tearDown(self):
        self.tmp.cleanup()

    def run_group(self):
        got = {}
        with mock.patch.object(peerruns, "PEER_VM", self.fake):
            peerruns.run_group(self.a, "e1000", self.items, self.raw,
                               lambda k, status, result, reason, line, wall:
                               got.__setitem__(k, (status, result, reason)))
        return got

    def test_one_more_boot_for_the_runs_not_answered(self):
        got = self.run_group()
        self.assertEqual(sorted(got), [0, 1, 2])
        self.assertTrue(all(s == 0 and r for s, r, _ in got.values()), got)
        with open(os.path.join(self.raw, "boots")) as f:
            self.assertEqual(f.read(), "2")
        # the second boot ran only the two runs the first did not answer
        with open(os.path.join(self.raw, "peer-e1000.boot2.runs")) as f:
            self.assertEqual(len(f.read().split()), 2 * len(peerruns.runs_file_lines(
                self.items[:1], 0.3)[0].split()))

    def test_a_guest_that_never_booted_gets_one_more_boot(self):
        with mock.patch.dict(os.environ, {"NO_BOOT": "1"}):
            got = self.run_group()
        self.assertEqual(sorted(got), [0, 1, 2])
        self.assertTrue(all(s == 0 and r for s, r, _ in got.values()), got)
        with open(os.path.join(self.raw, "boots")) as f:
            self.assertEqual(f.read(), "2")

    def test_a_second_loss_fails_them_with_the_reason(self):
        with mock.patch.dict(os.environ, {"LOSE_ALWAYS": "1"}):
            got = self.run_group()
        # each boot answers its first run: run 0 on the first, run 1 on the second
        self.assertEqual((got[0][0], got[1][0]), (0, 0))
        status, result, reason = got[2]
        self.assertIsNone(result)
        self.assertNotEqual(status, 0)
        self.assertIn("not run: QEMU exited with status 0", reason)
        with open(os.path.join(self.raw, "boots")) as f:
            self.assertEqual(f.read(), str(peerruns.GUEST_BOOTS))


if __name__ == "__main__":
    unittest.main()
