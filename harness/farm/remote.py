"""Hold a board of a shared lab while a session uses it: a place of labgrid's coordinator.

Past one host, file locks (harness.farm.locks) no longer reach everyone who may take a board:
people and CI jobs on other machines reserve it through labgrid's coordinator instead, which
keeps one lock per place. A session acquires the board's place before it flashes or talks to
the board and releases it afterwards:

    with reserved("u585-1", "lab.example:20408", timeout=120):
        ...                                   # the board is ours

A free place is acquired at once. A place someone holds is waited for through a labgrid
reservation, the coordinator's own queue (first come, first served, shared with people who run
`labgrid-client reserve --wait`), until `timeout` seconds have passed; then one line says who
holds it. The coordinator is driven through its `labgrid-client` command, the interface labgrid
keeps stable. Who "we" are is labgrid's identity: HOST/USER from $LG_HOSTNAME and $LG_USERNAME,
else this host's name and the login. A session killed outright leaves its place acquired, as
labgrid does for anyone: `labgrid-client -p PLACE release --kick` frees it.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HilError

CLIENT = "labgrid-client"
CALL_TIMEOUT_S = 30.0  # one request to the coordinator; it answers in well under a second


class ReservationError(HilError):
    """The place cannot be had: unknown, held by someone else past the wait, or no coordinator."""


def identity(env: Mapping[str, str] = os.environ) -> str:
    """HOST/USER as labgrid names whoever acquires a place (its client's own rule)."""
    host = env.get("LG_HOSTNAME") or socket.gethostname()
    user = env.get("LG_USERNAME") or getpass.getuser()
    return f"{host}/{user}"


@contextlib.contextmanager
def reserved(place: str, coordinator: str, timeout: float) -> Iterator[str]:
    """Hold labgrid place `place` of `coordinator` (HOST:PORT) for the block; yields our identity.

    Waits up to `timeout` seconds for a place someone else holds, then raises ReservationError
    naming the holder."""
    if not timeout > 0:
        raise ReservationError(f"the wait for labgrid place {place} must be positive (got {timeout})")
    client = _Client(coordinator)
    token = client.acquire(place, time.monotonic() + timeout, timeout)
    try:
        yield client.identity
    finally:
        client.release(place, token)


@dataclass
class _Refusal:
    """Why the coordinator did not give us the place: held (by `holder`), or another problem."""

    held: bool
    holder: str
    message: str


class _Client:
    """The coordinator, through labgrid-client: one short command per request."""

    def __init__(self, coordinator: str) -> None:
        self.coordinator = coordinator
        self.command = _client_command()
        self.env = _client_env()  # one identity from acquire to release, whatever the caller's later environment
        self.identity = identity(self.env)

    def acquire(self, place: str, deadline: float, timeout: float) -> str | None:
        """Acquire `place`, queueing through a reservation while it is held; the reservation's
        token (to cancel once released), None when the place was free."""
        token = None
        try:
            while True:
                refusal = self._try_acquire(place)
                if refusal is None:
                    return token
                if not refusal.held:
                    raise ReservationError(refusal.message)
                if token is not None:
                    self.cancel(token)  # the place went to someone else of our identity: queue again
                    token = None
                token = self._wait_in_queue(place, deadline)
                if token is None:
                    raise ReservationError(
                        f"labgrid place {place} is held by {self.holder(place) or refusal.holder}; gave up after "
                        f"waiting {timeout:g} s (coordinator {self.coordinator}). If that session is gone, free "
                        f"the place with: {CLIENT} -x {self.coordinator} -p {place} release --kick"
                    )
        except BaseException:
            if token is not None:
                self.cancel(token)
            raise

    def release(self, place: str, token: str | None) -> None:
        """Release the place if we still hold it (never someone else's), then end our reservation."""
        try:
            result = self._call("-p", place, "release-from", self.identity)
            said = _last_error(result)
            if result.returncode != 0 and "is not acquired" not in said:  # not: someone kicked us meanwhile
                raise ReservationError(self._explain(place, said))
        finally:
            if token is not None:
                self.cancel(token)

    def cancel(self, token: str) -> None:
        with contextlib.suppress(ReservationError):  # an expired reservation is gone already
            self._run("", "cancel-reservation", token)

    def holder(self, place: str) -> str | None:
        """Who holds the place now: an identity, a reservation's token, or None when it is free."""
        try:
            shown = self._run(place, "-p", place, "show")
        except ReservationError:
            return None
        acquired = re.search(r"^\s*acquired: (\S+)", shown, re.MULTILINE)
        if acquired and acquired.group(1) != "None":
            return acquired.group(1)
        reservation = re.search(r"^\s*reservation: (\S+)", shown, re.MULTILINE)
        return f"reservation {reservation.group(1)}" if reservation else None

    # --- requests ---------------------------------------------------------------------------------

    def _try_acquire(self, place: str) -> _Refusal | None:
        result = self._call("-p", place, "acquire")
        if result.returncode == 0:
            return None
        said = _last_error(result)
        held = re.search(r"already acquired by (\S+?)\.", said)
        if held:
            return _Refusal(True, held.group(1), said)
        if "is already acquired" in said:  # taken between the client's look and its request
            return _Refusal(True, "another session", said)
        if "You have already acquired place" in said:
            return _Refusal(True, self.identity, said)  # another session of this host and user
        if "was not reserved for" in said:
            return _Refusal(True, "a reservation", said)  # queued for someone ahead of us
        return _Refusal(False, "", self._explain(place, said))

    def _wait_in_queue(self, place: str, deadline: float) -> str | None:
        """Queue for the place with a reservation; its token once the place is ours to acquire,
        None (reservation cancelled) when the deadline passes first."""
        process = subprocess.Popen(
            [*self.command, "-x", self.coordinator, "reserve", "--wait", "--shell", f"name={place}"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env,
        )
        try:
            assert process.stdout is not None
            first = process.stdout.readline()  # `export LG_TOKEN=...`, printed before the wait
            match = re.match(r"export LG_TOKEN=(\S+)", first)
            if match is None:
                _, said = process.communicate(timeout=CALL_TIMEOUT_S)
                raise ReservationError(self._explain(place, _last_line(said) or first.strip()))
            token = match.group(1)
            try:
                _, said = process.communicate(timeout=max(deadline - time.monotonic(), 0.01))
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGINT)  # labgrid-client ends its wait on ^C
                _reap(process)
                self.cancel(token)
                return None
            except BaseException:  # e.g. ^C: leave no reservation behind
                self.cancel(token)
                raise
            if process.returncode != 0:
                self.cancel(token)
                raise ReservationError(self._explain(place, _last_line(said)))
            return token
        finally:
            _reap(process)

    def _run(self, place: str, *arguments: str) -> str:
        result = self._call(*arguments)
        if result.returncode != 0:
            raise ReservationError(self._explain(place, _last_error(result)))
        return result.stdout

    def _call(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run([*self.command, "-x", self.coordinator, *arguments], capture_output=True,
                                  text=True, timeout=CALL_TIMEOUT_S, env=self.env)
        except subprocess.TimeoutExpired:
            raise ReservationError(f"the labgrid coordinator {self.coordinator} did not answer within "
                                   f"{CALL_TIMEOUT_S:g} s; check that labgrid-coordinator runs there") from None

    def _explain(self, place: str, said: str) -> str:
        if "Could not connect to coordinator" in said or "coordinator is unavailable" in said:
            return (f"cannot reach the labgrid coordinator {self.coordinator}: check the address (HOST:PORT) and "
                    "that labgrid-coordinator runs there")
        if "matches nothing" in said:
            return (f"the labgrid coordinator {self.coordinator} has no place {place}; create it there with: "
                    f"{CLIENT} -x {self.coordinator} -p {place} create")
        return f"labgrid place {place} on {self.coordinator}: {said}"


def _client_command() -> list[str]:
    """labgrid-client beside this Python (the project's venv), else on PATH."""
    beside = Path(sys.executable).with_name(CLIENT)
    found = str(beside) if beside.is_file() else shutil.which(CLIENT)
    if found is None:
        raise ReservationError(f"{CLIENT} is not installed: install the project (./setup.sh) or `pip install labgrid`")
    return [found]


def _client_env() -> dict[str, str]:
    """Our environment, less what would make labgrid-client act on other places than the one named
    (an environment config, a reservation token), and unbuffered so its token is read at once."""
    env = {key: value for key, value in os.environ.items() if key not in ("LG_ENV", "LG_PLACE", "LG_TOKEN")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _last_error(result: subprocess.CompletedProcess[str]) -> str:
    return _last_line(result.stderr) or _last_line(result.stdout)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    return re.sub(r"^(labgrid-client: |Server error: )?(Error: )?", "", lines[-1])


def _reap(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for stream in (process.stdout, process.stderr):
        if stream is not None and not stream.closed:
            stream.close()
