"""Conformance over ../shared/corpus (skipped when absent): every mbox/eml/msg sample parses without
an exception, known samples get the right flags, and the talon / email-reply-parser fixtures with a
known reply come out as that reply. Pass rates are printed; floors sit just under the measured rate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from twin.ingest.email import eml, looks_like_mbox, mbox
from twin.ingest.email.clean import clean_body, clean_text, strip_quotes
from twin.ingest.email.message import body_parts, parse_mime
from twin.ingest.email.outlook import OLE_MAGIC, parse_msg
from twin.ingest.record import ParsedMessage
from twin.ingest.source import Source

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
pytestmark = [pytest.mark.corpus, pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent")]

MAIL_DIRS = (
    "SpamScope-mail-parser/tests/mails",
    "sisimai-set-of-emails",
    "cpython/Lib/test/test_email/data",
    "talon/tests/fixtures/standard_replies",
    "talon/tests/fixtures",
)


def _mail_files() -> list[Path]:
    files: set[Path] = set()
    for d in MAIL_DIRS:
        root = CORPUS / d
        if root.is_dir():
            files |= {
                p
                for p in root.rglob("*")
                if p.is_file() and (p.suffix in ("", ".eml", ".txt", ".mbox") and not p.name.endswith("_reply_text"))
            }
    return sorted(p for p in files if "msg_" in p.name or p.suffix != ".txt")


def _parse(path: Path) -> list:
    head = path.read_bytes()[:4096]
    if head.startswith(OLE_MAGIC):
        return list(parse_msg(Source.from_path(path, "msg")))
    if looks_like_mbox(head):
        return list(mbox.parse(Source.from_path(path, "mbox")))
    return list(eml.parse(Source.from_path(path, "eml")))


def test_every_sample_parses() -> None:
    files = _mail_files()
    assert len(files) > 40
    parsed = 0
    for path in files:
        results = _parse(path)  # an exception here fails the test with the file in the traceback
        parsed += sum(isinstance(r, ParsedMessage) for r in results)
    print(f"\ncorpus email: {len(files)} files, {parsed} messages parsed")
    assert parsed >= len(files) - 5  # size-0/1/2 stubs hold no message


def _by_name(rel: str) -> ParsedMessage:
    out = _parse(CORPUS / rel)
    assert isinstance(out[0], ParsedMessage), out
    return out[0]


@pytest.mark.parametrize(
    ("rel", "flag"),
    [
        ("SpamScope-mail-parser/tests/mails/mail_malformed_2", "bounce"),
        ("SpamScope-mail-parser/tests/mails/mail_test_13", "list"),
        ("SpamScope-mail-parser/tests/mails/mail_test_16", "list"),
        ("SpamScope-mail-parser/tests/mails/mail_test_5", "list"),
        ("sisimai-set-of-emails/maildir/bsd/rfc3834-01.eml", "auto_reply"),
        ("sisimai-set-of-emails/maildir/bsd/rfc3834-02.eml", "auto_reply"),
        ("sisimai-set-of-emails/maildir/bsd/rfc3834-04.eml", "auto_reply"),
        ("cpython/Lib/test/test_email/data/msg_16.txt", "bounce"),
        ("cpython/Lib/test/test_email/data/msg_06.txt", "forwarded"),
    ],
)
def test_known_flags(rel: str, flag: str) -> None:
    if not (CORPUS / rel).exists():
        pytest.skip(f"{rel} not in this corpus")
    assert flag in _by_name(rel).flags


def test_unescaped_from_line_sample_is_one_message() -> None:
    out = _parse(CORPUS / "cpython/Lib/test/test_email/data/mailbox_01.mbox")
    assert len(out) == 1 and "From time to time" in out[0].text


def test_charsets_decode() -> None:
    assert _by_name("SpamScope-mail-parser/tests/mails/mail_test_12").sender == "张先生"
    assert _by_name("SpamScope-mail-parser/tests/mails/mail_test_18").sender == "LastßlName, FirstName"
    assert "Быстрее" in (_by_name("SpamScope-mail-parser/tests/mails/mail_test_6").subject or "")


def _norm(text: str) -> str:
    return " ".join(text.split())


def _body(path: Path) -> str:
    plain, html = body_parts(parse_mime(path.read_bytes()))
    return plain if plain and plain.strip() else clean_body(None, html).text if html else ""


# The reply each email-reply-parser fixture should reduce to: (must contain, must not contain).
ERP_EXPECT: dict[str, tuple[list[str], list[str]]] = {
    "correct_sig": (["with a correct -- signature."], ["rick"]),
    "email_1_1": (["What is the best way to clear a Riak bucket"], ["mailing list"]),
    "email_1_2": (["You can list the keys for the bucket", "would do it."], ["wrote:", "Hi folks", "mailing list"]),
    "email_1_3": (["Oh thanks.", "Having the function would be great."], ["Russell Brown", "bucketInfo"]),
    "email_1_4": (["Awesome! I haven't had another problem with it."], ["Loader", "defunkt"]),
    "email_1_5": (["One: Here's what I've got.", "This is the fourth bullet point"], []),
    "email_1_6": (["I get proper rendering as well."], ["Corey Donohoe", "caching related"]),
    "email_1_7": ([":+1:"], ["Steps 0-2", "Chris Wanstrath"]),
    "email_1_8": (["I will reply under this one", "and under this."], ["okay?", "Example Dev", "hi there"]),
    "email_2_1": (["Outlook with a reply"], ["Google Apps Sync", "-----"]),
    "email_2_2": (["Outlook with a reply directly above line"], ["CRM Comments", "___"]),
    "email_2_3": (["Outlook with a reply above headers using unusual format"], ["Kim via Site", "Sent:"]),
    "email_BlackBerry": (["Here is another email"], ["BlackBerry"]),
    "email_bullets": (["test 2 this should list second", "- how about bullets"], ["Give us an example", "Joe Smith"]),
    "email_gmail": (["This is a test for inbox replying to a github message."], ["Steven Scott", "lazy"]),
    "email_headers_no_delimiter": (["And another reply!"], ["Dan Watson", "A reply", "This is a message."]),
    "email_iPhone": (["Here is another email"], ["Sent from my iPhone"]),
    "email_multi_word_sent_from_my_mobile_device": (["Here is another email"], ["Sent from my"]),
    "email_one_is_not_on": (["One outstanding question I had:", "Locally (on development)"], ["Dave Tapley"]),
    "email_partial_quote_header": (["telnet 127.0.0.1 52698", "the tunnel is not working."], ["George Plymale"]),
    "email_sent_from_my_not_signature": (["Here is another email", "Sent from my desk"], []),
    "email_sig_delimiter_in_middle_of_line": (["And here is a fix -- this is not a signature.", "kthxbai"], []),
    "greedy_on": (["On your remote host you can run:", "the tunnel is not working."], ["George Plymale", "[…]"]),
    "pathological": (["I think you're onto something."], []),
}


def _erp_case(name: str) -> bool:
    path = CORPUS / "email-reply-parser/test/emails" / f"{name}.txt"
    text = clean_text(path.read_text(encoding="utf-8", errors="replace")).text
    must, must_not = ERP_EXPECT[name]
    return all(m in text for m in must) and not any(m in text for m in must_not)


def _talon_cases() -> list[tuple[str, bool]]:
    root = CORPUS / "talon/tests/fixtures"
    cases = []
    for path in sorted((root / "standard_replies").glob("*.eml")):
        golden = path.with_name(path.stem + "_reply_text")
        expected = golden.read_text() if golden.exists() else "Hello"
        cases.append((path.name, _norm(strip_quotes(_body(path))) == _norm(expected)))
    html_files = sorted((root / "html_replies").glob("*.html"))
    for path in html_files:
        text = clean_body(None, path.read_bytes().decode("utf-8", errors="replace")).text
        cases.append((path.name, _norm(text) == "Hi. I am fine. Thanks, Alex"))
    for name, expected in (("reply-separated-by-hr.html", "Hi there Bob"), ("OLK_SRC_BODY_SECTION.html", "Reply")):
        if (root / name).exists():
            cases.append((name, _norm(clean_body(None, (root / name).read_text()).text) == expected))
    return cases


def test_reply_fixtures_pass_rate() -> None:
    erp_dir = CORPUS / "email-reply-parser/test/emails"
    results = [(n, _erp_case(n)) for n in ERP_EXPECT if (erp_dir / f"{n}.txt").exists()]
    results += _talon_cases() if (CORPUS / "talon").is_dir() else []
    passed = [n for n, ok in results if ok]
    failed = [n for n, ok in results if not ok]
    rate = len(passed) / max(1, len(results))
    print(f"\nreply fixtures: {len(passed)}/{len(results)} pass ({rate:.0%}); failing: {failed}")
    assert len(results) >= 40
    assert rate >= 0.97, failed


def test_erp_fixtures_are_all_known() -> None:
    names = {p.stem for p in (CORPUS / "email-reply-parser/test/emails").glob("*.txt")}
    assert names <= set(ERP_EXPECT), names - set(ERP_EXPECT)


def test_no_quote_markers_left_in_talon_replies() -> None:
    for path in sorted((CORPUS / "talon/tests/fixtures/standard_replies").glob("*.eml")):
        assert not re.search(r"^>", clean_body(_body(path), None).text, re.MULTILINE), path.name
