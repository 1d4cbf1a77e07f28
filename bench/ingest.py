"""Ingest benchmark (not a test): twin's WhatsApp and mbox parsers against peers on the same files.

Generates a WhatsApp export (default 1,000,000 lines) and an mbox (default 100,000 messages: HTML-only
and multipart/alternative bodies, quoted replies, Outlook blocks, signatures, utf-8 / iso-8859-1 /
koi8-r / gb2312 bodies, RFC 2047 headers, quoted-printable and base64, a few unescaped "From " body
lines) into a temp dir, then runs every parser in its own subprocess (one core each, one at a time)
and reads messages/s and peak RSS (ru_maxrss) there. Peers: whatstk and chat-miner for WhatsApp; the
stdlib `mailbox` + `mail-parser` (the usual Python pairing) and `mailbox` + `email` policy.default
alone (no cleaning) for mbox. Throughput is per CPU second of the worker process.

    .venv/bin/python bench/ingest.py                      # full size
    .venv/bin/python bench/ingest.py --scale 0.05         # quick run while developing

Prints a table and writes bench/results/ingest.json."""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "ingest.json"
NAMES = ["Priya", "Thota Rao", "Anna Müller", "José", "Wei Chen", "Olu", "Sam"]
WORDS = [
    "the",
    "meeting",
    "is",
    "moved",
    "to",
    "tomorrow",
    "ok",
    "sounds",
    "good",
    "see",
    "you",
    "later",
    "did",
    "get",
    "file",
    "thanks",
    "a",
    "lot",
    "can",
    "we",
    "talk",
    "tonight",
    "running",
    "late",
    "traffic",
    "bad",
    "lunch",
    "at",
    "noon",
]


# ---------------------------------------------------------------- data generation


def _sentence(rng: random.Random, n: int = 12) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, n)))


