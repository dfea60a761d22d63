"""Render a lowered, planned model as C: one header and one source file, byte-deterministic.

Constants go to the `.hil_weights` section so footprint tools can find them; the arena is one
static buffer; one function runs layer i (a switch of kernel calls, a stream's first layer runs the
stream), and `invoke` runs them in order through hil_run_layers (hil_model.h).
"""

from __future__ import annotations

import numpy as np

from harness import __version__
from harness.compiler.graph import Graph, Tensor
from harness.compiler.lowering import (
    C_TYPES,
    CExpr,
    ConstArray,
    KernelCall,
    ParamValue,
    Shape4,
)
from harness.compiler.planner import Plan
from harness.compiler.stream import Stream

_DTYPE_ENUM = {"int8": "HIL_DTYPE_INT8", "float32": "HIL_DTYPE_FLOAT32", "int32": "HIL_DTYPE_INT32"}
_VALUES_PER_LINE = {"int8_t": 16, "int16_t": 12, "int32_t": 8, "float": 6}


def layer_name(call: KernelCall) -> str:
    return f"op{call.op.index:02d}_{call.op.kind.lower()}"


def c_string(text: str) -> str:
    """`text` as a C string literal: quotes, backslashes, '?' (trigraphs: -std=c99 has them) and
    every byte outside printable ASCII escaped in octal, so any name or flag reaches C intact."""
    out = []
    for byte in text.encode():
        printable = 0x20 <= byte < 0x7F and chr(byte) not in '"\\?'
        out.append(chr(byte) if printable else f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def c_comment(text: str) -> str:
    """`text` safe on one line inside /* */: a name in a model cannot end the comment early."""
    safe = text.encode("ascii", "backslashreplace").decode().replace("*/", "*\\/")
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in safe)


def c_float(value: float) -> str:
    text = repr(float(np.float32(value)))
    return ("INFINITY" if value > 0 else "-INFINITY") if "inf" in text else f"{text}f"


