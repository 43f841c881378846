"""smtplog: record SMTP sessions and explain captured SMTP transcripts.

The Python API::

    from smtplog import analyze_text
    report = analyze_text(open("session.txt").read())
    report.to_dict()  # the JSON shape of `smtplog analyze --format json`
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Report", "__version__", "analyze_bytes", "analyze_text"]

if TYPE_CHECKING:
    from smtplog.analysis import analyze_bytes, analyze_text
    from smtplog.report import Report


def __getattr__(name: str) -> Any:
    # Lazy: `import smtplog` (and the CLI's start-up) must not import lark or rich.
    if name in ("analyze_text", "analyze_bytes"):
        from smtplog import analysis

        return getattr(analysis, name)
    if name == "Report":
        from smtplog.report import Report

        return Report
    raise AttributeError(name)