def make_whatsapp(path: Path, lines: int, seed: int = 1) -> int:
    """Android 24h layout "dd/mm/yyyy, HH:MM - Name: text"; ~8% continuation lines, some media."""
    rng = random.Random(seed)
    written = messages = 0
    day, minute = 0, 0
    with path.open("w", encoding="utf-8") as out:
        while written < lines:
            minute += rng.randint(0, 7)
            if minute >= 1440:
                minute, day = minute - 1440, day + 1
            d, m, y = 1 + day % 28, 1 + (day // 28) % 12, 2019 + day // 336
            stamp = f"{d:02d}/{m:02d}/{y}, {minute // 60:02d}:{minute % 60:02d}"
            text = "<Media omitted>" if rng.random() < 0.03 else _sentence(rng)
            out.write(f"{stamp} - {rng.choice(NAMES)}: {text}\n")
            written += 1
            messages += 1
            while written < lines and rng.random() < 0.08:
                out.write(_sentence(rng) + "\n")
                written += 1
    return messages


def _qp(text: str, charset: str) -> bytes:
    import quopri

    return quopri.encodestring(text.encode(charset, errors="replace"))


def _mail(i: int, rng: random.Random) -> bytes:
    sender = rng.choice(NAMES)
    kind = i % 5
    subj_word = rng.choice(["Plan", "Dinner", "Report", "Trip", "Budget"])
    if kind == 3:
        subject = "=?gb2312?B?" + base64.b64encode("会议安排".encode("gb2312")).decode() + "?="
    elif kind == 1:
        subject = f"=?iso-8859-1?Q?AW=3A_{subj_word}_f=FCr_M=FCnchen?="
    else:
        subject = f"Re: {subj_word} #{i // 7}"
    head = (
        f"From bench{i}@example.com Mon Jan  1 10:00:00 2024\n"
        f"From: {'=?utf-8?q?' + sender.replace(' ', '_').replace('ü', '=C3=BC').replace('é', '=C3=A9') + '?='}"
        f" <user{i % 97}@example.com>\n"
        f"To: Thota Rao <thota@example.com>, friend{i % 13}@example.org\n"
        f"Subject: {subject}\nDate: Mon, 1 Jan 2024 {i % 24:02d}:{i % 60:02d}:00 +0100\n"
        f"Message-ID: <bench{i}@example.com>\nIn-Reply-To: <bench{max(0, i - 1)}@example.com>\n"
        f"References: <bench{i - i % 7}@example.com> <bench{max(0, i - 1)}@example.com>\n"
        f"X-Gmail-Labels: {'Sent' if i % 4 == 0 else 'Inbox'}\nMIME-Version: 1.0\n"
    )
    reply = _sentence(rng, 25) + ".\n\n" + _sentence(rng, 25) + "."
    quote = "\n".join("> " + _sentence(rng) for _ in range(rng.randint(3, 12)))
    if kind == 0:  # HTML-only Gmail reply
        html = (
            f'<div dir="ltr"><p>{reply}</p><p>Cheers,<br>{sender}</p></div><div class="gmail_quote">'
            f'<div class="gmail_attr">On Mon, Jan 1 wrote:</div><blockquote class="gmail_quote">'
            f"{_sentence(rng)}<br>{_sentence(rng)}</blockquote></div>"
        )
        body = b"Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n" + _qp(
            html, "utf-8"
        )
    elif kind == 1:  # latin-1 plain with Outlook header block
        text = (
            f"{reply} Grüße aus Köln.\n\n-----Ursprüngliche Nachricht-----\nVon: X <x@example.de>\n"
            f"Gesendet: Montag\nAn: Thota\nBetreff: {subj_word}\n\n{_sentence(rng)}\n"
        )
        body = b"Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n" + _qp(
            text, "iso-8859-1"
        )
    elif kind == 2:  # multipart/alternative, base64 utf-8, quoted reply, signature
        plain = f"{reply}\n\nOn Mon, Jan 1, 2024 at 9:00 AM Bob <bob@example.com> wrote:\n{quote}\n"
        html = f'<div>{reply}</div><blockquote type="cite">{quote}</blockquote>'
        body = (
            'Content-Type: multipart/alternative; boundary="b1"\n\n--b1\n'
            "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
            + base64.encodebytes((plain + "\n-- \nSig line\n").encode()).decode()
            + "--b1\nContent-Type: text/html; charset=utf-8\n\n"
            + html
            + "\n--b1--\n"
        ).encode()
    elif kind == 3:  # gb2312 body (8bit), iPhone sign-off
        text = "你好，明天的会议改到下午三点。\n\nSent from my iPhone\n"
        body = b"Content-Type: text/plain; charset=gb2312\nContent-Transfer-Encoding: 8bit\n\n" + text.encode("gb2312")
    else:  # koi8-r plain, unescaped From line in the body every 1000th message
        text = f"Привет! {reply}\n"
        if i % 1000 == 4:
            text += "\nFrom time to time this line breaks naive mbox readers.\n"
        body = b"Content-Type: text/plain; charset=koi8-r\n\n" + text.encode("koi8-r", errors="replace")
    return head.encode() + body + b"\n\n"


def make_mbox(path: Path, messages: int, seed: int = 2) -> int:
    rng = random.Random(seed)
    with path.open("wb") as out:
        for i in range(messages):
            out.write(_mail(i, rng))
    return messages


# ---------------------------------------------------------------- workers (run in subprocesses)

_IMPORTS = {
    "twin-whatsapp": ["twin.ingest.whatsapp"],
    "whatstk": ["whatstk"],
    "chat-miner": ["chatminer.chatparsers"],
    "twin-mbox": ["twin.ingest.email.mbox"],
    "mailbox+mail-parser": ["mailbox", "mailparser"],
    "mailbox": ["mailbox", "email.policy"],
}


def _worker(kind: str, path: str) -> dict[str, float]:
    import importlib

    for module in _IMPORTS[kind]:  # imports are not part of the timing
        importlib.import_module(module)
    start, cpu_start = time.perf_counter(), time.process_time()
    count = _RUNNERS[kind](path)
    cpu = time.process_time() - cpu_start
    seconds = time.perf_counter() - start
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"count": count, "cpu_seconds": cpu, "wall_seconds": seconds, "peak_rss_mib": rss_kib / 1024}


def _twin_whatsapp(path: str) -> int:
    from twin.ingest.record import ParsedMessage
    from twin.ingest.source import Source
    from twin.ingest.whatsapp import parse

    return sum(isinstance(r, ParsedMessage) for r in parse(Source.from_path(Path(path), "whatsapp")))


def _whatstk(path: str) -> int:
    from whatstk import WhatsAppChat

    chat = WhatsAppChat.from_source(filepath=path, hformat="%d/%m/%Y, %H:%M - %name:", max_size=None)
    return len(chat.df)


def _chatminer(path: str) -> int:
    from chatminer.chatparsers import WhatsAppParser

    parser = WhatsAppParser(path)
    parser.parse_file()
    return len(parser.parsed_messages.get_df())


def _twin_mbox(path: str) -> int:
    from twin.ingest.email import mbox
    from twin.ingest.record import ParsedMessage
    from twin.ingest.source import Source

    return sum(isinstance(r, ParsedMessage) for r in mbox.parse(Source.from_path(Path(path), "mbox")))


def _mailbox_mailparser(path: str) -> int:
    import logging
    import mailbox

    import mailparser

    logging.getLogger("mailparser").setLevel(logging.CRITICAL)
    box = mailbox.mbox(path, create=False)
    n = 0
    for key in box.iterkeys():
        mail = mailparser.parse_from_bytes(box.get_bytes(key))
        _ = mail.text_plain or mail.text_html, mail.from_, mail.to, mail.subject, mail.date
        n += 1
    return n


