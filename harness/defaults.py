"""Defaults shared by both faces of the harness (the `hil` commands and the pytest plugin)."""

from __future__ import annotations

from pathlib import Path

PATCHES = 64  # reference patches per model
TIMING_RUNS = 5  # inferences per timing run
RESULTS_DIR = Path("results")  # where runs land: relative to the working folder (pytest: the rootdir)
LINK_TIMEOUT_S = 1.0  # per try, for a request that runs nothing on the device (handshake, upload, reads)
# Added once to every inference's time limit: link round trips and a busy host's scheduling.
INFERENCE_SLACK_S = 3.0
