"""A data-sharing agreement's document as numbered sections in the reader's language.

The stored document (``standards.agreements``, format ``govshare-dsa/1``) is language-neutral:
its fixed clauses are codes. ``agreement_sections`` turns them into the sentences of the active
language (gettext), in the order of the Data Sharing and Governance Act 2019, s.19 items, for
both the page and the PDF, so the two never say different things. Free text typed by people
(purpose, legal-basis citation and text) is kept as typed. The sentences describe what the
portal really does: the dispute levels of ``governance.services.disputes``, the end-of-use
attestations of ``rights.attestations``, the access log and the ledger.

Unknown codes are shown as they are rather than dropped: the document is what was signed.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from access_requests.models import Frequency, LegalBasisKind
from catalog.models import DataItem, Method


@dataclass(frozen=True)
class Table:
    """Rows of cells under column headings (the data items, the signatures)."""

    caption: str
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Section:
    """One numbered section: the s.19 item it covers and what the agreement says about it.

    ``rows`` are (label, value) pairs, ``sentences`` paragraphs, ``steps`` an ordered list (the
    dispute levels), ``table`` a table; any of them may be empty.
    """

    number: int
    key: str
    heading: str
    citation: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    table: Table | None = None


def _cite(paragraph: str = "") -> str:
    # Only the paragraphs checked against the Act's text carry a letter (s.19(1)(a)-(n)).
    reference = f"19(1)({paragraph})" if paragraph else "19"
    return _("Data Sharing and Governance Act 2019, s.%(ref)s") % {"ref": reference}


def date_words(value: Any) -> str:
    """An ISO date (``2027-06-30``) in the active language's long date format."""
    try:
        day = datetime.date.fromisoformat(str(value))
    except ValueError:
        return str(value or "")
    return formats.date_format(day, "DATE_FORMAT")


def datetime_words(value: Any) -> str:
    """An ISO date-time in the portal's time zone and the active language's format."""
    try:
        moment = datetime.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value or "")
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return formats.date_format(moment, "SHORT_DATETIME_FORMAT")


def _label(choices: Any, code: Any) -> str:
    return str(dict(choices.choices).get(code, code or ""))


def _party(document: dict[str, Any], role: str) -> dict[str, Any]:
    party: dict[str, Any] = (document.get("parties") or {}).get(role) or {}
    return party


def party_name(party: dict[str, Any]) -> str:
    """ "Health Bureau (HEALTH)", or the code alone if the name is missing."""
    name, code = party.get("name") or "", party.get("code") or ""
    return f"{name} ({code})" if name and code else name or code


def _parties(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (_("Provider (owning department)"), party_name(_party(document, "provider"))),
        (_("Recipient (grantee department)"), party_name(_party(document, "recipient"))),
        (
            _("Holder of the shared-management right"),
            party_name(_party(document, "management")),
        ),
    ]


def _function_sentence(party: dict[str, Any]) -> str:
    name = party_name(party)
    function = party.get("function")
    if function == "provider":
        return _(
            "%(name)s, the owning department, holds the ownership right: it describes, "
            "maintains and assures the quality of the data and keeps ownership of them; "
            "sharing never transfers ownership."
        ) % {"name": name}
    if function == "recipient":
        return _(
            "%(name)s, the grantee department, holds the usage right: it uses the data only "
            "within this agreement, for the purpose above and for its own function under the "
            "legal basis above."
        ) % {"name": name}
    if function == "management":
        return _(
            "%(name)s holds the shared-management right: it approved the sharing, may suspend "
            "or revoke the grant, and decides disputes between the parties."
        ) % {"name": name}
    return f"{name}: {function}"


def _data_items(document: dict[str, Any]) -> Section:
    resource = document.get("resource") or {}
    items = document.get("data_items") or []
    sentences = [
        _(
            "The data come from the resource “%(title)s” (%(identifier)s), version %(version)s "
            "of its catalog entry."
        )
        % {
            "title": resource.get("title", ""),
            "identifier": resource.get("identifier", ""),
            "version": resource.get("version", ""),
        },
        _(
            "Only the data items below are shared, the minimal necessary for the purpose; no "
            "other item of the resource is disclosed."
        ),
    ]
    table = Table(
        caption=_("The data items shared"),
        headers=[_("Data item"), _("Type"), _("Description"), _("Sensitivity")],
        rows=[
            [
                str(item.get("name", "")),
                _label(DataItem.Type, item.get("type")),
                str(item.get("description") or "—"),
                _label(DataItem.Sensitivity, item.get("sensitivity")),
            ]
            for item in items
        ],
    )
    return Section(
        3, "data_items", _("The data to be shared"), _cite("b"), [], sentences, [], table
    )


