"""Run the host build of the firmware as a local process; its link is a loopback TCP socket."""

from __future__ import annotations

import selectors
import subprocess
import tempfile
from pathlib import Path

from harness.device.loaders.base import Loader, LoadError
from harness.device.loaders.children import start_child, stop_child

PORT_ANNOUNCEMENT = "HIL_LINK_PORT"
START_TIMEOUT_S = 10.0
STOP_GRACE_S = 2.0


class HostLoader(Loader):
    def __init__(self, start_timeout: float = START_TIMEOUT_S):
        self._start_timeout = start_timeout
        self._process: subprocess.Popen | None = None
        self._stderr = tempfile.TemporaryFile()

    def start(self, image: Path) -> str:
        if not Path(image).is_file():
            raise LoadError(f"no firmware image at {image}; build it first")
        self._process = start_child(
            [str(image)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr, text=True
        )
        port = self._read_port()
        return f"socket://127.0.0.1:{port}"

    def _read_port(self) -> int:
        """The first stdout line names the port the firmware listens on."""
        assert self._process is not None and self._process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._process.stdout, selectors.EVENT_READ)
            if not selector.select(self._start_timeout):
                self.stop()
                raise LoadError(f"the host firmware announced no link port within {self._start_timeout:.0f} s")
        line = self._process.stdout.readline().split()
        if len(line) != 2 or line[0] != PORT_ANNOUNCEMENT or not line[1].isdigit():
            self.stop()
            raise LoadError(f"the host firmware did not start: {self.output() or 'no output'}")
        return int(line[1])

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        stop_child(process, STOP_GRACE_S)
        if process.stdout is not None:
            process.stdout.close()

    def output(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace").strip()
