"""The home page (``/``): the signed-in person's task list (govshare/home.py)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from govshare import home


def home_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "home.html",
        {
            "tasks": home.tasks_for(user),
            "awaited": home.awaited_by(user),
            "activity": home.recent_activity(user),
        },
    )
