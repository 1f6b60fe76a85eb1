"""Pages of the governance loop, mounted at ``/governance/`` (namespace ``governance``)."""

from django.urls import path

from catalog import governance_views as views

app_name = "governance"
urlpatterns = [
    path("quality/", views.quality_list, name="quality_list"),
    path("quality/new/", views.quality_create, name="quality_create"),
    path("quality/<int:pk>/", views.quality_detail, name="quality_detail"),
    # acknowledge, answer, resolve, confirm, reopen (POST only)
    path("quality/<int:pk>/<slug:action>/", views.quality_action, name="quality_action"),
    path("demands/", views.demand_list, name="demand_list"),
    path("demands/new/", views.demand_create, name="demand_create"),
    path("demands/<int:pk>/", views.demand_detail, name="demand_detail"),
    # route, answer, decline, withdraw, join (POST only)
    path("demands/<int:pk>/<slug:action>/", views.demand_action, name="demand_action"),
]
