"""What a file is when it is not a text transcript, and what to do with it.

People attach what they have: a compressed log, a zip of a ticket's files, a
packet capture, a PDF. gzip is read transparently (logrotate writes it);
every other compressor or archive gets one clear error naming what it is and
the command that unpacks it. Magic numbers from file(1)'s magic database.
"""

from __future__ import annotations

from typing import NamedTuple


class Kind(NamedTuple):
    what: str  # "a zip archive"
    advice: str = ""  # how to get the text out of it; "{name}" is the file


def _pipe(tool: str) -> str:
    return f"pipe it: {tool} {{name}} | smtplog analyze"


def _unpack(tool: str) -> str:
    return f"unpack it ({tool} {{name}}) and analyse the files in it"


# magic bytes at offset 0 -> what the file is
MAGIC: tuple[tuple[bytes, Kind], ...] = (
    (b"PK\x03\x04", Kind("a zip archive", _unpack("unzip"))),
    (b"PK\x05\x06", Kind("an empty zip archive")),
    (b"7z\xbc\xaf\x27\x1c", Kind("a 7-zip archive", _unpack("7z x"))),
    (b"Rar!\x1a\x07", Kind("a RAR archive", _unpack("unrar x"))),
    (b"BZh", Kind("a bzip2-compressed file", _pipe("bzcat"))),
    (b"\xfd7zXZ\x00", Kind("an xz-compressed file", _pipe("xzcat"))),
    (b"\x28\xb5\x2f\xfd", Kind("a zstd-compressed file", _pipe("zstdcat"))),
    (b"\x04\x22\x4d\x18", Kind("an lz4-compressed file", _pipe("lz4cat"))),
    (b"\x1f\x9d", Kind("a compress(1) .Z file", _pipe("zcat"))),
    (b"\x5d\x00\x00", Kind("an lzma-compressed file", _pipe("lzcat"))),
    (b"%PDF-", Kind("a PDF document", "copy the transcript out of it as text")),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", Kind("an Office document (OLE)", "save it as text")),
    (b"{\\rtf", Kind("an RTF document", "save it as plain text")),
    (b"\x7fELF", Kind("an executable (ELF)")),
    (b"MZ", Kind("a Windows executable")),
    (b"\x89PNG\r\n\x1a\n", Kind("a PNG image", "a screenshot cannot be read: paste the text")),
    (b"\xff\xd8\xff", Kind("a JPEG image", "a screenshot cannot be read: paste the text")),
    (b"GIF8", Kind("a GIF image", "a screenshot cannot be read: paste the text")),
    (b"SQLite format 3\x00", Kind("an SQLite database")),
)
# A tar archive has no magic at offset 0: "ustar" at offset 257.
TAR = Kind("a tar archive", "unpack it (tar -xf {name}) and analyse the folder")
TAR_OFFSET = 257
GZIP_MAGIC = b"\x1f\x8b"


def identify(head: bytes) -> Kind | None:
    """What the first bytes of a file say it is, when it is not text (gzip is text)."""
    for magic, kind in MAGIC:
        if head.startswith(magic):
            return kind
    if head[TAR_OFFSET : TAR_OFFSET + 5] == b"ustar":
        return TAR
    return None


def refusal(name: str, kind: Kind, inside: str = "") -> str:
    """One line: what the file is and how to get a transcript out of it."""
    what = f"{kind.what} inside {inside}" if inside else kind.what
    message = f"{name}: this is {what}, not a text transcript"
    if kind.advice:
        advice = kind.advice.format(name=name)
        if inside and kind is TAR:
            advice = f"unpack it (tar -xzf {name}) and analyse the folder"
        message += f"; {advice}"
    return message
