"""The diagnosis's shortcuts give what their definitions give.

Each test keeps the plain definition a shortcut stands in for and compares
the two over every sample, every example transcript of tests/rules/cases and
the bench heads' kinds of session.
"""

from __future__ import annotations

import string
import sys
from functools import cache
from itertools import islice
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from smtplog.analysis import analyze_bytes
from smtplog.errors import SmtplogError
from smtplog.events import AuthResponse, Command, Event, Reply, ShellPrompt
from smtplog.protocol import Exchange, SessionAnalysis
from smtplog.rules.classify import (
    PHASES,
    _explain_match,
    all_rules,
    classify,
    parse_reply_line,
    reply_text,
)
from smtplog.rules.engine import Diagnoser, _banner_host, _shorten, session_provider
from smtplog.rules.evidence import event_text, reply_wire_text, target_port
from smtplog.rules.observations import ABOUT_EHLO, _ehlo_exchanges, observe
from smtplog.rules.registry import diagnoses
from smtplog.rules.structural import _SAYING_KINDS, early_commands, pregreet
from smtplog.smtp import command_address
from tests.rules import reference_rules as definition
from tests.rules.cases import load_cases

ROOT = Path(__file__).resolve().parent.parent.parent


@cache
def analyses() -> tuple[SessionAnalysis, ...]:
    """Every session of the samples and of the example transcripts."""
    inputs: list[bytes] = []
    for row in (ROOT / "samples" / "manifest.tsv").read_text().splitlines()[1:]:
        path = ROOT / "samples" / row.split("\t")[0]
        if path.is_file():
            inputs.append(path.read_bytes())
    for case in load_cases():
        inputs.append(case.data if case.data is not None else case.text.encode())
    found = []
    for data in inputs:
        try:
            found += [session.analysis for session in analyze_bytes(data).sessions]
        except SmtplogError:  # not SMTP: the near misses of some cases
            continue
    assert len(found) > 300
    return tuple(found)


@cache
def bench_analyses() -> tuple[SessionAnalysis, ...]:
    """Every session of the heads (6,000 lines each) of the bench's three logs."""
    sys.path.insert(0, str(ROOT / "bench"))
    import logs  # bench/logs.py: the bench's logs, made of the samples

    heads = (
        logs.postfix_lines(seed=5),
        logs.postfix_lines(seed=5, samples=logs.POSTFIX_SUMMARY_SAMPLES),
        logs.exchange_lines(seed=5),
    )
    found = []
    for lines in heads:
        data = "\n".join(islice(lines, 6000)).encode()
        found += [session.analysis for session in analyze_bytes(data).sessions]
    assert len(found) > 1000
    return tuple(found)


def every_analysis() -> tuple[SessionAnalysis, ...]:
    return analyses() + bench_analyses()


