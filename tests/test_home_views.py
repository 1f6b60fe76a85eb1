"""The home page for each demo persona, the navigation per role, the current page marked, and
the breadcrumbs of every detail page (#15 points 1 and 2)."""

import datetime
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from access_requests import services as rs
from access_requests.models import Request
from governance.models import Demand, Dispute, QualityReport
from ledger.models import LedgerEntry
from rights.models import Attestation, Grant
from tests.conftest import PASSWORD, REQUEST_ITEMS, request_data


class _Page(HTMLParser):
    """The links of the main navigation (href, text, aria-current) and the breadcrumb trail
    (text, href or None, aria-current) of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.nav: list[tuple[str, str, str | None]] = []
        self.crumbs: list[tuple[str, str | None, str | None]] = []
        self.breadcrumb_navs = 0
        self._in: str | None = None
        self._depth = 0
        self._link: list | None = None
        self._crumb: list | None = None
        self._hidden = 0  # inside aria-hidden="true": what a screen reader does not read

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "nav" and attrs.get("aria-label") in ("Main", "Breadcrumb"):
            self._in, self._depth = attrs["aria-label"], 0
            self.breadcrumb_navs += attrs["aria-label"] == "Breadcrumb"
        if self._in is None:
            return
        if tag == "nav":
            self._depth += 1
        if self._hidden or attrs.get("aria-hidden") == "true":
            self._hidden += 1
        if self._in == "Main" and tag == "a":
            self._link = [attrs["href"], "", attrs.get("aria-current")]
        if self._in == "Breadcrumb":
            if tag == "li":
                self._crumb = ["", None, attrs.get("aria-current")]
            elif tag == "a" and self._crumb is not None:
                self._crumb[1] = attrs["href"]

    def handle_endtag(self, tag):
        if self._in is None:
            return
        if self._hidden:
            self._hidden -= 1
        if tag == "a" and self._link is not None:
            self.nav.append((self._link[0], " ".join(self._link[1].split()), self._link[2]))
            self._link = None
        if tag == "li" and self._crumb is not None:
            self.crumbs.append((" ".join(self._crumb[0].split()), self._crumb[1], self._crumb[2]))
            self._crumb = None
        if tag == "nav":
            self._depth -= 1
            if self._depth == 0:
                self._in = None

    def handle_data(self, data):
        if self._hidden:
            return
        if self._link is not None:
            self._link[1] += data
        if self._crumb is not None:
            self._crumb[0] += data


def parse(response) -> _Page:
    assert response.status_code == 200
    page = _Page()
    page.feed(response.content.decode())
    return page


@pytest.fixture
def demo(db):
    call_command("seed_demo", rows=30, stdout=open("/dev/null", "w"))  # noqa: SIM115


def signed_in(client, username):
    client.force_login(get_user_model().objects.get(username=username))
    return client


def seeded_tasks(username):
    """The (link, text) of each task seed_demo leaves waiting for ``username``."""
    review = Request.objects.get(state=Request.State.OWNER_REVIEW)
    decision = Request.objects.get(state=Request.State.OFFICE_REVIEW)
    returned = Request.objects.get(state=Request.State.RETURNED)
    dispute = Dispute.objects.get()
    report = QualityReport.objects.get()
    demand = Demand.objects.get()
    attestation = Attestation.objects.get()
    unsigned = Grant.objects.get(agreement__signed_at__isnull=True)
    return {
        "office": [
            (
                f"/requests/{decision.pk}/",
                f"Decide on request #{decision.pk} (Licensed clinics) from CIVIL",
            ),
            (
                f"/disputes/{dispute.pk}/",
                f"Decide dispute #{dispute.pk} (CIVIL against HEALTH, on Vaccination records)",
            ),
        ],
        "auditor": [],
        "health_steward": [
            (
                f"/requests/{review.pk}/",
                f"Give the owner's opinion on request #{review.pk} (Vaccination records) "
                "from POLICE",
            ),
            (
                f"/governance/quality/{report.pk}/",
                f"Answer quality report #{report.pk} on Vaccination records from CIVIL",
            ),
            (
                f"/governance/demands/{demand.pk}/",
                f"Answer demand #{demand.pk} from CIVIL: Births recorded in hospitals",
            ),
        ],
        "civil_clerk": [
            (
                f"/attestations/{attestation.pk}/",
                f"Attest the deletion or return of the data of grant #{attestation.grant_id} "
                "(Licensed clinics)",
            )
        ],
        "police_clerk": [
            (
                f"/requests/{returned.pk}/",
                f"Change and resubmit request #{returned.pk} (Vaccination records), "
                "returned for changes",
            ),
            (
                f"/grants/{unsigned.pk}/agreement/",
                f"Sign the data-sharing agreement of grant #{unsigned.pk} (Vaccination records)",
            ),
        ],
        "admin": [],
    }[username]


class _Tasks(HTMLParser):
    """The (href, text) of each task title on the home page's "Waiting for you" list."""

    def __init__(self) -> None:
        super().__init__()
        self.tasks: list[list[str]] = []
        self._section: str | None = None
        self._title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self._section = attrs.get("aria-labelledby")
        classes = (attrs.get("class") or "").split()
        if tag == "a" and "task-title" in classes and self._section == "waiting-for-you":
            self.tasks.append([attrs["href"], ""])
            self._title = True

    def handle_endtag(self, tag):
        if tag == "a":
            self._title = False

    def handle_data(self, data):
        if self._title:
            self.tasks[-1][1] += data


