"""Exchange protocol log stamps are read without datetime, to the float datetime gives.

smtplog/dialects/exchange.py's ``_time`` reads "2023-01-11T15:59:53.909Z" (the
form Exchange writes) from its digits, for speed; anything else, and any
impossible date or time, goes to datetime as before. It reads the whole seconds
once per second of a log: for any text it gives what one regular expression over
the whole stamp gave (``_by_one_expression``), and a record is recognised by its
first field as sniffers.EXCHANGE_RECORD recognises the line.
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtplog.dialects.exchange import _STAMP_FIRST, _day_start, _time
from smtplog.dialects.sniffers import EXCHANGE_RECORD

_UTC_STAMP = re.compile(r"(\d{4}-\d\d-\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{1,6})Z\Z")


def _by_one_expression(text: str) -> float | None:
    """_time as it was: the stamp read by one expression, the seconds every time."""
    match = _UTC_STAMP.match(text)
    if match is not None:
        day, hours, minutes, seconds, fraction = match.groups()
        start = _day_start(day)
        if start is not None and hours < "24" and minutes < "60" and seconds < "60":
            whole = start + int(hours) * 3600 + int(minutes) * 60 + int(seconds)
            return (whole * 1_000_000 + int(fraction.ljust(6, "0"))) / 1_000_000
    return _by_datetime(text)


def _by_datetime(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1)),
    digits=st.integers(1, 6),
)
def test_a_protocol_log_stamp_is_read_as_datetime_reads_it(moment: datetime, digits: int) -> None:
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}"[:digits] + "Z"
    assert _time(text) == _by_datetime(text)


@pytest.mark.parametrize(
    "text",
    [
        "2023-02-30T15:59:53.909Z",  # no such day
        "2023-01-11T24:00:00.000Z",
        "2023-01-11T23:60:53.909Z",
        "2023-01-11T23:59:60.909Z",  # a leap second: datetime refuses it too
        "2023-01-11T23:59:50.Z",
        "2023-01-11T23:59:50.1234567Z",
        "2023-01-11T23:59:50.909+02:00",  # not Exchange's form: datetime reads it
        "2023-01-11T23:59:50Z",
        "",
    ],
)
def test_odd_stamps_are_read_as_datetime_reads_them(text: str) -> None:
    assert _time(text) == _by_datetime(text)


# Stamps, and texts near them: a real stamp (any fraction, or none) with a few characters
# replaced, removed or added (those of a stamp, a comma, a space, digits of another
# script), and something after it.
NEAR = "0123456789-T:.Z, \u0662\u0669"


@st.composite
def near_stamps(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1)))
    digits = draw(st.integers(0, 7))
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + ("." + "1234567"[:digits] if digits else "")
    text += draw(st.sampled_from(["Z", "Z", "Z,", "Z,x", "", "+00:00"]))
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["replace", "remove", "add"]))
        char = draw(st.sampled_from(NEAR))
        rest = text[at + 1 :] if edit != "add" else text[at:]
        text = text[:at] + ("" if edit == "remove" else char) + rest
    return text


NEAR_STAMPS = near_stamps() | st.text(alphabet=NEAR, max_size=30)


@settings(max_examples=500, deadline=None)
@given(text=NEAR_STAMPS)
def test_any_text_is_read_as_one_expression_read_it(text: str) -> None:
    assert _time(text) == _by_one_expression(text)


@pytest.mark.parametrize(
    "text",
    [
        "2023-01-11T15:59:53.\u0669\u0660\u0669Z",  # other digits: \d reads them
        "\u0662023-01-11T15:59:53.909Z",
        "2023-01-11T15:59:53.90ZZ",
        "2023-01-11T15:59:53.1234567Z",
        "2023-01-11T15:59:53.909Zjunk",
    ],
)
def test_odd_texts_are_read_as_one_expression_read_them(text: str) -> None:
    assert _time(text) == _by_one_expression(text)


@settings(max_examples=500, deadline=None)
@given(text=NEAR_STAMPS)
def test_a_record_is_recognised_by_its_first_field_as_by_the_line(text: str) -> None:
    assert (_STAMP_FIRST.match(text) is None) == (EXCHANGE_RECORD.match(text + ",") is None)
