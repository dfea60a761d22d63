"""Scratch as a contract (hil_conv.h, hil_depthwise.h): each kernel that takes scratch has a C
`..._scratch_bytes(params)` function, takes its scratch with its size and refuses a smaller one;
the compiler sizes the arena (and every stream band's scratch) with its own statement of the same
rule, KernelCall.band_scratch. Here the two are compared on real layers, for every band height a
stream could ask for, and a generated model given one byte too little is refused by the kernel.
"""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest

from harness.build.host_engine import HostEngine, host_compiler, kernel_library
from harness.compiler.compile import CompiledModel, compile_graph
from harness.compiler.graph import parse_model, read_model
from harness.device.board import Board
from harness.device.link import DeviceError
from harness.device.session import open_device
from harness.errors import HilError
from harness.paths import KERNELS_DIR
from harness.targets import load_target

from conv_chains import CHAINS, chain_model
from example_model import example_model


def scratch_checker(compiled: CompiledModel, folder) -> str:
    """C that includes the generated model (its static parameter structs) and prints, for every
    layer with a band rule, the kernel's own scratch for each output height from 1 to the layer's."""
    lines = [f'#include "{compiled.name}.c"', "#include <stdio.h>", "", "int main(void)", "{"]
    for index, call in enumerate(compiled.calls):
        if call.band_scratch is None:
            continue
        params = f"{compiled.name}_op{call.op.index:02d}_{call.op.kind.lower()}_params"
        lines += [
            "    {",
            f"        hil_conv_packed_params band = {params};",
            f"        for (int32_t rows = 1; rows <= {params}.output.h; ++rows) {{",
            "            band.output.h = rows;",
            f'            printf("{index} %d %lu\\n", (int)rows, (unsigned long){call.function}_scratch_bytes(&band));',
            "        }",
            "    }",
        ]
    lines += ["    return 0;", "}"]
    compiled.write(folder)
    source = folder / "scratch_checker.c"
    source.write_text("\n".join(lines) + "\n")
    executable = folder / "scratch_checker"
    subprocess.run([host_compiler(), "-std=c99", "-I", str(KERNELS_DIR), "-iquote", str(folder), str(source),
                    str(kernel_library()), "-lm", "-o", str(executable)], check=True)
    return subprocess.run([str(executable)], capture_output=True, text=True, check=True).stdout


def models():
    found = {"example": example_model()}
    for name, (in_shape, layers) in CHAINS.items():
        found[name] = chain_model(3, in_shape, layers)
    return found


@pytest.mark.parametrize("name", list(models()))
def test_the_compiler_and_the_kernels_state_one_scratch_rule(name, tmp_path):
    compiled = compile_graph(parse_model(models()[name], "checked.tflite"), "checked")
    printed = scratch_checker(compiled, tmp_path)
    checked = 0
    for line in printed.splitlines():
        layer, rows, c_bytes = map(int, line.split())
        call = compiled.calls[layer]
        assert call.band_scratch(call, rows) == c_bytes, f"layer {layer} ({call.function}), {rows} rows"
        checked += 1
    assert checked >= sum(call.params["output"].h for call in compiled.calls if call.band_scratch)


def test_the_shared_and_default_models_state_one_scratch_rule(shared_model_path, default_model_path, tmp_path):
    for path in (shared_model_path, default_model_path):
        compiled = compile_graph(read_model(path), "checked")
        for line in scratch_checker(compiled, tmp_path).splitlines():
            layer, rows, c_bytes = map(int, line.split())
            call = compiled.calls[layer]
            assert call.band_scratch(call, rows) == c_bytes, f"{path.name}: layer {layer}, {rows} rows"


def test_a_kernel_given_less_scratch_than_its_rule_refuses_to_run(tmp_path):
    """The generated call passes the scratch's size; one byte short, the kernel fails its layer
    instead of writing past its scratch."""
    compiled = compile_graph(parse_model(example_model(), "short.tflite"), "short")
    streamed = {layer for stream in compiled.streams for layer in stream.layers}
    layer = next(i for i, call in enumerate(compiled.calls) if call.scratch_bytes and i not in streamed)
    call = compiled.calls[layer]
    source = compiled.files["short.c"]
    passed = f"{call.scratch_bytes}u)"
    assert source.count(passed) == 1
    short = CompiledModel(compiled.name, compiled.graph, compiled.calls, compiled.plan, compiled.streams,
                          {**compiled.files, "short.c": source.replace(passed, f"{call.scratch_bytes - 1}u)")})
    inputs = np.zeros((1, 1, 8, 6, 1), dtype=np.int8)
    named = re.escape(f"layer {layer} is {compiled.describe_layer(layer)}")
    with pytest.raises(HilError, match=f"layer {layer} failed with status 1 .*{named}"):
        HostEngine.build(short).run(inputs)
    # The same firmware behind the link: the device says the index and the status, the harness the name.
    with open_device(short, Board(load_target("host"))) as device:
        with pytest.raises(DeviceError, match=f"layer {layer} failed: HIL_ERROR_ARGUMENT .*{named}"):
            device.run(inputs)
