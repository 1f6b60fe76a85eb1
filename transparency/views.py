"""Scoreboard page (with server-rendered SVG charts), CSV export and API."""

import csv
import datetime
from collections.abc import Mapping, Sequence
from typing import Any, cast

from django import forms
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from transparency.scoreboard import CSV_COLUMNS, scoreboard


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("Until (not included)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
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


def _bars(rows: Sequence[Mapping[str, Any]], key: str) -> list[dict[str, Any]]:
    """Bar geometry for an SVG chart: width in percent of the largest value."""
    largest = max((row[key] or 0 for row in rows), default=0) or 1
    return [
        {
            "label": row["department"],
            "value": row[key],
            "width": round(100 * (row[key] or 0) / largest, 1),
            "y": 28 * index,
        }
        for index, row in enumerate(rows)
    ]


def scoreboard_page(request: HttpRequest) -> HttpResponse:
    form, period = _period(request.GET)
    rows = scoreboard(**period) if period else []
    return render(
        request,
        "transparency/scoreboard.html",
        {
            "form": form,
            "rows": rows,
            "period": period,
            "charts": [
                (_("Median response (working days)"), _bars(rows, "median_days")),
                (_("Requests answered"), _bars(rows, "answered")),
                (_("Deliveries made"), _bars(rows, "deliveries_made")),
            ],
            "chart_height": 28 * len(rows) + 4,
            "query": request.GET.urlencode(),
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
