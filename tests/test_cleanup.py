"""Cleanup: each normaliser undoes one kind of paste damage, and leaves clean text alone."""

from __future__ import annotations

import json
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smtplog.analysis import analyze_bytes, analyze_text
from smtplog.cleanup import (
    clean,
    escapes,
    hold_back,
    markup,
    prefixes,
    shell,
    variants,
    windows,
    wrapping,
)
from smtplog.errors import NotSmtpError, SmtplogError
from smtplog.render.data import document
from smtplog.source import Line, Source, source_from_text

from .conftest import transcript
from .samples import load_samples

TELNET = transcript(
    """
    Trying 127.0.0.1...
    Connected to 127.0.0.1.
    Escape character is '^]'.
    220 mx.example.test ESMTP Postfix
    EHLO client.example.test
    250-mx.example.test
    250 CHUNKING
    MAIL FROM:<alice@example.test>
    250 2.1.0 Ok
    RCPT TO:<someone@example.org>
    554 5.7.1 <someone@example.org>: Relay access denied
    QUIT
    221 2.0.0 Bye
    Connection closed by foreign host.
    """
)


def lines(*texts: str) -> list[Line]:
    return [Line(number, text) for number, text in enumerate(texts, 1)]


def texts(result: list[Line] | None) -> list[str] | None:
    return None if result is None else [line.text for line in result]


def verdict(text: str, **kwargs: object) -> tuple[str, str | None, str | None]:
    session = analyze_text(text, **kwargs).sessions[-1]  # type: ignore[arg-type]
    return session.outcome, session.failed_at, session.main.id if session.main else None


RELAY_DENIED = ("failed", "rcpt", "relay-denied")


def numbered(text: str, prefix: str) -> str:
    return "".join(prefix.format(i) + line + "\n" for i, line in enumerate(text.splitlines()))


# -- one normaliser at a time --------------------------------------------------------


def test_colour_escapes_real_and_printed_are_removed() -> None:
    result = escapes.colour(
        lines("\x1b[32m<-  220 mx\x1b[0m", "#033[34m -> EHLO x#033[0m", "^[[1;31m<** 554 no^[[m")
    )
    assert texts(result) == ["<-  220 mx", " -> EHLO x", "<** 554 no"]
    assert result is not None and all("colour" in line.flags for line in result)


def test_colour_leaves_other_escapes_for_the_renderer_to_show() -> None:
    assert escapes.colour(lines("250 ok \x1b[2J")) is None


def test_literal_crlf_splits_a_collapsed_session_keeping_its_line_number() -> None:
    result = escapes.literal_breaks(lines("intro", "220 mx ESMTP\\r\\nEHLO x\\r\\n250 ok\\r\\n"))
    assert texts(result) == ["intro", "220 mx ESMTP", "EHLO x", "250 ok"]
    assert result is not None and [line.number for line in result] == [1, 2, 2, 2]


@pytest.mark.parametrize(
    "line",
    [
        '<- "EHLO client.example.test\\r\\n"',  # Ruby Net::SMTP writes one per line
        "send: b'Date: x\\r\\nTo: y\\r\\nSubject: z\\r\\n\\r\\nbody\\r\\n.\\r\\n'",  # smtplib body
    ],
)
def test_literal_crlf_that_a_dialect_writes_itself_stays(line: str) -> None:
    log = lines("reply: b'354 End data with <CR><LF>.<CR><LF>\\r\\n'", line, "data: (250, b'ok')")
    assert escapes.literal_breaks(log) is None


def test_a_paste_collapsed_into_one_line_is_split_even_without_replies() -> None:
    refused = (
        "Trying 127.0.0.1...\\r\\ntelnet: Unable to connect to remote host: Connection refused"
    )
    assert texts(escapes.literal_breaks(lines(refused))) == refused.split("\\r\\n")


def test_html_entities_and_breaks_are_undone() -> None:
    result = markup.html(
        lines("<p>&lt;-&nbsp; 220 mx<br>", "&nbsp;-&gt; RCPT TO:&lt;a@b&gt;<br />", "</p>")
    )
    assert texts(result) == ["<-  220 mx", " -> RCPT TO:<a@b>", ""]


def test_html_splits_several_lines_joined_by_br_on_one_line() -> None:
    result = markup.html(lines("220 mx<br>EHLO x<BR/>250 ok"))
    assert texts(result) == ["220 mx", "EHLO x", "250 ok"]
    assert result is not None and {line.number for line in result} == {1}


