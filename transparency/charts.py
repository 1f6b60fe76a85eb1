"""Horizontal bar charts for the scoreboard, drawn as SVG on the server at their natural size.

The template gives the SVG ``width``/``height`` attributes equal to its ``viewBox``, and the
stylesheet ``max-width: 100%; height: auto``: a chart shrinks on a narrow screen but never
stretches past its size, so its 16 px labels stay at body size.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.functional import Promise

ROW = 32  # px per bar
LABEL_WIDTH = 88  # department codes (OFFICE, POLICE) at 16 px
VALUE_WIDTH = 48
# 400 px in all: two charts side by side on a desktop, and barely shrunk on a phone.
BAR_SPACE = 264
WIDTH = LABEL_WIDTH + BAR_SPACE + VALUE_WIDTH


def bar_chart(
    rows: Sequence[Mapping[str, Any]], key: str, *, title: str | Promise, empty: str | Promise
) -> dict[str, Any]:
    """One chart: a bar per department, scaled to the largest value. ``empty`` is the sentence
    the page shows instead of a chart that would have no bar (no value, or every value 0)."""
    values = [row[key] for row in rows]
    largest = max((value or 0 for value in values), default=0)
    bars = [
        {
            "label": row["department"],
            "value": row[key],
            "width": round(BAR_SPACE * (row[key] or 0) / largest, 1) if largest else 0,
            "y": ROW * index,
        }
        for index, row in enumerate(rows)
    ]
    return {
        "title": title,
        "bars": bars if largest else [],
        "empty": empty,
        "width": WIDTH,
        "height": ROW * len(rows),
        "bar_x": LABEL_WIDTH,
        "value_x": WIDTH,
    }
