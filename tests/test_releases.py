"""Release upload: validation with a row-level report, the size limit, storage of the rows."""

import hashlib

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from catalog import release_store, services
from catalog.models import Release
from core.exceptions import PayloadTooLarge
from tests.conftest import GOOD_CSV, csv_upload

HEADER = "resident_id,birth_date,dose_number,fee,adverse_event\n"


def release_state(resource):
    tables = set(connection.introspection.table_names())
    return (
        list(Release.objects.filter(resource=resource).values_list("sequence", "sha256")),
        sorted(t for t in tables if t.startswith("catalog_release_rows_")),
    )


def test_accepted_release_is_stored_with_hash_rows_and_typed_table(released, steward):
    release = released.releases.get()
    assert release.sequence == 1
    assert release.row_count == 3
    assert release.sha256 == hashlib.sha256(GOOD_CSV.encode()).hexdigest()
    assert release.size_bytes == len(GOOD_CSV.encode())
    assert release.report["accepted"] is True
    assert release.report["errors"] == []
    assert release.uploaded_by == steward
    assert release.file.read() == GOOD_CSV.encode()
    rows = list(release_store.iter_rows(release.table_name, ["resident_id", "dose_number", "fee"]))
    assert [(r[0], r[1]) for r in rows] == [("R001", 1), ("R002", 2), ("R003", 1)]
    assert str(rows[0][2]) == "12.50"
    assert rows[1][2] is None


def test_columns_may_come_in_any_order_and_a_bom_is_accepted(published, steward):
    text = "\ufeffdose_number,resident_id,birth_date,adverse_event,fee\n1,R9,1990-01-01,yes,3\n"
    release = services.release_ingest(actor=steward, resource=published, upload=csv_upload(text))
    assert release.row_count == 1
    rows = list(release_store.iter_rows(release.table_name, ["resident_id", "adverse_event"]))
    assert rows[0][0] == "R9"
    assert rows[0][1] in (True, 1)


BAD_FILES = [
    (
        "unknown column",
        HEADER.strip() + ",extra\nR1,1980-01-01,1,,false,x\n",
        1,
        "extra",
        "unknown",
    ),
    (
        "missing column",
        "resident_id,birth_date,dose_number,fee\nR1,1980-01-01,1,\n",
        1,
        "adverse_event",
        "missing column",
    ),
    (
        "duplicate column",
        "resident_id,resident_id,birth_date,dose_number,fee,adverse_event\n",
        1,
        "resident_id",
        "more than once",
    ),
    ("bad integer", HEADER + "R1,1980-01-01,one,,false\n", 2, "dose_number", "not a whole number"),
    ("bad decimal", HEADER + "R1,1980-01-01,1,12,5,false\n", 2, "", "expected 5 values"),
    ("bad decimal text", HEADER + "R1,1980-01-01,1,abc,false\n", 2, "fee", "not a decimal"),
    (
        "bad date",
        HEADER + "R1,31/02/2020,1,,false\n",
        2,
        "birth_date",
        "'31/02/2020' is not a date (expected YYYY-MM-DD)",
    ),
    ("impossible date", HEADER + "R1,2021-02-29,1,,false\n", 2, "birth_date", "not a date"),
    ("bad boolean", HEADER + "R1,1980-01-01,1,,perhaps\n", 2, "adverse_event", "yes/no"),
    ("required empty", HEADER + "R1,1980-01-01,,,false\n", 2, "dose_number", "required"),
    ("empty file", "", 1, "", "empty"),
    ("header only", HEADER, 2, "", "no records"),
    (
        "integer overflow",
        HEADER + "R1,1980-01-01,99999999999999999999,,false\n",
        2,
        "dose_number",
        "64-bit",
    ),
]


@pytest.mark.parametrize(
    ("kind", "text", "line", "column", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES]
)
def test_bad_file_is_refused_with_its_report_and_the_previous_release_stays(
    released, steward, kind, text, line, column, message
):
    before = release_state(released)
    with pytest.raises(services.ReleaseRejected) as caught:
        services.release_ingest(actor=steward, resource=released, upload=csv_upload(text))
    errors = caught.value.report["errors"]
    assert {"line": line, "column": column} == {k: errors[0][k] for k in ("line", "column")}
    assert message in errors[0]["message"]
    assert release_state(released) == before


def test_invalid_utf8_names_the_line(released, steward):
    raw = (HEADER + "R1,1980-01-01,1,,false\n").encode() + b"R\xff2,1980-01-01,1,,false\n"
    before = release_state(released)
    with pytest.raises(services.ReleaseRejected) as caught:
        services.release_ingest(actor=steward, resource=released, upload=csv_upload(raw))
    assert caught.value.report["errors"] == [
        {
            "line": 3,
            "column": "",
            "message": "the file is not valid UTF-8 text (save it as UTF-8 CSV)",
        }
    ]
    assert release_state(released) == before


