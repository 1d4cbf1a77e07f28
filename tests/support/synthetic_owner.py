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
REPLIES = [
    "sounds good, see you {day}",
    "no worries, sending them tonight",
    "not yet, will look tmrw morning",
    "sounds good, count me in",
    "no worries, i'll grab it on the way home",
    "on it after standup",
    "yep i'm in, put me down",
    "should be, will ping you if not",
    "no worries at all, take your time",
    "no worries, any time",
    "yep, it's in my bag, will bring it {day}",
    "leave at 6 i reckon, traffic is bad",
    "sounds good, {day} works for me",
    "saw it, sounds fine to me tbh",
    "sounds good, which one are we seeing",
    "got it, no worries, all sorted",
]
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
DAYS_CAP = [d.capitalize() for d in DAYS]


def chat_lines(contact: str, exchanges: int, rng: random.Random, start: datetime) -> list[str]:
    lines = []
    t = start
    for _ in range(exchanges):
        i = rng.randrange(len(ASKS))
        day = rng.randrange(len(DAYS))
        ask = ASKS[i].format(day=DAYS_CAP[day])
        reply = REPLIES[(i + rng.randrange(3)) % len(REPLIES)].format(day=DAYS[day])
        if rng.random() < 0.3:
            reply += " lol"
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
