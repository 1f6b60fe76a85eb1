"""The home page (``/``): the signed-in person's task list (govshare/home.py)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from govshare import home


def home_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    tasks = home.tasks_for(user)
    return render(
        request,
        "home.html",
        {
            "tasks": tasks,
            "awaited": home.awaited_by(user),
            "activity": home.recent_activity(user),
            # The navigation's count is this list's length: no need to count it again.
            "nav_task_count": len(tasks),
        },
    )
