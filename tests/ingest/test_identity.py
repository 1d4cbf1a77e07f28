"""Owner identity: alias parsing, matching, bcc_only, inference."""

from __future__ import annotations

import json

from twin.ingest.identity import Matcher, identity_from_aliases, merge
from twin.profiles import Identity


def test_aliases_are_sorted_into_names_addresses_and_phones() -> None:
    ident = identity_from_aliases(["Thota Rao", "Thota@Example.com", "+49 151 1234-5678", "  ", "Rao"])
    assert ident.names == ["Thota Rao", "Rao"]
    assert ident.addresses == ["thota@example.com"]
    assert ident.phones == ["+49 151 1234-5678"]


def test_matching_is_case_space_and_prefix_tolerant() -> None:
    m = Matcher(identity_from_aliases(["thota rao", "thota@example.com", "+49 151 12345678"]))
    assert m("Thota  Rao", None)
    assert m("\u200eThota Rao", None)
    assert m(None, "THOTA@example.com")
    assert m("+49 151 12345678", "+4915112345678")
    assert m("0151 12345678", None)  # national format of the same number
    assert not m("Priya", "priya@example.com")
    assert not m("Thota", None)
    assert not m("2024", None)


def test_bcc_only_needs_evidence_the_owner_received_it_outside_to_cc() -> None:
    m = Matcher(Identity(addresses=["me@example.com"]))
    bcc = json.dumps({"to": ["team@example.com"], "cc": [], "delivered_to": ["me@example.com"]})
    direct = json.dumps({"to": ["me@example.com"], "cc": [], "delivered_to": ["me@example.com"]})
    unknown = json.dumps({"to": ["team@example.com"], "cc": []})
    assert m.is_bcc_only("mbox", 0, bcc) == 1
    assert m.is_bcc_only("mbox", 0, direct) == 0
    assert m.is_bcc_only("mbox", 0, unknown) == 0
    assert m.is_bcc_only("mbox", 1, bcc) == 0  # the owner's own mail
    assert m.is_bcc_only("whatsapp", 0, bcc) == 0


def test_merge_keeps_order_and_drops_duplicates() -> None:
    a = Identity(names=["Thota"], addresses=["a@x.org"])
    b = Identity(names=["Thota", "T. Rao"], phones=["+1 555 0100 200"])
    assert merge(a, b).model_dump() == {
        "names": ["Thota", "T. Rao"],
        "addresses": ["a@x.org"],
        "phones": ["+1 555 0100 200"],
        "inferred": False,
    }