def test_errors_are_capped(released, steward, settings):
    settings.RELEASE_MAX_ERRORS = 5
    text = HEADER + "R1,bad,1,,false\n" * 50
    with pytest.raises(services.ReleaseRejected) as caught:
        services.release_ingest(actor=steward, resource=released, upload=csv_upload(text))
    report = caught.value.report
    assert len(report["errors"]) == 5
    assert report["error_count_capped"] is True
    assert "only the first 5" in str(caught.value.message)


def test_file_over_the_size_limit_is_413_and_changes_nothing(released, steward, settings):
    settings.RELEASE_MAX_BYTES = 50
    before = release_state(released)
    with pytest.raises(PayloadTooLarge):
        services.release_ingest(actor=steward, resource=released, upload=csv_upload(GOOD_CSV))
    client = APIClient()
    client.force_authenticate(steward)
    response = client.post(
        f"/api/v1/resources/{released.pk}/releases/",
        {"file": csv_upload(GOOD_CSV)},
        format="multipart",
    )
    assert response.status_code == 413
    # Stopped by the upload limit while the body was read (core/uploads.py).
    assert response.json() == {
        "detail": "The file is larger than 50\xa0bytes, the most a file sent here may be; the "
        "upload was stopped and nothing was saved.",
        "limit_bytes": 50,
    }
    assert release_state(released) == before


def test_second_release_becomes_current_and_the_first_is_kept(released, steward):
    text = HEADER + "R010,1999-09-09,3,,false\n"
    second = services.release_ingest(actor=steward, resource=released, upload=csv_upload(text))
    assert second.sequence == 2
    assert [r.sequence for r in released.releases.all()] == [2, 1]
    first = released.releases.get(sequence=1)
    assert release_store.count_rows(first.table_name) == 3
    assert release_store.count_rows(second.table_name) == 1


def test_outsider_steward_cannot_upload(released, outsider_steward, owner_requester):
    from django.core.exceptions import PermissionDenied

    before = release_state(released)
    for actor in (outsider_steward, owner_requester):
        with pytest.raises(PermissionDenied):
            services.release_ingest(actor=actor, resource=released, upload=csv_upload(GOOD_CSV))
    client = APIClient()
    client.force_authenticate(outsider_steward)
    response = client.post(
        f"/api/v1/resources/{released.pk}/releases/",
        {"file": csv_upload(GOOD_CSV)},
        format="multipart",
    )
    assert response.status_code == 403
    assert release_state(released) == before


def test_api_upload_refused_file_returns_the_report(released, steward):
    client = APIClient()
    client.force_authenticate(steward)
    response = client.post(
        f"/api/v1/resources/{released.pk}/releases/",
        {"file": csv_upload(HEADER + "R1,1980-13-01,1,,false\n")},
        format="multipart",
    )
    assert response.status_code == 400
    body = response.json()
    assert "Nothing was changed" in body["detail"]
    assert body["report"]["errors"][0]["column"] == "birth_date"
    listed = client.get(f"/api/v1/resources/{released.pk}/releases/").json()
    assert listed["count"] == 1


def test_web_upload_shows_the_report_and_then_accepts_a_good_file(
    client, released, steward, release_worker
):
    client.force_login(steward)
    url = reverse("catalog:release_upload", args=[released.pk])
    before = release_state(released)
    with release_worker():
        bad = client.post(url, {"file": csv_upload(HEADER + "R1,1980-01-01,x,,false\n")})
    assert bad.status_code == 302
    page = client.get(bad["Location"])
    assert page.status_code == 200
    assert b"not a whole number" in page.content
    assert b"The previous release is unchanged." in page.content
    assert release_state(released) == before
    with release_worker():
        good = client.post(url, {"file": csv_upload(GOOD_CSV)})
    assert good.status_code == 302
    assert released.releases.count() == 2
    assert "Release 2 accepted: 3 rows." in client.get(good["Location"]).content.decode()


def test_web_upload_over_the_limit_answers_413(client, released, steward, settings):
    settings.RELEASE_MAX_BYTES = 10
    client.force_login(steward)
    response = client.post(
        reverse("catalog:release_upload", args=[released.pk]), {"file": csv_upload(GOOD_CSV)}
    )
    assert response.status_code == 413
    assert "The file is larger than 10\xa0bytes" in response.content.decode()
    assert released.releases.count() == 1


@pytest.mark.postgres
def test_release_table_has_postgres_types(released):
    release = released.releases.get()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = %s ORDER BY ordinal_position",
            [release.table_name],
        )
        columns = cursor.fetchall()
    assert columns == [
        ("_line", "bigint"),
        ("resident_id", "text"),
        ("birth_date", "date"),
        ("dose_number", "bigint"),
        ("fee", "numeric"),
        ("adverse_event", "boolean"),
    ]
    rows = list(release_store.iter_rows(release.table_name, ["birth_date", "adverse_event"]))
    import datetime

    assert rows[0] == (datetime.date(1980, 2, 29), False)
