"""Pages of the governance loop, mounted at ``/governance/`` (namespace ``governance``)."""

from django.urls import path

from governance.views import demands, quality

app_name = "governance"
urlpatterns = [
    path("quality/", quality.quality_list, name="quality_list"),
    path("quality/new/", quality.quality_create, name="quality_create"),
    path("quality/<int:pk>/", quality.quality_detail, name="quality_detail"),
    # acknowledge, answer, resolve, confirm, reopen (POST only)
    path("quality/<int:pk>/<slug:action>/", quality.quality_action, name="quality_action"),
    path("demands/", demands.demand_list, name="demand_list"),
    path("demands/new/", demands.demand_create, name="demand_create"),
    path("demands/<int:pk>/", demands.demand_detail, name="demand_detail"),
    # route, answer, decline, withdraw, join (POST only)
    path("demands/<int:pk>/<slug:action>/", demands.demand_action, name="demand_action"),
]
