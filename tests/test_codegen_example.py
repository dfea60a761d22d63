"""The generated C is the product: its exact text is checked against a reviewed copy.

After an intended change to the code generator, refresh the copy with
`HIL_UPDATE_EXAMPLES=1 pytest tests/test_codegen_example.py` and review the diff.
"""

import os

import numpy as np

from harness.compiler.compile import compile_graph
from harness.compiler.graph import parse_model
from harness.paths import PROJECT_ROOT

from engine_check import assert_bit_exact
from example_model import example_model

EXAMPLE_DIR = PROJECT_ROOT / "docs" / "examples"


def test_generated_code_matches_the_reviewed_example():
    compiled = compile_graph(parse_model(example_model(), "example.tflite"), "example")
    if os.environ.get("HIL_UPDATE_EXAMPLES") == "1":
        compiled.write(EXAMPLE_DIR)
    for filename, text in compiled.files.items():
        assert (EXAMPLE_DIR / filename).read_text() == text, f"{filename} differs from docs/examples/{filename}"


def test_the_example_is_bit_exact():
    inputs = np.random.default_rng(5).integers(-128, 128, (16, 1, 8, 6, 1), dtype=np.int8)
    assert_bit_exact(example_model(), inputs, name="example")
