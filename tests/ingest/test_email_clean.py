"""Reply stripping: quotes, attributions (several languages, wrapped), Outlook blocks, HTML quote
containers, signatures and forwards."""

from __future__ import annotations

import time

import pytest

from twin.ingest.email.clean import clean_body, clean_text, strip_quotes
from twin.ingest.email.html import html_to_text


@pytest.mark.parametrize(
    "attribution",
    [
        "On Tue, Mar 5, 2024 at 9:15 AM Priya <priya@example.org> wrote:",
        "Am 05.03.2024 um 09:15 schrieb Priya <priya@example.org>:",
        "Le mar. 5 mars 2024 à 09:15, Priya <priya@example.org> a écrit :",
        "El mar, 5 mar 2024 a las 9:15, Priya (<priya@example.org>) escribió:",
        "Il giorno mar 5 mar 2024 alle ore 09:15 Priya <priya@example.org> ha scritto:",
        "Op di 5 mrt 2024 om 09:15 schreef Priya <priya@example.org>:",
        "Den tis 5 mars 2024 kl 09:15 skrev Priya <priya@example.org>:",
        "On Tue, Mar 5, 2024 at 9:15 AM Priya Sharma <priya.sharma@example.org>\nwrote:",
        "2024-03-05 9:15 GMT+01:00 Priya <priya@example.org>:",
    ],
)
def test_attribution_and_quote_block_removed(attribution: str) -> None:
    body = f"Sounds great, see you then.\n\n{attribution}\n\n> Shall we meet at 8?\n> Priya\n"
    assert clean_text(body).text == "Sounds great, see you then."


def test_attribution_without_quote_marks_cuts_the_rest() -> None:
    body = "Yes.\n\nOn Mon, Jan 1, 2024 at 10:00 AM Bob <bob@example.com> wrote:\nold text not marked\n"
    assert clean_text(body).text == "Yes."


def test_bottom_post_and_inline_replies_keep_own_text() -> None:
    body = "> Question one?\nAnswer one.\n\n> Question two?\nAnswer two.\n"
    assert clean_text(body).text == "Answer one.\n\nAnswer two."


def test_prose_starting_with_on_is_kept() -> None:
    body = "On your remote host you can run:\n\n    telnet 127.0.0.1 52698\n\nThat should work."
    assert clean_text(body).text == body


@pytest.mark.parametrize(
    "separator",
    [
        "-----Original Message-----",
        "-----Ursprüngliche Nachricht-----",
        "-----Message d'origine-----",
        "________________________________\nFrom: Sam Smith\nSent: Monday, 15 April 2024 10:00\nTo: Thota",
        "From: Sam Smith <sam@example.net>\nSent: Monday, 15 April 2024 10:00\nTo: Thota\nSubject: Plan",
        "*From:* Sam [mailto:sam@example.net]\n*Sent:* Monday\n*To:* Thota\n*Subject:* Plan",
        "Von: Sam <sam@example.net>\nGesendet: Montag, 15. April 2024 10:00\nAn: Thota\nBetreff: Plan",
    ],
)
def test_outlook_blocks_cut(separator: str) -> None:
    body = f"Fine by me.\n\n{separator}\n\nThe original text.\n"
    assert clean_text(body).text == "Fine by me."


def test_forwarded_content_removed_and_reported() -> None:
    body = "FYI, see below.\n\n---------- Forwarded message ---------\nFrom: X <x@y.z>\n\nOriginal.\n"
    out = clean_text(body)
    assert out.text == "FYI, see below." and out.forwarded
    assert clean_text("Look:\n\nBegin forwarded message:\n\nFrom: a\n").forwarded


@pytest.mark.parametrize(
    "signoff",
    [
        "Sent from my iPhone",
        "Get Outlook for iOS",
        "Von meinem iPhone gesendet",
        "Envoyé de mon iPad",
        "Sent from my Samsung Galaxy smartphone.",
        "Enviado desde mi iPhone",
    ],
)
def test_device_signoffs_removed(signoff: str) -> None:
    assert clean_text(f"Running late, 10 min.\n\n{signoff}\n").text == "Running late, 10 min."


def test_signature_delimiter_and_non_signatures() -> None:
    assert clean_text("Thanks!\n\n-- \nThota Rao\n+49 170 000000\n").text == "Thanks!"
    assert clean_text("A fix -- not a signature.\n").text == "A fix -- not a signature."
    keep = "Here it is.\n\nSent from my desk, which is much easier than my phone."
    assert clean_text(keep).text == keep
    assert clean_text("Cheers,\nThota").text == "Cheers,\nThota"  # the owner's sign-off is style, kept


def test_strip_quotes_keeps_signature() -> None:
    body = "Hello\n\nSent from my iPhone\n\nOn Apr 3, 2012, at 4:19 PM, bob <bob@example.com> wrote:\n\n> Hi\n"
    assert strip_quotes(body) == "Hello\n\nSent from my iPhone"


def test_html_containers_removed_before_conversion() -> None:
    gmail = (
        '<div dir="ltr">Works for me.</div><br><div class="gmail_quote"><div class="gmail_attr">'
        'On Mon, Bob wrote:<br></div><blockquote class="gmail_quote">old</blockquote></div>'
    )
    assert clean_body(None, gmail).text == "Works for me."
    outlook = (
        '<p>Approved.</p><div id="appendonsend"></div><hr><div id="divRplyFwdMsg">From: Sam</div>'
        "<div>the original</div>"
    )
    assert clean_body(None, outlook).text == "Approved."
    apple = (
        '<div>Sure thing.</div><div><br><blockquote type="cite"><div>On 1 Jan 2024, at 10:00, Bob '
        "&lt;bob@example.com&gt; wrote:</div><div>question?</div></blockquote></div>"
    )
    assert clean_body(None, apple).text == "Sure thing."


def test_html_to_text_keeps_blocks_and_entities() -> None:
    text = html_to_text("<p>Hello&nbsp;there</p><ul><li>one</li><li>two</li></ul><script>x()</script>")
    assert "Hello" in text and "one" in text and "two" in text and "x()" not in text
    assert html_to_text("   ") == ""


def test_plain_preferred_over_html() -> None:
    assert clean_body("plain text", "<p>html text</p>").text == "plain text"
    assert clean_body("   ", "<p>html text</p>").text == "html text"


def test_pathological_input_stays_linear() -> None:
    body = ("On " + "x " * 5000 + "\n") * 200 + "> q\n" * 2000
    start = time.process_time()
    clean_text(body)
    assert time.process_time() - start < 30  # generous bound: catches only catastrophic backtracking
