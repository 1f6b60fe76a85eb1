"""Upload limits hold while the body is read: over the limit is 413 before (or as soon as) the
limit is passed, and nothing is written under MEDIA_ROOT or left in FILE_UPLOAD_TEMP_DIR."""

import io
import os

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.client import BOUNDARY, encode_multipart
from django.urls import get_resolver
from rest_framework.authtoken.models import Token

from access_requests.models import Request
from catalog.models import Release, ReleaseUpload
from core.uploads import FORM_ALLOWANCE
from tests.conftest import GOOD_CSV, REQUEST_ITEMS

MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"  # a new str: the client sends it as is
MB = 1024 * 1024


class CountingStream:
    """A request body that counts how much of it the server reads."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = self._data.read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readline(self, size=-1):
        line = self._data.readline(size)
        self.bytes_read += len(line)
        return line


def _listing(*folders):
    """Every file under the folders, with its size: what an upload may not change."""
    found = {}
    for folder in folders:
        for root, _dirs, files in os.walk(folder):
            for name in files:
                path = os.path.join(root, name)
                found[path] = os.path.getsize(path)
    return found


@pytest.fixture
def folders(settings, tmp_path):
    """MEDIA_ROOT (the conftest's) and a temp dir of our own; files over 100 bytes go to disk."""
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "upload-tmp")
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100
    os.makedirs(settings.FILE_UPLOAD_TEMP_DIR)
    os.makedirs(settings.MEDIA_ROOT, exist_ok=True)
    return settings.MEDIA_ROOT, settings.FILE_UPLOAD_TEMP_DIR


@pytest.fixture
def web(steward):
    client = Client()
    client.force_login(steward)
    return client


@pytest.fixture
def api(steward):
    return Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=steward).key}")


