"""The host side (L1) of a peer machine: its kernel modules, the tap (in a network
namespace natively; directly inside the sandbox, which has no NIC) and bench-peer."""
import os
import select
import signal
import subprocess

TAP = "tap0"
HOST_ADDR = "169.254.1.1"      # the tap's end; the guest is 169.254.1.2
NETMASK_BITS = 16              # link-local: nothing beyond the tap is ever addressed


class HostError(Exception):
    """The host side cannot be set up; str() says what to do."""


def run(cmd, what):
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                       check=False)
    if p.returncode != 0:
        raise HostError(f"{what} failed ({' '.join(cmd)}: {p.stderr.strip() or p.returncode})")


def ensure_modules(names, in_sandbox):
    """Load the modules natively (modprobe); in the sandbox its init loaded them
    (scripts/kvm-sandbox's peer kit): only check."""
    for name in names:
        if os.path.isdir(f"/sys/module/{name}"):
            continue
        if in_sandbox:
            raise HostError(f"kernel module {name} is not loaded in the sandbox: its "
                            f"scripts/kvm-sandbox predates the peer kit (update the tree)")
        run(["modprobe", name], f"loading kernel module {name}")


class HostSide:
    """with HostSide(...) as h: h.prefix (a command prefix: run inside the namespace),
    h.sink, h.echo (bench-peer's ports).  Everything is removed on exit, whatever
    happened."""

    def __init__(self, mode, build, in_sandbox, log):
        self.mode, self.build, self.in_sandbox, self.log = mode, build, in_sandbox, log
        self.netns = None
        self.tap = False
        self.peer = None
        self.prefix = []
        self.sink = self.echo = None

    def __enter__(self):
        try:
            self._setup()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def _setup(self):
        if self.mode == "net":
            if not self.in_sandbox:
                # Natively the tap lives in a namespace of its own, with QEMU and bench-peer.
                self.netns = f"vs-peer-{os.getpid()}"
                run(["ip", "netns", "add", self.netns], "creating network namespace")
                self.prefix = ["ip", "netns", "exec", self.netns]
                run(self.prefix + ["ip", "link", "set", "lo", "up"], "bringing lo up")
            elif os.path.exists(f"/sys/class/net/{TAP}"):
                raise HostError(f"{TAP} exists already: another peer-vm is running here")
            run(self.prefix + ["ip", "tuntap", "add", "dev", TAP, "mode", "tap"],
                f"creating {TAP}")
            self.tap = True
            run(self.prefix + ["ip", "addr", "add", f"{HOST_ADDR}/{NETMASK_BITS}", "dev", TAP],
                f"addressing {TAP}")
            run(self.prefix + ["ip", "link", "set", TAP, "up"], f"bringing {TAP} up")
            bind = ["--bind", HOST_ADDR]
        else:
            bind = ["--vsock"]
        exe = os.path.join(self.build, "bench-peer")
        self.peer = subprocess.Popen(self.prefix + [exe] + bind + ["--sink", "0", "--echo", "0"],
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        ready, _, _ = select.select([self.peer.stdout], [], [], 20)
        line = self.peer.stdout.readline() if ready else ""
        words = dict(w.split("=", 1) for w in line.split()[1:] if "=" in w)
        if not line.startswith("READY ") or not words.get("sink") or not words.get("echo"):
            raise HostError(f"bench-peer did not start ({' '.join(bind)}; said {line.strip()!r})")
        self.sink, self.echo = int(words["sink"]), int(words["echo"])

    def close(self):
        if self.peer and self.peer.poll() is None:
            self.peer.send_signal(signal.SIGTERM)
            try:
                self.peer.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.peer.kill()
                self.peer.wait()
        self.peer = None
        if self.tap:
            subprocess.run(self.prefix + ["ip", "link", "del", TAP], check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.tap = False
        if self.netns:
            subprocess.run(["ip", "netns", "del", self.netns], check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.netns = None
