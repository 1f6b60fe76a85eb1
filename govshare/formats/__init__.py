"""Date formats per language (``FORMAT_MODULE_PATH``), over Django's own for each locale.

Templates name a format (``|date:"SHORT_DATE_FORMAT"``), never a pattern, so each language gets
its own: English keeps ISO 8601 (2026-12-02, 2026-12-02 14:30), which a register of official
decisions reads without ambiguity; Chinese writes 2026年12月2日 14:30, as GB/T 7408 and official
documents do. What Django's locale defines and this does not (input formats, first day of the
week) stays Django's. Numbers have no thousands separator in either language: ids and counts
read the same in both.
"""
