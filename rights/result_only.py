"""What the page of a result-only grant shows its grantee: the exact verify call, ready to copy.

Presentation only: the check itself is ``sharing.access.result_verify`` behind
``POST /api/v1/grants/{id}/verify/``. The example names this grant's id, its real item names and
a sample value of each item's type.
"""

import json
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from catalog.models import DataItem
from rights.models import Grant

# A sample value of each item type, as the API takes it (text, parsed like a release's cells).
SAMPLES: dict[str, str] = {
    DataItem.Type.STRING: "R0100007",
    DataItem.Type.INTEGER: "2",
    DataItem.Type.DECIMAL: "12.50",
    DataItem.Type.DATE: "2020-01-31",
    DataItem.Type.BOOLEAN: "true",
}


@dataclass
class VerifyExample:
    url: str  # absolute, under SITE_URL
    match: dict[str, str]
    check: dict[str, str]
    items: list[str]  # every item the grant lets a check name
    daily_limit: int  # checks a day (sharing.access.daily_limit_refusal enforces it)

    @property
    def body(self) -> str:
        body: dict[str, dict[str, str]] = {"match": self.match}
        if self.check:
            body["check"] = self.check
        return json.dumps(body, ensure_ascii=False)

    @property
    def curl(self) -> str:
        return (
            "curl -s -X POST \\\n"
            '  -H "Authorization: Token $TOKEN" \\\n'
            '  -H "Content-Type: application/json" \\\n'
            f"  -d '{self.body}' \\\n"
            f"  {self.url}"
        )


def verify_example(grant: Grant) -> VerifyExample:
    """The call for this grant: match on its first lookup-key item (else its first item),
    check its next one, with sample values of their types."""
    items = {
        item.name: item
        for item in DataItem.objects.filter(resource_id=grant.resource_id, name__in=grant.fields)
    }
    names = [name for name in grant.fields if name in items]
    keys = [name for name in names if items[name].lookup_key] or names
    match_name = keys[0] if keys else ""
    others = [name for name in names if name != match_name]
    url = settings.SITE_URL.rstrip("/") + reverse("grant-data-verify", args=[grant.pk])
    return VerifyExample(
        url=url,
        match={match_name: SAMPLES.get(items[match_name].type, "…")} if match_name else {},
        check={others[0]: SAMPLES.get(items[others[0]].type, "…")} if others else {},
        items=names,
        daily_limit=grant.max_calls_per_day or settings.RESULT_ONLY_DAILY_LIMIT,
    )
