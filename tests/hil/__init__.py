"""The hil suite (run with --target): a package, so its modules may share basenames with tests/ (test_footprint)."""
