"""The fault campaign's ledger: every fault injected into a real run, with what it cost.

Tests record each injection with the lost results, orphan processes and wrong verdicts they
counted; the session ends by printing the table (tests/conftest.py), the closing note's figures."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass


@dataclass
class Tally:
    injections: int = 0
    lost_results: int = 0
    orphan_processes: int = 0
    wrong_verdicts: int = 0


LEDGER: dict[str, Tally] = defaultdict(Tally)


def record(fault: str, *, injections: int = 1, lost: int, orphans: int, wrong: int) -> None:
    tally = LEDGER[fault]
    tally.injections += injections
    tally.lost_results += lost
    tally.orphan_processes += orphans
    tally.wrong_verdicts += wrong


def table() -> str:
    rows = [("fault class", "injections", "lost results", "orphan processes", "wrong verdicts")]
    rows += [(fault, *(str(v) for v in vars(t).values())) for fault, t in sorted(LEDGER.items())]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
