from django.urls import path

from governance.views import disputes as views

app_name = "disputes"
urlpatterns = [
    path("", views.dispute_list, name="dispute_list"),
    path("office/", views.dispute_queue, name="dispute_queue"),
    path("new/", views.dispute_create, name="dispute_create"),
    path("<int:pk>/", views.dispute_detail, name="dispute_detail"),
    path("<int:pk>/evidence/<int:step_pk>/", views.dispute_evidence, name="dispute_evidence"),
    # statement, settle, escalate, decide, record_final, withdraw (POST only)
    path("<int:pk>/<slug:action>/", views.dispute_action, name="dispute_action"),
]
