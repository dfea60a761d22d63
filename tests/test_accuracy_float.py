"""The float column's model runner: a Keras .h5 (tf_keras) and LiteRT for .tflite, fed the float
log-mel patches in the model's layout."""

import numpy as np
import pytest

from harness.accuracy.float_model import float_outputs
from harness.audio.demo import demo_dataset
from harness.audio.frontend import audio_patches, frontend, quantize_patches
from harness.compiler import compile_file
from harness.errors import HilError
from harness.parity.golden import GoldenModel


@pytest.fixture(scope="module")
def demo_patches(tmp_path_factory):
    fe = frontend("zoo")
    files = sorted(demo_dataset(tmp_path_factory.mktemp("demo")).glob("*/*.wav"))
    return np.concatenate([audio_patches(path, fe) for path in files[::3]])


def test_the_shared_float_model_agrees_with_its_int8_twin_on_the_demo_patches(demo_patches, shared_model_path):
    """The .h5 sees the patches as the int8 model does: the same top class on every patch and
    probabilities within quantization error; the patches transposed would not be."""
    compiled = compile_file(shared_model_path)
    int8 = quantize_patches(demo_patches, compiled.graph.tensor(compiled.graph.inputs[0]))
    golden = GoldenModel(shared_model_path).run(int8).reshape(len(int8), -1)
    floating = float_outputs(shared_model_path.with_name("yamnet_256_64x96.h5"), demo_patches)
    assert floating.shape == golden.shape
    assert np.array_equal(floating.argmax(axis=1), golden.argmax(axis=1))
    assert np.abs(floating - golden).max() < 0.1


def test_an_int8_tflite_is_not_taken_for_the_float_model(demo_patches, default_model_path):
    with pytest.raises(HilError, match="its input is int8, not float32; the float column needs the float model"):
        float_outputs(default_model_path, demo_patches)


def test_a_file_that_is_not_a_keras_model_is_named(demo_patches, tmp_path):
    fake = tmp_path / "model.h5"
    fake.write_bytes(b"not an HDF5 file")
    with pytest.raises(HilError, match=r"model.h5: not a Keras model tf_keras can read"):
        float_outputs(fake, demo_patches)
