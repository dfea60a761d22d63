"""Inputs in the model's domain: synthetic audio, log-mel patches, quantization, int8 patterns."""
