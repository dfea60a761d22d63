"""The compiler's pipeline: check the graph, lower each operator, plan the arena, emit C."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness.compiler import ops  # noqa: F401  (registers the lowerings)
from harness.compiler.codegen import generate, layer_name
from harness.compiler.graph import Graph
from harness.compiler.lowering import LOWERINGS, ConstArray, KernelCall
from harness.compiler.memory import smallest_layout
from harness.compiler.planner import Plan
from harness.compiler.stream import Stream
from harness.errors import HilError
from harness.paths import FIRMWARE_DIR
from harness.targets import Target

# Operators that legitimately touch float tensors: the boundaries of an int8 graph.
_FLOAT_BOUNDARY_OPS = {"QUANTIZE", "DEQUANTIZE"}
# Constant arrays by role: the model's weights and biases (as given, or prepared for a packed
# kernel); everything else was derived from the quantization.
ROLE_KINDS = {"filter": "weights", "packed_filter": "weights", "bias": "biases", "folded_bias": "biases"}


@dataclass
class CompiledModel:
    name: str
    graph: Graph
    calls: list[KernelCall]
    plan: Plan
    streams: list[Stream]
    files: dict[str, str]

    @property
    def weights_bytes(self) -> int:
        """Bytes of constant data the generated code places in the .hil_weights section."""
        return sum(self.weights_breakdown.values())

    @property
    def weights_breakdown(self) -> dict[str, int]:
        """Constant bytes by kind: the model's own weights and biases, and what the compiler
        derived from its quantization (multipliers, shifts, scales)."""
        kinds = {"weights": 0, "biases": 0, "requantization": 0}
        for call in self.calls:
            for value in call.params.values():
                if isinstance(value, ConstArray):
                    kind = ROLE_KINDS.get(value.role, "requantization")
                    kinds[kind] += value.values.nbytes
            for index in call.inputs:
                tensor = self.graph.tensor(index)
                if tensor.is_constant:
                    kinds["weights"] += tensor.nbytes
        return kinds

    def describe_layer(self, index: int) -> str:
        """Layer `index` as error messages name it: the device knows layers by index only."""
        call = self.calls[index]
        return f"{layer_name(call)} ({call.op.kind})"

    @property
    def macs(self) -> int:
        return sum(call.macs for call in self.calls)

    def write(self, directory: Path) -> list[Path]:
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for filename, text in self.files.items():
            path = directory / filename
            path.write_text(text)
            written.append(path)
        return written


def model_name_from(source_name: str) -> str:
    """A C identifier from a file name: 'yamnet_256_64x96_int8.tflite' -> 'yamnet_256_64x96_int8';
    prefixed with m_ where it would start with a digit or clash with the firmware ('hil_board' -> 'm_hil_board')."""
    stem = re.sub(r"\.tflite$", "", Path(source_name).name)
    name = re.sub(r"[^0-9a-zA-Z_]", "_", stem).lower().strip("_") or "model"
    return f"m_{name}" if name[0].isdigit() or name_clash(name) else name


def name_clash(name: str) -> str | None:
    """What a model name would collide with in the firmware, or None. Every generated symbol and the
    header are `<name>_...` and `<name>.h`: the firmware's own names are hil_* and its headers' stems."""
    if name == "hil" or name.startswith("hil_"):
        return "the firmware's hil_ names"
    if name in {header.stem for header in FIRMWARE_DIR.rglob("*.h")}:
        return f"the firmware's header {name}.h"
    return None


def check_supported(graph: Graph) -> None:
    supported = ", ".join(sorted(LOWERINGS))
    for op in graph.operators:
        if op.kind not in LOWERINGS:
            raise HilError(
                f"operator {op.index} ({op.kind}) is not supported; supported operators: {supported}"
            )
    for op in graph.operators:
        if op.kind in _FLOAT_BOUNDARY_OPS:
            continue
        for tensor in graph.operator_inputs(op)[:1] + graph.operator_outputs(op):
            if tensor is not None and tensor.dtype == "float32":
                raise HilError(
                    f"operator {op.index} ({op.kind}) computes in float32: the model is not quantized. "
                    "Quantize it to int8 with the TFLite converter (optimizations=[tf.lite.Optimize.DEFAULT], "
                    "a representative_dataset, target_spec.supported_ops=[tf.lite.OpsSet.TFLITE_BUILTINS_INT8], "
                    "inference_input_type=tf.int8)"
                )
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise HilError(
            f"the model has {len(graph.inputs)} inputs and {len(graph.outputs)} outputs; "
            "models with exactly one input and one output are supported"
        )


def compile_graph(graph: Graph, name: str | None = None) -> CompiledModel:
    check_supported(graph)
    if not graph.operators:
        raise HilError("the model has no operators")
    name = name or model_name_from(graph.source_name)
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise HilError(f"model name '{name}' must be a lower-case C identifier (letters, digits, _)")
    clash = name_clash(name)
    if clash:
        raise HilError(f"model name '{name}' would collide with {clash}; choose another name (--name)")
    calls = [LOWERINGS[op.kind](op, graph) for op in graph.operators]
    layout = smallest_layout(graph, calls)
    return CompiledModel(name, graph, layout.calls, layout.plan, layout.streams,
                         generate(graph, layout.calls, layout.plan, layout.streams, name))


def check_fits(model: CompiledModel, target: Target) -> None:
    """Refuse a model whose arena or weights alone exceed the target's memories."""
    problems = []
    if target.ram_bytes and model.plan.arena_size > target.ram_bytes:
        problems.append(f"its arena needs {model.plan.arena_size} bytes of RAM, the target has {target.ram_bytes}")
    if target.flash_bytes and model.weights_bytes > target.flash_bytes:
        problems.append(f"its weights need {model.weights_bytes} bytes of flash, the target has {target.flash_bytes}")
    if problems:
        raise HilError(
            f"model '{model.name}' does not fit target {target.id}: {'; '.join(problems)}. "
            "Use a smaller model or a target with more memory"
        )
