"""What every build of the engine shares: its kernel sources and the flags they are compiled with.

The firmware (build/firmware.py) and the host engine (build/host_engine.py) both build the
kernels from here, so an output computed on the host and one computed on a device come from
the same C compiled the same way; what each build adds is stated below.
"""

from __future__ import annotations

from pathlib import Path

from harness.paths import KERNELS_DIR

# Every build of the kernels: C99, optimised, with debug information, every warning an error.
ENGINE_CFLAGS = ("-std=c99", "-O2", "-g", "-Wall", "-Wextra", "-Werror")
# The firmware adds one section per function and object, so the linker drops what is unused.
FIRMWARE_CFLAGS = (*ENGINE_CFLAGS, "-ffunction-sections", "-fdata-sections")
# The target's own flags (CPU, FPU) come from its descriptor (targets/*.toml).
# The host engine (the judge of the kernels against the reference: model parity, property tests)
# runs the kernels' DSP paths, the instructions written in C (kernels/hil_dsp.h), so that what it
# checks is the algorithm the Cortex-M33 targets run. The portable paths, which targets without
# the DSP extension (and the host target's firmware) run, are built with PORTABLE_KERNEL_CFLAGS.
HOST_ENGINE_CFLAGS = (*ENGINE_CFLAGS, "-DHIL_DSP_EMULATE=1")
PORTABLE_KERNEL_CFLAGS = ENGINE_CFLAGS
# Kernels of operators that are a sliver of a model's instructions (MEAN, SOFTMAX, FULLY_CONNECTED,
# QUANTIZE/DEQUANTIZE, data movement: under 1 % of the shared model's), and the code that runs the
# layers and a stream's steps (a few dozen calls per inference), are built for size: their bytes
# are flash on every device, their speed hardly shows. The convolutions stay at -O2.
# The generated model source is the same kind of code: constant tables and a switch that calls
# each layer once per inference.
MODEL_CFLAGS = ("-Os",)
SIZE_OPTIMISED_KERNELS = frozenset({"data.c", "fully_connected.c", "mean.c", "model.c", "quantize.c", "softmax.c",
                                    "stream.c"})


def kernel_sources() -> list[Path]:
    return sorted(KERNELS_DIR.glob("*.c"))


def kernel_cflags(source: Path) -> tuple[str, ...]:
    """What one source adds to the engine's flags in every build (the last -O wins)."""
    return ("-Os",) if source.parent == KERNELS_DIR and source.name in SIZE_OPTIMISED_KERNELS else ()


def kernel_headers() -> list[Path]:
    return sorted(KERNELS_DIR.glob("*.h"))
