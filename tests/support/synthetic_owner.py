"""A synthetic owner with a strong, measurable style, written as WhatsApp exports (deterministic).

The owner (Thota Rao) writes short replies in all lowercase, never greets, leaves out the final full
stop and keeps saying "no worries" and "sounds good". The people they talk to write full sentences with
capitals, greetings and punctuation. Used by the style tests and by bench/style.py."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

OWNER = "Thota Rao"
CONTACTS = ["Priya Nair", "Dana Reyes", "Sam Okafor", "Lena Fischer", "Marco Rossi", "Aiko Tanaka", "Ben Carter"]

ASKS = [
    "Hi! Are we still on for lunch on {day}?",
    "Hello, could you send me the slides before the meeting on {day}?",
    "Good morning! Did you manage to look at the budget numbers?",
    "Hey, do you want to join us for dinner on {day} evening?",
    "Hi there, can you pick up the parcel from the post office?",
    "Could you review my pull request when you have a moment?",
    "Are you coming to the team offsite on {day}? We need a headcount.",
    "Hello! Is the report going to be ready by {day} afternoon?",
    "Hi, I'm so sorry, I will be about twenty minutes late today.",
    "Thank you so much for helping me move the boxes yesterday!",
    "Do you still have the charger I lent you last week?",
    "Hi! What time should we leave for the airport on {day}?",
    "Can we move our call to {day}? Something came up at work.",
    "Did you see the email from the landlord about the heating?",
    "Hey! Would you like to come to the cinema with us on {day}?",
    "Hello, just checking whether you got my message about the tickets.",
]
# Per request: what the owner answers (combined with a lead phrase and sometimes a tail, below).
REPLIES = [
    ["still on, {day} at 1", "yep still on for {day}", "{day} works, same place as last time"],
    ["sending them tonight", "will send them after dinner", "they're in your inbox by {day}"],
    ["not yet, will look tmrw morning", "had a quick look, numbers seem fine", "looking now, give me an hour"],
    ["count me in", "i'm in, what time", "can't on {day} sadly, next time"],
    ["i'll grab it on the way home", "will pick it up {day}", "already got it, it's on your desk"],
    ["on it after standup", "will review it before lunch", "left a few comments on it"],
    ["i'm in, put me down", "yep coming, put me down for two", "probably, will confirm by {day}"],
    ["should be ready by {day}", "will be done tonight", "almost there, just the charts left"],
    ["take your time", "all good, i'll grab a coffee", "see you when you get here"],
    ["any time", "happy to help, my back hurts tho", "anytime, shout if you need more hands"],
    ["it's in my bag, will bring it {day}", "yep, i'll drop it off later", "ah yes, sorry, will bring it back"],
    ["leave at 6 i reckon, traffic is bad", "6 should be fine", "let's say 5:30 to be safe"],
    ["{day} works for me", "sure, {day} is better anyway", "{day} is fine, same time?"],
    ["saw it, sounds fine to me tbh", "yep saw it, will call them", "not yet, will read it tonight"],
    ["which one are we seeing", "i'm in, save me a seat", "can't on {day}, have fun"],
    ["got it, all sorted", "yep got it, thanks for checking", "got them, we're all set"],
]
LEADS = ["sounds good", "no worries", "yep", "ok cool", "sure thing"]
TAILS = ["", "", "", " lol", " see you then", " cheers"]
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
DAYS_CAP = [d.capitalize() for d in DAYS]


def chat_lines(contact: str, exchanges: int, rng: random.Random, start: datetime) -> list[str]:
    lines = []
    t = start
    for _ in range(exchanges):
        i = rng.randrange(len(ASKS))
        day = rng.randrange(len(DAYS))
        ask = ASKS[i].format(day=DAYS_CAP[day])
        body = rng.choice(REPLIES[i]).format(day=DAYS[day])
        reply = f"{rng.choice(LEADS)}, {body}{rng.choice(TAILS)}"
        lines.append(f"{t:%d/%m/%Y, %H:%M} - {contact}: {ask}")
        t += timedelta(minutes=rng.randrange(1, 9))
        lines.append(f"{t:%d/%m/%Y, %H:%M} - {OWNER}: {reply}")
        t += timedelta(hours=rng.randrange(7, 30))
    return lines


def write_exports(folder: Path, exchanges: int = 24, seed: int = 7) -> list[Path]:
    """One WhatsApp export per contact (iOS/Android .txt layout); returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for n, contact in enumerate(CONTACTS):
        start = datetime(2024, 1, 1, 9, 0) + timedelta(days=n)
        header = f"{start:%d/%m/%Y, %H:%M} - Messages and calls are end-to-end encrypted."
        text = "\n".join([header, *chat_lines(contact, exchanges, rng, start + timedelta(minutes=1))]) + "\n"
        path = folder / f"WhatsApp Chat with {contact}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