class _Emitter:
    def __init__(self, graph: Graph, calls: list[KernelCall], plan: Plan, streams: list[Stream], name: str):
        self.graph, self.calls, self.plan, self.name = graph, calls, plan, name
        self.streams = {stream.first_layer: stream for stream in streams}
        self.streamed = {layer: stream for stream in streams for layer in stream.layers}
        self.const_symbols: dict[int, str] = {}  # id(ConstArray) -> symbol
        self.tensor_symbols: dict[int, str] = {}  # constant tensor index -> symbol
        self.lines: list[str] = []

    # -- values -------------------------------------------------------------------------
    def render(self, value: ParamValue) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, (int, np.integer)):
            return str(int(value))
        if isinstance(value, (float, np.floating)):
            return c_float(value)
        if isinstance(value, Shape4):
            return f"{{{value.n}, {value.h}, {value.w}, {value.c}}}"
        if isinstance(value, ConstArray):
            return self.const_symbols[id(value)]
        if isinstance(value, CExpr):
            return value.text
        if isinstance(value, (tuple, list)):
            return "{" + ", ".join(self.render(v) for v in value) + "}"
        raise TypeError(f"cannot render parameter value {value!r}")

    def array(self, symbol: str, ctype: str, values: np.ndarray, comment: str) -> None:
        flat = np.asarray(values).reshape(-1)
        per_line = _VALUES_PER_LINE[ctype]
        self.lines.append(f"/* {c_comment(comment)} */")
        self.lines.append(f"static const {ctype} {symbol}[{max(flat.size, 1)}] HIL_WEIGHTS = {{")
        items = [c_float(v) if ctype == "float" else str(int(v)) for v in flat] or ["0"]
        for start in range(0, len(items), per_line):
            self.lines.append("    " + ", ".join(items[start:start + per_line]) + ",")
        self.lines.append("};")

    # -- sections -----------------------------------------------------------------------
    def layer(self, layer: int, call: KernelCall) -> None:
        op = call.op
        prefix = f"{self.name}_{layer_name(call)}"
        outs = ", ".join(f"'{self.graph.tensor(t).name}'" for t in call.outputs)
        self.lines += ["", f"/* {c_comment(f'Layer {layer}: {op.kind} -> {outs}')} */"]
        for field_name, value in call.params.items():
            if isinstance(value, ConstArray) and id(value) not in self.const_symbols:
                symbol = f"{prefix}_{value.role}"
                self.const_symbols[id(value)] = symbol
                self.array(symbol, value.ctype, value.values, f"{field_name}: {value.values.size} x {value.ctype}")
        for index in call.inputs:
            tensor = self.graph.tensor(index)
            if tensor.is_constant and index not in self.tensor_symbols:
                symbol = f"{self.name}_tensor{index}"
                self.tensor_symbols[index] = symbol
                self.array(symbol, C_TYPES[tensor.dtype], tensor.data, tensor.describe())
        self.lines.append(f"static const {call.params_type} {prefix}_params = {{")
        for field_name, value in call.params.items():
            self.lines.append(f"    .{field_name} = {self.render(value)},")
        self.lines.append("};")

    def pointer(self, index: int, writable: bool) -> str:
        tensor = self.graph.tensor(index)
        ctype = C_TYPES[tensor.dtype]
        if tensor.is_constant:
            return self.tensor_symbols[index]
        qualifier = "" if writable else "const "
        return f"({qualifier}{ctype} *)(arena + {self.plan.offset_of_tensor(index)}u)"

    def stream(self, stream: Stream) -> None:
        """The stream's stages and schedule as tables for hil_stream_run (hil_stream.h)."""
        prefix, stages = f"{self.name}_{stream.name}", len(stream.calls)
        self.lines += ["", f"/* Layers {stream.first_layer}..{stream.last_layer} as a stream: {len(stream.steps)} steps "
                           "(hil compile --plan prints them). */",
                       f"static const hil_stream_stage {prefix}_stages[{stages}] = {{"]
        for stage, call in enumerate(stream.calls):
            offset = (self.plan.offset_of(stream.band_name(stage)) if stage < stages - 1
                      else self.plan.offset_of_tensor(call.outputs[0]))
            self.lines.append(f"    {{{call.function}, &{self.name}_{layer_name(call)}_params, {offset}u}},")
        steps = stream.encoded_steps()
        self.lines += ["};", f"static const hil_stream_step {prefix}_steps[{len(steps)}] = {{"]
        per_line = 6
        for start in range(0, len(steps), per_line):
            self.lines.append("    " + " ".join(f"{{{stage}u, {count}u, {drop}u}}," for stage, count, drop
                                                 in steps[start:start + per_line]))
        input_offset = self.plan.offset_of_tensor(stream.calls[0].inputs[0])
        self.lines += [
            "};",
            f"static const hil_stream {prefix} = {{{stream.first_layer}u, {input_offset}u, "
            f"{self.plan.offset_of(stream.scratch_name)}u, {stream.scratch_bytes}u, {stages}u, {prefix}_stages, "
            f"{len(steps)}u, {prefix}_steps}};",
        ]

    def layer_call(self, call: KernelCall) -> str:
        args = [f"&{self.name}_{layer_name(call)}_params"]
        args += [self.pointer(t, writable=False) for t in call.inputs]
        args += [self.pointer(t, writable=True) for t in call.outputs]
        if call.scratch_bytes:  # with its size: the kernel checks it against its own rule (..._scratch_bytes)
            args += [f"(void *)(arena + {self.plan.offset_of(scratch_name(call))}u)", f"{call.scratch_bytes}u"]
        return f"{call.function}({', '.join(args)})"

    def invoke(self) -> None:
        for stream in self.streams.values():
            self.stream(stream)
        if self.streams:
            pointers = ", ".join(f"&{self.name}_{stream.name}" for stream in self.streams.values())
            self.lines += [f"static const hil_stream *const {self.name}_streams[{len(self.streams)}] = {{{pointers}}};"]
        self.lines += [
            "",
            f"static hil_status {self.name}_layer(uint32_t layer, uint8_t *arena)",
            "{",
            "    (void)arena; /* a model whose every layer is in a stream has no case here */",
            "    switch (layer) {",
        ]
        for layer, call in enumerate(self.calls):
            if layer not in self.streamed:  # a stream's layers run in hil_stream_run
                self.lines += [f"    case {layer}u:", f"        return {self.layer_call(call)};"]
        self.lines += [
            "    default:",
            "        return HIL_ERROR_ARGUMENT;",
            "    }",
            "}",
            "",
            f"static hil_status {self.name}_invoke(const hil_observer *observer, uint32_t *failed_layer)",
            "{",
            f"    return hil_run_layers(&{self.name}_model, {self.name}_layer, observer, failed_layer);",
            "}",
        ]

    def tensor_info(self, tensor: Tensor) -> str:
        dims = list(tensor.shape) + [0] * (6 - len(tensor.shape))
        scale = float(tensor.quant.scale[0]) if tensor.quant is not None else 0.0
        zero_point = int(tensor.quant.zero_point[0]) if tensor.quant is not None else 0
        return (
            f"{{{_DTYPE_ENUM[tensor.dtype]}, {len(tensor.shape)}u, {{{', '.join(map(str, dims))}}}, "
            f"{tensor.nbytes}u, {self.plan.offset_of_tensor(tensor.index)}u, {c_float(scale)}, {zero_point}}}"
        )

    def descriptor(self) -> None:
        self.lines += ["", f"static const hil_layer_info {self.name}_layers[{len(self.calls)}] = {{"]
        for layer, call in enumerate(self.calls):
            out = self.graph.tensor(call.outputs[0])
            stream = self.streamed.get(layer)
            # A streamed layer's output has no one place (hil_model.h): 0, never read.
            offset = 0 if stream is not None and layer != stream.last_layer else self.plan.offset_of_tensor(out.index)
            self.lines.append(f"    {{{offset}u, {out.nbytes}u}}, /* {layer_name(call)} */")
        self.lines.append("};")
        inp, out = self.graph.tensor(self.graph.inputs[0]), self.graph.tensor(self.graph.outputs[0])
        self.lines += [
            "",
            f"const hil_model {self.name}_model = {{",
            f"    .sha256 = {self.name.upper()}_SHA256,",
            f"    .arena = {self.name}_arena,",
            f"    .arena_size = {self.name.upper()}_ARENA_SIZE,",
            f"    .input = {self.tensor_info(inp)},",
            f"    .output = {self.tensor_info(out)},",
            f"    .layer_count = {len(self.calls)}u,",
            f"    .layers = {self.name}_layers,",
            f"    .stream_count = {len(self.streams)}u,",
            f"    .streams = {f'{self.name}_streams' if self.streams else 'NULL'},",
            f"    .invoke = {self.name}_invoke,",
            "};",
        ]

    def source(self) -> str:
        g = self.graph
        self.lines = [
            f"/* Generated by hil compile {__version__} from {c_comment(g.source_name)}. Do not edit. */",
            f'#include "{self.name}.h"',
            "",
            "#include <math.h>",
            "#include <stddef.h>",
            "",
            '#include "hil_kernels.h"',
            "",
            "/* One arena for every activation; offsets come from the planner (hil compile --plan). */",
            f"static uint8_t {self.name}_arena[{self.name.upper()}_ARENA_SIZE] HIL_ARENA;",
        ]
        for layer, call in enumerate(self.calls):
            self.layer(layer, call)
        self.invoke()
        self.descriptor()
        return "\n".join(self.lines) + "\n"

    def header(self) -> str:
        g = self.graph
        guard = f"{self.name.upper()}_H"
        inp, out = g.tensor(g.inputs[0]), g.tensor(g.outputs[0])
        upper = self.name.upper()
        return "\n".join([
            f"/* Generated by hil compile {__version__} from {c_comment(g.source_name)}. Do not edit. */",
            f"#ifndef {guard}",
            f"#define {guard}",
            "",
            '#include "hil_model.h"',
            "",
            f'#define {upper}_SHA256 "{g.sha256}"',
            f"#define {upper}_ARENA_SIZE {self.plan.arena_size}u",
            f"#define {upper}_LAYER_COUNT {len(self.calls)}u",
            f"/* input: {inp.dtype}{list(inp.shape)}, {_quant_text(inp)} */",
            f"#define {upper}_INPUT_BYTES {inp.nbytes}u",
            f"/* output: {out.dtype}{list(out.shape)}, {_quant_text(out)} */",
            f"#define {upper}_OUTPUT_BYTES {out.nbytes}u",
            "",
            f"extern const hil_model {self.name}_model;",
            "",
            f"#endif /* {guard} */",
            "",
        ])


def _quant_text(tensor: Tensor) -> str:
    if tensor.quant is None:
        return "not quantized"
    return f"scale {float(tensor.quant.scale[0])!r}, zero point {int(tensor.quant.zero_point[0])}"


def scratch_name(call: KernelCall) -> str:
    return f"{layer_name(call)}_scratch"


def generate(graph: Graph, calls: list[KernelCall], plan: Plan, streams: list[Stream], name: str) -> dict[str, str]:
    emitter = _Emitter(graph, calls, plan, streams, name)
    return {f"{name}.c": emitter.source(), f"{name}.h": emitter.header()}
