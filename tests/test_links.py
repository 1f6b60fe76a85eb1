"""No link in the UI leads to a page the user cannot open.

For each demo persona, a breadth-first crawl from the home page follows every internal
``<a href>`` (within ``/``; not the admin, the API, static files or sign-out) and every page it
reaches must answer 200, or a redirect that ends in 200: never 403, 404 or 5xx.
"""

from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

PAGE_LIMIT = 300
SKIPPED_PREFIXES = ("/admin/", "/api/", "/static/", "/media/", "/accounts/logout/")
PERSONAS = ["office", "auditor", "health_steward", "civil_clerk", "police_clerk", "admin"]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def _internal_links(page_url: str, html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    links = []
    for href in parser.hrefs:
        url, _fragment = urldefrag(urljoin(f"http://testserver{page_url}", href))
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.netloc != "testserver":
            continue  # mailto:, other hosts
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if not path.startswith("/") or path.startswith(SKIPPED_PREFIXES):
            continue
        links.append(path)
    return links


def crawl(client, start: str = "/") -> tuple[dict[str, int], dict[str, str]]:
    """Every page reached from ``start``: ``{url: final status}`` and ``{url: linked from}``."""
    seen: dict[str, int] = {}
    found_on: dict[str, str] = {start: "(start)"}
    queue = deque([start])
    while queue and len(seen) < PAGE_LIMIT:
        url = queue.popleft()
        if url in seen:
            continue
        response = client.get(url, follow=True)
        seen[url] = response.status_code
        content_type = response.get("Content-Type", "")
        if response.status_code != 200 or not content_type.startswith("text/html"):
            continue
        here = response.request["PATH_INFO"]
        if response.request.get("QUERY_STRING"):
            here += "?" + response.request["QUERY_STRING"]
        for link in _internal_links(here, response.content.decode()):
            if link not in seen and link not in found_on:
                found_on[link] = url
                queue.append(link)
    return seen, found_on


@pytest.fixture
def demo(db):
    call_command("seed_demo", rows=30, stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.mark.parametrize("username", PERSONAS)
def test_every_link_a_persona_sees_opens(client, demo, username):
    client.force_login(get_user_model().objects.get(username=username))
    seen, found_on = crawl(client)
    broken = {url: (status, found_on[url]) for url, status in seen.items() if status != 200}
    assert broken == {}
    # The crawl really walked the portal: the catalog, a resource, requests, grants and more.
    assert len(seen) >= 15
    assert {"/", "/catalog/"} <= set(seen)


def test_every_link_an_anonymous_visitor_sees_opens(client, demo):
    seen, found_on = crawl(client)
    broken = {url: (status, found_on[url]) for url, status in seen.items() if status != 200}
    assert broken == {}
    assert "/register/" in seen


@pytest.mark.parametrize(
    ("username", "audit", "review_queue", "admin"),
    [
        ("civil_clerk", False, False, False),
        ("police_clerk", False, False, False),
        ("health_steward", False, True, False),
        ("office", True, True, True),
        ("auditor", True, False, True),
        ("admin", False, False, True),
    ],
)
def test_navigation_shows_role_bound_links_only_to_their_roles(
    client, demo, username, audit, review_queue, admin
):
    client.force_login(get_user_model().objects.get(username=username))
    for page in ("/", "/catalog/"):
        html = client.get(page).content.decode()
        links = _internal_links(page, html)
        assert ("/audit/" in links, "/requests/review/" in links) == (audit, review_queue)
        assert "/register/" in links  # the footer's public register is the page, not the API
        # The crawl skips /admin/; the office administration link is for staff only.
        assert ('href="/admin/"' in html) == admin
    if admin:
        assert client.get("/admin/").status_code == 200


def test_navigation_links_the_html_scoreboard_and_register_not_the_api(client, requester):
    """The web and API URL files both had a route named "scoreboard": {% url %} gave the API's."""
    client.force_login(requester)
    response = client.get("/register/")
    assert response.status_code == 200
    hrefs = _Links()
    hrefs.feed(response.content.decode())
    assert "/scoreboard/" in hrefs.hrefs
    assert "/register/" in hrefs.hrefs
    assert not [href for href in hrefs.hrefs if href.startswith("/api/v1/")]


def test_favicon_is_served_to_every_visitor(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/img/favicon.svg"
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert b"<svg" in b"".join(icon.streaming_content)
