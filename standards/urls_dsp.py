"""The Dataspace Protocol 2025-1 endpoints, HTTPS binding (included at the site root)."""

from django.urls import path, re_path

from standards import views_dsp

app_name = "dsp"
urlpatterns = [
    path(".well-known/dspace-version", views_dsp.VersionsView.as_view(), name="versions"),
    path("dsp/catalog/request", views_dsp.CatalogRequestView.as_view(), name="catalog_request"),
    # The id is the dataset's identifier or its whole @id (a URI, percent-encoded by the client).
    path("dsp/catalog/datasets/<path:dataset_id>", views_dsp.DatasetView.as_view(), name="dataset"),
    re_path(r"^dsp(?:/.*)?$", views_dsp.NotFoundView.as_view(), name="not_found"),
]