def _csv_body(size, field="file", name="release.csv", **fields):
    header = GOOD_CSV.encode()
    content = header + b"R9,2000-01-01,1,,\n" * ((size - len(header)) // 18 + 1)
    return encode_multipart(
        BOUNDARY, {field: SimpleUploadedFile(name, content[:size], "text/csv"), **fields}
    )


def _post(client, url, body, *, content_length=None):
    stream = CountingStream(body)
    extra = {"wsgi.input": stream}
    extra["CONTENT_LENGTH"] = str(len(body) if content_length is None else content_length)
    if content_length == "":
        extra["CONTENT_LENGTH"] = ""
    return client.post(url, data=body, content_type=MULTIPART, **extra), stream


def _web_url(resource):
    return f"/catalog/{resource.pk}/releases/new/"


def _api_url(resource):
    return f"/api/v1/resources/{resource.pk}/releases/"


# --- Content-Length over the limit: refused before the body is read ---------------------------


def test_declared_283_mb_release_is_refused_at_once_on_the_web(web, published, folders):
    before = _listing(*folders)
    response, stream = _post(web, _web_url(published), _csv_body(2000), content_length=283_000_000)
    assert response.status_code == 413
    assert stream.bytes_read == 0
    html = response.content.decode()
    assert "This upload is 269.9\xa0MB; a file sent here may be at most 256.0\xa0MB." in html
    assert f'href="{_web_url(published)}"' in html  # back to the form
    assert _listing(*folders) == before
    assert not Release.objects.exists()


def test_declared_283_mb_release_is_refused_at_once_in_the_api(api, published, folders):
    before = _listing(*folders)
    response, stream = _post(api, _api_url(published), _csv_body(2000), content_length=283_000_000)
    assert response.status_code == 413
    assert stream.bytes_read == 0
    assert response.json() == {
        "detail": "This upload is 269.9\xa0MB; a file sent here may be at most 256.0\xa0MB. "
        "Nothing was saved.",
        "limit_bytes": settings.RELEASE_MAX_BYTES,
    }
    assert _listing(*folders) == before
    assert not Release.objects.exists()


def test_the_refusal_comes_before_the_csrf_check_reads_the_body(steward, published, folders):
    client = Client(enforce_csrf_checks=True)
    client.force_login(steward)
    response, stream = _post(client, _web_url(published), _csv_body(2000), content_length=10**9)
    assert (response.status_code, stream.bytes_read) == (413, 0)


def test_a_real_body_over_the_limit_is_not_read(web, published, folders, settings):
    settings.RELEASE_MAX_BYTES = 1000
    body = _csv_body(FORM_ALLOWANCE + 5000)
    before = _listing(*folders)
    response, stream = _post(web, _web_url(published), body)
    assert (response.status_code, stream.bytes_read) == (413, 0)
    assert _listing(*folders) == before


# --- passing the limit while the body is read -----------------------------------------------


def test_a_file_passing_the_limit_is_stopped_while_read(web, published, folders, settings):
    settings.RELEASE_MAX_BYTES = 1000
    body = _csv_body(50_000)  # under limit + allowance: read, and counted
    before = _listing(*folders)
    response, stream = _post(web, _web_url(published), body)
    assert response.status_code == 413
    assert "The file is larger than 1000\xa0bytes" in response.content.decode()
    assert stream.bytes_read <= len(body)
    assert _listing(*folders) == before  # the temporary file is gone, nothing in MEDIA_ROOT
    assert not Release.objects.exists()


def test_a_lying_content_length_does_not_get_more_through(api, published, folders, settings):
    settings.RELEASE_MAX_BYTES = 1000
    body = _csv_body(5 * MB)  # 5 MB sent, 3,000 bytes declared
    before = _listing(*folders)
    response, stream = _post(api, _api_url(published), body, content_length=3000)
    assert response.status_code == 413
    assert response.json()["limit_bytes"] == 1000
    assert stream.bytes_read <= 3000
    assert _listing(*folders) == before
    assert not Release.objects.exists()


def test_a_body_without_content_length_is_411_and_stores_nothing(web, api, published, folders):
    """Chunked: refused at once (Django's WSGI handler would read it as empty: "no file")."""
    before = _listing(*folders)
    response, stream = _post(web, _web_url(published), _csv_body(5 * MB), content_length="")
    assert (response.status_code, stream.bytes_read) == (411, 0)
    assert "Send the file with its Content-Length" in response.content.decode()
    response, stream = _post(api, _api_url(published), _csv_body(5 * MB), content_length="")
    assert (response.status_code, stream.bytes_read) == (411, 0)
    assert response.json()["limit_bytes"] == settings.RELEASE_MAX_BYTES
    assert _listing(*folders) == before
    assert not Release.objects.exists()


# --- under the limit, uploads work as before --------------------------------------------------


def test_a_release_under_the_limit_is_accepted_on_the_web(
    web, published, folders, settings, release_worker
):
    settings.RELEASE_MAX_BYTES = 1000
    body = encode_multipart(BOUNDARY, {"file": SimpleUploadedFile("r.csv", GOOD_CSV.encode())})
    with release_worker():
        response, _stream = _post(web, _web_url(published), body)
    job = ReleaseUpload.objects.get()
    assert (response.status_code, response["Location"]) == (302, job.get_absolute_url())
    assert Release.objects.get().row_count == 3
    assert not os.listdir(settings.FILE_UPLOAD_TEMP_DIR)
    # The job's copy of the file is gone too: only the release's own file stays.
    assert list(_listing(settings.MEDIA_ROOT)) == [
        os.path.join(settings.MEDIA_ROOT, Release.objects.get().file.name)
    ]


def test_a_release_at_the_limit_is_accepted_in_the_api(api, published, folders, settings):
    settings.RELEASE_MAX_BYTES = len(GOOD_CSV.encode())
    body = encode_multipart(BOUNDARY, {"file": SimpleUploadedFile("r.csv", GOOD_CSV.encode())})
    response, _stream = _post(api, _api_url(published), body)
    assert response.status_code == 201
    assert response.json()["row_count"] == 3


# --- supporting documents of requests -------------------------------------------------------


def _request_form(resource, document_size):
    fields = {
        "resource": resource.pk,
        "department": "",
        "purpose": "Check vaccination status for school enrolment.",
        "legal_basis_kind": "statute",
        "legal_basis_citation": "Education Law",
        "legal_basis_article": "art. 12",
        "legal_basis_text": "Schools verify immunisation before enrolment.",
        "method": "realtime",
        "valid_from": "2026-01-01",
        "valid_until": "2026-06-30",
        "supporting_document": SimpleUploadedFile(
            "basis.pdf", b"%PDF-1.4\n" + b"0" * document_size, "application/pdf"
        ),
    }
    for item in REQUEST_ITEMS:
        fields[f"item_{item['name']}"] = "on"
        fields[f"reason_{item['name']}"] = item["reason"]
    return encode_multipart(BOUNDARY, fields)


def test_a_supporting_document_over_the_limit_is_refused(
    client, requester, released, folders, settings
):
    settings.REQUEST_DOCUMENT_MAX_BYTES = 1000
    client.force_login(requester)
    before = _listing(*folders)
    url = f"/requests/new/?resource={released.pk}"
    response, stream = _post(client, url, _request_form(released, 30_000))
    assert response.status_code == 413
    assert "The file is larger than 1000\xa0bytes" in response.content.decode()
    assert _listing(*folders) == before
    assert not Request.objects.exists()
    declared, stream = _post(client, url, _request_form(released, 10), content_length=20 * MB)
    assert (declared.status_code, stream.bytes_read) == (413, 0)


def test_every_upload_limit_names_a_url_and_a_setting():
    names = set()

    def walk(resolver, prefix=""):
        for pattern in resolver.url_patterns:
            namespace = getattr(pattern, "namespace", None)
            if hasattr(pattern, "url_patterns"):
                walk(pattern, f"{prefix}{namespace}:" if namespace else prefix)
            elif pattern.name:
                names.add(prefix + pattern.name)

    walk(get_resolver())
    assert set(settings.UPLOAD_LIMITS) <= names
    assert all(isinstance(getattr(settings, s), int) for s in settings.UPLOAD_LIMITS.values())


def test_dispute_evidence_over_the_limit_is_refused_before_reading(api, folders):
    body = encode_multipart(BOUNDARY, {"text": "Our statement."})
    response, stream = _post(api, "/api/v1/disputes/1/statement/", body, content_length=50 * MB)
    assert (response.status_code, stream.bytes_read) == (413, 0)
    assert response.json()["limit_bytes"] == settings.REQUEST_DOCUMENT_MAX_BYTES
