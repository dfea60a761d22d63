"""`hil bench` on the emulated Cortex-M33 (qemu-m33) with a damaged golden file in the cache.

Before sealed cache entries, a golden file replaced by a valid array of other values made the run
record "0/4 bit-exact" in the history: a wrong verdict. Now the damage is noticed, said on stderr,
the golden is computed again, and the run records the true verdict."""

from __future__ import annotations

import shutil

import fault_tally
import numpy as np
import pytest

from harness.cli import main
from harness.paths import cache_dir
from harness.results.history import load_history

pytestmark = [
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc is not installed"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm is not installed"),
]


def bench(capsys, model, results) -> tuple[int, str, str]:
    code = main(["bench", "--target", "qemu-m33", "--model", str(model), "--patches", "4", "--timing-runs", "1",
                 "--results-dir", str(results)])
    out, err = capsys.readouterr()
    return code, out, err


def replace_golden(path):
    """A valid array of the same shape and other values: the damage that gave "0/4 bit-exact"."""
    golden = np.load(path)
    np.save(path, (golden.astype(np.int64) + 1).astype(golden.dtype))


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


# kind of entry, the files damaged (in the old layout and the sealed one), the damage
DAMAGES = {
    "golden replaced": ("golden", "*.npy", replace_golden),
    "golden truncated": ("golden", "*.npy", truncate),
    "firmware image truncated": ("firmware", "firmware.elf", truncate),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_cache_entry_does_not_change_the_verdict(capsys, monkeypatch, tmp_path, example_model_path, damage):
    kind, pattern, inflict = DAMAGES[damage]
    monkeypatch.setenv("HIL_CACHE_DIR", str(tmp_path / "cache"))
    results = tmp_path / "results"
    code, out, _ = bench(capsys, example_model_path, results)
    assert code == 0 and "4/4 patches bit-exact" in out
    files = sorted(cache_dir(kind).rglob(pattern))
    assert len(files) == 1
    inflict(files[0])
    code, out, err = bench(capsys, example_model_path, results)
    history = load_history(results)
    fault_tally.record(f"cache: {damage}, then a qemu-m33 bench", 1, lost=2 - len(history),
                       wrong_verdicts=int(len(history) == 2 and history["exact_patches"].iloc[-1] != 4))
    assert code == 0 and "4/4 patches bit-exact" in out, err
    assert f"note: the cached {kind} entry" in err and "is damaged" in err
    assert list(history["exact_patches"]) == [4, 4]
