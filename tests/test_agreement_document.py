"""The data-sharing agreement as a page and a PDF (issue #14, point 4): every DSGA 2019 s.19 item,
in English and Chinese, for the grant's parties only."""

import hashlib
import io
import re

import pypdf
import pytest
import rfc8785
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from departments.models import Membership, Profile
from standards import views_agreement
from standards.agreement_pdf import agreement_pdf
from standards.agreement_render import agreement_sections
from tests.conftest import make_user
from tests.test_disputes import make_grant

SHA = "9f2c" * 16

# The document as dsa-document.md describes it, literally.
DOCUMENT = {
    "format": "govshare-dsa/1",
    "uri": "http://127.0.0.1:8000/id/grants/7/agreement",
    "grant": 7,
    "request": 11,
    "request_reference": "11",
    "generated_at": "2026-12-03T10:00:00+00:00",
    "parties": {
        "provider": {
            "code": "HEALTH",
            "name": "Health Bureau",
            "uri": "http://127.0.0.1:8000/id/departments/HEALTH",
            "function": "provider",
        },
        "recipient": {
            "code": "CIVIL",
            "name": "Civil Affairs Bureau",
            "uri": "http://127.0.0.1:8000/id/departments/CIVIL",
            "function": "recipient",
        },
        "management": {
            "code": "DMO",
            "name": "Data Management Office",
            "uri": "http://127.0.0.1:8000/id/departments/DMO",
            "function": "management",
        },
    },
    "resource": {
        "identifier": "HEALTH-VACC-001",
        "title": "Vaccination records",
        "version": 3,
        "uri": "http://127.0.0.1:8000/id/datasets/HEALTH-VACC-001",
    },
    "purpose": "Check vaccination status for school enrolment.",
    "data_items": [
        {"name": "resident_id", "type": "string", "description": "", "sensitivity": "personal"},
        {
            "name": "birth_date",
            "type": "date",
            "description": "Date of birth",
            "sensitivity": "personal",
        },
        {"name": "dose_number", "type": "integer", "description": "", "sensitivity": "internal"},
    ],
    "legal_basis": {"kind": "statute", "citation": "Education Law", "article": "art. 12"},
    "method": "realtime",
    "frequency": "",
    "limits": {"max_records_per_day": 1000, "max_calls_per_day": None},
    "security_measures": ["tls", "access_log", "ledger", "least_items", "role_access"],
    "retention": {"until": "2027-06-30", "end_of_use": "delete_or_return", "attestation_days": 10},
    "breach_and_disputes": {
        "breach_notice_hours": 24,
        "dispute_levels": ["negotiation", "office_decision", "authority_decision"],
        "negotiation_days": 10,
        "office_decision_days": 5,
    },
    "variation": {
        "vary": "new_request",
        "renew": "renewal_request",
        "end": ["expiry", "revocation", "suspension"],
    },
    "period": {"from": "2026-12-03", "until": "2027-06-30"},
}
SIGNATURES = [
    {
        "department": "HEALTH",
        "role": "provider",
        "signer": "health_steward",
        "signed_at": "2026-12-04T09:30:00+00:00",
        "sha256": SHA,
        "ledger_index": 42,
    }
]
# (key, heading msgid): one section per s.19 item, then the signatures.
SECTIONS = [
    ("parties", "The parties"),
    ("purpose", "The purpose of the data sharing"),
    ("data_items", "The data to be shared"),
    ("legal_basis", "The legal basis"),
    ("functions", "The function of each party"),
    ("method", "How the data is shared, and how often"),
    ("security", "Security measures"),
    ("retention", "Retention, and what happens to the data at the end"),
    ("breach_and_disputes", "Breaches and disputes"),
    ("variation", "Varying, renewing and ending the agreement"),
    ("period", "The period of the agreement"),
    ("signatures", "Signatures"),
]


def flat(text):
    return re.sub(r"\s+", " ", text).strip()


def pdf_text(data):
    reader = pypdf.PdfReader(io.BytesIO(data))
    return reader, flat(" ".join(page.extract_text() for page in reader.pages))


def by_key(sections):
    return {section.key: section for section in sections}


# --- the sections -----------------------------------------------------------------------------


