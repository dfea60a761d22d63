"""Parity: golden outputs from the reference interpreter and the metrics that compare with them."""