def _legal_basis(document: dict[str, Any]) -> list[tuple[str, str]]:
    basis = document.get("legal_basis") or {}
    rows = [
        (_("Kind of legal basis"), _label(LegalBasisKind, basis.get("kind"))),
        (_("Citation"), str(basis.get("citation", ""))),
    ]
    if basis.get("article"):
        rows.append((_("Article"), str(basis["article"])))
    if basis.get("text"):
        rows.append((_("Text of the provision"), str(basis["text"])))
    return rows


METHOD_SENTENCES: dict[str, Callable[[], str]] = {
    Method.PERIODIC_COPY: lambda: _(
        "The portal delivers a file of the approved items from the newest release at each "
        "period; periods missed while the portal was down are caught up."
    ),
    Method.UPLOAD: lambda: _(
        "Each new release the owning department uploads is delivered to the recipient, limited "
        "to the approved items."
    ),
    Method.REALTIME: lambda: _(
        "The recipient's systems ask the portal's interface for records of the newest release "
        "and receive only the approved items of the matching records."
    ),
    Method.RESULT_ONLY: lambda: _(
        "The recipient asks whether a record exists or whether an item has a given value, and "
        "receives only the answer (yes or no), never the record."
    ),
}


def _limit(value: Any) -> str:
    return formats.number_format(value, force_grouping=True) if value else _("no limit")


def _method(document: dict[str, Any]) -> Section:
    method, frequency = str(document.get("method") or ""), document.get("frequency")
    limits = document.get("limits") or {}
    rows = [(_("Sharing method"), _label(Method, method))]
    if frequency:
        rows.append((_("Frequency"), _label(Frequency, frequency)))
    rows += [
        (_("Records per day (limit)"), _limit(limits.get("max_records_per_day"))),
        (_("Calls per day (limit)"), _limit(limits.get("max_calls_per_day"))),
    ]
    sentence = METHOD_SENTENCES.get(method)
    sentences = [sentence()] if sentence else []
    sentences.append(
        _(
            "The sharing is ongoing for the period of the agreement, not once-off, and each "
            "disclosure is of the records of individual data subjects within the approved items."
        )
    )
    heading = _("How the data is shared, and how often")
    return Section(6, "method", heading, _cite("h"), rows, sentences)


SECURITY_SENTENCES: dict[str, Callable[[], str]] = {
    "tls": lambda: _(
        "Every connection to the portal is encrypted (HTTPS with TLS), and browsers are told to "
        "use nothing else."
    ),
    "role_access": lambda: _(
        "Only the recipient department's group holds the permission to use this grant, and only "
        "while the grant is active: a suspension, revocation or expiry removes it at once."
    ),
    "access_log": lambda: _(
        "Every download, interface call and result-only check is written to the access log — "
        "allowed, refused or over a limit — with the user, the department and the time."
    ),
    "ledger": lambda: _(
        "Every step of the sharing (the approval, the SHA-256 of each delivery, the signatures, "
        "the end of use) is an entry in the portal's tamper-evident ledger, a Merkle tree whose "
        "signed checkpoints independent witnesses cosign where the office has set them up; the "
        "ledger never holds the data themselves."
    ),
    "least_items": lambda: _(
        "Only the approved data items are ever delivered or answered; every other item of the "
        "resource is withheld."
    ),
    "daily_limits": lambda: _(
        "The daily limits above are checked on every interface call; a call over a limit is "
        "refused and logged."
    ),
}


def _security(document: dict[str, Any]) -> list[str]:
    codes = list(document.get("security_measures") or [])
    limits = document.get("limits") or {}
    if "daily_limits" not in codes and any(limits.values()):
        codes.append("daily_limits")
    return [
        SECURITY_SENTENCES[code]() if code in SECURITY_SENTENCES else str(code) for code in codes
    ]


