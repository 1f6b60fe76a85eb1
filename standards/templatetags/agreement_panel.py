"""The grant page's agreement panel: ``{% load agreement_panel %}{% agreement_panel grant %}``.

A tag rather than view context, because the grant page is the rights app's, which may not import
standards: the panel reads the agreement, its signatures and what the user may sign here.
"""

from typing import Any

from django import template

from rights.models import Grant
from standards import agreements
from standards.models import Agreement

register = template.Library()


@register.inclusion_tag("standards/_agreement_panel.html", takes_context=True)
def agreement_panel(context: template.Context, grant: Grant) -> dict[str, Any]:
    user = context["request"].user
    agreement = (
        Agreement.objects.filter(grant=grant)
        .prefetch_related("signatures__department", "signatures__signer")
        .first()
    )
    return {
        "grant": grant,
        "agreement": agreement,
        "signatures": list(agreement.signatures.all()) if agreement else [],
        "waiting": agreements.agreement_waiting_for(grant=grant)
        if agreement and agreement.signed_at is None
        else [],
        "sign_for": agreements.agreement_sign_options(user, agreement) if agreement else [],
        "csrf_token": context.get("csrf_token"),
    }
