from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from rest_framework.views import APIView


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Deny by default: every page needs a signed-in user unless marked ``login_not_required``.

    REST framework views are left to DRF, which authenticates tokens as well as sessions and
    answers JSON 401/403 (its default permission is ``IsAuthenticated``); a redirect to the
    sign-in page would be the wrong answer for an API client.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_class = getattr(view_func, "cls", None)
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