def _retention(document: dict[str, Any]) -> list[str]:
    retention = document.get("retention") or {}
    until = date_words(retention.get("until") or (document.get("period") or {}).get("until"))
    sentences = [
        _(
            "The recipient keeps the data it receives, and what it derives from them, until "
            "%(date)s, the end of the agreement, and no longer."
        )
        % {"date": until}
    ]
    end_of_use = retention.get("end_of_use")
    if end_of_use == "delete_or_return":
        sentences.append(
            _(
                "When the agreement ends, at its end date or earlier by revocation, the recipient "
                "deletes every copy of the data or returns it to the provider."
            )
        )
    elif end_of_use == "delete":
        sentences.append(
            _("When the agreement ends, the recipient deletes every copy of the data.")
        )
    elif end_of_use == "return":
        sentences.append(
            _("When the agreement ends, the recipient returns every copy of the data.")
        )
    elif end_of_use:
        sentences.append(str(end_of_use))
    days = retention.get("attestation_days")
    if days:
        sentences.append(
            ngettext(
                "Within %(days)d working day of the end, a requester of the recipient department "
                "attests in the portal which was done (copies deleted or returned); the "
                "attestation goes into the ledger, and a late one is reported to the data "
                "management office.",
                "Within %(days)d working days of the end, a requester of the recipient "
                "department attests in the portal which was done (copies deleted or returned); "
                "the attestation goes into the ledger, and a late one is reported to the data "
                "management office.",
                days,
            )
            % {"days": days}
        )
    return sentences


def _dispute_step(code: str, disputes: dict[str, Any]) -> str:
    # The portal's three levels (governance.services.disputes): negotiation between the two
    # departments, the office's decision, the supervising authority's decision recorded as
    # final. The deadlines are the ones the document carries (in force when it was made).
    if code == "negotiation":
        days = disputes.get("negotiation_days")
        if days:
            return ngettext(
                "Negotiation: the two departments try to settle the dispute between themselves, "
                "with statements and evidence in the portal, within %(days)d working day; "
                "either may then escalate it.",
                "Negotiation: the two departments try to settle the dispute between themselves, "
                "with statements and evidence in the portal, within %(days)d working days; "
                "either may then escalate it.",
                days,
            ) % {"days": days}
        return _(
            "Negotiation: the two departments try to settle the dispute between themselves, "
            "with statements and evidence in the portal; either may escalate it."
        )
    if code == "office_decision":
        days = disputes.get("office_decision_days")
        if days:
            return ngettext(
                "The data management office: it decides the escalated dispute within %(days)d "
                "working day, with its reasons and the party held responsible.",
                "The data management office: it decides the escalated dispute within %(days)d "
                "working days, with its reasons and the party held responsible.",
                days,
            ) % {"days": days}
        return _(
            "The data management office: it decides the escalated dispute, with its reasons and "
            "the party held responsible."
        )
    if code == "authority_decision":
        return _(
            "The supervising authority: after the office's decision, or at once when the office "
            "is itself a party, either department may refer the dispute to the supervising "
            "authority, whose decision the office records as final."
        )
    return str(code)


def _breach(document: dict[str, Any]) -> tuple[list[str], list[str]]:
    disputes = document.get("breach_and_disputes") or {}
    hours = disputes.get("breach_notice_hours")
    sentences = []
    if hours:
        sentences.append(
            ngettext(
                "A party that finds a breach of this agreement (data used beyond it, disclosed, "
                "lost or exposed) tells the other parties and the data management office within "
                "%(hours)d hour.",
                "A party that finds a breach of this agreement (data used beyond it, disclosed, "
                "lost or exposed) tells the other parties and the data management office within "
                "%(hours)d hours.",
                hours,
            )
            % {"hours": hours}
        )
    sentences += [
        _(
            "The holder of the shared-management right may suspend the grant at once while a "
            "breach is examined, and revoke it."
        ),
        _(
            "A dispute about this agreement is raised in the portal and settled in up to three "
            "levels; every step and decision is recorded in the ledger:"
        ),
    ]
    steps = [_dispute_step(code, disputes) for code in disputes.get("dispute_levels") or []]
    return sentences, steps


