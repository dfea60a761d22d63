"""Reading what `hil bench` writes (docs/results.md): run.json files, results/history.csv,
baselines, comparisons against a baseline and trend reports.

Everything here reads and writes plain data: a run is the dict of its run.json, validated
against run.schema.json; numbers stay numbers and an unknown value is None.
"""

from harness.results.schema import SCHEMA_VERSION, load_run, run_json_path, validate_run

__all__ = ["SCHEMA_VERSION", "load_run", "run_json_path", "validate_run"]