def test_every_s19_item_is_a_numbered_section_in_order():
    with translation.override("en"):
        sections = agreement_sections(DOCUMENT, SIGNATURES)
    assert [(s.number, s.key, s.heading) for s in sections] == [
        (n, key, heading) for n, (key, heading) in enumerate(SECTIONS, start=1)
    ]
    assert [s.citation for s in sections[:8]] == [
        f"Data Sharing and Governance Act 2019, s.19(1)({letter})"
        for letter in ["a", "c", "b", "e", "d", "h", "m", "n"]
    ]


def test_the_codes_become_sentences_in_english():
    with translation.override("en"):
        s = by_key(agreement_sections(DOCUMENT, SIGNATURES))
    assert s["parties"].rows == [
        ("Provider (owning department)", "Health Bureau (HEALTH)"),
        ("Recipient (grantee department)", "Civil Affairs Bureau (CIVIL)"),
        ("Holder of the shared-management right", "Data Management Office (DMO)"),
    ]
    assert s["purpose"].sentences[0] == "Check vaccination status for school enrolment."
    assert s["data_items"].table.headers == ["Data item", "Type", "Description", "Sensitivity"]
    assert s["data_items"].table.rows == [
        ["resident_id", "Text", "—", "Personal"],
        ["birth_date", "Date (YYYY-MM-DD)", "Date of birth", "Personal"],
        ["dose_number", "Integer", "—", "Internal"],
    ]
    assert "“Vaccination records” (HEALTH-VACC-001), version 3" in s["data_items"].sentences[0]
    assert s["legal_basis"].rows == [
        ("Kind of legal basis", "Statute"),
        ("Citation", "Education Law"),
        ("Article", "art. 12"),
    ]
    assert [x.split(",")[0] for x in s["functions"].sentences] == [
        "Health Bureau (HEALTH)",
        "Civil Affairs Bureau (CIVIL)",
        "Data Management Office (DMO) holds the shared-management right: it approved the sharing",
    ]
    assert s["method"].rows == [
        ("Sharing method", "Real-time interface"),
        ("Records per day (limit)", "1,000"),
        ("Calls per day (limit)", "no limit"),
    ]
    assert len(s["security"].sentences) == 6  # five codes, and the daily limit that is set
    assert s["security"].sentences[0].startswith("Every connection to the portal is encrypted")
    assert "Merkle tree" in s["security"].sentences[2]
    assert s["security"].sentences[5].startswith("The daily limits above are checked")
    assert (
        s["retention"]
        .sentences[0]
        .startswith(
            "The recipient keeps the data it receives, and what it derives from them, until "
            "2027-06-30"
        )
    )
    assert "deletes every copy of the data or returns it" in s["retention"].sentences[1]
    assert s["retention"].sentences[2].startswith("Within 10 working days of the end")
    assert s["breach_and_disputes"].sentences[0].endswith("within 24 hours.")
    assert [step.split(":")[0] for step in s["breach_and_disputes"].steps] == [
        "Negotiation",
        "The data management office",
        "The supervising authority",
    ]
    assert [x.split(":")[0] for x in s["variation"].sentences[:3]] == [
        "Varying",
        "Renewing",
        "Ending",
    ]
    assert len(s["variation"].sentences) == 5
    assert s["period"].rows == [("Valid from", "2026-12-03"), ("Valid until", "2027-06-30")]
    assert s["signatures"].table.rows == [
        ["Health Bureau (HEALTH)", "Provider", "health_steward", "2026-12-04 09:30"]
    ]


def test_the_deadlines_of_the_levels_appear_when_the_document_has_them():
    document = {
        **DOCUMENT,
        "breach_and_disputes": {
            **DOCUMENT["breach_and_disputes"],
            "negotiation_days": 10,
            "office_decision_days": 1,
        },
    }
    with translation.override("en"):
        steps = by_key(agreement_sections(document, []))["breach_and_disputes"].steps
    assert "within 10 working days;" in steps[0]
    assert "within 1 working day," in steps[1]


def test_unknown_codes_are_shown_as_they_are_and_nobody_signed_says_so():
    document = {**DOCUMENT, "security_measures": ["tls", "quantum_vault"], "limits": {}}
    with translation.override("en"):
        s = by_key(agreement_sections(document, []))
    assert s["security"].sentences[1] == "quantum_vault"
    assert len(s["security"].sentences) == 2
    assert s["signatures"].table is None
    assert s["signatures"].sentences == ["Nobody has signed the agreement yet."]


