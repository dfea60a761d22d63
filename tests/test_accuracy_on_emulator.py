"""The issue's acceptance on qemu-m33: the demo dataset's clips through the emulated Cortex-M33,
one boot per run, for the default model and for the shared ESC-10 model: the device's accuracy is
the golden's exactly and device and golden agree on every clip."""

from __future__ import annotations

import shutil

import pytest

from harness.audio.demo import CLIPS_PER_CLASS, DEMO_CLASSES, demo_dataset
from harness.cli import main
from harness.results.schema import load_run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                       reason="arm-none-eabi-gcc is not installed (sudo apt-get install gcc-arm-none-eabi "
                              "libnewlib-arm-none-eabi)"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None,
                       reason="qemu-system-arm is not installed (sudo apt-get install qemu-system-arm)"),
]

CLIPS = len(DEMO_CLASSES) * CLIPS_PER_CLASS


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return demo_dataset(tmp_path_factory.mktemp("demo"))


# A machine shared by several jobs can run the emulator several times slower than its descriptor
# expects; time decides no verdict here, so the limits are wide (still bounded).
PATIENT = ["--inference-timeout", "60", "--link-timeout", "5"]


def accuracy_on_qemu(capsys, results, *args) -> tuple[int, dict]:
    code = main(["accuracy", "--target", "qemu-m33", *PATIENT, "--results-dir", str(results), *map(str, args)])
    err = capsys.readouterr().err
    runs = [p for p in results.iterdir() if p.is_dir()] if results.is_dir() else []
    assert len(runs) == 1, f"hil accuracy exited {code} with no run written; it said:\n{err[-3000:]}"
    return code, load_run(runs[0])


def test_the_default_model_on_the_device_scores_exactly_the_golden(capsys, demo, tmp_path):
    code, record = accuracy_on_qemu(capsys, tmp_path, "--dataset", demo)
    block = record["accuracy"]
    assert code == 0 and block["clips"] == CLIPS
    assert record["parity"]["exact_patches"] == record["parity"]["patches"] == block["patches"]
    assert block["device"] == block["golden"] and block["agreement"] == 1.0 and block["disagreements"] == []
    assert record["environment"]["target"] == "qemu-m33" and record["device"]["counter_unit"] == "instructions"


def test_the_shared_model_on_the_device_agrees_with_the_golden_on_every_clip(capsys, demo, tmp_path,
                                                                            shared_model_path):
    config = shared_model_path.with_name("yamnet_256_64x96_config.yaml")
    code, record = accuracy_on_qemu(capsys, tmp_path, "--model", shared_model_path, "--classes", config,
                                    "--dataset", demo, "--agreement-only")
    block = record["accuracy"]
    assert code == 0 and block["clips"] == CLIPS and not block["labelled"]
    assert record["parity"]["exact_patches"] == record["parity"]["patches"] == block["patches"]
    assert block["agreement"] == 1.0 and block["disagreements"] == []
