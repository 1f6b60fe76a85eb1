"""Error pages people can use: the site's layout, what happened, what to do; JSON under /api/."""

import re
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import connection
from django.test import Client, RequestFactory, override_settings
from django.urls import path

from core import errors
from tests.conftest import make_user

ROOT = "govshare.urls"


def _boom(request):
    raise RuntimeError("a bug")


def _suspicious(request):
    raise SuspiciousOperation("internal detail that must not be shown")


def _refuse(request):
    raise PermissionDenied("You do not hold the steward role in HEALTH.")


# The project's URLs plus three views that fail, with the project's handlers.
urlpatterns = [
    path("boom/", _boom),
    path("api/v1/boom/", _boom),
    path("bad/", _suspicious),
    path("refuse/", _refuse),
]
from govshare.urls import handler400, handler403, handler404, handler500  # noqa: E402
from govshare.urls import urlpatterns as project_urls  # noqa: E402

urlpatterns += project_urls


def _no_inline_script_or_style(html: str) -> None:
    assert "<style" not in html
    assert " style=" not in html
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None


@pytest.fixture
def clerk(departments):
    return make_user("civil_clerk", departments["CIVIL"], "requester")


def test_403_for_a_non_auditor_says_why_and_what_to_do(client, clerk):
    client.force_login(clerk)
    response = client.get("/audit/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "<title>You cannot open this page · govshare</title>" in html
    assert "You do not have the auditor role; ask the data management office" in html
    assert "ask the data management office to give your account the role" in html
    assert 'href="/static/css/govshare.css"' in html  # the site's layout
    assert "Signed in as civil_clerk" in html
    _no_inline_script_or_style(html)


@override_settings(ROOT_URLCONF="tests.test_error_pages")
def test_403_shows_the_permission_denied_message(client, clerk):
    client.force_login(clerk)
    response = client.get("/refuse/")
    assert response.status_code == 403
    assert "You do not hold the steward role in HEALTH." in response.content.decode()


def test_404_is_styled_and_says_what_to_do(client, clerk):
    client.force_login(clerk)
    response = client.get("/catalog/999999/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in html
    assert "Check the address, or follow the links from the catalog." in html
    assert "No Resource matches" not in html  # Django's technical message stays in the log
    _no_inline_script_or_style(html)


def test_unknown_api_path_answers_json_404(client, clerk):
    client.force_login(clerk)
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    # The API's last route (core.routing) answers every path it does not know.
    assert response.json() == {
        "detail": "There is no such API operation or object. Check the path and the id."
    }


@override_settings(ROOT_URLCONF="tests.test_error_pages")
def test_400_hides_the_technical_message(client, clerk):
    client.force_login(clerk)
    response = client.get("/bad/")
    html = response.content.decode()
    assert response.status_code == 400
    assert "The request could not be understood" in html
    assert "internal detail" not in html
    _no_inline_script_or_style(html)


@override_settings(ROOT_URLCONF="tests.test_error_pages")
def test_500_page_renders_and_api_500_is_json(db, clerk):
    client = Client(raise_request_exception=False)
    client.force_login(clerk)
    response = client.get("/boom/")
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in html
    assert 'href="/static/css/govshare.css"' in html
    assert "a bug" not in html
    _no_inline_script_or_style(html)
    api = client.get("/api/v1/boom/")
    assert (api.status_code, api.json()) == (
        500,
        {"detail": "A server error occurred; it is logged."},
    )


def test_500_page_renders_without_a_database_or_request_context():
    """The handler itself, with every database query refused: it must not need one."""
    request = RequestFactory().get("/catalog/")  # no user, no session, no messages
    with mock.patch.object(
        connection, "cursor", side_effect=AssertionError("the 500 page touched the database")
    ):
        response = errors.server_error(request)
    html = response.content.decode()
    assert response.status_code == 500
    assert "<h1>Something went wrong on our side</h1>" in html
    assert "Sign out" not in html


def test_500_falls_back_to_plain_html_when_the_template_fails():
    request = RequestFactory().get("/catalog/")
    with mock.patch.object(errors.loader, "get_template", side_effect=ValueError("no manifest")):
        response = errors.server_error(request)
    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content


def test_the_project_wires_the_handlers():
    assert (handler400, handler403, handler404, handler500) == (
        "core.errors.bad_request",
        "core.errors.permission_denied",
        "core.errors.page_not_found",
        "core.errors.server_error",
    )
