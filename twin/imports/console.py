"""An import in the foreground, for the command line: a rich progress bar, then the outcome.

The bar goes to stderr, so ``--json`` leaves stdout to the result alone and scripts can pipe it.
"""

from __future__ import annotations

import json

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from twin.imports.jobs import JobPublic, get_job, job_public
from twin.imports.model import ImportRequest, JobStatus
from twin.imports.runner import ImportRunner
from twin.store.engine import session_factory

SHOWN_WARNINGS = 20


def run_in_foreground(runner: ImportRunner, request: ImportRequest, *, as_json: bool) -> JobPublic:
    """Run an import with a progress bar and print its outcome; return the finished job."""
    err = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=as_json) as bar:
        task = bar.add_task(request.file_name, total=1.0)

        def listener(stage: str, fraction: float) -> None:
            bar.update(task, completed=fraction, description=f"{request.file_name}: {stage}")

        job_id = runner.run(request, listener)
    with session_factory(runner.engine)() as session:
        job = job_public(get_job(session, job_id))
    if as_json:
        print(json.dumps(job.model_dump(mode="json"), indent=2, ensure_ascii=False))
    else:
        _print(Console(), job)
    return job


def _print(console: Console, job: JobPublic) -> None:
    if job.status is JobStatus.FAILED:
        console.print(f"[bold red]✗[/] import {job.id} of {job.file_name} failed: {job.error}")
        return
    console.print(f"[green]✓[/] import {job.id} of {job.file_name} into site {job.site_id}")
    table = Table("count", "value")
    for key, value in job.counts.items():
        table.add_row(key, str(value))
    for key, value in job.summary.items():
        if isinstance(value, int | float | str):
            table.add_row(key, str(value))
    console.print(table)
    for warning in job.warnings[:SHOWN_WARNINGS]:
        console.print(f"[yellow]![/] {warning}", markup=False, highlight=False)
    if job.warning_count > SHOWN_WARNINGS:
        console.print(f"… {job.warning_count - SHOWN_WARNINGS} more warnings (--json lists them)")