def _tasks_of(response) -> list[tuple[str, str]]:
    found = _Tasks()
    found.feed(response.content.decode())
    return [(href, text) for href, text in found.tasks]


PERSONAS = ["office", "auditor", "health_steward", "civil_clerk", "police_clerk", "admin"]


@pytest.mark.parametrize("username", PERSONAS)
def test_home_lists_what_seed_demo_left_waiting_for_each_persona(client, demo, username):
    response = signed_in(client, username).get("/")
    assert response.status_code == 200
    expected = seeded_tasks(username)
    assert _tasks_of(response) == expected
    # The navigation counts them: "Home" with the number, or no number when nothing waits.
    home = [link for link in parse(response).nav if link[0] == "/"]
    waiting = len(expected)
    label = {0: "Home", 1: "Home 1 task waiting"}.get(waiting, f"Home {waiting} tasks waiting")
    assert home == [("/", label, "page")]
    if not expected:
        assert "Nothing is waiting for you." in response.content.decode()


def test_home_shows_what_the_department_waits_on_with_who_holds_it(client, demo):
    held = Request.objects.get(state=Request.State.OFFICE_REVIEW)
    html = signed_in(client, "civil_clerk").get("/").content.decode()
    assert f'href="/requests/{held.pk}/">Request #{held.pk} (Licensed clinics)</a>' in html
    assert "Management review, held by OFFICE" in html
    police = Grant.objects.get(agreement__signed_at__isnull=True)
    html = signed_in(client, "health_steward").get("/").content.decode()
    assert f'href="/grants/{police.pk}/agreement/">' in html
    assert "waiting for the signature of POLICE" in html


def test_sign_in_lands_on_the_home_page(client, steward):
    response = client.post("/accounts/login/", {"username": steward.username, "password": PASSWORD})
    assert (response.status_code, response["Location"]) == (302, "/")


def test_home_page_runs_a_fixed_number_of_queries(client, demo, django_assert_num_queries):
    """Session, user, roles; one query per kind of task a steward can hold (six), per kind of
    awaited item (four), the holiday calendar twice, the notifications, the unread count. The
    navigation's task count is the list's length, not counted again."""
    signed_in(client, "health_steward")
    with django_assert_num_queries(17):
        assert client.get("/").status_code == 200
    police = get_user_model().objects.get(username="police_clerk")
    vaccination = Request.objects.get(state=Request.State.OWNER_REVIEW).resource
    for _ in range(3):
        request = rs.request_create(
            actor=police,
            department=police.memberships.get().department,
            resource=vaccination,
            data=request_data(),
            items=REQUEST_ITEMS[:1],
        )
        rs.request_submit(actor=police, request=request)
    with django_assert_num_queries(17):
        response = client.get("/")
    assert len(_tasks_of(response)) == 6  # three more reviews, the same queries


