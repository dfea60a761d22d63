"""The kernels' arithmetic helpers on the host: kernels/hil_dsp.h's C definitions of the DSP
instructions against the Armv8-M definitions written independently here in numpy, and
kernels/hil_fixedpoint.h's bounded requantization against TFLite's MultiplyByQuantizedMultiplier.

The instructions themselves are checked against the same C definitions on the emulator
(tests/test_kernels_on_emulator.py).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from harness.build.host_engine import host_compiler
from harness.build.sources import PORTABLE_KERNEL_CFLAGS
from harness.paths import KERNELS_DIR

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include "hil_fixedpoint.h"

/* 'i': per line "a b c" (uint32) -> sxtb16(a) sxtb16_ror8(a) smlad(a,b,c) smlabb(a,b,c) smmulr(a,b) ssat8(a)
 *      smlabt(a,b,c) smlatb(a,b,c) smmlar(a,b,c)
 * 'r': per line "x multiplier shift offset" -> bounded, reference, ssat8(twice >> 1) (shift < 0) or 0,
 *      ssat8(fused >> 1) (shift in [-23, -1]) or 0 */
int main(int argc, char **argv)
{
    if (argc < 2) {
        return 2;
    }
    if (argv[1][0] == 'i') {
        unsigned long a, b, c;
        while (scanf("%lu %lu %lu", &a, &b, &c) == 3) {
            printf("%lu %lu %ld %ld %ld %ld %ld %ld %ld\n", (unsigned long)hil_c_sxtb16((uint32_t)a),
                   (unsigned long)hil_c_sxtb16_ror8((uint32_t)a),
                   (long)hil_c_smlad((uint32_t)a, (uint32_t)b, (int32_t)(uint32_t)c),
                   (long)hil_c_smlabb((uint32_t)a, (uint32_t)b, (int32_t)(uint32_t)c),
                   (long)hil_c_smmulr((int32_t)(uint32_t)a, (int32_t)(uint32_t)b),
                   (long)hil_c_ssat8((int32_t)(uint32_t)a),
                   (long)hil_c_smlabt((uint32_t)a, (uint32_t)b, (int32_t)(uint32_t)c),
                   (long)hil_c_smlatb((uint32_t)a, (uint32_t)b, (int32_t)(uint32_t)c),
                   (long)hil_c_smmlar((int32_t)(uint32_t)a, (int32_t)(uint32_t)b, (int32_t)(uint32_t)c));
        }
        return 0;
    }
    long x, multiplier, shift, offset;
    while (scanf("%ld %ld %ld %ld", &x, &multiplier, &shift, &offset) == 4) {
        const int32_t bounded = hil_requantize_bounded((int32_t)x, (int32_t)multiplier, (int32_t)shift);
        const int32_t reference = hil_multiply_by_quantized_multiplier((int32_t)x, (int32_t)multiplier, (int32_t)shift);
        int32_t clamped = 0, fused = 0;
        if (shift < 0) {
            const int32_t twice = hil_requant_twice(hil_requant_high((int32_t)x, (int32_t)multiplier, 1),
                                                    (int32_t)-shift, 2 * (int32_t)offset + 1);
            clamped = hil_ssat8(twice >> 1);
        }
        if (shift < 0 && shift >= -HIL_REQUANT_FUSED_MAX_SHIFT) {
            const int32_t term = hil_requant_fused_term((int32_t)-shift, (int32_t)offset);
            fused = hil_ssat8(hil_requant_fused((int32_t)x * 2, (int32_t)multiplier, (int32_t)-shift, term) >> 1);
        }
        printf("%ld %ld %ld %ld\n", (long)bounded, (long)reference, (long)clamped, (long)fused);
    }
    return 0;
}
"""

