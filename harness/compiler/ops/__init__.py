"""One module per operator family; importing them registers their lowerings."""

from harness.compiler.ops import conv, data  # noqa: F401
