"""Names and flags that reach generated C: escaped or prefixed, whatever the user or the model says.

A --cflag with a quote once broke the build id's string literal; a model file named hil.tflite or
hil_board.tflite made symbols and a header that collide with the firmware's; a tensor name can
hold '*/'. Each is built for real here (the host target's firmware, the host engine)."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tflite_model_edit import edited

from harness.build.host_engine import HostEngine, host_compiler
from harness.cli import main
from harness.compiler.codegen import c_string
from harness.compiler.compile import compile_graph, model_name_from
from harness.compiler.graph import parse_model
from harness.parity.golden import GoldenModel

from example_model import example_model


@settings(max_examples=25)
@given(st.text(max_size=40))
def test_any_text_survives_a_c_string_literal(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("c_string")
    source = folder / "echo.c"
    source.write_text(f'#include <stdio.h>\nint main(void) {{ fputs({c_string(text)}, stdout); return 0; }}\n')
    subprocess.run([host_compiler(), "-std=c99", "-Wall", "-Werror", str(source), "-o", str(folder / "echo")],
                   check=True, capture_output=True)
    printed = subprocess.run([str(folder / "echo")], capture_output=True, check=True).stdout
    assert printed == text.encode().split(b"\0")[0]  # C strings end at the first NUL


def bench(capsys, tmp_path, model, *extra) -> tuple[int, str, str]:
    code = main(["bench", "--target", "host", "--model", str(model), "--patches", "3", "--timing-runs", "1",
                 "--results-dir", str(tmp_path / "results"), *extra])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def own_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("HIL_CACHE_DIR", str(tmp_path / "cache"))


def test_a_cflag_with_quotes_reaches_the_build_id_intact(capsys, tmp_path):
    model = tmp_path / "example.tflite"
    model.write_bytes(example_model())
    code, out, err = bench(capsys, tmp_path, model, '--cflag=-DHIL_EXPERIMENT="a \\"quoted\\" flag"')
    assert code == 0 and "3/3 patches bit-exact" in out, err


@pytest.mark.parametrize("stem", ["hil", "hil_board", "link", "hil_types"])
def test_a_model_file_named_like_the_firmware_gets_a_prefix(capsys, tmp_path, stem):
    model = tmp_path / f"{stem}.tflite"
    model.write_bytes(example_model())
    assert model_name_from(model.name) == f"m_{stem}"
    code, out, err = bench(capsys, tmp_path, model)
    assert code == 0 and "3/3 patches bit-exact" in out, err


@pytest.mark.parametrize("name", ["hil", "hil_board", "commands"])
def test_a_name_asked_for_that_collides_is_refused_in_one_line(capsys, tmp_path, name):
    model = tmp_path / "example.tflite"
    model.write_bytes(example_model())
    code = main(["compile", str(model), "--name", name, "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and f"model name '{name}' would collide with" in err and "choose another name" in err
    assert err.count("\n") == 1 and not (tmp_path / "out").exists()


def test_tensor_names_cannot_end_a_comment_in_the_generated_c(tmp_path):
    def rename(model):
        for tensor in model.subgraphs[0].tensors:
            tensor.name = b"x */ #error broken \n\x01 ??/"

    data = edited(example_model(), rename)
    compiled = compile_graph(parse_model(data, "odd.tflite"))
    engine = HostEngine.build(compiled)
    reference = GoldenModel(data)
    inputs = np.random.default_rng(5).integers(-128, 128, (2, *reference.input_shape), dtype=np.int8)
    outputs, _ = engine.run(inputs)
    assert outputs.tobytes() == reference.run(inputs).tobytes()


@pytest.mark.parametrize("damage", ["operator version 99", "schema version 4"])
def test_compile_refuses_a_model_the_reference_interpreter_refuses(capsys, tmp_path, damage):
    def change(model):
        if damage == "schema version 4":
            model.version = 4
        else:
            model.operatorCodes[0].version = 99

    model = tmp_path / "newer.tflite"
    model.write_bytes(edited(example_model(), change))
    code = main(["compile", str(model), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and f"cannot load {model}:" in err and "reference interpreter" in err
    assert err.count("\n") == 1 and not (tmp_path / "out").exists()