BOUND = 2**30  # hil_requant's domain: |x << max(shift, 0)| < 2^30


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("requantize")
    source, executable = folder / "check.c", folder / "check"
    source.write_text(PROGRAM)
    command = [host_compiler(), *PORTABLE_KERNEL_CFLAGS, "-fsanitize=undefined", "-fno-sanitize-recover",
               "-I", str(KERNELS_DIR), str(source), "-o", str(executable)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return executable


def run(program: Path, mode: str, rows: np.ndarray) -> np.ndarray:
    text = "\n".join(" ".join(str(int(v)) for v in row) for row in rows) + "\n"
    result = subprocess.run([str(program), mode], input=text, capture_output=True, text=True, check=True)
    assert result.stderr == ""
    return np.array([[int(v) for v in line.split()] for line in result.stdout.splitlines()], dtype=np.int64)


def as_signed(values: np.ndarray, bits: int) -> np.ndarray:
    values = values.astype(np.int64) & ((1 << bits) - 1)
    return np.where(values >= 1 << (bits - 1), values - (1 << bits), values)


def operands(rng: np.random.Generator, count: int) -> np.ndarray:
    extremes = np.array([0, 1, 0xFFFFFFFF, 0x80808080, 0x7F7F7F7F, 0x80008000, 0x7FFF7FFF, 0x80000000, 0x7FFFFFFF],
                        dtype=np.int64)
    values = rng.integers(0, 2**32, (count, 3), dtype=np.int64)
    pick = rng.random((count, 3)) < 0.3
    return np.where(pick, rng.choice(extremes, (count, 3)), values)


def test_instruction_definitions_follow_the_architecture(program: Path) -> None:
    rng = np.random.default_rng(1)
    rows = operands(rng, 20000)
    got = run(program, "i", rows)
    a, b, c = rows[:, 0], rows[:, 1], as_signed(rows[:, 2], 32)

    def byte(v, i):
        return as_signed(v >> (8 * i), 8)

    def half(v, i):
        return as_signed(v >> (16 * i), 16)

    def pack(lo, hi):
        return (lo & 0xFFFF) | ((hi & 0xFFFF) << 16)

    assert np.array_equal(got[:, 0], pack(byte(a, 0), byte(a, 2)))  # SXTB16
    assert np.array_equal(got[:, 1], pack(byte(a, 1), byte(a, 3)))  # SXTB16 ROR #8
    assert np.array_equal(got[:, 2], as_signed(c + half(a, 0) * half(b, 0) + half(a, 1) * half(b, 1), 32))  # SMLAD
    assert np.array_equal(got[:, 3], as_signed(c + half(a, 0) * half(b, 0), 32))  # SMLABB
    product = as_signed(a, 32).astype(object) * as_signed(b, 32).astype(object)
    assert got[:, 4].tolist() == [(p + 2**31) >> 32 for p in product]  # SMMULR
    assert np.array_equal(got[:, 5], np.clip(as_signed(a, 32), -128, 127))  # SSAT #8
    assert np.array_equal(got[:, 6], as_signed(c + half(a, 0) * half(b, 1), 32))  # SMLABT
    assert np.array_equal(got[:, 7], as_signed(c + half(a, 1) * half(b, 0), 32))  # SMLATB
    high = [((int(acc) << 32) + p + 2**31) >> 32 for acc, p in zip(c, product)]
    assert got[:, 8].tolist() == [(h + 2**31) % 2**32 - 2**31 for h in high]  # SMMLAR (the result wraps)


def tflite_multiply_by_quantized_multiplier(x: np.ndarray, multiplier: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """TFLite's reference arithmetic, written from its definition: x << left (int32), then
    SaturatingRoundingDoublingHighMul (nudge, truncating division by 2^31), then
    RoundingDivideByPOT (round half away from zero)."""
    left, right = np.maximum(shift, 0), np.maximum(-shift, 0)
    shifted = as_signed(x << left, 32)
    product = shifted * multiplier
    nudged = product + np.where(product >= 0, 2**30, 1 - 2**30)
    high = np.where(nudged >= 0, nudged // 2**31, -((-nudged) // 2**31))
    mask = (np.int64(1) << right) - 1
    remainder = high & mask
    threshold = (mask >> 1) + (high < 0)
    return (high >> right) + (remainder > threshold)


def bounded_cases(rng: np.random.Generator, count: int) -> np.ndarray:
    shift = rng.integers(-31, 31, count)
    multiplier = np.where(rng.random(count) < 0.1, rng.integers(0, 4, count), rng.integers(2**30, 2**31, count))
    limit = (BOUND - 1) >> np.maximum(shift, 0)
    kind = rng.integers(0, 4, count)
    x = np.select(
        [kind == 0, kind == 1, kind == 2],
        [np.where(rng.random(count) < 0.5, limit, -limit), rng.integers(-1000, 1001, count),
         np.round(rng.uniform(-1, 1, count) * limit).astype(np.int64)],
        (rng.uniform(-1, 1, count) * (limit >> rng.integers(0, 31, count))).astype(np.int64),
    )
    offset = rng.integers(-128, 128, count)
    return np.stack([np.clip(x, -limit, limit), multiplier, shift, offset], axis=1)


def test_bounded_requantization_equals_the_reference(program: Path) -> None:
    rng = np.random.default_rng(2)
    rows = bounded_cases(rng, 100000)
    got = run(program, "r", rows)
    x, multiplier, shift, offset = rows.T
    expected = tflite_multiply_by_quantized_multiplier(x, multiplier, shift)
    assert np.array_equal(got[:, 1], expected), "hil_multiply_by_quantized_multiplier differs from TFLite's"
    assert np.array_equal(got[:, 0], expected), "hil_requantize_bounded differs from the reference"
    right = shift < 0
    assert np.array_equal(got[right, 2], np.clip(expected[right] + offset[right], -128, 127)), (
        "the kernels' twice-the-output form, halved by the saturation, differs from the reference"
    )
    fused = right & (shift >= -23)
    assert np.array_equal(got[fused, 3], np.clip(expected[fused] + offset[fused], -128, 127)), (
        "the fused form (SMMLAR with the offset term, the accumulator's sign) differs from the reference"
    )
    assert np.count_nonzero(fused & (x < 0) & (x * multiplier >= -(2**30))) > 0  # the case where s' differs from s