VARIATION_SENTENCES: dict[str, Callable[[], str]] = {
    "new_request": lambda: _(
        "Varying: the agreement never changes once generated. Other items, another purpose, "
        "method or period need a new request, reviewed and approved like the first, which "
        "brings a new agreement."
    ),
    "renewal_request": lambda: _(
        "Renewing: the recipient may file a renewal request prefilled from this grant; once "
        "approved, it brings a new agreement for the new period. A revoked grant cannot be "
        "renewed."
    ),
}
END_SENTENCES: dict[str, Callable[[], str]] = {
    "expiry": lambda: _("Ending: the agreement ends at its end date, when the grant expires."),
    "revocation": lambda: _(
        "It ends earlier if the holder of the shared-management right revokes the grant; a "
        "revocation is final."
    ),
    "suspension": lambda: _(
        "While the holder of the shared-management right suspends the grant, no data is "
        "shared; the grant may resume only within the period."
    ),
}


def _variation(document: dict[str, Any]) -> list[str]:
    variation = document.get("variation") or {}
    sentences = []
    for key in ("vary", "renew"):
        code = variation.get(key)
        if code:
            sentence = VARIATION_SENTENCES.get(code)
            sentences.append(sentence() if sentence else str(code))
    for code in variation.get("end") or []:
        sentence = END_SENTENCES.get(code)
        sentences.append(sentence() if sentence else str(code))
    return sentences


def _period(document: dict[str, Any]) -> Section:
    period = document.get("period") or {}
    start, end = date_words(period.get("from")), date_words(period.get("until"))
    return Section(
        11,
        "period",
        _("The period of the agreement"),
        _cite(),
        [(_("Valid from"), start), (_("Valid until"), end)],
        [
            _("The agreement applies from %(start)s to %(end)s inclusive.")
            % {"start": start, "end": end}
        ],
    )


ROLE_LABELS: dict[str, Callable[[], str]] = {
    "provider": lambda: _("Provider"),
    "recipient": lambda: _("Recipient"),
}


def _signatures(document: dict[str, Any], signatures: list[dict[str, Any]]) -> Section:
    names = {
        party.get("code"): party_name(party) for party in (document.get("parties") or {}).values()
    }
    rows = [
        [
            str(names.get(signature.get("department")) or signature.get("department", "")),
            ROLE_LABELS[signature["role"]]()
            if signature.get("role") in ROLE_LABELS
            else str(signature.get("role", "")),
            str(signature.get("signer", "")),
            datetime_words(signature.get("signed_at")),
        ]
        for signature in signatures
    ]
    table = None
    sentences = []
    if rows:
        table = Table(
            caption=_("Who has signed the agreement"),
            headers=[_("Department"), _("Signed as"), _("Signer"), _("Signed at")],
            rows=rows,
        )
    else:
        sentences.append(_("Nobody has signed the agreement yet."))
    return Section(12, "signatures", _("Signatures"), "", [], sentences, [], table)


def agreement_sections(document: dict[str, Any], signatures: list[dict[str, Any]]) -> list[Section]:
    """The agreement as numbered sections in the active language, one per s.19 item (the
    parties, purpose, data, legal basis, functions, method and frequency, security, retention
    and end of use, breach and disputes, variation, period), then the signatures so far."""
    purpose = str(document.get("purpose", ""))
    breach, steps = _breach(document)
    parties = [_party(document, role) for role in ("provider", "recipient", "management")]
    return [
        Section(1, "parties", _("The parties"), _cite("a"), _parties(document)),
        Section(
            2,
            "purpose",
            _("The purpose of the data sharing"),
            _cite("c"),
            [],
            [purpose, _("The recipient uses the data for this purpose only.")],
        ),
        _data_items(document),
        Section(4, "legal_basis", _("The legal basis"), _cite("e"), _legal_basis(document)),
        Section(
            5,
            "functions",
            _("The function of each party"),
            _cite("d"),
            [],
            [_function_sentence(party) for party in parties if party],
        ),
        _method(document),
        Section(7, "security", _("Security measures"), _cite("m"), [], _security(document)),
        Section(
            8,
            "retention",
            _("Retention, and what happens to the data at the end"),
            _cite("n"),
            [],
            _retention(document),
        ),
        Section(
            9,
            "breach_and_disputes",
            _("Breaches and disputes"),
            _cite(),
            [],
            breach,
            steps,
        ),
        Section(
            10,
            "variation",
            _("Varying, renewing and ending the agreement"),
            _cite(),
            [],
            _variation(document),
        ),
        _period(document),
        _signatures(document, signatures),
    ]
