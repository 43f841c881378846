"""Exchange protocol log stamps are read without datetime, to the float datetime gives.

smtplog/dialects/exchange.py's ``_time`` reads "2023-01-11T15:59:53.909Z" (the
form Exchange writes) from its digits, for speed; anything else, and any
impossible date or time, goes to datetime as before.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtplog.dialects.exchange import _time


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