def _mailbox_stdlib(path: str) -> int:
    """The stdlib alone: mailbox splitting + email policy.default, body via get_body (no cleaning)."""
    import email
    import mailbox
    from email import policy

    box = mailbox.mbox(path, create=False)
    n = 0
    for key in box.iterkeys():
        msg = email.message_from_bytes(box.get_bytes(key), policy=policy.default)
        try:
            body = msg.get_body(("plain", "html"))
            _ = (msg["From"], msg["To"], msg["Subject"], msg["Date"], body.get_content() if body else "")
        except (LookupError, ValueError, AttributeError):
            pass
        n += 1
    return n


_RUNNERS = {
    "twin-whatsapp": _twin_whatsapp,
    "whatstk": _whatstk,
    "chat-miner": _chatminer,
    "twin-mbox": _twin_mbox,
    "mailbox+mail-parser": _mailbox_mailparser,
    "mailbox": _mailbox_stdlib,
}


def _run(kind: str, path: Path, timeout: float) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    cmd = [sys.executable, __file__, "--worker", kind, str(path)]
    if sys.platform.startswith("linux"):
        cmd = ["taskset", "-c", "0", *cmd]  # one core, like the goal says
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"parser": kind, "error": f"timed out after {timeout:.0f}s"}
    if proc.returncode != 0:
        return {"parser": kind, "error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    return {"parser": kind, **json.loads(proc.stdout.strip().splitlines()[-1])}


# ---------------------------------------------------------------- report


def _table(title: str, rows: list[dict[str, object]], ours: str) -> str:
    base = next((r for r in rows if r["parser"] == ours and "error" not in r), None)
    out = [
        f"\n{title}",
        f"{'parser':<22}{'messages':>10}{'cpu s':>10}{'msg/s':>11}{'peak MiB':>10}{'speed vs':>10}{'mem vs':>8}",
    ]
    for r in rows:
        if "error" in r:
            out.append(f"{r['parser']:<22}  error: {r['error']}")
            continue
        rate = r["count"] / r["cpu_seconds"] if r["cpu_seconds"] else 0.0
        r["messages_per_s"] = round(rate, 1)
        if base is not None:
            base_rate = base["count"] / base["cpu_seconds"]
            r["ours_speed_ratio"] = round(base_rate / rate, 2) if rate else None
            r["ours_memory_ratio"] = round(base["peak_rss_mib"] / r["peak_rss_mib"], 2)
        speed = "-" if r["parser"] == ours else f"{r.get('ours_speed_ratio')}x"
        mem = "-" if r["parser"] == ours else f"{r.get('ours_memory_ratio')}x"
        out.append(
            f"{r['parser']:<22}{r['count']:>10}{r['cpu_seconds']:>10.2f}{rate:>11.0f}"
            f"{r['peak_rss_mib']:>10.0f}{speed:>10}{mem:>8}"
        )
    out.append(
        "  msg/s = messages per CPU second of the parser's process (pinned to one core; CPU time, not wall\n"
        "  time, so other load on a shared machine does not skew it). speed vs = twin's msg/s ÷ the\n"
        "  peer's; mem vs = twin's peak RSS ÷ the peer's (below 1 = twin uses less)."
    )
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of the full size (1M lines / 100k mails)")
    ap.add_argument("--only", choices=["whatsapp", "mbox"], help="run one half only")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds allowed per parser run")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--worker", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(_worker(*args.worker)))
        return
    wa_lines, mails = int(1_000_000 * args.scale), int(100_000 * args.scale)
    results: dict[str, object] = {}
    if args.only and args.out.exists():  # a half-run updates its half of an earlier result file
        results = json.loads(args.out.read_text(encoding="utf-8"))
    results.update(
        {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "scale": args.scale,
        }
    )
    with tempfile.TemporaryDirectory(prefix="twin-bench-") as tmp:
        if args.only in (None, "whatsapp"):
            wa = Path(tmp) / "WhatsApp Chat with Bench.txt"
            generated = make_whatsapp(wa, wa_lines)
            rows = [_run(k, wa, args.timeout) for k in ("twin-whatsapp", "whatstk", "chat-miner")]
            results["whatsapp"] = {
                "lines": wa_lines,
                "messages_generated": generated,
                "bytes": wa.stat().st_size,
                "runs": rows,
            }
            print(_table(f"WhatsApp: {wa_lines:,} lines, {wa.stat().st_size / 2**20:.0f} MiB", rows, "twin-whatsapp"))
        if args.only in (None, "mbox"):
            box = Path(tmp) / "bench.mbox"
            make_mbox(box, mails)
            rows = [_run(k, box, args.timeout) for k in ("twin-mbox", "mailbox+mail-parser", "mailbox")]
            results["mbox"] = {"messages_generated": mails, "bytes": box.stat().st_size, "runs": rows}
            print(_table(f"mbox: {mails:,} messages, {box.stat().st_size / 2**20:.0f} MiB", rows, "twin-mbox"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