def test_html_leaves_text_without_escaping_alone() -> None:
    assert markup.html(lines("RCPT TO:<a@b>", "554 5.7.1 <a@b>: Relay access denied")) is None


def test_fences_are_dropped_and_glued_fences_unglued() -> None:
    result = markup.fences(lines("```text", "220 mx", "~~~", "```250 ok", "221 Bye```", "```"))
    assert texts(result) == ["220 mx", "250 ok", "221 Bye"]


def test_lines_wrapped_whole_in_backticks_are_unwrapped() -> None:
    result = markup.backticks(lines("`220 mx`", "``EHLO `x` ``", "no `code` here"))
    assert texts(result) == ["220 mx", "EHLO `x` ", "no `code` here"]


def test_quotes_nested_levels_come_off_one_per_round() -> None:
    once = markup.quotes(lines("> > 220 mx", "> > EHLO x", ">", "> > 250 ok"))
    assert texts(once) == ["> 220 mx", "> EHLO x", "", "> 250 ok"]
    assert texts(markup.quotes(once or [])) == ["220 mx", "EHLO x", "", "250 ok"]


@pytest.mark.parametrize(
    "client_lines",
    [
        ["> EHLO client.example.test", "< 250-mx.example.test"],  # curl -v
        [
            ">>> MAIL From:<a@b> SIZE=10",
            ">>> RCPT To:<c@d>",
            ">>> DATA",
            "250 2.1.0 ok",
        ],  # sendmail
    ],
)
def test_client_markers_that_start_with_gt_are_not_quotes(client_lines: list[str]) -> None:
    assert markup.quotes(lines(*client_lines)) is None


def test_indented_code_block_loses_one_level_only() -> None:
    result = markup.indentation(lines("    <-  220 mx", "     -> EHLO x", "", "\t<-  250 ok"))
    assert texts(result) == ["<-  220 mx", " -> EHLO x", "", "<-  250 ok"]


def test_continuation_lines_after_their_first_line_are_not_a_code_block() -> None:
    phpmailer = [
        "2026-11-28 19:49:09\tSERVER -> CLIENT: 250-mx.example.test",
        "                   \t                  250-PIPELINING",
        "                   \t                  250 SMTPUTF8",
    ]
    assert markup.indentation(lines(*phpmailer)) is None


@pytest.mark.parametrize(
    "prompt",
    [
        "user@vm:~/mailtest$ swaks --to alice@example.test",
        "root@mx1:~# telnet 127.0.0.1 25",
        "[admin@mail ~]$ telnet localhost 25",
        "me@MacBook ~ % nc -v mx.example.com 25",
        "$ swaks --server mx",
        "C:\\Users\\admin>telnet mail.contoso.com 25",
        "PS C:\\> Send-MailMessage -SmtpServer mx",
        "user@vm:~$",
    ],
)
def test_shell_prompts_are_recognised(prompt: str) -> None:
    assert shell.is_prompt(prompt)


@pytest.mark.parametrize(
    "line",
    ["220 mx.example.test ESMTP", "MAIL FROM:<a@b>", "# smtplog transcript 1", "$5 donation"],
)
def test_transcript_lines_are_not_prompts(line: str) -> None:
    assert not shell.is_prompt(line)


def test_syslog_timestamps_come_off_and_become_times() -> None:
    result = prefixes.timestamps(
        lines(
            "Nov 28 20:43:05 vm mailcheck[4242]: <-  220 mx",
            "Nov 28 20:43:06 vm mailcheck[4242]:  -> EHLO x",
            "Nov 28 20:43:09 vm mailcheck[4242]: <-  250 ok",
        )
    )
    assert texts(result) == ["<-  220 mx", " -> EHLO x", "<-  250 ok"]
    assert result is not None
    times = [line.time for line in result]
    assert all(time is not None for time in times)
    assert [round(b - a, 3) for a, b in pairwise(times)] == [1.0, 3.0]  # type: ignore[operator]


def test_iso_timestamps_with_zones_keep_true_differences() -> None:
    result = prefixes.timestamps(
        lines("2026-11-28T20:44:01.500Z 220 mx", "[2026-11-28 21:44:02+01:00] EHLO x")
    )
    assert texts(result) == ["220 mx", "EHLO x"]
    assert result is not None and result[1].time - result[0].time == 0.5  # type: ignore[operator]


def test_timestamps_on_only_some_lines_are_left() -> None:
    assert prefixes.timestamps(lines("Nov 28 20:43:05 x", "220 mx", "250 ok", "221 bye")) is None