# --- the navigation per role -----------------------------------------------------------------

ALWAYS = ["/", "/catalog/", "/requests/", "/grants/", "/governance/quality/",
          "/governance/demands/", "/disputes/", "/attestations/", "/notifications/",
          "/scoreboard/", "/api/docs/"]  # fmt: skip
ROLE_LINKS = {
    # review queue, audit, office administration
    "office": ["/requests/review/", "/audit/", "/admin/"],
    "auditor": ["/audit/", "/admin/"],
    "health_steward": ["/requests/review/"],
    "civil_clerk": [],
    "police_clerk": [],
    "admin": ["/admin/"],
}


@pytest.mark.parametrize("username", PERSONAS)
def test_navigation_holds_only_what_the_persona_may_open_and_each_link_opens(
    client, demo, username
):
    signed_in(client, username)
    links = [href for href, _text, _current in parse(client.get("/")).nav]
    assert sorted(links) == sorted(ALWAYS + ROLE_LINKS[username])
    for href in links:
        response = client.get(href)
        assert (href, response.status_code) == (href, 200)
        assert response["Content-Type"].startswith("text/html"), href


def test_navigation_labels_and_their_order(client, demo):
    signed_in(client, "office")
    assert [text for _href, text, _current in parse(client.get("/catalog/")).nav] == [
        "Home 2 tasks waiting",
        "Catalog",
        "Requests",
        "Review queue",
        "Grants",
        "Quality reports",
        "Demand list",
        "Disputes",
        "End-of-use attestations",
        "Notifications 8 unread",
        "Scoreboard",
        "Audit",
        "Office administration",
        "API",
    ]


def test_the_current_page_is_marked_in_the_navigation(client, demo):
    signed_in(client, "office")
    resource = Request.objects.get(state=Request.State.OFFICE_REVIEW).resource
    for path, marked in [
        ("/", ("/", "page")),
        ("/catalog/", ("/catalog/", "page")),
        (f"/catalog/{resource.pk}/", ("/catalog/", "true")),
        ("/requests/review/", ("/requests/review/", "page")),
        (f"/requests/{Request.objects.first().pk}/", ("/requests/", "true")),
        ("/governance/demands/", ("/governance/demands/", "page")),
        (f"/disputes/{Dispute.objects.get().pk}/", ("/disputes/", "true")),
        ("/attestations/", ("/attestations/", "page")),
        ("/scoreboard/", ("/scoreboard/", "page")),
        ("/audit/", ("/audit/", "page")),
        ("/notifications/", ("/notifications/", "page")),
    ]:
        nav = parse(client.get(path)).nav
        assert [(href, current) for href, _text, current in nav if current] == [marked], path


def test_role_bound_links_follow_the_permission_rules(client, requester, reviewer):
    """The same rules as the pages: the office's reviewer sees the review queue and audit, a
    requester neither; admin only for staff."""
    client.force_login(requester)
    links = [href for href, _t, _c in parse(client.get("/")).nav]
    assert ("/requests/review/" in links, "/audit/" in links, "/admin/" in links) == (
        False,
        False,
        False,
    )
    reviewer.is_staff = True
    reviewer.save()
    client.force_login(reviewer)
    links = [href for href, _t, _c in parse(client.get("/")).nav]
    assert ("/requests/review/" in links, "/audit/" in links, "/admin/" in links) == (
        True,
        True,
        True,
    )


# --- breadcrumbs -----------------------------------------------------------------------------


