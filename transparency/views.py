"""Scoreboard page (with server-rendered SVG charts), CSV export and API."""

import csv
import datetime
from typing import Any, cast

from django import forms
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from transparency.charts import bar_chart
from transparency.scoreboard import CSV_COLUMNS, scoreboard

# The value a date input submits and shows (type="date" takes ISO dates in every language).
ISO_DATE = "%Y-%m-%d"


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format=ISO_DATE),
    )
    end = forms.DateField(
        label=_("Until (not included)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format=ISO_DATE),
    )

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())  # Form.clean returns cleaned_data
        today = timezone.localdate()
        data["start"] = data.get("start") or today.replace(month=1, day=1)
        data["end"] = data.get("end") or today + datetime.timedelta(days=1)
        if data["end"] <= data["start"]:
            raise forms.ValidationError(_("The period ends before it starts."))
        return data


def _period(params: QueryDict) -> tuple[PeriodForm, dict[str, Any] | None]:
    form = PeriodForm(params)
    return form, (form.cleaned_data if form.is_valid() else None)


def scoreboard_page(request: HttpRequest) -> HttpResponse:
    form, period = _period(request.GET)
    rows = scoreboard(**period) if period else []
    query = ""
    if period:
        # The inputs show the period the figures are for, also when the defaults filled it in.
        used = {name: period[name].strftime(ISO_DATE) for name in ("start", "end")}
        form, query = PeriodForm(used), urlencode(used)
    no_answer = _("No department answered a request in this period.")
    return render(
        request,
        "transparency/scoreboard.html",
        {
            "form": form,
            "rows": rows,
            "period": period,
            "charts": [
                bar_chart(
                    rows,
                    "median_days",
                    title=_("Median response (working days)"),
                    empty=_(
                        "No bars: every answer in this period came on the working day its "
                        "review began (a median of 0 working days)."
                    )
                    if any(row["answered"] for row in rows)
                    else no_answer,
                ),
                bar_chart(rows, "answered", title=_("Requests answered"), empty=no_answer),
                bar_chart(
                    rows,
                    "deliveries_made",
                    title=_("Deliveries made"),
                    empty=_("No delivery was made in this period."),
                ),
            ],
            "query": query,
        },
        status=200 if period else 400,
    )


def scoreboard_csv(request: HttpRequest) -> HttpResponse:
    form, period = _period(request.GET)
    if not period:
        return HttpResponse(
            " ".join(form.errors.get("__all__", [])),  # type: ignore[arg-type]  # yields its messages
            status=400,
            content_type="text/plain",
        )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="govshare-scoreboard-{period["start"]}-{period["end"]}.csv"'
    )
    writer = csv.DictWriter(response, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(scoreboard(**period))
    return response


class ScoreboardAPIView(APIView):
    """GET /api/v1/scoreboard/?start=&end= — signed-in users."""

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE),
            OpenApiParameter("end", OpenApiTypes.DATE),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        form, period = _period(request.query_params)
        if not period:
            raise ValidationError(form.errors)  # type: ignore[arg-type]  # a dict of lists
        return Response(
            {"start": period["start"], "end": period["end"], "departments": scoreboard(**period)}
        )
