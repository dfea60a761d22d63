"""Clip-level accuracy: each clip's patches through the device, the golden and a float model, one
prediction per clip, and the figures of the accuracy block (docs/results.md)."""