def detail_pages():
    """One page of each detail kind in the demo world, with its breadcrumb trail."""
    grant = Grant.objects.filter(agreement__signed_at__isnull=False).first()
    request = Request.objects.get(state=Request.State.OFFICE_REVIEW)
    resource = request.resource
    dispute, report, demand = (
        Dispute.objects.get(),
        QualityReport.objects.get(),
        Demand.objects.get(),
    )
    attestation = Attestation.objects.get()
    entry = LedgerEntry.objects.order_by("index").first()
    home = ("Home", "/", None)
    return [
        (f"/catalog/{resource.pk}/", [home, ("Catalog", "/catalog/", None),
                                      (resource.title, None, "page")]),
        (f"/requests/{request.pk}/", [home, ("Review queue", "/requests/review/", None),
                                      (f"Request #{request.pk}", None, "page")]),
        (f"/grants/{grant.pk}/", [home, ("Grants", "/grants/", None),
                                  (f"Grant #{grant.pk}", None, "page")]),
        (f"/grants/{grant.pk}/agreement/", [home, ("Grants", "/grants/", None),
                                            (f"Grant #{grant.pk}", f"/grants/{grant.pk}/", None),
                                            ("Data-sharing agreement", None, "page")]),
        (f"/disputes/{dispute.pk}/", [home, ("Disputes", "/disputes/", None),
                                      (f"Dispute #{dispute.pk}", None, "page")]),
        (f"/governance/quality/{report.pk}/", [
            home, ("Quality reports", "/governance/quality/", None),
            (f"Quality report #{report.pk}", None, "page")]),
        (f"/governance/demands/{demand.pk}/", [home, ("Demand list", "/governance/demands/", None),
                                               (f"Demand #{demand.pk}", None, "page")]),
        (f"/attestations/{attestation.pk}/", [
            home, ("End-of-use attestations", "/attestations/", None),
            (f"End of use of grant #{attestation.grant_id}", None, "page")]),
        (f"/audit/ledger/{entry.index}/", [home, ("Audit", "/audit/", None),
                                           (f"Ledger entry {entry.index}", None, "page")]),
        (f"/audit/trail/request/{request.pk}/", [home, ("Audit", "/audit/", None),
                                                 (str(request), f"/requests/{request.pk}/", None),
                                                 ("Trail", None, "page")]),
    ]  # fmt: skip


def test_every_detail_page_has_its_breadcrumbs(client, demo):
    signed_in(client, "office")
    for path, trail in detail_pages():
        page = parse(client.get(path))
        assert (path, page.breadcrumb_navs, page.crumbs) == (path, 1, trail)
        for _text, href, _current in page.crumbs:
            if href:
                assert client.get(href).status_code == 200, (path, href)


def test_breadcrumbs_lead_a_filer_back_to_their_departments_requests(client, demo):
    request = Request.objects.get(state=Request.State.OFFICE_REVIEW)
    page = parse(signed_in(client, "civil_clerk").get(f"/requests/{request.pk}/"))
    assert page.crumbs[1] == ("Requests", "/requests/", None)
    # A party who is no auditor sees no Audit crumb on the ledger entry: the link would refuse.
    entry = LedgerEntry.objects.filter(departments__contains="CIVIL").order_by("index").first()
    page = parse(client.get(f"/audit/ledger/{entry.index}/"))
    assert page.crumbs == [
        ("Home", "/", None),
        (f"Ledger entry {entry.index}", None, "page"),
    ]


def test_list_pages_have_no_breadcrumbs(client, demo):
    signed_in(client, "office")
    for path in ["/", "/catalog/", "/requests/", "/grants/"]:
        assert parse(client.get(path)).breadcrumb_navs == 0, path


def test_an_overdue_task_is_tagged_with_the_working_days_it_is_late(
    client, released, requester, steward, departments
):
    request = rs.request_create(
        actor=requester,
        department=departments["CIVIL"],
        resource=released,
        data=request_data(),
        items=REQUEST_ITEMS,
    )
    rs.request_submit(actor=requester, request=request)
    # A week ago: any seven days hold exactly five working days (no holidays in the calendar).
    due = timezone.localdate() - datetime.timedelta(days=7)
    Request.objects.filter(pk=request.pk).update(due_date=due, overdue_since=timezone.now())
    client.force_login(steward)
    html = " ".join(client.get("/").content.decode().split())
    assert '<li class="task task-overdue">' in html
    assert '<strong class="tag tag-overdue">Overdue</strong>' in html
    assert "5 working days late" in html
