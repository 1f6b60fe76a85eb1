"""The result-only grant's page (#15.9): the exact verify call for this grant, ready to copy, and
how the check is made, instead of "Nothing delivered yet"."""

import html
import json
import re

import pytest
from playwright.sync_api import expect
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from audit.models import AccessLog
from catalog import services as catalog_services
from tests.conftest import CSP_LISTENER
from tests.test_sharing import make_grant


@pytest.fixture
def grant_for(released, requester, steward, reviewer, departments):
    resource = catalog_services.resource_update(
        actor=steward, resource=released, data={}, methods=["periodic_copy", "result_only"]
    )

    def build(method, **limits):
        return make_grant(resource, requester, steward, reviewer, departments, method, **limits)

    return build


def example_of(content: bytes) -> str:
    (code,) = re.findall(
        r'<pre><code id="verify-example">(.*?)</code></pre>', content.decode(), re.S
    )
    return html.unescape(code)


def test_result_only_page_shows_this_grants_exact_verify_call(
    client, grant_for, requester, settings
):
    settings.SITE_URL = "https://portal.example.gov"
    grant = grant_for("result_only", max_calls_per_day=50)
    client.force_login(requester)
    page = client.get(f"/grants/{grant.pk}/")
    text = page.content.decode()
    assert page.status_code == 200
    url = f"https://portal.example.gov/api/v1/grants/{grant.pk}/verify/"
    assert f"<code>POST {url}</code>" in text
    assert example_of(page.content) == (
        "curl -s -X POST \\\n"
        '  -H "Authorization: Token $TOKEN" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        """  -d '{"match": {"resident_id": "R0100007"}, "check": {"dose_number": "2"}}' \\\n"""
        f"  {url}"
    )
    assert grant.fields == ["resident_id", "dose_number"]
    assert "<dd><code>resident_id</code>, <code>dose_number</code></dd>" in text
    assert "up to 50; after that the answer is 429 until midnight" in text
    assert "How the check is made" in text
    assert "is written to the access log" in text
    assert "Nothing delivered yet." not in text
    assert '<h2 id="deliveries-h">' not in text
    # the Copy button is an enhancement: hidden until static/js/copy.js shows it
    assert 'data-copy="verify-example"' in text and " hidden>Copy</button>" in text
    assert '<script src="/static/js/copy.js" defer></script>' in text


def test_the_example_call_is_the_real_api_call(client, grant_for, requester):
    grant = grant_for("result_only")
    client.force_login(requester)
    example = example_of(client.get(f"/grants/{grant.pk}/").content)
    body = re.search(r"-d '(.*)'", example).group(1)
    path = re.search(r"http\S*(/api/v1/grants/\d+/verify/)$", example).group(1)
    api = APIClient()
    token = Token.objects.create(user=requester)
    answer = api.post(
        path, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token.key}"
    )
    assert answer.status_code == 200
    assert json.loads(answer.content) == {"result": False}  # no resident R0100007 in the release
    assert AccessLog.objects.filter(action="verify", grant=grant).count() == 1


def test_other_methods_keep_the_deliveries_section(client, grant_for, requester):
    grant = grant_for("periodic_copy")
    client.force_login(requester)
    text = client.get(f"/grants/{grant.pk}/").content.decode()
    assert '<h2 id="deliveries-h">' in text
    assert "verify-example" not in text and "copy.js" not in text


@pytest.mark.browser
def test_copy_button_copies_the_example_without_breaking_the_csp(
    live_server, grant_for, requester, page, artifacts_dir
):
    from tests.conftest import PASSWORD

    grant = grant_for("result_only")
    page.context.add_init_script(CSP_LISTENER)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill(requester.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/grants/{grant.pk}/")
    button = page.locator("button[data-copy=verify-example]")
    expect(button).to_be_visible()
    expect(button).to_have_text("Copy")
    button.click()
    expect(button).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("#verify-example").text_content()
    assert copied.endswith(f"/api/v1/grants/{grant.pk}/verify/")
    assert page.evaluate("window.__cspViolations") == []
    page.screenshot(path=str(artifacts_dir / "grant-result-only.png"), full_page=True)
