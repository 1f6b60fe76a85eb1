"""Upload limits enforced while the body is read, not after it is stored.

``UPLOAD_LIMITS`` in settings maps the URL names that take a file (the release upload on the web
and in the API, a request's supporting document, a dispute's evidence) to the setting that holds
their limit in bytes. For those URLs :class:`UploadLimitMiddleware`, placed before the CSRF check
(which reads the body):

1. refuses a body whose ``Content-Length`` is over the limit plus ``FORM_ALLOWANCE`` (the other
   form fields and the multipart boundaries) with 413, before a byte of it is read;
2. otherwise reads the body itself, with :class:`UploadLimitHandler` first among the upload
   handlers: it counts the file bytes as they arrive and stops the upload at the first chunk
   past the limit (``StopUpload(connection_reset=True)``: the rest is never read). Django then
   closes and deletes the temporary files of that request, so nothing stays in
   ``FILE_UPLOAD_TEMP_DIR`` and nothing reaches ``MEDIA_ROOT``; the answer is 413.

The web answer is the 413 page naming the limit; the API's is JSON ``{"detail", "limit_bytes"}``.
A body without a ``Content-Length`` (chunked) is answered 411 Length Required at once: Django's
WSGI handler would read it as empty and the person would be told only "no file". A declared
length that lies cannot get more through: Django reads no more than it declares, and the count
in (2) stops the files at the limit.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from core.errors import error_response

# What a multipart body may carry beyond its files: the other fields (a form's text, the CSRF
# token) and the boundaries and part headers. A body between the limit and the limit plus this is
# read, and stopped by the count if its files pass the limit.
FORM_ALLOWANCE = 64 * 1024


def _declared_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


class UploadLimitHandler(FileUploadHandler):
    """Counts the bytes of every file in the body; stops the upload once they pass ``limit``."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            # The parser closes (and so deletes) the files it has, and reads no further.
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) builds the file


def _too_large(request: HttpRequest, limit: int, declared: int | None) -> HttpResponse:
    if declared is not None:
        reason = _(
            "This upload is %(size)s; a file sent here may be at most %(limit)s. Nothing was saved."
        ) % {"size": filesizeformat(declared), "limit": filesizeformat(limit)}
    else:
        reason = _(
            "The file is larger than %(limit)s, the most a file sent here may be; the upload was "
            "stopped and nothing was saved."
        ) % {"limit": filesizeformat(limit)}
    return error_response(request, 413, reason, back_url=request.path, extra={"limit_bytes": limit})


class UploadLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        setting = settings.UPLOAD_LIMITS.get(match.view_name) if match else None
        if setting is None or request.method != "POST":
            return None
        limit: int = getattr(settings, setting)
        declared = _declared_length(request)
        if declared is None:
            # Chunked: Django's WSGI handler would read it as empty ("no file"); say why instead.
            return error_response(
                request,
                411,
                _(
                    "Send the file with its Content-Length; a file sent here may be at most "
                    "%(limit)s."
                )
                % {"limit": filesizeformat(limit)},
                back_url=request.path,
                extra={"limit_bytes": limit},
            )
        if declared > limit + FORM_ALLOWANCE:
            return _too_large(request, limit, declared)
        if request.content_type != "multipart/form-data":
            return None  # no files: the declared length bounds it
        counter = UploadLimitHandler(request, limit)
        request.upload_handlers.insert(0, counter)
        try:
            request.POST  # noqa: B018 - parse now, counting, before anything else reads the body
        except MultiPartParserError:
            return (
                None  # Django marked the parse error: the form or serializer says what is missing
            )
        if counter.exceeded:
            return _too_large(request, limit, None)
        return None
