"""The model-free extractor (the default with the small embedded model): sentence by sentence, it keeps
first-person self-disclosures, preferences, relations, dates and corrections from the user's own words,
rewrites each as a self-contained third-person statement, and tags the ones whose subject holds a single
value (where someone works or lives, a partner, a favourite, an age, the date of an event) so a new value
supersedes the old one. Questions, hedges, small talk and passing moods are not facts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from twin.memory.english import clauses, lemma, normalize, sentences, to_third_person
from twin.memory.models import Candidate

NAME = "rules"
_RELATIONS = (
    "brother|sister|mom|mum|mother|dad|father|son|daughter|wife|husband|partner|girlfriend|boyfriend|fianc[eé]e?|"
    "friend|best friend|boss|manager|cousin|aunt|uncle|grandma|grandmother|grandpa|grandfather|niece|nephew|"
    "roommate|flatmate|neighbou?r|colleague|coworker|dog|cat|sibling|twin"
)
_SINGLE_RELATIONS = {
    "mom",
    "mum",
    "mother",
    "dad",
    "father",
    "wife",
    "husband",
    "partner",
    "girlfriend",
    "boyfriend",
    "boss",
}
_SINGLE_RELATIONS |= {"fiance", "fiancé", "fiancee", "fiancée", "manager"}
_OCCUPATIONS = (
    "teacher|engineer|developer|nurse|doctor|designer|lawyer|student|manager|writer|chef|scientist|accountant|"
    "researcher|consultant|programmer|architect|analyst|artist|musician|pilot|farmer|mechanic|electrician|plumber|"
    "journalist|librarian|pharmacist|dentist|therapist|professor|lecturer|photographer|editor|freelancer|carpenter|"
    "barista|cashier|firefighter|paramedic|vet|veterinarian|translator|surgeon|economist|data scientist|"
    "product manager|software engineer|web developer|graphic designer|physicist|chemist|biologist|historian"
)
_SMALL_TALK = re.compile(
    r"^(?:i(?:'m| am)\s+(?:so\s+|really\s+|very\s+|a bit\s+|just\s+|not\s+)*(?:fine|good|ok|okay|great|alright|"
    r"well|sorry|sure|glad|back|here|done|tired|hungry|bored|busy|confused|ready|lost|excited|happy|sad|stressed|"
    r"curious|listening|kidding|joking|not sure)\b[^.!?]{0,25}$|i(?:'m| am) (?:at|in|on) (?:home|work|school|bed|the \w+)\b|i (?:see|know|agree|understand|mean|guess|suppose|"
    r"hope|wonder|think so|bet|doubt it)\b|i(?:'m| am) (?:going to|gonna) (?:go|sleep|bed|leave)\b)",
    re.I,
)
_HEDGE = re.compile(
    r"\b(?:maybe|perhaps|probably|might|i think|i guess|i suppose|i wonder|i'm not sure|not sure if|if i|"
    r"would i|should i|i wish|pretend|imagine|hypothetically|let's say|joking)\b",
    re.I,
)
_TRANSIENT = re.compile(r"\b(?:today|tonight|right now|this morning|this afternoon|at the moment|rn)\b", re.I)
_RELATIVE_TIME = re.compile(
    r"\b(?:today|tomorrow|yesterday|tonight|next|last|this (?:week|month|year|weekend)|ago|in \d+ (?:days|weeks)|"
    r"on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday))\b",
    re.I,
)
_ENDED = re.compile(r"\b(?:anymore|any more|no longer|not anymore|used to|stopped|quit|gave up)\b", re.I)
_CORRECTION = re.compile(r"^(?:actually|correction|sorry,? i meant|i meant|update|to correct)\b[,:]?\s*", re.I)
_OBJ = r"(?P<v>[^,.;!?]+?)"
_DROPPED_SUBJECT = re.compile(
    r"^(?:just |recently |finally )?(?:started|joined|moved|left|quit|turned|got a job)\b", re.I
)
_END = (
    r"(?:\s+(?:now|these days|since [^,.]+|as of [^,.]+|at the moment|recently|yesterday|(?:last|this|next) \w+|"
    r"in (?:january|february|march|april|may|june|july|august|september|october|november|december|the \w+)|"
    r"an? (?:week|month|year|few \w+) ago))?\s*[.!]?$"
)


@dataclass(frozen=True)
class Rule:
    subject: str
    pattern: re.Pattern[str]
    template: str  # "{U}" user, "{v}" value
    single: bool = True
    ends: bool = False
    importance: float = 0.7
    reason: str = ""


def _r(subject: str, regex: str, template: str, **kw: object) -> Rule:
    return Rule(subject, re.compile(regex, re.I), template, **kw)  # type: ignore[arg-type]


_ORG = r"(?P<v>(?-i:[A-Z0-9][\w&'.-]*(?:\s+[A-Z0-9&][\w&'.-]*)*))"
_PERSON = r"(?P<v>(?-i:[A-Z][\w'-]*))"
USER_RULES = [
    _r(
        "employer",
        rf"^i (?:no longer|don't|do not) work (?:at|for) {_OBJ}(?: anymore| any more)?$",
        "{U} no longer works at {v}",
        ends=True,
        reason="a change of job",
    ),
    _r(
        "employer",
        rf"^i (?:left|quit)(?: my job)?(?: at| with)? {_ORG}(?:\s+(?:in|last|this|on)\b.*)?\s*[.!]?$",
        "{U} left {v}",
        ends=True,
        reason="a change of job",
    ),
    _r(
        "employer",
        rf"^i(?:'m| am)? (?:now |currently |still )?(?:work(?:ing)?|employed) (?:at|for|with) {_OBJ}{_END}",
        "{U} works at {v}",
        reason="where they work",
    ),
    _r(
        "employer",
        rf"^i (?:just |recently )?(?:started|joined|began)(?: (?:a )?(?:new )?(?:job|position|role|work))?(?: at| with)? {_ORG}{_END}",
        "{U} works at {v}",
        reason="where they work",
    ),
    _r("employer", rf"^i got a (?:new )?job (?:at|with) {_OBJ}{_END}", "{U} works at {v}", reason="where they work"),
    _r(
        "employer",
        rf"^my (?:new )?(?:job|employer|company|workplace) is (?:at )?{_OBJ}{_END}",
        "{U} works at {v}",
        reason="where they work",
    ),
    _r(
        "employer",
        rf"^i(?:'m| am) (?:now )?(?:at|with) {_ORG}(?:\s+now)?\s*[.!]?$",
        "{U} works at {v}",
        reason="where they work",
    ),
    _r(
        "home",
        rf"^i (?:no longer|don't|do not) live in {_OBJ}(?: anymore| any more)?$",
        "{U} no longer lives in {v}",
        ends=True,
        reason="a move",
    ),
    _r(
        "home",
        rf"^i moved (?:away )?(?:out of|from) {_OBJ}(?:\s+(?:in|last)\b.*)?$",
        "{U} moved away from {v}",
        ends=True,
        reason="a move",
    ),
    _r("home", rf"^i (?:now |still |currently )?live in {_OBJ}{_END}", "{U} lives in {v}", reason="where they live"),
    _r(
        "home",
        rf"^i(?:'ve| have)? (?:just |recently |finally )?moved to {_OBJ}(?:\s+(?:in|last|this)\b.*)?$",
        "{U} lives in {v}",
        reason="where they live",
    ),
    _r(
        "home",
        rf"^i(?:'m| am) (?:now |currently )?(?:based|living|settled) in {_OBJ}{_END}",
        "{U} lives in {v}",
        reason="where they live",
    ),
    _r(
        "hometown", rf"^i(?:'m| am) (?:originally )?from {_OBJ}{_END}", "{U} is from {v}", reason="where they come from"
    ),
    _r("hometown", rf"^i grew up in {_OBJ}{_END}", "{U} grew up in {v}", reason="where they come from"),
    _r(
        "name",
        r"^(?:my name is|call me|i go by|you can call me) (?P<v>(?-i:[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)?))\s*[.!]?$",
        "{U}'s name is {v}",
        importance=0.9,
        reason="their name",
    ),
    _r(
        "age",
        r"^i(?:'m| am) (?P<v>\d{1,3})(?: years old| yo| now)?\s*[.!]?$",
        "{U} is {v} years old",
        reason="their age",
    ),
    _r("age", r"^i (?:just )?turned (?P<v>\d{1,3})\b.*$", "{U} is {v} years old", reason="their age"),
    _r(
        "birthday",
        rf"^my birthday is (?:on )?{_OBJ}{_END}",
        "{U}'s birthday is {v}",
        importance=0.8,
        reason="a date to remember",
    ),
    _r(
        "birthday",
        rf"^i was born on {_OBJ}{_END}",
        "{U}'s birthday is {v}",
        importance=0.8,
        reason="a date to remember",
    ),
    _r("job", rf"^i work as (?:an? )?{_OBJ}{_END}", "{U} works as {v}", reason="what they do"),
    _r("job", rf"^my job is (?:being )?(?:an? )?{_OBJ}{_END}", "{U} works as {v}", reason="what they do"),
    _r(
        "job",
        rf"^i(?:'m| am) (?:now )?an? (?P<v>(?:\w+ )?(?:{_OCCUPATIONS}))(?: by profession| by trade)?{_END}",
        "{U} is a {v}",
        reason="what they do",
    ),
    _r("studies", rf"^i(?:'m| am) (?:now )?study(?:ing)? {_OBJ}{_END}", "{U} studies {v}", reason="what they study"),
    _r(
        "partner",
        rf"^my (?P<t>wife|husband|partner|girlfriend|boyfriend|fianc[eé]e?)(?:'s name)? is (?:called |named )?{_PERSON}{_END}",
        "{U}'s {t} is {v}",
        importance=0.85,
        reason="a relationship",
    ),
    _r(
        "partner",
        rf"^i(?:'m| am) (?:married to|dating|engaged to|seeing|with) {_PERSON}\s*(?:now)?\s*[.!]?$",
        "{U}'s partner is {v}",
        importance=0.85,
        reason="a relationship",
    ),
    _r(
        "partner",
        rf"^(?:i broke up with|i(?:'m| am) no longer with|i split up with|i divorced) {_PERSON}.*$",
        "{U} broke up with {v}",
        ends=True,
        importance=0.85,
        reason="a relationship",
    ),
    _r(
        "favorite {t}",
        r"^my (?:absolute )?favou?rite (?P<t>[a-z][a-z ]{1,30}?) (?:is|are) (?P<v>[^,.;!?]+?)\s*(?:now)?\s*[.!]?$",
        "{U}'s favourite {t} is {v}",
        importance=0.6,
        reason="a preference",
    ),
    _r(
        "diet",
        r"^i(?:'m| am) (?:now )?(?:a )?(?P<v>vegetarian|vegan|pescatarian|teetotal)\b.*$",
        "{U} is {v}",
        importance=0.7,
        reason="a preference",
    ),
    _r(
        "event {t}",
        r"^my (?P<t>[a-z][a-z ]{1,30}?) (?:is|was|got) (?:moved |rescheduled |postponed |pushed )?(?:to |for )?(?P<v>(?:on|in|at|next|this) [^,.;!?]+?|(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b[^,.;!?]*?)\s*[.!]?$",
        "{U}'s {t} is {v}",
        importance=0.7,
        reason="a date to remember",
    ),
    _r(
        "count {t}",
        r"^i have (?P<v>no|one|two|three|four|five|six|\d+) (?P<t>kids|children|sons|daughters|brothers|sisters|siblings|cats|dogs|grandchildren)\b.*$",
        "{U} has {v} {t}",
        importance=0.7,
        reason="family",
    ),
]
_LIKE = re.compile(
    r"^i (?:really |absolutely |also |still |totally )*(?P<verb>love|like|enjoy|adore|prefer|hate|dislike|can't stand|cannot stand|don't like|do not like|don't enjoy) (?P<v>[^,.;!?]+?)\s*[.!]?$",
    re.I,
)
_NEGATIVE = {"hate", "dislike", "can't stand", "cannot stand", "don't like", "do not like", "don't enjoy"}
_REL_HOLDER = re.compile(rf"^my (?P<rel>{_RELATIONS})(?:,?\s+(?P<name>(?-i:[A-Z][a-z'-]+)))?,?\s+(?P<rest>.+)$", re.I)
_IS_MY = re.compile(rf"^(?P<name>[A-Z][a-z'-]+) is my (?P<rel>{_RELATIONS})\b(?P<rest>.*)$")
_REL_NAME = re.compile(r"^(?:is called|is named|'s name is|name is) (?P<v>[A-Z][\w'-]*)\s*[.!]?$", re.I)
_REL_RULES = [
    ("home", re.compile(rf"^(?:now |still )?(?:lives|is living|is based) in {_OBJ}{_END}", re.I)),
    ("home", re.compile(rf"^(?:just )?moved to {_OBJ}(?:\s+(?:in|last)\b.*)?$", re.I)),
    ("employer", re.compile(rf"^(?:now )?works (?:at|for) {_OBJ}{_END}", re.I)),
    ("job", re.compile(rf"^is (?:now )?an? (?P<v>(?:\w+ )?(?:{_OCCUPATIONS})){_END}", re.I)),
    ("age", re.compile(r"^is (?P<v>\d{1,3})(?: years old)?\s*[.!]?$", re.I)),
]


def _clean_value(v: str) -> str:
    v = re.sub(r"\s+(?:now|these days|at the moment)$", "", v.strip(), flags=re.I)
    return v.strip(" '\"")


def _key(v: str) -> str:
    return normalize(re.sub(r"^(?:the|a|an|my)\s+", "", v, flags=re.I))


def _stamp(text: str, clause: str, today: date) -> str:
    if _RELATIVE_TIME.search(clause):
        return text.rstrip(".") + f" (said on {today.isoformat()})."
    return text


class RuleExtractor:
    """Extract candidates from one user message. `user` is the name facts are written with."""

    name = NAME

    def __init__(self, user: str = "The user", permissive: bool = False, today: date | None = None) -> None:
        self.user = user
        self.permissive = permissive
        self.today = today or date.today()

    def extract(self, text: str, message_ids: list[str]) -> list[Candidate]:
        out: list[Candidate] = []
        for sentence in sentences(text):
            if sentence.rstrip().endswith("?"):
                continue
            for clause in clauses(sentence):
                cand = self._clause(clause.strip().rstrip(".! "), message_ids)
                if cand is not None and all(c.text != cand.text for c in out):
                    out.append(cand)
        return out

    def _clause(self, clause: str, ids: list[str]) -> Candidate | None:
        clause = re.sub(r"[’‘]", "'", clause)
        correction = bool(_CORRECTION.match(clause))
        clause = _CORRECTION.sub("", clause).strip()
        clause = re.sub(r"^(?:oh|well|so|also|and|but|ok|okay|yeah|yes|btw|by the way)[,!]?\s+", "", clause, flags=re.I)
        clause = re.sub(r"^(?:these days|nowadays|lately|currently|at the moment|now),?\s+", "", clause, flags=re.I)
        if _DROPPED_SUBJECT.match(clause):  # chat style: "Just started at Acme!"
            clause = "I " + clause
        words = clause.split()
        if len(words) < 2 or len(words) > 45 or _SMALL_TALK.match(clause):
            return None
        if not self.permissive and (
            _HEDGE.search(clause) or (_TRANSIENT.search(clause) and re.match(r"^i(?:'m| am)\b", clause, re.I))
        ):
            return None
        cand = self._user_rule(clause, ids) or self._relation(clause, ids) or self._preference(clause, ids)
        cand = cand or self._generic(clause, ids)
        if cand is not None and correction:
            cand.correction, cand.importance = True, min(1.0, cand.importance + 0.1)
            cand.reason = "a correction: " + cand.reason
        return cand

    def _make(self, text: str, clause: str, ids: list[str], **kw: object) -> Candidate:
        return Candidate(text=_stamp(text, clause, self.today), source_message_ids=ids, extractor=NAME, **kw)  # type: ignore[arg-type]

    def _user_rule(self, clause: str, ids: list[str]) -> Candidate | None:
        for rule in USER_RULES:
            m = rule.pattern.match(clause)
            if not m:
                continue
            value = _clean_value(m.group("v"))
            thing = m.groupdict().get("t") or ""
            text = rule.template.format(U=self.user, v=value, t=thing.strip()).rstrip(".") + "."
            if rule.ends:  # keep when and how it ended, in the user's words
                text = to_third_person(clause, self.user)
            subject = "user." + rule.subject.format(t=_key(thing)).replace(" ", "_")
            return self._make(
                text, clause, ids, subject=subject, value=_key(value), single_valued=rule.single, ends=rule.ends,
                importance=rule.importance, reason=f"the user told {rule.reason or 'about themselves'}",
            )  # fmt: skip
        return None

    def _relation(self, clause: str, ids: list[str]) -> Candidate | None:
        m = _IS_MY.match(clause)
        if m:
            rel, name = m.group("rel").lower(), m.group("name")
            text = f"{name} is {self.user}'s {rel}{m.group('rest').rstrip('.')}."
            return self._make(
                text, clause, ids, subject=f"user.relation.{rel}.{name.lower()}", value=name.lower(),
                importance=0.8, reason="the user told about someone close to them",
            )  # fmt: skip
        m = _REL_HOLDER.match(clause)
        if not m:
            return None
        rel, name, rest = m.group("rel").lower(), m.group("name"), m.group("rest").strip()
        holder = f"{rel} {name.lower()}" if name else rel
        named = _REL_NAME.match(rest)
        if named:
            value = named.group("v")
            text = f"{self.user}'s {rel} is called {value}."
            single = rel in _SINGLE_RELATIONS
            subject = f"user.relation.{rel}.name" if single else f"user.relation.{rel}.{value.lower()}"
            return self._make(text, clause, ids, subject=subject, value=value.lower(), single_valued=single,
                              importance=0.8, reason="the user told about someone close to them")  # fmt: skip
        text = to_third_person(clause, self.user)
        for attr, pattern in _REL_RULES:
            hit = pattern.match(rest)
            if hit:
                return self._make(text, clause, ids, subject=f"{holder}.{attr}", value=_key(_clean_value(hit.group("v"))),
                                  single_valued=True, importance=0.75, reason="the user told about someone close to them")  # fmt: skip
        return self._make(text, clause, ids, subject=f"{holder}.{_generic_key(rest)}", importance=0.7,
                          reason="the user told about someone close to them")  # fmt: skip

    def _preference(self, clause: str, ids: list[str]) -> Candidate | None:
        m = _LIKE.match(clause)
        if not m:
            return None
        verb, value = m.group("verb").lower(), _clean_value(m.group("v"))
        if re.match(r"^(?:you|your|it|that|this|to (?:know|hear|think))\b", value, re.I):
            return None
        negative = verb in _NEGATIVE
        return self._make(
            to_third_person(clause, self.user), clause, ids, subject=f"user.likes.{_key(value)[:60]}",
            value="no" if negative else "yes", single_valued=True, importance=0.6, reason="a preference the user stated",
        )  # fmt: skip

    def _generic(self, clause: str, ids: list[str]) -> Candidate | None:
        if not re.match(r"^(?:i|i'm|i've|i'd|my)\b", clause, re.I):
            return None
        if re.match(
            r"^i(?:'d| would) (?:like|love)\b|^i (?:want|need) (?:you|to know)\b|^i (?:said|told|asked)\b", clause, re.I
        ):
            return None
        if re.search(r"\byou\b|\byour\b", clause, re.I):
            return None  # about the persona, not the user
        ends = bool(_ENDED.search(clause))
        return self._make(
            to_third_person(clause, self.user), clause, ids, subject="user." + _generic_key(clause),
            ends=ends, importance=0.55, reason="the user said this about themselves",
        )  # fmt: skip


_FUNCTION_WORDS = frozenset(
    [
        "i",
        "i'm",
        "i've",
        "my",
        "me",
        "a",
        "an",
        "the",
        "to",
        "of",
        "in",
        "on",
        "at",
        "for",
        "with",
        "and",
        "or",
        "but",
        "is",
        "am",
        "are",
        "was",
        "were",
        "be",
        "been",
        "have",
        "has",
        "had",
        "do",
        "does",
        "did",
        "not",
        "no",
        "don't",
        "doesn't",
        "anymore",
        "longer",
        "used",
        "stopped",
        "quit",
        "gave",
        "up",
        "any",
        "more",
        "really",
        "also",
        "just",
        "now",
        "still",
    ]
)


def _generic_key(clause: str) -> str:
    """A coarse key (verb and first content words, lemmatized) so 'I no longer play the cello' meets
    'I play the cello'."""
    words = [lemma(w) for w in re.findall(r"[a-z']+", clause.lower()) if w not in _FUNCTION_WORDS]
    return ":".join(words[:3]) or "statement"