def test_the_sections_follow_the_active_language_chinese():
    with translation.override("zh-hans"):
        sections = agreement_sections(DOCUMENT, SIGNATURES)
        expected = [gettext(heading) for _key, heading in SECTIONS]
        method = gettext("Real-time interface")
        label = gettext("Sharing method")
    assert [s.heading for s in sections] == expected
    assert by_key(sections)["method"].rows[0] == (label, method)
    assert method == "实时接口"  # an existing translation: the labels come from the models
    assert by_key(sections)["period"].rows[0][1] == "2026年12月3日"


# --- the PDF ----------------------------------------------------------------------------------


def test_the_pdf_opens_and_holds_every_s19_field():
    with translation.override("en"):
        data = agreement_pdf(DOCUMENT, SIGNATURES, SHA)
    assert data.startswith(b"%PDF")
    reader, text = pdf_text(data)
    assert len(reader.pages) >= 2
    assert reader.metadata.title == "Data-sharing agreement for grant #7"
    for value in [
        "Health Bureau (HEALTH)",
        "Civil Affairs Bureau (CIVIL)",
        "Data Management Office (DMO)",
        "Check vaccination status for school enrolment.",
        "resident_id",
        "birth_date",
        "dose_number",
        "Education Law",
        "art. 12",
        "Real-time interface",
        "The agreement applies from 2026-12-03 to 2027-06-30 inclusive.",
        "until 2027-06-30, the end of the agreement",
        "deletes every copy of the data or returns it to the provider",
        "Within 10 working days of the end",
        "within 24 hours",
        "Negotiation: the two departments",
        "health_steward",
        SHA,
    ]:
        assert value in text, value
    for _key, heading in SECTIONS:
        assert heading in text, heading
    # Every page's footer, and the facts at the top of the first page.
    assert text.count(f"SHA-256 {SHA}") == len(reader.pages) + 1
    assert f"Page 1 of {len(reader.pages)}" in text


