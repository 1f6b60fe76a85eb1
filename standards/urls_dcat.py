"""The DCAT-AP export (public): /catalog.ttl, /catalog.jsonld, /catalog/ by content negotiation,
each resource's CSV-W table schema, and the dataset URIs' dereference."""

from django.urls import path

from standards import views_dcat

app_name = "standards_dcat"
urlpatterns = [
    path("catalog.ttl", views_dcat.catalog_turtle, name="catalog_turtle"),
    path("catalog.jsonld", views_dcat.catalog_jsonld, name="catalog_jsonld"),
    path("catalog/", views_dcat.catalog_negotiated, name="catalog_negotiated"),
    path(
        "catalog/<str:identifier>/schema.json",
        views_dcat.dataset_schema,
        name="dataset_schema",
    ),
    path("id/datasets/<str:identifier>", views_dcat.dataset_dereference, name="dataset_uri"),
]