def test_syslog_tag_needs_a_pid_so_a_reply_is_never_taken_for_one() -> None:
    result = prefixes.timestamps(
        lines("Nov 28 20:43:05 250 Ok: queued", "Nov 28 20:43:06 MAIL FROM:<a>")
    )
    assert texts(result) == ["250 Ok: queued", "MAIL FROM:<a>"]


def test_unwrap_joins_fragments_and_keeps_the_span() -> None:
    wrapped = lines(
        "<-  220 mx.example.test ESMTP Postfix",
        " -> RCPT TO:<nobody@example.test>",
        "<** 550 5.1.1 <nobody@example.test>: Recipient address rejected: User",
        "unknown in local recipient table",
        " -> QUIT",
    )
    result = wrapping.unwrap(wrapped)
    assert result is not None
    joined = result[2]
    assert joined.text.endswith("rejected: User unknown in local recipient table")
    assert (joined.number, joined.last) == (3, 4)
    assert [line.number for line in result] == [1, 2, 3, 5]


def test_unwrap_leaves_short_and_clean_lines_alone() -> None:
    assert wrapping.unwrap(lines(*TELNET.splitlines())) is None


def test_unwrap_does_not_join_a_line_that_can_start_on_its_own() -> None:
    text = [
        "250-mx.example.test Hello client.example.test [192.0.2.7], pleased to meet",
        "250-PIPELINING",
        "MAIL FROM:<alice@example.test> SIZE=1234 BODY=8BITMIME SMTPUTF8 RET=HDRS",
        "RCPT TO:<bob@example.test>",
    ]
    assert wrapping.unwrap(lines(*text)) is None


# -- the stage as a whole ------------------------------------------------------------


def test_variants_offer_each_stage_least_cleaned_first() -> None:
    text = "\n".join(
        f"    Nov 28 20:43:0{i % 10} {line}" for i, line in enumerate(TELNET.splitlines())
    )
    stages = variants(source_from_text(text))
    assert [v.stage for v in stages] == [0, 1, 2]
    assert stages[1].applied == ["indent"]
    assert stages[2].applied == ["indent", "timestamps"]


def test_line_numbers_survive_every_step() -> None:
    messy = "```\n" + "\n".join(f"> {line}" for line in TELNET.splitlines()) + "\n```\n"
    cleaned = clean(source_from_text(messy))
    assert [line.number for line in cleaned.source.lines] == list(range(2, 16))
    report = analyze_text(messy)
    relay = next(e for e in report.sessions[0].analysis.events if getattr(e, "code", 0) == 554)
    assert relay.span is not None and relay.span.first == 12  # the line in the pasted text


@pytest.mark.parametrize(
    "mess",
    [
        lambda t: t.replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>\n"),
        lambda t: "```\n" + t + "```\n",
        lambda t: "".join(f"> {line}\n" for line in t.splitlines()),
        lambda t: "".join(f"> > {line}\n" for line in t.splitlines()),
        lambda t: "".join(f"    {line}\n" for line in t.splitlines()),
        lambda t: "".join(f"\t{line}\n" for line in t.splitlines()),
        lambda t: "".join(f"`{line}`\n" for line in t.splitlines()),
        lambda t: numbered(t, "Nov 28 20:43:{:02d} "),
        lambda t: numbered(t, "2026-11-28 20:43:{:02d} "),
        lambda t: "".join(f"\x1b[32m{line}\x1b[0m\n" for line in t.splitlines()),
        lambda t: "".join(f"#033[32m{line}#033[0m\n" for line in t.splitlines()),
        lambda t: t.replace("\n", "\\r\\n"),
        lambda t: "user@vm:~$ telnet 127.0.0.1 2525\n" + t + "user@vm:~$ \n",
        lambda t: "".join(f"> {line}\n" for line in ("```", *t.splitlines(), "```")),
    ],
    ids=[
        "html", "fence", "quote", "nested-quote", "four-spaces", "tab", "backticks", "syslog",
        "iso", "colour", "printed-colour", "literal-crlf", "prompts", "quoted-fence",
    ],
)  # fmt: skip
def test_every_mess_still_gives_the_clean_verdict(mess) -> None:  # type: ignore[no-untyped-def]
    assert verdict(TELNET) == RELAY_DENIED
    messy = mess(TELNET)
    assert verdict(messy) == RELAY_DENIED
    assert analyze_text(messy).cleanup, "the mess should have been noticed"


