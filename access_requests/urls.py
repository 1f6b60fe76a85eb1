from django.urls import path

from access_requests import views

app_name = "access_requests"
urlpatterns = [
    path("", views.request_list, name="request_list"),
    path("review/", views.request_queue, name="request_queue"),
    path("new/", views.request_create, name="request_create"),
    path("<int:pk>/", views.request_detail, name="request_detail"),
    path("<int:pk>/edit/", views.request_edit, name="request_edit"),
    # submit, withdraw, appeal, endorse, return, reject, approve (POST only)
    path("<int:pk>/<slug:action>/", views.request_action, name="request_action"),
]
