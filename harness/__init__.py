"""Hardware-in-the-loop benchmarking harness for int8 audio models on microcontrollers."""

__version__ = "0.1.0"
