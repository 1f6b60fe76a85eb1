"""The DCAT-AP export's pages. Public like the register: published metadata only, never data."""

import json

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from catalog import views as catalog_views
from core.errors import error_response
from standards import dcat, vocab

TURTLE = "text/turtle"
JSONLD = "application/ld+json"
HTML = "text/html"
CSVW = "application/csvm+json"


def _export(request: HttpRequest, media_type: str) -> HttpResponse:
    url_name = "catalog_turtle" if media_type == TURTLE else "catalog_jsonld"
    page_url = vocab.site_uri(reverse(f"standards_dcat:{url_name}")) + "?page=%d"
    try:
        page, modified = dcat.catalog_page(request.GET.get("page"), settings.DCAT_PAGE_SIZE)
    except dcat.PageNotFound as refusal:
        return error_response(
            request, 404, str(refusal), back_url=reverse(f"standards_dcat:{url_name}")
        )
    graph = dcat.catalog_graph(page, modified, page_url)
    body = dcat.to_turtle(graph) if media_type == TURTLE else dcat.to_jsonld(graph)
    return HttpResponse(body, content_type=f"{media_type}; charset=utf-8")


@login_not_required
@require_safe
def catalog_turtle(request: HttpRequest) -> HttpResponse:
    return _export(request, TURTLE)


@login_not_required
@require_safe
def catalog_jsonld(request: HttpRequest) -> HttpResponse:
    return _export(request, JSONLD)


@login_not_required
def catalog_negotiated(request: HttpRequest) -> HttpResponse:
    """/catalog/: DCAT-AP to a client that prefers Turtle or JSON-LD, otherwise the catalog list
    page (which still needs signing in: only the export is public)."""
    preferred = request.get_preferred_type([HTML, TURTLE, JSONLD])
    if request.method in ("GET", "HEAD") and preferred in (TURTLE, JSONLD):
        response = _export(request, preferred)
    elif not request.user.is_authenticated:
        response = redirect_to_login(request.get_full_path())
    else:
        response = catalog_views.resource_list(request)
    patch_vary_headers(response, ["Accept"])
    return response


@login_not_required
@require_safe
def dataset_schema(request: HttpRequest, identifier: str) -> HttpResponse:
    """A published resource's data items as a CSV-W table schema."""
    resource = dcat.published_resource(identifier)
    if resource is None:
        return error_response(
            request, 404, _("No published resource has the identifier “%s”.") % identifier[:64]
        )
    body = json.dumps(dcat.table_schema(resource), ensure_ascii=False, indent=2)
    return HttpResponse(body, content_type=f"{CSVW}; charset=utf-8")


@login_not_required
@require_safe
def dataset_dereference(request: HttpRequest, identifier: str) -> HttpResponse:
    """A dataset URI (/id/datasets/<identifier>) answers 303 See Other to the resource's page."""
    resource = dcat.published_resource(identifier)
    if resource is None:
        return error_response(
            request, 404, _("No published resource has the identifier “%s”.") % identifier[:64]
        )
    return HttpResponseRedirect(resource.get_absolute_url(), status=303)
