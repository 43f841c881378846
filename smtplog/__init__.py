"""smtplog: record SMTP sessions and explain captured SMTP transcripts.

The Python API (documented in the README, "Python API")::

    from smtplog import analyze_text, redact_text
    report = analyze_text(open("session.txt").read())
    report.sessions[0].outcome   # "delivered", "failed", ...
    report.to_dict()             # the JSON shape of `smtplog analyze --format json`
    redact_text(text, addresses=True, hosts=True, ips=True)  # a copy safe to share
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = [
    "Finding",
    "InputError",
    "NotSmtpError",
    "Report",
    "SessionReport",
    "SmtplogError",
    "UnknownDialectError",
    "__version__",
    "analyze_bytes",
    "analyze_text",
    "redact_bytes",
    "redact_text",
]

if TYPE_CHECKING:
    from smtplog.analysis import analyze_bytes, analyze_text
    from smtplog.errors import InputError, NotSmtpError, SmtplogError, UnknownDialectError
    from smtplog.redact import redact_bytes, redact_text
    from smtplog.report import Finding, Report, SessionReport

# name -> module; imported on first use: `import smtplog` (and the CLI's
# start-up) must not import lark or rich.
_LAZY = {
    "analyze_text": "smtplog.analysis",
    "analyze_bytes": "smtplog.analysis",
    "redact_text": "smtplog.redact",
    "redact_bytes": "smtplog.redact",
    "Report": "smtplog.report",
    "SessionReport": "smtplog.report",
    "Finding": "smtplog.report",
    "SmtplogError": "smtplog.errors",
    "InputError": "smtplog.errors",
    "NotSmtpError": "smtplog.errors",
    "UnknownDialectError": "smtplog.errors",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'smtplog' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
