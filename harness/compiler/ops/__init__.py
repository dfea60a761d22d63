"""One module per operator family; importing them registers their lowerings."""

from harness.compiler.ops import (  # noqa: F401
    activation,
    add,
    concatenation,
    conv,
    data,
    depthwise,
    fully_connected,
    mean,
    mul,
    pad,
    pooling,
    quantize,
    softmax,
    strided_slice,
)
