"""``{{ n|grouped }}``: a count with the thousands grouped as the user's language writes them."""

from typing import Any

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def grouped(value: Any) -> str:
    if value is None or value == "":
        return ""
    return number_format(value, force_grouping=True)
