"""The fault campaign's tally: each test that injects faults records what it injected and what came of it.

`record(fault_class, injections, lost=..., orphans=..., wrong_verdicts=...)` adds to the session's
table; tests/conftest.py prints it at the end of the run (the closing table of issue 14). A test
records what it measured before it asserts that nothing went wrong, so a failure shows in the table too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass


@dataclass
class Row:
    injections: int = 0
    lost_results: int = 0
    orphan_processes: int = 0
    wrong_verdicts: int = 0


TALLY: dict[str, Row] = defaultdict(Row)


def record(fault_class: str, injections: int = 1, *, lost: int = 0, orphans: int = 0, wrong_verdicts: int = 0) -> None:
    row = TALLY[fault_class]
    row.injections += injections
    row.lost_results += lost
    row.orphan_processes += orphans
    row.wrong_verdicts += wrong_verdicts


def table() -> list[str]:
    """The tally as Markdown lines; empty when no fault test ran."""
    if not TALLY:
        return []
    lines = ["| fault class | injections | lost results | orphan processes | wrong verdicts |", "|---|---|---|---|---|"]
    for name, row in sorted(TALLY.items()):
        lines.append(
            f"| {name} | {row.injections} | {row.lost_results} | {row.orphan_processes} | {row.wrong_verdicts} |"
        )
    return lines