class _Eager(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "…"


def eager_facts(diagnoser: Diagnoser, exchange: Exchange | None, detail: str) -> _Eager:
    """Every fact a summary may name, made at once (what Diagnoser.facts did before)."""
    analysis = diagnoser.analysis
    port = target_port(analysis)
    facts = _Eager(
        server=analysis.target or _banner_host(analysis) or "the server",
        provider=diagnoser.provider.name if diagnoser.provider else "the server",
        sender=f"<{analysis.sender}>" if analysis.sender is not None else "the sender",
        phase=analysis.verdict.failed_at or "…",
        detail=detail,
        user_suffix="",
        size_limit="",
        port=str(port) if port else "…",
    )
    user = next(
        (e.decoded for e in analysis.events if isinstance(e, AuthResponse) and e.decoded), None
    )
    if user:
        facts["user"] = user
        facts["user_suffix"] = f" for user {user}"
    size = analysis.capabilities.get("SIZE") or (analysis.capabilities_before_tls or {}).get(
        "SIZE", ""
    )
    if size.isdigit() and int(size) > 0:
        facts["size_limit"] = f" (the server's limit is {int(size) / 1_000_000:.1f} MB)"
    if exchange is not None:
        reply = exchange.reply
        facts["code"] = str(reply.code)
        facts["enhanced"] = reply.enhanced or ""
        facts["reply"] = _shorten(" ".join(reply.wire_lines()))
        facts["command"] = (
            ("the end of the message" if exchange.verb == "." else event_text(exchange.request))
            if exchange.request
            else "the greeting"
        )
        if exchange.verb == "RCPT" and isinstance(exchange.request, Command):
            address = command_address(exchange.request.argument)
            facts["recipient"] = f"<{address}>" if address else exchange.request.argument
    if "recipient" not in facts and analysis.recipients_rejected:
        facts["recipient"] = f"<{analysis.recipients_rejected[0][0]}>"
    facts.setdefault("recipient", "the recipient")
    return facts


def test_facts_made_when_asked_are_the_facts_made_at_once() -> None:
    names = {
        name
        for doc in diagnoses().values()
        for _text, name, _spec, _conversion in string.Formatter().parse(doc.summary)
        if name is not None
    }
    names |= {"user", "unknown-name"}  # (every fact there is, and one there is not)
    summaries = [doc.summary for doc in diagnoses().values()]
    compared = 0
    for analysis in analyses():
        diagnoser = Diagnoser(analysis)
        for exchange in (None, *analysis.exchanges):
            for detail in ("", "the detail"):
                eager = eager_facts(diagnoser, exchange, detail)
                for name in sorted(names):  # each asked first, in a fresh mapping
                    assert diagnoser.facts(exchange, detail)[name] == eager[name], name
                lazy = diagnoser.facts(exchange, detail)  # one mapping asked for everything
                for summary in summaries:
                    assert summary.format_map(lazy) == summary.format_map(eager)
                compared += 1
    assert compared > 1000


def _event_classes() -> list[type[Event]]:
    found, todo = [], [Event]
    while todo:
        kind = todo.pop()
        found.append(kind)
        todo += kind.__subclasses__()
    return found


def test_the_kinds_the_rules_ask_for_have_no_subclasses() -> None:
    # Diagnoser.of_kind and .has look events up by their exact class; a rule asking
    # isinstance(event, Note) must name ShellPrompt too (structural._SAYING_KINDS).
    with_subclasses = {
        kind.__name__ for kind in _event_classes() if kind is not Event and kind.__subclasses__()
    }
    assert with_subclasses == {"Note"}
    assert ShellPrompt in _SAYING_KINDS


def test_the_events_by_kind_are_the_events_of_that_class_in_order() -> None:
    kinds = [kind for kind in _event_classes() if kind is not Event]
    for analysis in analyses():
        diagnoser = Diagnoser(analysis)
        for kind in kinds:
            exact = [e for e in analysis.events if type(e) is kind]
            assert list(diagnoser.of_kind(kind)) == exact
            assert diagnoser.has(kind) == bool(exact)
        assert diagnoser.provider == session_provider(analysis)  # replies found by walking


def test_the_words_classify_reports_are_the_words_the_pattern_finds() -> None:
    # classify takes the words of its explanation from the search that matched,
    # instead of searching again (LazyPattern.words).
    from tests.corpus.corpus import load_corpus

    replies = [parse_reply_line(row.reply) for row in load_corpus()]
    checked = 0
    for _round in range(2):  # cold patterns first, then warm ones (lower-cased search)
        for reply in replies:
            if reply is None:
                continue
            for phase in (*PHASES, None):
                result = classify(reply, phase)
                if result.rule is None:
                    continue
                text = reply_text(reply)
                provider = result.provider if result.rule.tier == "provider" else None
                assert result.matched_by == _explain_match(result.rule, reply, text, provider)
                checked += 1
        for rule in all_rules():
            if rule.pattern is not None:
                rule.pattern.warm()
    assert checked > 1000


@given(
    code=st.integers(200, 599),
    lines=st.lists(st.text(alphabet="ab -\t5.1", max_size=8), max_size=3),
    separator=st.sampled_from(["\n", " "]),
)
def test_a_reply_reads_as_its_wire_lines_joined(
    code: int, lines: list[str], separator: str
) -> None:
    reply = Reply(code=code, lines=tuple(lines))
    assert reply_wire_text(reply, separator) == separator.join(reply.wire_lines())


def test_pregreet_finds_the_early_commands_its_definition_finds() -> None:
    # early_commands asks the session's commands first (Diagnoser.of_kind) and skips a walk
    # that could find nothing; tests/rules/reference_rules.py keeps the walk as it was.
    walked = early = fired = 0
    for analysis in every_analysis():
        diagnoser = Diagnoser(analysis)
        if analysis.connected and diagnoser.has(Reply):  # (where pregreet asks for them)
            expected = definition.early_commands(diagnoser)
            assert early_commands(diagnoser) == expected
            walked += 1
            early += bool(expected)
        fired += pregreet(diagnoser) is not None
    assert walked > 1000 and early and fired  # (the samples hold sessions where it fires)


def test_the_observations_are_those_of_every_check() -> None:
    # observe skips the checks of an EHLO reply (ABOUT_EHLO) when the session has none.
    skipped = 0
    for analysis in every_analysis():
        findings = Diagnoser(analysis).run()[0]
        fast, slow = Diagnoser(analysis), Diagnoser(analysis)
        assert observe(fast, findings) == definition.observe(slow, findings)
        if not _ehlo_exchanges(fast):
            skipped += 1
            for check in ABOUT_EHLO:
                assert check(fast, set()) is None
    assert skipped > 1000


def test_the_provider_and_the_classification_are_those_of_the_definitions() -> None:
    # The session's reply scan also says when its replies name no provider; classify then
    # does not look for one again in a one-line reply (Diagnoser.names_no_provider).
    for _round in range(2):  # cold markers first, then warm ones (their phrase test)
        told = 0
        for analysis in every_analysis():
            diagnoser = Diagnoser(analysis)
            assert diagnoser.provider == definition.session_provider(analysis)
            for exchange in analysis.exchanges:
                reply, phase = exchange.reply, exchange.phase
                unnamed = diagnoser.names_no_provider(reply)
                told += unnamed
                expected = classify(reply, phase, diagnoser.provider)
                assert classify(reply, phase, diagnoser.provider, unnamed=unnamed) == expected
        assert _round == 0 or told > 1000


def test_an_event_reads_as_the_definition_reads_it() -> None:
    # event_text looks an event's exact class up (_READERS) instead of testing class by class.
    from smtplog import events as ev
    from smtplog.rules.evidence import _event_text

    made: list[Event] = [
        ev.Reply(code=250, lines=("ok",)),
        ev.Reply(code=250, lines=("a", "b")),
        ev.Command(verb="RCPT", argument="TO:<a@b>"),
        ev.Command(verb="RCPT", argument="TO:<a@b>", text="rcpt to:<a@b>"),
        ev.AuthResponse(text="*****", role="password"),
        ev.DataEnd(),
        ev.TlsFailed(reason="handshake failure"),
        ev.Encrypted(detail="after STARTTLS"),
        ev.ClientError(text="error"),
        ev.Note(text="note"),
        ev.ShellPrompt(text="$ swaks"),
        ev.Unparsed(text="??"),
        ev.Connected(target="mx"),
    ]
    for kind in (ev.ConnectFailed, ev.Closed, ev.Timeout):
        made += [kind(), kind(detail="the detail")]
    compared = 0
    for event in [*made, *(e for a in every_analysis() for e in a.events)]:
        assert event_text(event) == _event_text(event), event
        compared += 1
    assert compared > 10000
