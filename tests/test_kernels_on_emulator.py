"""The kernels' DSP paths on the emulated Cortex-M33, where their instructions really run.

The host tests run the DSP algorithm with the instructions written in C (kernels/hil_dsp.h) and
the portable paths, both against the reference interpreter. This one boots
tests/firmware/kernel_selftest.c once on qemu-m33: the real instructions against their C
definitions, the bounded requantization against the reference's arithmetic, then hundreds of
random 1x1, im2col and 3x3 depthwise cases through the kernels built as the firmware builds them
and through the same sources built without the DSP extension, each against a naive reference loop.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from harness.build.firmware import bsp_folders
from harness.build.sources import FIRMWARE_CFLAGS
from harness.paths import FIRMWARE_DIR, KERNELS_DIR, PROJECT_ROOT
from harness.targets import load_target

COMPILER = "arm-none-eabi-gcc"
QEMU = "qemu-system-arm"
pytestmark = [
    pytest.mark.skipif(
        shutil.which(COMPILER) is None,
        reason=f"{COMPILER} is not installed (sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)",
    ),
    pytest.mark.skipif(shutil.which(QEMU) is None, reason=f"{QEMU} is not installed (sudo apt-get install {QEMU})"),
]

TARGET = load_target("qemu-m33")
BSP_DIRS = bsp_folders(TARGET)
SELFTEST = PROJECT_ROOT / "tests" / "firmware" / "kernel_selftest.c"
KERNELS_UNDER_TEST = ("conv.c", "depthwise.c")
# The portable build: no DSP extension as far as the kernels can tell, and its own symbol names.
PORTABLE_FLAGS = (
    "-U__ARM_FEATURE_DSP",
    "-Dhil_conv_check_arguments=portable_conv_check_arguments",
    "-Dhil_conv_s8=portable_conv_s8",
    "-Dhil_conv_1x1_s8=portable_conv_1x1_s8",
    "-Dhil_conv_1x1_s8_scratch_bytes=portable_conv_1x1_s8_scratch_bytes",
    "-Dhil_conv_im2col_s8=portable_conv_im2col_s8",
    "-Dhil_conv_im2col_s8_scratch_bytes=portable_conv_im2col_s8_scratch_bytes",
    "-Dhil_depthwise_conv_s8=portable_depthwise_conv_s8",
    "-Dhil_depthwise_conv_3x3_s8=portable_depthwise_conv_3x3_s8",
    "-Dhil_depthwise_conv_3x3_s8_scratch_bytes=portable_depthwise_conv_3x3_s8_scratch_bytes",
)
TIMEOUT_S = 300


def compile_object(source: Path, obj: Path, flags: tuple[str, ...] = ()) -> None:
    includes = ["-I", str(KERNELS_DIR), "-I", str(FIRMWARE_DIR / "bsp"), *(f"-I{folder}" for folder in BSP_DIRS)]
    command = [COMPILER, *FIRMWARE_CFLAGS, *TARGET.cflags, *flags, *includes, "-c", str(source), "-o", str(obj)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stderr}"


@pytest.fixture(scope="module")
def selftest_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("kernel_selftest")
    objects = []
    sources = [SELFTEST, *(source for bsp in BSP_DIRS for source in sorted(bsp.glob("*.c")))]
    sources += [KERNELS_DIR / name for name in KERNELS_UNDER_TEST]
    for source in sources:
        obj = folder / f"{source.parent.name}__{source.stem}.o"
        compile_object(source, obj)
        objects.append(obj)
    for name in KERNELS_UNDER_TEST:
        obj = folder / f"portable__{Path(name).stem}.o"
        compile_object(KERNELS_DIR / name, obj, PORTABLE_FLAGS)
        objects.append(obj)
    image = folder / "kernel_selftest.elf"
    linker_script = BSP_DIRS[0] / TARGET.linker_script
    command = [
        COMPILER, *FIRMWARE_CFLAGS, *TARGET.cflags, *TARGET.ldflags, "-Wl,--gc-sections", f"-T{linker_script}",
        *(f"-L{bsp}" for bsp in BSP_DIRS[1:]), *map(str, objects), "-o", str(image),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return image


def test_dsp_paths_match_the_reference_on_the_emulated_cortex_m33(selftest_image: Path) -> None:
    command = [
        QEMU, "-M", "mps2-an505", "-cpu", "cortex-m33", "-nographic", "-monitor", "none", "-serial", "null",
        "-icount", "shift=0", "-semihosting-config", "enable=on,target=native", "-kernel", str(selftest_image),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    checks = {1: "instructions", 2: "requantization", 3: "1x1 convolution", 4: "im2col convolution",
              5: "3x3 depthwise"}
    assert result.returncode == 0, (
        f"the {checks.get(result.returncode, f'exit code {result.returncode}')} check failed on the emulator:\n"
        f"{result.stdout}{result.stderr}"
    )
    assert "kernel self-test passed" in result.stdout + result.stderr