def test_without_cleanup_the_mess_is_read_as_is() -> None:
    quoted = "".join(f"> {line}\n" for line in TELNET.splitlines())
    assert verdict(quoted) == RELAY_DENIED
    try:
        report = analyze_text(quoted, cleanup=False)
    except NotSmtpError:
        return  # nothing reads "> 220 ..." as SMTP
    assert report.cleanup == []
    assert verdict(quoted, cleanup=False) != RELAY_DENIED  # e.g. curl's "> " client lines


def test_cleanup_is_reported_in_notes_and_json() -> None:
    report = analyze_text("".join(f"> {line}\n" for line in TELNET.splitlines()))
    data = document([report])["reports"][0]
    assert data["cleanup"] == ["quote"]
    assert any("quote" in note for note in data["notes"])


def test_typed_commands_in_any_case_and_without_brackets() -> None:
    session = analyze_text(
        transcript(
            """
            220 mx.example.test ESMTP
            ehlo client.example.test
            250 mx.example.test
            mail from: alice@example.test
            250 2.1.0 Ok
            rcpt to :<someone@example.org>
            554 5.7.1 <someone@example.org>: Relay access denied
            """
        )
    ).sessions[0]
    assert session.analysis.sender == "alice@example.test"
    assert (session.outcome, session.failed_at, session.main and session.main.id) == RELAY_DENIED


def test_mangled_brackets_from_html_are_repaired() -> None:
    session = analyze_text(
        "220 mx ESMTP<br>EHLO x<br>250 mx<br>MAIL FROM:&lt;alice@example.test&gt;<br>250 Ok<br>"
    ).sessions[0]
    assert session.analysis.sender == "alice@example.test"


# -- the end of a long input's head (cleaned again with the rest) -------------------------


def held_back(*texts: str) -> tuple[list[int], list[int]]:
    """(lines held back, lines the cleaned head keeps): numbers, of a head made of ``texts``."""
    head = lines(*texts)
    cleaning = clean(Source("head", head))
    held = hold_back(cleaning, head)
    kept = [*cleaning.source.lines, *cleaning.aside]
    assert [line.text for line in held] == [line.text for line in head[len(head) - len(held) :]]
    return [line.number for line in held], sorted({line.number for line in kept})


QUOTED = [f"> {line}" for line in TELNET.splitlines()]  # 14 lines


def test_a_head_that_ends_at_a_blank_line_is_kept_whole() -> None:
    assert held_back("Alice wrote:", *QUOTED, "") == ([], list(range(1, 17)))


def test_the_head_is_cut_after_its_last_blank_line_in_its_last_quarter() -> None:
    held, kept = held_back("Alice wrote:", *QUOTED, "", "Bob wrote:", *QUOTED[:3])
    assert held == [17, 18, 19, 20]  # "Bob wrote:" and the start of his quote
    assert kept == list(range(1, 17))


def test_a_wrapped_line_is_held_back_from_its_first_piece() -> None:
    """No blank line: the cut is before the last line that starts afresh."""
    wrapped = [
        "=== Connected to 127.0.0.1.",
        "<-  220 mx.example.test ESMTP Postfix",
        " -> EHLO client.example.test",
        "<-  250 mx.example.test",
        " -> MAIL FROM:<sender@example.org>",
        "<-  250 2.1.0 Ok",
        " -> RCPT TO:<nobody@example.test>",
        "<** 550 5.1.1 <nobody@example.test>: Recipient address rejected: User",
        "unknown in local recipient table",
    ]
    assert held_back(*wrapped) == ([8, 9], list(range(1, 8)))


def test_a_quote_run_with_no_way_in_holds_back_the_last_quarter() -> None:
    """Every line is in the run: each side of the cut keeps a long piece of it."""
    held, kept = held_back(*QUOTED, *QUOTED[1:7])  # 20 lines
    assert held == [16, 17, 18, 19, 20]
    assert kept == list(range(1, 16))


def test_an_indented_line_that_no_block_holds_is_no_place_to_cut() -> None:
    """A continuation line would start a code block at the start of a window."""
    held, _kept = held_back(
        *TELNET.splitlines()[:11], "250-first line of a reply", "    continued", "QUIT"
    )
    assert held == [14]
    held, _kept = held_back(*TELNET.splitlines()[:11], "QUIT", "250-first line", "    continued")
    assert held == [13, 14]


