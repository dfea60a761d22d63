"""pytest plugin entry point (registered as `hil` under pytest11).

The options and fixtures of the hardware-in-the-loop suite grow here; for now it only
declares the option group so `pytest --help` shows where they will live.
"""


def pytest_addoption(parser):
    parser.getgroup("hil", "hardware-in-the-loop benchmarking")
