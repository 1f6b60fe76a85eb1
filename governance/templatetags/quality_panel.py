"""The resource page's data-quality panel: ``{% load quality_panel %}{% quality_panel resource %}``.

A tag rather than view context, so the catalog view stays as it is: the panel reads only through
the governance selectors and the permission rules.
"""

from typing import Any

from django import template

from catalog.models import Resource
from departments.models import Department
from departments.permissions import quality_reporter_department_ids
from governance import selectors
from governance.permissions import department_may_report_quality

register = template.Library()


@register.inclusion_tag("governance/_quality_panel.html", takes_context=True)
def quality_panel(context: template.Context, resource: Resource) -> dict[str, Any]:
    """The freshness flag, the number of open reports (``selectors.QUALITY_OPEN_STATES``, the
    scoreboard's rule too) for everyone, and the open reports the user may see."""
    user = context["request"].user
    can_report = resource.status == Resource.Status.PUBLISHED and any(
        department_may_report_quality(department, resource)
        for department in Department.objects.filter(
            pk__in=quality_reporter_department_ids(user), is_active=True
        )
    )
    return {
        "resource": resource,
        "freshness": selectors.freshness_of(resource),
        "open_count": selectors.open_quality_report_count(resource),
        "reports": list(selectors.open_quality_reports(user, resource)),
        "can_report": can_report,
    }
