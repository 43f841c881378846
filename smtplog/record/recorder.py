"""Collect a session's events on one clock and write them as the canonical transcript.

Each event is written (and flushed) as it happens, so an interrupted session
still leaves its transcript. Events reach the recorder already masked by the
wire codec; the recorder never sees a secret.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from smtplog import __version__
from smtplog.events import Event
from smtplog.transcript import format_events, header

Listener = Callable[[Event], None]


def data_home() -> Path:
    """$XDG_DATA_HOME, or ~/.local/share (XDG Base Directory Specification)."""
    base = os.environ.get("XDG_DATA_HOME", "").strip()
    if base and os.path.isabs(base):
        return Path(base)
    return Path.home() / ".local" / "share"


def default_transcript_path(target: str, started: datetime, command: str) -> Path:
    """<data home>/smtplog/transcripts/20261128-194002-probe-mx.example.com-25.txt"""
    safe_target = re.sub(r"[^A-Za-z0-9._-]+", "-", target).strip("-") or "session"
    stamp = started.astimezone(timezone.utc).strftime("%Y%m%d-%H%M%S")
    folder = data_home() / "smtplog" / "transcripts"
    path = folder / f"{stamp}-{command}-{safe_target}.txt"
    counter = 1
    while path.exists():
        counter += 1
        path = folder / f"{stamp}-{command}-{safe_target}-{counter}.txt"
    return path


def open_private(path: Path) -> TextIO:
    """A new transcript file only the user can read (it holds addresses and user names)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape", newline="\n")


class Recorder:
    """The events of one recording, their clock, and the transcript they make."""

    def __init__(
        self,
        target: str,
        *,
        command: str,
        sink: TextIO | None = None,
        listener: Listener | None = None,
    ) -> None:
        self.started = datetime.now(timezone.utc)
        self._t0 = time.monotonic()
        self.events: list[Event] = []
        self.lines: list[str] = [
            header(target, self.started, tool=f"smtplog-{__version__}-{command}")
        ]
        self._sink = sink
        self._listener = listener
        self.stream: str | None = None  # stamped on events that name no connection
        self._written_stream: str | None = None
        if sink is not None:
            sink.write(self.lines[0] + "\n")
            sink.flush()

    def now(self) -> float:
        """Seconds since the recording started (the transcript's clock)."""
        return round(time.monotonic() - self._t0, 6)

    def add(self, *events: Event) -> None:
        for event in events:
            if event.stream is None and self.stream is not None:
                event = replace(event, stream=self.stream)  # noqa: PLW2901
            self.events.append(event)
            written = list(format_events([event], stream=self._written_stream))
            self._written_stream = event.stream or self._written_stream
            self.lines.extend(written)
            if self._sink is not None and written:
                self._sink.write("".join(line + "\n" for line in written))
                self._sink.flush()
            if self._listener is not None:
                self._listener(event)

    def rollback(self, mark: int) -> None:
        """Forget the events after the first ``mark`` ones (and rewrite the file)."""
        self.events = self.events[:mark]
        self.lines = [self.lines[0], *format_events(self.events)]
        self._written_stream = next(
            (e.stream for e in reversed(self.events) if e.stream is not None), None
        )
        if self._sink is not None:
            self._sink.seek(0)
            self._sink.truncate()
            self._sink.write(self.text)
            self._sink.flush()

    @property
    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)

    def close(self) -> None:
        if self._sink is not None:
            self._sink.close()
            self._sink = None
