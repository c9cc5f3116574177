"""The peer machine's serial console: a file QEMU appends to, read as it grows,
split into the protocol lines of scripts/peer-vm.d/init."""
import os


class SerialTail:
    def __init__(self, path):
        self.path = path
        self.fd = None
        self.partial = b""
        self.history = []           # every line, for failure reasons

    def lines(self):
        """The complete lines written since the last call (without line ends)."""
        if self.fd is None:
            try:
                self.fd = os.open(self.path, os.O_RDONLY)
            except FileNotFoundError:
                return []
        chunks = []
        while True:
            b = os.read(self.fd, 65536)
            if not b:
                break
            chunks.append(b)
        if not chunks:
            return []
        data = self.partial + b"".join(chunks)
        *complete, self.partial = data.split(b"\n")
        out = [c.decode("utf-8", "replace").rstrip("\r") for c in complete]
        self.history.extend(out)
        return out

    def last(self, n=5):
        """The last n lines seen (for a failure's reason)."""
        tail = [l for l in self.history if l.strip()][-n:]
        return " | ".join(tail) if tail else "(nothing on the console)"

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
