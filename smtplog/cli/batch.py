"""Analyse many inputs: in worker processes, results in input order.

Each input is read, analysed and rendered by ``process()`` where it runs, so
the main process only writes strings. Results come back in input order (the
output is the same whatever ``--jobs`` is) and are written as soon as they and
everything before them are done, so ``--format jsonl`` streams.
"""

# No `from __future__ import annotations` here: typing.NamedTuple would compile every
# string annotation at import (~2 ms); real annotations cost nothing.

import os
from collections import deque
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, NamedTuple

from smtplog.cli.inputs import Pending
from smtplog.cli.output import Options, exit_code, render
from smtplog.errors import ExitCode, InputError, SmtplogError

if TYPE_CHECKING:
    from smtplog.report import Report

IN_FLIGHT_PER_JOB = 4  # chunks in flight per worker: memory stays flat for huge folders
MAX_CHUNK = 16  # inputs per task at most
PROGRESS_AFTER = 5  # "more than a few files" get a progress bar on a terminal


class Result(NamedTuple):
    number: int
    source: str
    code: ExitCode
    output: str = ""
    rows: tuple = ()  # of render.summary.SummaryRow: one per session, for the batch summary
    error: str | None = None


def process(number: int, item: Pending | InputError, options: Options) -> Result:
    """Read, analyse and render one input; errors become a Result, never an exception."""
    from smtplog.analysis import analyze_bytes

    if isinstance(item, InputError):  # found while listing the inputs
        return Result(number, str(item).split(": ", 1)[0], item.exit_code, error=str(item))
    try:
        data = item.read()
        report = analyze_bytes(data.data, data.name, options.dialect, cleanup=options.cleanup)
        return Result(
            number,
            report.source,
            exit_code(report, options.fail_on),
            render(report, options, number),
            _rows(report, options),
        )
    except SmtplogError as exc:
        return Result(number, item.name, exc.exit_code, error=str(exc))
    except Exception as exc:
        # A bug must not cost the other 999 files of a batch their results.
        if os.environ.get("SMTPLOG_DEBUG"):
            raise
        message = (
            f"{item.name}: internal error: {type(exc).__name__}: {exc} "
            "(please report it; set SMTPLOG_DEBUG=1 to see the traceback)"
        )
        return Result(number, item.name, ExitCode.INTERNAL, error=message)


def _rows(report: "Report", options: Options) -> tuple:
    """Summary rows, when a summary may be shown (the module is not loaded otherwise)."""
    if not (options.summary or options.fmt == "json" or len(report.sessions) > 1):
        return ()
    from smtplog.render.summary import report_rows

    return report_rows(report)


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def run(
    items: Sequence[Pending | InputError], options: Options, jobs: int, progress: bool = False
) -> Iterator[Result]:
    """Results for ``items`` in their order, computed by up to ``jobs`` processes."""
    jobs = max(1, min(jobs, len(items)))
    bar = _Progress(len(items)) if progress and len(items) > PROGRESS_AFTER else None
    try:
        if jobs == 1:
            if bar:
                bar.start()
            for number, item in enumerate(items, 1):
                result = process(number, item, options)
                if bar:
                    bar.advance(result.source)
                yield result
            return
        yield from _parallel(items, options, jobs, bar)
    finally:
        if bar:
            bar.stop()


def process_chunk(
    first: int, items: Sequence[Pending | InputError], options: Options
) -> list[Result]:
    """Several consecutive inputs in one task: one round trip for many small files."""
    return [process(first + offset, item, options) for offset, item in enumerate(items)]


def chunk_size(count: int, jobs: int) -> int:
    """Small enough that every worker gets many chunks (balance), large enough to
    make the cost of a task small next to the work in it."""
    return max(1, min(MAX_CHUNK, count // (jobs * 8)))


def _parallel(
    items: Sequence[Pending | InputError], options: Options, jobs: int, bar: "_Progress | None"
) -> Iterator[Result]:
    from concurrent.futures import Future, ProcessPoolExecutor

    size = chunk_size(len(items), jobs)
    chunks = iter(range(0, len(items), size))
    window = jobs * IN_FLIGHT_PER_JOB
    pending: deque[Future[list[Result]]] = deque()
    executor = ProcessPoolExecutor(max_workers=jobs)

    def submit(start: int) -> None:
        pending.append(
            executor.submit(process_chunk, start + 1, items[start : start + size], options)
        )

    try:
        for start in chunks:
            submit(start)
            if len(pending) >= window:
                break
        # The workers exist now (forked before any progress thread starts).
        if bar:
            bar.start()
        while pending:
            results = pending.popleft().result()
            next_start = next(chunks, None)
            if next_start is not None:
                submit(next_start)
            for result in results:
                if bar:
                    bar.advance(result.source)
                yield result
    finally:
        for future in pending:
            future.cancel()
        executor.shutdown(wait=True, cancel_futures=True)


class _Progress:
    """A transient rich progress bar on stderr (only ever shown on a terminal)."""

    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("analysing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[current]}", style="dim"),
            console=Console(stderr=True, highlight=False, markup=False),
            transient=True,
            redirect_stdout=False,
            redirect_stderr=True,  # error lines print above the bar, not through it
        )
        self._task = self._progress.add_task("analysing", total=total, current="")

    def start(self) -> None:
        self._progress.start()

    def advance(self, source: str) -> None:
        from smtplog.render.safe import safe

        self._progress.update(self._task, advance=1, current=safe(source)[-40:])

    def stop(self) -> None:
        self._progress.stop()
