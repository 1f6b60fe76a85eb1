"""The language switcher: Django's ``set_language``, remembered for a signed-in person."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.utils.translation import check_for_language
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from departments.middleware import remember_in_session
from departments.services import profile_set_language


@login_not_required
@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Set the language cookie (visitors too) and, when signed in, the person's profile, so
    their emails and notifications follow it. An unknown code changes nothing."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language and check_for_language(language):
        profile_set_language(user=request.user, language=language)
        remember_in_session(request, language)
    return response
