from collections.abc import Callable

from django.http import HttpRequest

from govshare.home import task_count

# Which navigation entry a page belongs to, by (URL namespace, URL name); a name of None stands
# for every page of the namespace. The entry's own page is marked aria-current="page", a page
# inside it (a resource, a request) aria-current="true".
_SECTIONS: dict[tuple[str, str | None], str] = {
    ("", "home"): "home",
    ("catalog", None): "catalog",
    # /catalog/ itself is the DCAT export's content negotiation, which serves the HTML list.
    ("standards_dcat", "catalog_negotiated"): "catalog",
    ("access_requests", "request_queue"): "review_queue",
    ("access_requests", None): "requests",
    ("grants", None): "grants",
    ("agreements", None): "grants",
    ("governance", None): "governance",  # quality reports or demands: by the name's prefix
    ("disputes", None): "disputes",
    ("attestations", None): "attestations",
    ("notifications", None): "notifications",
    ("", "scoreboard"): "scoreboard",
    ("audit", None): "audit",
    ("", "password_change"): "password",
    ("", "password_change_done"): "password",
}
_ENTRY_PAGES = {
    "home",
    "resource_list",
    "catalog_negotiated",
    "request_list",
    "request_queue",
    "grant_list",
    "quality_list",
    "demand_list",
    "dispute_list",
    "attestation_list",
    "notification_list",
    "scoreboard",
    "search",
    "password_change",
}
_GOVERNANCE = ("quality", "demands", "disputes", "attestations")


def _section(app_name: str, url_name: str) -> str | None:
    section = _SECTIONS.get((app_name, url_name)) or _SECTIONS.get((app_name, None))
    if section == "governance":
        section = "quality" if url_name.startswith("quality") else "demands"
    return section


def navigation_current(request: HttpRequest) -> dict[str, dict[str, str]]:
    """``nav_current``: the navigation entry of this page, ``{entry: "page" | "true"}`` (and
    ``governance``, for the group the four governance lists sit in). No query."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return {}
    url_name = match.url_name or ""
    section = _section(match.app_name, url_name)
    if section is None:
        return {"nav_current": {}}
    current = {section: "page" if url_name in _ENTRY_PAGES else "true"}
    if section in _GOVERNANCE:
        current["governance"] = "true"
    return {"nav_current": current}


def home_tasks(request: HttpRequest) -> dict[str, Callable[[], int]]:
    """``nav_task_count``: how many tasks wait on the home page, for the navigation. A callable,
    so only a page that shows the navigation runs its one counting query (``task_count``)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_task_count": lambda: task_count(user)}
