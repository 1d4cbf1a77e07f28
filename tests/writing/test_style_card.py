"""The style card measures habits a reader notices, per channel, and turns them into a prompt line."""

from __future__ import annotations

from twin.style.card import card_distance, default_max_tokens, greeting_of, measure, signoff_of, style_line

CHATS = [
    "omw, 5 mins",
    "no worries, sounds good",
    "haha yes 😂",
    "cant tonight, tmrw?",
    "sounds good, see you there",
    "no worries at all",
    "lol same 😂",
    "ok cool",
]
EMAILS = [
    "Hi Dana,\n\nThe numbers look fine to me. Let's keep the travel line as it is.\n\nBest,\nThota",
    "Hi Sam,\n\nThanks for the notes. I have merged them into the plan and sent it round.\n\nBest,\nThota",
    "Dear Ms Lee,\n\nPlease find the signed contract attached.\n\nKind regards,\nThota Rao",
]


def test_measures_each_channel_on_its_own_messages() -> None:
    card = measure({"chat": CHATS, "email": EMAILS}, detect=lambda t: "en")
    chat, email = card.channels["chat"], card.channels["email"]
    assert chat.messages == 8 and email.messages == 3
    assert chat.all_lowercase == 1.0 and email.all_lowercase == 0.0
    assert chat.no_end_punctuation > 0.7 and chat.emoji == 0.25 and chat.top_emoji == ["😂"]
    assert chat.greeting_rate == 0.0 and email.greeting_rate == 1.0
    assert email.greetings[0] == ("hi", 0.667) and email.signoffs[0] == ("best", 0.667)
    assert ("no worries", 2) in chat.phrases and ("sounds good", 2) in chat.phrases
    assert chat.length["median"] < 30 < email.length["median"]
    assert card.main_channel() == "chat" and email.languages == {"en": 1.0}


def test_style_line_per_channel() -> None:
    card = measure({"chat": CHATS, "email": EMAILS})
    chat, email = style_line(card.channels["chat"]), style_line(card.channels["email"])
    assert chat.startswith("very short chat messages") and "all lowercase" in chat and "no greetings" in chat
    assert "“no worries”" in chat and "😂" in chat
    assert (
        email.startswith("short emails (about 90 characters)")
        and "opens with “Hi”" in email
        and "signs off with “Best”" in email
    )
    assert "full stop" not in email and "thota" not in email.lower()  # the signature is not a habit
    assert style_line(None) == "natural and concise"


def test_greetings_and_signoffs() -> None:
    assert greeting_of("Hey there, all good?") == "hey there"
    assert greeting_of("Hiking on Sunday?") is None
    assert signoff_of("See the doc.\n\nCheers,\nSam") == "cheers"
    assert signoff_of("Thanks for coming to the meeting yesterday, it was really useful for all of us.") is None


def test_distance_and_length_budget() -> None:
    card = measure({"chat": CHATS, "email": EMAILS})
    chat, email = card.channels["chat"], card.channels["email"]
    assert card_distance(chat, chat)["total"] == 0.0
    far = card_distance(chat, email)
    assert far["length"] == 1.0 and far["all_lowercase"] == 1.0 and 0.3 < far["total"] <= 1.0
    assert default_max_tokens(chat) == 48  # the floor: short messages
    assert 48 < default_max_tokens(email) < 200
