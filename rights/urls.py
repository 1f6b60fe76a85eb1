"""Grant pages, mounted at ``/grants/`` (namespace ``grants``, with the delivery downloads of
``sharing.urls``)."""

from django.urls import path

from rights import views

app_name = "grants"
urlpatterns = [
    path("", views.grant_list, name="grant_list"),
    path("<int:pk>/", views.grant_detail, name="grant_detail"),
    path("<int:pk>/renew/", views.grant_renew, name="grant_renew"),
    # suspend, resume, revoke (POST only)
    path("<int:pk>/<slug:action>/", views.grant_action, name="grant_action"),
]
