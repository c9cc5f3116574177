"""scripts/bench's command line: every option says what it does in --help."""
import argparse
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from benchlib import options  # noqa: E402


class Help(unittest.TestCase):
    def test_every_option_has_a_help_line(self):
        p = options.parser()
        listed = [a for a in p._actions if a.help != argparse.SUPPRESS]
        self.assertGreater(len(listed), 15)
        for a in listed:
            self.assertTrue(a.help and a.help.strip(), f"{a.option_strings} has no help")
        self.assertIn("--peers", p.format_help())

    def test_quick_and_peers(self):
        a = options.parse_args(["--quick"])
        self.assertIn("e1000", a.configs)
        self.assertEqual(a.mem, "256M")
        a = options.parse_args(["--configs", "native", "--peers"])
        self.assertEqual(a.configs, ["native"] + options.PEER_CONFIGS)
        self.assertEqual(options.parse_args(["--quick", "--no-peers"]).mem, "64M")


if __name__ == "__main__":
    unittest.main()
