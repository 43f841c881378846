"""The limits that keep the analysis's memory bounded, in one place.

smtplog reads text that strangers wrote, of any size: a day of Exchange
protocol logs, a Postfix mail.log of gigabytes, or a hostile file made of one
100 MB line. The input is read as a stream (smtplog/reader.py) and analysed
session by session, so memory depends on these limits, not on the input's size.
They are generous for real logs; when one cuts something, the report says
what was cut and where (a note on the file and in the session).
"""

from __future__ import annotations

MiB = 1024 * 1024

# -- reading -----------------------------------------------------------------------------------
READ_CHUNK = 1 * MiB  # bytes read (and decoded) at a time
# Detection and cleanup decide on the head of the input, then apply to the whole stream.
HEAD_LINES = 5_000
HEAD_BYTES = 4 * MiB
# Seconds without new bytes after which a pipe, terminal or socket has said all it has for
# now (`tail -f mail.log | smtplog analyze`): the head ends there, and sessions are
# reported as they happen. Long enough for a busy writer's gaps; regular files never pause.
HEAD_PAUSE = 0.4
# A longer line is cut here (the rest of it is skipped up to the next line break).
# Real log lines are a few kB; a whole transcript pasted on one line (HTML <br>,
# literal "\r\n") is far below this.
MAX_LINE_CHARS = 1 * MiB

# -- cleanup on a stream -----------------------------------------------------------------------
# Normalisers see the rest of a large input in windows of this many lines, cut at a
# blank line when there is one near the end (quotes and code blocks end there).
CLEANUP_WINDOW = 2_000

# -- sessions ----------------------------------------------------------------------------------
# Logs interleave connections (Postfix processes, Exchange session ids...). This many
# are tracked at once; beyond it, the one silent for longest is closed and reported.
MAX_OPEN_STREAMS = 5_000
# A connection that has not been heard of for this many lines is over (its end
# was not logged, or fell outside the file).
IDLE_LINES = 50_000
# Complete sessions wait for those that began before them (the report keeps the
# order in which sessions began) while they hold no more than this many events.
REORDER_EVENTS = 20_000
# A longer session keeps its first and last events (the greeting, the end and the
# verdict are there) and notes what was left out in between: a million RCPTs.
MAX_SESSION_EVENTS = 20_000
SESSION_TAIL_EVENTS = 2_000
# Events held in all open sessions together (a log of 100,000 interleaved streams):
# beyond it, the stream silent for longest is closed and reported as it stands.
MAX_HELD_EVENTS = 100_000

# -- assembling events -------------------------------------------------------------------------
BODY_LINES_KEPT = 400  # message content lines kept per message; all are counted
# (the recorder's wire codec too: smtplog/record/wire.py)
MAX_REPLY_LINES = 1_000  # lines kept of one multi-line reply (the last one always)

# The time cleanup took off a line is kept for this many lines (analysis.py).
STAMP_WINDOW = 100_000

# -- the report --------------------------------------------------------------------------------
MAX_NOTES = 50  # notes about cuts listed per input; the rest are counted

# -- output ----------------------------------------------------------------------------------
# text, terminal, quiet and json hold a file's sessions until there are this many,
# then write each as it completes (the count comes at the end); jsonl always streams.
HELD_SESSIONS = 500
# Markdown and HTML are documents: they show this many sessions of one input in full.
MAX_DOCUMENT_SESSIONS = 500
# The batch summary lists this many sessions; its counts always cover all of them.
MAX_SUMMARY_ROWS = 10_000
