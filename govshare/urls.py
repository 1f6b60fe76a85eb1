from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.utils.translation import gettext_lazy
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from departments.views import language_set
from govshare.views import home_page
from rights import urls as rights_urls
from sharing import urls as sharing_urls
from transparency.register import register_page
from transparency.views import scoreboard_csv, scoreboard_page

# The office works in admin, in its own language (Profile.language, like every page).
admin.site.site_header = "govshare"
admin.site.site_title = gettext_lazy("govshare office")
# The lists need the width (#15.8: every changelist fits 1280 px); the index and the breadcrumbs
# already lead to every model.
admin.site.enable_nav_sidebar = False
admin.site.index_title = gettext_lazy("Data management office")


@login_not_required
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


@login_not_required
def favicon(request):
    # At request time: in production static() reads collectstatic's manifest, absent at import.
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


urlpatterns = [
    path("", home_page, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Changing the password ends every other session of the user (the session auth hash).
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("i18n/setlang/", language_set, name="set_language"),
    # The standards (issue #14) first: /catalog/ answers DCAT-AP to a harvester that asks for it.
    path("", include("standards.urls_dcat")),
    path("", include("standards.urls_dsp")),
    path("grants/", include("standards.urls_agreement")),
    path("catalog/", include("catalog.urls")),
    path("requests/", include("access_requests.urls")),
    path("grants/", include((rights_urls.urlpatterns + sharing_urls.urlpatterns, "grants"))),
    path("notifications/", include("notifications.urls")),
    path("audit/", include("audit.urls")),
    path("governance/", include("governance.urls")),
    path("disputes/", include("governance.dispute_urls")),
    path("attestations/", include("rights.attestation_urls")),
    path("register/", register_page, name="public_register"),
    path("scoreboard/", scoreboard_page, name="scoreboard"),
    path("scoreboard.csv", scoreboard_csv, name="scoreboard_csv"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("govshare.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file (?script): no inline script,
    # as the Content-Security-Policy requires.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
    # Clients that ask for /favicon.ico without reading the page's <link rel="icon">.
    path("favicon.ico", favicon, name="favicon"),
]

# Error pages in the site's layout that say what to do (JSON under /api/): core/errors.py.
handler400 = "core.errors.bad_request"
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.page_not_found"
handler500 = "core.errors.server_error"
