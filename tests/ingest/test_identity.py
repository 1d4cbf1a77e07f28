"""Owner identity: alias parsing, matching, the identity-dependent mail flags, inference."""

from __future__ import annotations

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
    bcc = {"to": ["dana@example.com"], "cc": [], "delivered_to": ["me@example.com"]}
    direct = {"to": ["me@example.com"], "cc": [], "delivered_to": ["me@example.com"]}
    unknown = {"to": ["dana@example.com"], "cc": []}
    undisclosed: dict[str, list[str]] = {"to": [], "cc": []}
    assert m.mail_flags(False, bcc) == {"bcc_only"}
    assert m.mail_flags(False, direct) == set()
    assert m.mail_flags(False, unknown) == set()
    assert m.mail_flags(False, undisclosed) == {"bcc_only"}  # nobody visible: the owner was a hidden recipient
    assert Matcher(Identity(names=["Me"])).mail_flags(False, bcc) == set()  # no address known: no guess


def test_group_mail_the_owner_is_not_named_in_is_list_mail() -> None:
    m = Matcher(Identity(addresses=["me@example.com"]))
    for group in ("all-staff@corp.example", "everyone@corp.example", "staff.london@corp.example", "team@x.org"):
        assert m.mail_flags(False, {"to": [group], "delivered_to": ["me@example.com"]}) == {"list"}, group
    assert m.mail_flags(False, {"to": ["all-staff@corp.example"], "cc": ["me@example.com"]}) == set()
    assert m.mail_flags(False, {"to": ["allison@corp.example"]}) == set()  # a person, not a group
    assert m.mail_flags(False, {"to": ["teamlead@corp.example"]}) == set()


def test_mail_the_owner_sent_to_a_hidden_audience_is_bcc() -> None:
    m = Matcher(Identity(addresses=["me@example.com", "me@work.example"]))
    assert m.mail_flags(True, {"to": ["me@example.com"], "bcc": ["a@x.org", "b@x.org"]}) == {"bcc"}
    assert m.mail_flags(True, {"to": [], "cc": []}) == {"bcc"}  # To: undisclosed-recipients:;
    assert m.mail_flags(True, {"to": ["dana@x.org"], "bcc": ["c@x.org"]}) == {"bcc"}
    assert m.mail_flags(True, {"to": ["dana@x.org"], "bcc": ["me@work.example"]}) == set()  # a copy to self
    assert m.mail_flags(True, {"to": ["dana@x.org"], "cc": ["me@example.com"]}) == set()


def test_merge_keeps_order_and_drops_duplicates() -> None:
    a = Identity(names=["Thota"], addresses=["a@x.org"])
    b = Identity(names=["Thota", "T. Rao"], phones=["+1 555 0100 200"])
    assert merge(a, b).model_dump() == {
        "names": ["Thota", "T. Rao"],
        "addresses": ["a@x.org"],
        "phones": ["+1 555 0100 200"],
        "inferred": False,
    }
