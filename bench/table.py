"""One table for every benchmark: the reporting protocol the scripts of ``bench/`` share.

Each ``bench/bench_*.py`` prints its own figures as it likes, so that it reads well when run alone,
and in addition hands the headline figures to :func:`report`, once, at the end::

    from bench.table import Row, report

    report([
        Row("graph", "devices in floor · p95", ours=4.1, baseline=0.8, unit="ms",
            goal="< 20 ms and ≤ 2× bare", ok=4.1 < 20 and 4.1 <= 2 * 0.8),
    ])

- ``ours`` is the project's figure and ``baseline`` the bare baseline's, measured in the same run,
  both in ``unit``; ``baseline`` is None for a figure with nothing to compare to. The ratio is
  ours / baseline, whichever way is better for that figure (say it in ``goal``).
- ``goal`` and ``ok`` say what the figure should be and whether this run met it; leave them None
  where no goal is set.
- ``report`` does nothing unless ``TWIN_BENCH_ROWS`` names a file; then it appends each row to it
  as one JSON line, tagged with the script's name. A script that skips (missing data) reports
  nothing, or a row whose ``note`` says why.

``scripts/bench`` (``make bench``) sets ``TWIN_BENCH_ROWS``, runs every script at its default size
with its output kept in a log, and then runs ``python -m bench.table ROWS LOGS``, which prints all
the rows as one table and names each script that ran but reported nothing.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import orjson
from rich.console import Console
from rich.table import Table

ROWS_ENV = "TWIN_BENCH_ROWS"


@dataclass(frozen=True)
class Row:
    """One headline figure of a benchmark beside its bare baseline."""

    benchmark: str
    measure: str
    ours: float | None
    baseline: float | None = None
    unit: str = ""
    goal: str | None = None
    ok: bool | None = None
    note: str | None = None
    script: str = ""

    @property
    def ratio(self) -> float | None:
        """Return ours / baseline, or None when either is missing or the baseline is zero."""
        if self.ours is None or not self.baseline:
            return None
        return self.ours / self.baseline


def report(rows: Iterable[Row]) -> None:
    """Hand rows to ``make bench``'s combined table (a no-op when the script runs alone)."""
    target = os.environ.get(ROWS_ENV)
    if not target:
        return
    script = Path(sys.argv[0]).stem
    with open(target, "ab") as out:
        for row in rows:
            out.write(orjson.dumps(dataclasses.replace(row, script=row.script or script)) + b"\n")


def read(path: Path) -> list[Row]:
    """Read the rows a run of ``make bench`` gathered."""
    if not path.exists():
        return []
    return [Row(**orjson.loads(line)) for line in path.read_bytes().splitlines() if line.strip()]


def _figure(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"


def combined(rows: list[Row], silent: Iterable[str] = ()) -> Table:
    """Lay every benchmark's rows out as one table; ``silent`` names scripts that reported nothing."""
    table = Table(title="make bench · ours beside a bare baseline measured in the same run")
    for column, justify in (
        ("benchmark", "left"),
        ("measure", "left"),
        ("ours", "right"),
        ("baseline", "right"),
        ("unit", "left"),
        ("ratio", "right"),
        ("goal", "left"),
        ("ok", "center"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        ratio = row.ratio
        verdict = {True: "[green]yes[/]", False: "[red]no[/]", None: "—"}[row.ok]
        table.add_row(
            row.benchmark,
            row.measure + (f" ({row.note})" if row.note else ""),
            _figure(row.ours),
            _figure(row.baseline),
            row.unit,
            "—" if ratio is None else f"{ratio:.2f}×",
            row.goal or "—",
            verdict,
        )
    for script in silent:
        table.add_row(script, "[yellow]no figures: skipped or failed, see its log[/]", "", "", "", "", "", "")
    return table


def main(argv: list[str]) -> int:
    """Print the combined table of a rows file; with a logs folder, also name the silent scripts."""
    if len(argv) not in (1, 2):
        print("usage: python -m bench.table ROWS.jsonl [LOGS_DIR]", file=sys.stderr)
        return 2
    rows = read(Path(argv[0]))
    reported = {row.script for row in rows}
    logs = sorted(Path(argv[1]).glob("*.log")) if len(argv) == 2 else []
    silent = [log.stem for log in logs if log.stem not in reported]
    # Written to a log or a pipe, rich would fold the table to 80 columns; a terminal keeps its own width.
    Console(width=None if sys.stdout.isatty() else 160).print(combined(rows, silent))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
