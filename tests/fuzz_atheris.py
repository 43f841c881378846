"""Coverage-guided fuzzing of the analyzer with atheris (libFuzzer), for `make fuzz`.

Each input's first byte chooses how it is read (detected, or one dialect
forced; cleanup on or off), the rest is the transcript. The properties are
those of the hypothesis suite (tests/fuzzing.py): no exception but
SmtplogError, spans inside the input, every output format valid and inert on
a terminal. The corpus starts from every sample; libFuzzer keeps what grows
coverage in the corpus folder and writes a failing input as crash-<sha1>.

Usage (from the repository root):
    python -m tests.fuzz_atheris [-max_total_time=SECONDS] [-runs=N] CORPUS_DIR
    python -m tests.fuzz_atheris crash-...         replay one input
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["smtplog"]):
    from tests.fuzzing import DIALECTS, check_input, sample_files


def read_as(data: bytes) -> tuple[str | None, bool, bytes]:
    """The dialect (None: detected), cleanup, and the transcript an input stands for."""
    if not data:
        return None, True, b""
    choice = data[0]
    return DIALECTS[choice % len(DIALECTS)], not choice & 0x80, data[1:]


def one_input(data: bytes) -> None:
    dialect, cleanup, transcript = read_as(data)
    check_input(transcript, dialect, cleanup)


def seed(corpus: Path) -> None:
    """Every sample, read detected, as a starting point."""
    corpus.mkdir(parents=True, exist_ok=True)
    for index, sample in enumerate(sample_files()):
        path = corpus / f"sample-{index:03d}"
        if not path.exists():
            path.write_bytes(b"\x00" + sample)


def main() -> None:
    paths = [Path(arg) for arg in sys.argv[1:] if not arg.startswith("-")]
    if paths and not paths[0].is_file():  # a corpus folder, not an input to replay
        seed(paths[0])
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
