"""Trail and ledger pages in words (#15.6): the record as a table, the raw canonical JSON behind a
"Show record" toggle for auditors only, byte for byte as stored."""

import html
import re

import pytest
from django.urls import reverse

from audit.records import entry_shown
from ledger.models import LedgerEntry
from rights.models import Grant


def approval():
    return LedgerEntry.objects.get(entry_type="request.approve")


def raw_records(content: bytes) -> list[str]:
    """The texts inside the pages' "Show record" toggles, unescaped."""
    found = re.findall(
        r'<details class="raw-record">.*?<pre><code>(.*?)</code></pre>', content.decode(), re.S
    )
    return [html.unescape(text) for text in found]


def test_entry_page_shows_the_record_as_a_table_in_words(client, approved, requester, reviewer):
    entry = approval()
    client.force_login(requester)
    page = client.get(f"/audit/ledger/{entry.index}/")
    text = page.content.decode()
    assert page.status_code == 200
    rows = {row.key: row for row in page.context["shown"].rows}
    assert list(rows) == ["type", "time", "index", "actor", "departments", "subject", "detail"]
    assert rows["type"].value == "Request approved"
    assert rows["departments"].value == (
        "Civil Affairs Bureau (CIVIL), Health Bureau (HEALTH), Data Management Office (OFFICE)"
    )
    assert rows["actor"].value == f"office (user {reviewer.pk})"
    detail = {row.key: row.value for row in rows["detail"].rows}
    assert detail == {
        "fields": "resident_id, dose_number, birth_date",
        "from": "Management review",
        "to": "Approved",
    }
    grant = Grant.objects.get(request=approved)
    about = {row.label: row.value for row in rows["subject"].rows}
    assert about == {
        "Grant": f"#{grant.pk}",
        "Request": f"#{approved.pk}",
        "Catalog entry": f"#{approved.resource_id}",
    }
    assert '<th scope="row">Event</th>' in text
    assert "<td>Request approved</td>" in text
    assert '<th scope="row">From</th>' in text and "<td>Management review</td>" in text
    assert "request.approve" not in text  # the code is the auditor's, in the raw record
    assert "Show record" not in text
    assert raw_records(page.content) == []


def test_auditor_sees_the_raw_record_byte_for_byte(client, approved, auditor):
    entry = approval()
    client.force_login(auditor)
    page = client.get(f"/audit/ledger/{entry.index}/")
    assert page.status_code == 200
    assert "<summary>Show record</summary>" in page.content.decode()
    assert [raw.encode("utf-8") for raw in raw_records(page.content)] == [entry.entry_bytes]


def test_office_member_is_an_auditor_for_the_toggle(client, approved, reviewer):
    entry = approval()
    client.force_login(reviewer)
    page = client.get(f"/audit/ledger/{entry.index}/")
    assert [raw.encode("utf-8") for raw in raw_records(page.content)] == [entry.entry_bytes]


def test_trail_shows_events_in_words_and_details_as_tables(client, approved, requester):
    client.force_login(requester)
    page = client.get(f"/audit/trail/request/{approved.pk}/")
    text = page.content.decode()
    ledger = [i for i in page.context["items"] if i.source == "ledger"]
    assert [i.what for i in ledger] == [
        "Request submitted",
        "Request endorsed by the owner",
        "Data-sharing agreement drawn up",
        "Request approved",
    ]
    endorse = ledger[1]
    assert {r.key: r.value for r in endorse.rows} == {
        "from": "Owner review",
        "to": "Management review",
    }
    assert endorse.who == (
        "Civil Affairs Bureau (CIVIL), Health Bureau (HEALTH), Data Management Office (OFFICE)"
    )
    assert '{"from"' not in text and "request.submit" not in text
    assert "Show record" not in text
    # history rows written by a step name the step in words too
    history = [i.what for i in page.context["items"] if i.source == "history"]
    assert "Request approved" in history and "Request submitted" in history


def test_trail_gives_auditors_every_ledger_entry_exactly(client, approved, auditor):
    client.force_login(auditor)
    page = client.get(f"/audit/trail/request/{approved.pk}/")
    entries = LedgerEntry.objects.filter(subject__regex=rf"(^| )request:{approved.pk}( |$)")
    expected = [e.entry_bytes for e in entries.order_by("index")]
    assert [raw.encode("utf-8") for raw in raw_records(page.content)] == expected


def test_search_results_in_words(client, approved, auditor):
    client.force_login(auditor)
    page = client.get("/audit/", {"event": "request.approve"})
    text = page.content.decode()
    (row,) = page.context["listed"]
    grant = Grant.objects.get(request=approved)
    assert row.event == "Request approved"
    assert row.subject == (
        f"Grant #{grant.pk}, Request #{approved.pk}, Catalog entry #{approved.resource_id}"
    )
    assert row.departments == (
        "Civil Affairs Bureau (CIVIL), Health Bureau (HEALTH), Data Management Office (OFFICE)"
    )
    assert '<option value="request.approve" selected>Request approved</option>' in text
    assert "<td>Request approved</td>" in text


def test_record_rows_keep_unknown_fields_readable(approved):
    entry = approval()
    shown = entry_shown(entry)
    assert shown.raw.encode("utf-8") == entry.entry_bytes
    assert shown.row("nothing") is None


@pytest.mark.parametrize("code", ["(", "[A-Z]+", "HEALTH|CIVIL", "a" * 40])
def test_a_department_that_is_no_code_is_a_message_not_a_500(client, auditor, approved, code):
    """The code goes into a regular expression: what is not a department code matches nothing
    and the page says why, on both databases."""
    client.force_login(auditor)
    response = client.get(reverse("audit:search"), {"department": code})
    assert response.status_code == 200
    assert "Use 2 to 32 capital letters, digits or underscores" in response.content.decode()
    assert list(response.context["entries"]) == []
