"""Cache entries that never lie: built once, sealed with checksums, checked on every use.

An entry is a folder under cache_dir(kind). It is built in a staging folder, sealed there with
the SHA-256 of each of its files (MANIFEST, in sha256sum's format), and renamed into place
(harness.build.staging.publish_folder). Every use hashes the files again: an entry whose files
do not match (truncated, replaced, missing, or no manifest at all) is moved aside and rebuilt,
with a note on stderr. A damaged golden file used as it is would be a wrong verdict, a damaged
firmware image a run of something nobody built.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from harness.build.staging import publish_folder
from harness.errors import HilError
from harness.paths import cache_dir

MANIFEST = "hil-checksums.sha256"
_HASH_BLOCK = 1 << 20


@dataclass(frozen=True)
class CacheEntry:
    path: Path  # the entry's folder
    reused: bool  # True when a sound entry was already there; False when built by this call


def cached_entry(kind: str, name: str, build: Callable[[Path], None]) -> CacheEntry:
    """The sound entry `name` of `kind`, built by build(staging_folder) when absent or damaged."""
    final = cache_dir(kind) / name  # an unusable cache folder is said there, in one line
    if final.exists():
        problem = damage(final)
        if problem is None:
            return CacheEntry(final, reused=True)
        print(f"note: the cached {kind} entry {name} is damaged ({problem}); rebuilding it", file=sys.stderr)
        _discard(final)

    def build_and_seal(staging: Path) -> None:
        build(staging)
        seal(staging)

    publish_folder(build_and_seal, final)
    problem = damage(final)  # another process may have published the same key meanwhile
    if problem is not None:
        raise HilError(
            f"the cached {kind} entry {final} is damaged right after it was built ({problem}); "
            "is another program writing to the cache? Delete the folder and run again"
        )
    return CacheEntry(final, reused=False)


def seal(folder: Path) -> None:
    """Writes the manifest: one `<sha256>  <relative path>` line per file, sorted."""
    lines = [f"{_sha256(path)}  {relative}\n" for relative, path in _files(folder)]
    (folder / MANIFEST).write_text("".join(lines))


def damage(folder: Path) -> str | None:
    """What is wrong with a sealed folder, or None when every file matches its manifest."""
    try:
        listed = (folder / MANIFEST).read_text()
    except (OSError, UnicodeDecodeError):
        return "no readable checksum manifest"
    expected = {}
    for line in listed.splitlines():
        digest, separator, relative = line.partition("  ")
        if not separator or len(digest) != 64:
            return f"manifest line {line[:60]!r} is not '<sha256>  <file>'"
        expected[relative] = digest
    present = dict(_files(folder))
    for relative, digest in sorted(expected.items()):
        if relative not in present:
            return f"{relative} is missing"
        if _sha256(present[relative]) != digest:
            return f"{relative} does not match its checksum"
    extra = sorted(set(present) - set(expected))
    if extra:
        return f"{extra[0]} is not in the manifest"
    return None


def _files(folder: Path) -> list[tuple[str, Path]]:
    return sorted(
        (path.relative_to(folder).as_posix(), path)
        for path in folder.rglob("*")
        if path.is_file() and path.name != MANIFEST
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _discard(final: Path) -> None:
    """Moves a damaged entry out of the way at once (a rename), then deletes it."""
    aside = final.with_name(f"{final.name}.damaged-{uuid.uuid4().hex[:8]}")
    try:
        os.rename(final, aside)
    except FileNotFoundError:  # another process discarded it first
        return
    shutil.rmtree(aside, ignore_errors=True)
