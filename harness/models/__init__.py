"""Models the project builds itself, so the harness runs without anyone's trained weights."""