@given(
    st.lists(
        st.one_of(st.none(), st.lists(st.sampled_from(["", " ", "x", "quoted > y", "z" * 40]))),
        max_size=12,
    ),
    st.integers(1, 9),  # lines in a window
    st.sampled_from([1, 30, 100, 4 * 1024 * 1024]),  # characters in a window
)
def test_windows_made_a_batch_at_a_time_are_the_windows_of_the_lines(
    texts: list[list[str] | None], size: int, budget: int
) -> None:
    """``batch_windows`` (the reader's batches, a slice at a time) is ``windows``."""
    from smtplog import limits
    from smtplog.cleanup import batch_windows

    number, batches = 0, []
    for run in texts:
        if run is None:
            batches.append(None)
            continue
        batches.append([Line(number + index, text) for index, text in enumerate(run, 1)])
        number += len(run)
    flat = [line for batch in batches for line in (batch if batch is not None else [None])]
    saved = limits.CLEANUP_WINDOW, limits.HEAD_BYTES
    limits.CLEANUP_WINDOW, limits.HEAD_BYTES = size, budget
    try:
        assert list(batch_windows(batches)) == list(windows(flat))
    finally:
        limits.CLEANUP_WINDOW, limits.HEAD_BYTES = saved


def test_a_pause_of_a_live_input_ends_a_window_at_once() -> None:
    """What has come is cleaned now (and analysed), not when 2,000 lines have."""
    first, second = lines(*QUOTED[:5]), lines(*QUOTED[5:])
    cut = list(windows([*first, None, None, *second]))
    assert cut == [first, second]


# -- clean input is never damaged -----------------------------------------------------

CLEAN = [sample for sample in load_samples() if sample.origin != "derived"]


def _outcome(data: bytes, name: str, cleanup: bool) -> str:
    try:
        report = analyze_bytes(data, name, cleanup=cleanup)
    except SmtplogError as exc:
        return f"error: {exc}"
    assert not cleanup or report.cleanup == [], f"cleanup touched a clean sample: {report.notes}"
    return json.dumps(document([report]), indent=1)


@pytest.mark.parametrize("sample", CLEAN, ids=str)
def test_clean_samples_analyse_identically_with_and_without_cleanup(sample) -> None:  # type: ignore[no-untyped-def]
    data = sample.file.read_bytes()
    assert _outcome(data, sample.path, cleanup=True) == _outcome(data, sample.path, cleanup=False)


# The characters every escape start is made of, and others.
_ESCAPE_ALPHABET = "\x1b\u241b\\#033^[x1eu [m;a"


@given(st.text(alphabet=_ESCAPE_ALPHABET, max_size=40))
def test_the_colour_prefilter_is_the_expression(text: str) -> None:
    """``may_have_colour`` tests single characters first: the answer is the expression's."""
    expected = escapes._ANY_ESCAPE_START.search(text) is not None
    assert escapes.may_have_colour(text) == expected
    assert escapes.may_have_colour(f"Nov 28 mx: {text} end") == expected


@given(st.text(alphabet=":\\$#%C>x ", max_size=20))
def test_the_prompt_prefilter_is_the_definition(text: str) -> None:
    """``may_have_prompt`` looks for a backslash alone before ":\\": the same answer."""
    from smtplog.cleanup import shell

    expected = "$" in text or "#" in text or "%" in text or ":\\" in text
    assert shell.may_have_prompt(text) == expected


@pytest.mark.parametrize("text", ["a ``` b", "a ~~~ b", "a `` ` b", "~~ ~", "plain", "`~`~`~"])
def test_the_fence_prefilter_is_the_definition(text: str) -> None:
    from smtplog.cleanup import ALWAYS

    fence = next(normaliser for normaliser in ALWAYS if normaliser.name == "fence")
    assert fence.maybe is not None
    assert fence.maybe(text) == ("```" in text or "~~~" in text)


def test_the_head_counts_in_the_notes_follow_the_head() -> None:
    """The notes count each normaliser's lines once per head (a long input asks with
    every session), and again when ``hold_back`` gives the cleaning another head."""
    from dataclasses import replace

    quoted = "\n".join(f"> {line}" for line in TELNET.splitlines())
    cleaning = clean(source_from_text(quoted))
    assert "quote" in cleaning.applied
    lines = len(cleaning.source.lines)
    expected = f"cleanup: undid e-mail / forum quote prefixes (> , nested) ({lines} lines)"
    assert expected in cleaning.notes
    assert cleaning.notes == cleaning.notes  # (the second time from the counts kept)
    cleaning.source = replace(cleaning.source, lines=cleaning.source.lines[:3])
    assert "cleanup: undid e-mail / forum quote prefixes (> , nested) (3 lines)" in cleaning.notes
    cleaning.streamed["quote"] += 5
    assert "cleanup: undid e-mail / forum quote prefixes (> , nested) (8 lines)" in cleaning.notes
