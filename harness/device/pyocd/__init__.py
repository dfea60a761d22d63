"""pyOCD used as a library: a probe that reaches QEMU's gdbstub, the emulated board's target type,
and programming an image through any pyOCD session (board or emulator).

pyOCD is imported before any module here: while it initializes it loads its probe plugins, ours
among them (entry point `pyocd.probe` / `qemu-gdb`), and that must not find our probe module
half-imported.
"""

import pyocd  # noqa: F401  (see above)
