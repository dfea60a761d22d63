"""One module per operator family; importing them registers their lowerings."""

from harness.compiler.ops import (  # noqa: F401
    add,
    conv,
    data,
    depthwise,
    fully_connected,
    mean,
    pooling,
    quantize,
    softmax,
)