def test_a_chinese_pdf_renders_in_the_cid_font():
    with translation.override("zh-hans"):
        data = agreement_pdf(DOCUMENT, SIGNATURES, SHA)
    reader, text = pdf_text(data)
    assert len(reader.pages) >= 2
    fonts = {
        str(font["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert "/STSong-Light" in fonts
    assert text.count(f"SHA-256 {SHA}") == len(reader.pages) + 1
    # pypdf reads STSong-Light's text back (its UniGB-UCS2 encoding maps to Unicode).
    with translation.override("zh-hans"):
        expected = [gettext(heading) for _key, heading in SECTIONS]
    for value in [
        *expected,
        "2026年12月3日",
        "2027年6月30日",
        "Health Bureau (HEALTH)",
        "Check vaccination status for school enrolment.",
        "resident_id",
        "birth_date",
        "dose_number",
        "Education Law",
        "实时接口",
    ]:
        assert value in text, value


# --- the page and the download ----------------------------------------------------------------


@pytest.fixture
def grant(released, requester, steward, reviewer, departments):
    return make_grant(released, requester, steward, reviewer, departments)


@pytest.fixture
def police(departments):
    return make_user("police_clerk", departments["POLICE"], Membership.Role.REQUESTER)


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def urls(grant):
    return [
        reverse("agreements:agreement_detail", args=[grant.pk]),
        reverse("agreements:agreement_pdf", args=[grant.pk]),
    ]


def test_the_routes_are_under_the_grant(grant):
    assert urls(grant) == [f"/grants/{grant.pk}/agreement/", f"/grants/{grant.pk}/agreement.pdf"]


def test_the_stored_document_follows_the_contract(grant, departments):
    document, signatures, sha256 = views_agreement._agreement_for(grant)
    assert sorted(document) == sorted(DOCUMENT)
    assert document["parties"]["management"]["code"] == "OFFICE"
    assert [item["name"] for item in document["data_items"]] == grant.fields
    assert document["retention"]["attestation_days"] == 10
    assert signatures == []
    assert sha256 == hashlib.sha256(rfc8785.dumps(document)).hexdigest()


@pytest.mark.parametrize("who", ["steward", "requester", "reviewer"])
def test_each_party_reads_every_section_of_the_page(request, grant, who):
    page = signed_in(request.getfixturevalue(who)).get(urls(grant)[0], HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    document, _signatures, sha256 = views_agreement._agreement_for(grant)
    for n, (key, heading) in enumerate(SECTIONS, start=1):
        assert f'<h2 id="agreement-{key}">{n}. {heading}</h2>' in html
    assert f'<code class="hash">{sha256}</code>' in html
    assert '<th scope="row">resident_id</th>' in html
    assert "Civil Affairs Bureau (CIVIL)" in html
    assert "<p>School enrolment.</p>" in html
    assert f'href="/grants/{grant.pk}/agreement.pdf"' in html
    # Nobody has signed yet: the owner's steward may sign as the provider, the grantee's
    # requester as the recipient; the office reads it but signs nothing.
    buttons = {"steward": "Sign as the provider", "requester": "Sign as the recipient"}
    if who in buttons:
        assert buttons[who] in html
        assert html.count("Sign as the") == 1
    else:
        assert "Sign as the" not in html


def test_the_page_follows_the_users_language(grant, requester):
    Profile.objects.create(user=requester, language="zh-hans")
    page = signed_in(requester).get(urls(grant)[0], HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert '<html lang="zh-hans">' in page.content.decode()
    with translation.override("zh-hans"):
        headings = [gettext(heading) for _key, heading in SECTIONS]
    html = page.content.decode()
    for n, ((key, _msgid), heading) in enumerate(zip(SECTIONS, headings, strict=True), start=1):
        assert f'<h2 id="agreement-{key}">{n}. {heading}</h2>' in html
    assert "实时接口" in html  # the method's label in Chinese


def test_the_pdf_download_is_a_pdf_named_after_the_grant(grant, steward):
    response = signed_in(steward).get(urls(grant)[1], HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="agreement-grant-{grant.pk}.pdf"'
    _reader, text = pdf_text(response.content)
    _document, _signatures, sha256 = views_agreement._agreement_for(grant)
    assert sha256 in text
    assert "Health Bureau (HEALTH)" in text and "Education Law" in text


def test_the_pdf_download_in_chinese(grant, requester):
    Profile.objects.create(user=requester, language="zh-hans")
    response = signed_in(requester).get(urls(grant)[1])
    assert response.status_code == 200
    reader, _text = pdf_text(response.content)
    fonts = {str(f["/BaseFont"]) for f in reader.pages[0]["/Resources"]["/Font"].values()}
    assert "/STSong-Light" in fonts


def test_outsider_gets_404_for_page_and_pdf(grant, police, outsider_steward):
    for user in (police, outsider_steward):
        client = signed_in(user)
        for url in urls(grant):
            assert client.get(url).status_code == 404


def test_an_unknown_grant_is_404(grant, steward):
    client = signed_in(steward)
    assert client.get(f"/grants/{grant.pk + 1000}/agreement/").status_code == 404
    assert client.get(f"/grants/{grant.pk + 1000}/agreement.pdf").status_code == 404


def test_anonymous_is_sent_to_sign_in(grant):
    for url in urls(grant):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.fixture
def sign_route(monkeypatch):
    """The sign route of the dsa branch, as if merged."""
    monkeypatch.setattr(views_agreement, "_sign_url", lambda grant: f"/sign/{grant.pk}/")


@pytest.mark.parametrize(
    ("who", "buttons"),
    [
        ("steward", ["Sign as the provider"]),
        ("requester", ["Sign as the recipient"]),
        ("reviewer", []),
    ],
)
def test_the_sign_form_is_for_a_party_that_may_still_sign(request, grant, sign_route, who, buttons):
    html = signed_in(request.getfixturevalue(who)).get(urls(grant)[0]).content.decode()
    shown = [label for label in ("Sign as the provider", "Sign as the recipient") if label in html]
    assert shown == buttons
    assert (f'action="/sign/{grant.pk}/"' in html) == bool(buttons)


def test_who_has_signed_sees_no_sign_form(grant, steward, sign_route, monkeypatch):
    document, _signatures, sha256 = views_agreement._agreement_for(grant)
    signed = [{**SIGNATURES[0], "signed_at": "2026-12-04T09:30:00+00:00"}]
    monkeypatch.setattr(views_agreement, "_agreement_for", lambda g: (document, signed, sha256))
    html = signed_in(steward).get(urls(grant)[0], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Sign as the provider" not in html
    assert "<td>health_steward</td><td>2026-12-04 09:30</td>" in html
