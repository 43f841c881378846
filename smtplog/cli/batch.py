"""Analyse many inputs: in worker processes, results in input order.

Each input is read, analysed and rendered by ``process()`` where it runs, so
the main process only writes strings. Results come back in input order (the
output is the same whatever ``--jobs`` is) and are written as soon as they and
everything before them are done, so ``--format jsonl`` streams.

A large input (standard input, a pipe, a file over ``STREAM_IN_PROCESS``
bytes) and every input with ``--jobs 1`` is a ``Job`` run by the main
process itself, its output written piece by piece while it is read
(smtplog/cli/streaming.py): a multi-gigabyte log never has to fit in memory.
"""

# No `from __future__ import annotations` here: typing.NamedTuple would compile every
# string annotation at import (~2 ms); real annotations cost nothing.

import os
from collections import deque
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from smtplog.cli.inputs import Pending
from smtplog.cli.output import Options
from smtplog.errors import ExitCode, InputError, SmtplogError

IN_FLIGHT_PER_JOB = 4  # chunks in flight per worker: memory stays flat for huge folders
MAX_CHUNK = 16  # inputs per task at most
PROGRESS_AFTER = 5  # "more than a few files" get a progress bar on a terminal
STREAM_IN_PROCESS = 16 * 1024 * 1024  # larger files stream in the main process


class Result(NamedTuple):
    number: int
    source: str
    code: ExitCode
    output: str = ""
    rows: tuple = ()  # of render.summary.SummaryRow: one per session, for the batch summary
    error: str | None = None
    counts: object = None  # render.summary.Counts of every session (rows may be capped)


class Job:
    """One input analysed and rendered in this process; ``pieces()`` yields its output
    while it is read, then ``result()`` says how it went."""

    def __init__(self, number: int, item: Pending, options: Options) -> None:
        self.number = number
        self.item = item
        self.source = item.name
        self.options = options
        self.error: SmtplogError | None = None
        self.message: str | None = None
        self.code = ExitCode.OK
        self.tally = None

    def pieces(self) -> Iterator[str]:
        from smtplog.analysis import analyze_stream
        from smtplog.cli.streaming import Tally, render_stream

        options = self.options
        try:
            stream = analyze_stream(
                self.item.open(), self.item.name, options.dialect, options.cleanup
            )
            self.source = stream.source
            self.tally = Tally(options)
            yield from render_stream(stream, options, self.number, self.tally)
            self.code = self.tally.code
        except SmtplogError as exc:
            self.code, self.message = exc.exit_code, str(exc)
        except Exception as exc:
            # A bug must not cost the other 999 files of a batch their results.
            if os.environ.get("SMTPLOG_DEBUG"):
                raise
            self.code = ExitCode.INTERNAL
            self.message = (
                f"{self.item.name}: internal error: {type(exc).__name__}: {exc} "
                "(please report it; set SMTPLOG_DEBUG=1 to see the traceback)"
            )
        if self.message is not None and self.tally is not None and self.tally.cut_short:
            yield self.tally.cut_short(self.message)  # what was written is closed validly

    def result(self, output: str = "") -> Result:
        tally = self.tally
        rows = tally.finish() if tally is not None else ()
        counts = tally.counts if tally is not None else None
        return Result(self.number, self.source, self.code, output, rows, self.message, counts)


def process(number: int, item: Pending | InputError, options: Options) -> Result:
    """Read, analyse and render one input; errors become a Result, never an exception."""
    if isinstance(item, InputError):  # found while listing the inputs
        return Result(number, str(item).split(": ", 1)[0], item.exit_code, error=str(item))
    job = Job(number, item, options)
    output = "".join(job.pieces())
    return job.result(output)


def streams_in_process(item: Pending | InputError) -> bool:
    """Standard input, pipes and large files are read by the main process, as streams."""
    if isinstance(item, InputError):
        return False
    size = item.size
    return size is None or size > STREAM_IN_PROCESS


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def run(
    items: Sequence[Pending | InputError], options: Options, jobs: int, progress: bool = False
) -> Iterator[Result | Job]:
    """Results (or ``Job``s to run here) for ``items`` in their order, computed by up to
    ``jobs`` processes. A ``Job`` must be run (``pieces()``) before the next item is asked for."""
    jobs = max(1, min(jobs, len(items)))
    bar = _Progress(len(items)) if progress and len(items) > PROGRESS_AFTER else None
    try:
        if jobs == 1:
            if bar:
                bar.start()
            for number, item in enumerate(items, 1):
                if isinstance(item, InputError):
                    result: Result | Job = process(number, item, options)
                else:
                    result = Job(number, item, options)
                yield result
                if bar:
                    bar.advance(result.source)
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


def _tasks(
    items: Sequence[Pending | InputError], size: int
) -> Iterator[tuple[int, Sequence[Pending | InputError]] | tuple[int, None]]:
    """(start, chunk) for the workers, or (index, None) for an input streamed here."""
    start = 0
    while start < len(items):
        end = start
        while end < len(items) and end - start < size and not streams_in_process(items[end]):
            end += 1
        if end > start:
            yield start, items[start:end]
            start = end
        else:
            yield start, None
            start += 1


def _parallel(
    items: Sequence[Pending | InputError], options: Options, jobs: int, bar: "_Progress | None"
) -> Iterator[Result | Job]:
    from concurrent.futures import Future, ProcessPoolExecutor

    tasks = _tasks(items, chunk_size(len(items), jobs))
    window = jobs * IN_FLIGHT_PER_JOB
    pending: deque[Future[list[Result]] | Job] = deque()
    executor = ProcessPoolExecutor(max_workers=jobs)

    def submit() -> bool:
        task = next(tasks, None)
        if task is None:
            return False
        start, chunk = task
        if chunk is None:
            pending.append(Job(start + 1, items[start], options))  # type: ignore[arg-type]
        else:
            pending.append(executor.submit(process_chunk, start + 1, chunk, options))
        return True

    try:
        while len(pending) < window and submit():
            pass
        # The workers exist now (forked before any progress thread starts).
        if bar:
            bar.start()
        while pending:
            head = pending.popleft()
            if isinstance(head, Job):
                yield head  # streamed here while the workers go on with what follows
                submit()
                if bar:
                    bar.advance(head.source)
                continue
            results = head.result()
            submit()
            for result in results:
                if bar:
                    bar.advance(result.source)
                yield result
    finally:
        for future in pending:
            if not isinstance(future, Job):
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
