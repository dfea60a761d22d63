"""Published figures the reports stand beside (facts from public sources, in their own units)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PublishedFootprint:
    """STM32Cube.AI on B-U585I-IOT02A (Cortex-M33 @ 160 MHz), Yamnet-256 ESC-10, sizes in KiB."""

    tool: str
    inference_ms: float
    activation_ram_kib: float
    runtime_ram_kib: float
    weights_flash_kib: float
    code_flash_kib: float
    total_ram_kib: float
    total_flash_kib: float


CUBE_AI = (
    PublishedFootprint("STM32Cube.AI 7.3.0", 321.0, 109.5, 8.3, 135.9, 52.6, 117.9, 188.5),
    PublishedFootprint("STM32Cube.AI 10.0.0", 281.95, 109.57, 7.61, 135.91, 57.74, 117.18, 193.65),
)

# TFLite Micro on the same emulator (QEMU mps2-an505, -icount shift=0), executed instructions
# for one inference of the ESC-10 model, with its arena.
TFLM_ON_EMULATOR = (
    ("TFLite Micro, reference kernels", 257.1e6, 161.7),
    ("TFLite Micro, CMSIS-NN kernels, no DSP", 85.6e6, 161.8),
    ("TFLite Micro, CMSIS-NN kernels, DSP", 60.4e6, 161.8),
)

# Where TFLite Micro with the CMSIS-NN DSP kernels spends its 60.4 M instructions on that emulator,
# by kind of layer: (kind, instructions per MAC or None, share of the inference).
CMSIS_NN_DSP_BY_KIND = (
    ("1x1 convolutions", 1.9, 0.69),
    ("3x3 depthwise convolutions", 8.0, 0.19),
    ("MEAN", None, 0.055),
    ("first convolution", None, 0.06),
)
SHARED_MODEL_MACS = 23.9e6  # of the ESC-10 model those figures were measured on

@dataclass(frozen=True)
class PublishedAccuracy:
    """Clip-level accuracy the model zoo publishes for a model, in percent."""

    model: str
    dataset: str
    float_percent: float
    int8_percent: float


# STM32 model zoo, Yamnet-256 (64x96) on ESC-10; its clips vote by patch, ties broken at random.
ZOO_ACCURACY = PublishedAccuracy("Yamnet-256 64x96, STM32 model zoo", "ESC-10", 94.6, 94.6)
