from django.urls import path

from catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.resource_list, name="resource_list"),
    path("new/", views.resource_create, name="resource_create"),
    path("<int:pk>/", views.resource_detail, name="resource_detail"),
    path("<int:pk>/edit/", views.resource_edit, name="resource_edit"),
    path("<int:pk>/publish/", views.resource_publish, name="resource_publish"),
    path("<int:pk>/retire/", views.resource_retire, name="resource_retire"),
    path("<int:pk>/releases/new/", views.release_upload, name="release_upload"),
    path(
        "<int:pk>/releases/uploads/<int:job>/",
        views.release_upload_detail,
        name="release_upload_detail",
    ),
    path(
        "<int:pk>/releases/uploads/<int:job>/status/",
        views.release_upload_status,
        name="release_upload_status",
    ),
]
