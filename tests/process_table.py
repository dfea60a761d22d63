"""The real process table (/proc), for tests that check no child outlives the harness: they look
at what the kernel says runs, not at what the harness believes it stopped."""

from __future__ import annotations

from pathlib import Path


def _stat(pid: int) -> tuple[str, str, int] | None:
    """(name, state, parent pid), None once the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
    return name, rest[0], int(rest[1])


def running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (a dead process its parent has not reaped)."""
    stat = _stat(pid)
    return stat is not None and stat[1] != "Z"


def emulators_of(parent: int) -> list[int]:
    """The QEMU processes whose parent is `parent` (zombies included: they still need reaping)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            name, _, ppid = stat
            if name.startswith("qemu-system") and ppid == parent:
                found.append(int(entry.name))
    return found


def emulator_serving(port: int) -> int:
    """The one QEMU process whose UART0 link is served on 127.0.0.1:`port`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None and stat[0].startswith("qemu-system"):
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(f"id=u0,host=127.0.0.1,port={port},".encode() in part for part in command):
                found.append(int(entry.name))
    (pid,) = found
    return pid


def process_group(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[2])
    except (OSError, IndexError, ValueError):
        return None
