"""One module per operator family; importing them registers their lowerings."""

from harness.compiler.ops import add, conv, data, depthwise, fully_connected, mean, pooling, quantize, softmax  # noqa: F401
