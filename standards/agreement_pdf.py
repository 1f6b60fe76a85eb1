"""A data-sharing agreement as a PDF (ReportLab platypus), in the active language.

The same sections as the page (``agreement_sections``): a title, the agreement's identifiers,
then each s.19 section with its rows, sentences, steps and tables; every page carries its number
and the document's SHA-256 in the footer, so a printed page names the document it belongs to.
Chinese is set in ReportLab's built-in CID font STSong-Light (no font file to ship; a reader
supplies the glyphs), Latin text in Helvetica.
"""

from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from standards.agreement_render import Section, agreement_sections, datetime_words

CJK_FONT = "STSong-Light"
MARGIN = 20 * mm


class _Fonts:
    def __init__(self, chinese: bool) -> None:
        if chinese and CJK_FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
        self.chinese = chinese
        self.body = CJK_FONT if chinese else "Helvetica"
        self.bold = CJK_FONT if chinese else "Helvetica-Bold"
        wrap = "CJK" if chinese else None
        leading = 1.5 if chinese else 1.3
        self.text = ParagraphStyle(
            "text",
            fontName=self.body,
            fontSize=10,
            leading=10 * leading,
            spaceAfter=4,
            wordWrap=wrap,
        )
        self.cell = ParagraphStyle(
            "cell", parent=self.text, fontSize=9, leading=9 * leading, spaceAfter=0
        )
        self.head_cell = ParagraphStyle("head_cell", parent=self.cell, fontName=self.bold)
        self.title = ParagraphStyle(
            "title", parent=self.text, fontName=self.bold, fontSize=16, leading=22, spaceAfter=8
        )
        self.heading = ParagraphStyle(
            "heading",
            parent=self.text,
            fontName=self.bold,
            fontSize=12,
            leading=17,
            spaceBefore=10,
            spaceAfter=2,
            keepWithNext=1,
        )
        self.citation = ParagraphStyle(
            "citation",
            parent=self.text,
            fontSize=8,
            leading=11,
            textColor=colors.HexColor("#4a5360"),
            keepWithNext=1,
        )


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def _grid(rows: list[list[Paragraph]], widths: list[float], header: bool) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
    style = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.5, colors.HexColor("#c9d0d9")),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3f5f8")))
    table.setStyle(TableStyle(style))
    return table


def _section(section: Section, fonts: _Fonts, width: float) -> list[Flowable]:
    story: list[Flowable] = [_p(f"{section.number}. {section.heading}", fonts.heading)]
    if section.citation:
        story.append(_p(section.citation, fonts.citation))
    if section.rows:
        rows = [[_p(k, fonts.head_cell), _p(v, fonts.cell)] for k, v in section.rows]
        story.append(_grid(rows, [width * 0.35, width * 0.65], header=False))
        story.append(Spacer(1, 4))
    story += [_p(sentence, fonts.text) for sentence in section.sentences]
    story += [_p(f"{n}. {step}", fonts.text) for n, step in enumerate(section.steps, start=1)]
    if section.table is not None:
        table = section.table
        head = [_p(h, fonts.head_cell) for h in table.headers]
        body = [[_p(cell, fonts.cell) for cell in row] for row in table.rows]
        columns = len(table.headers)
        story.append(_grid([head, *body], [width / columns] * columns, header=True))
    return story


def _numbered_canvas(fonts: _Fonts, sha256: str) -> type[canvas.Canvas]:
    """A canvas that holds every page until the end, to print "page n of N" and the hash."""

    class NumberedCanvas(canvas.Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (ReportLab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._footer(total)
                super().showPage()
            super().save()

        def _footer(self, total: int) -> None:
            width, _height = A4
            self.setFillColor(colors.HexColor("#4a5360"))
            self.setFont("Helvetica", 7)
            self.drawString(MARGIN, 10 * mm, f"SHA-256 {sha256}")
            self.setFont(fonts.body, 8)
            page = _("Page %(page)d of %(pages)d") % {
                "page": self._pageNumber,
                "pages": total,
            }
            self.drawRightString(width - MARGIN, 10 * mm, page)

    return NumberedCanvas


def agreement_pdf(document: dict[str, Any], signatures: list[dict[str, Any]], sha256: str) -> bytes:
    """The agreement as PDF bytes in the active language; every page's footer holds ``sha256``."""
    fonts = _Fonts(chinese=(get_language() or "").lower().startswith("zh"))
    title = _("Data-sharing agreement for grant #%(id)s") % {"id": document.get("grant", "")}
    buffer = BytesIO()
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author="govshare",
        subject=str(document.get("uri", "")),
    )
    width = A4[0] - 2 * MARGIN
    facts = [
        (_("Agreement"), document.get("uri", "")),
        (_("Generated at"), datetime_words(document.get("generated_at"))),
        ("SHA-256", sha256),
    ]
    story: list[Flowable] = [_p(title, fonts.title)]
    rows = [[_p(k, fonts.head_cell), _p(v, fonts.cell)] for k, v in facts]
    story.append(_grid(rows, [width * 0.25, width * 0.75], header=False))
    for section in agreement_sections(document, signatures):
        story += _section(section, fonts, width)
    pdf.build(story, canvasmaker=_numbered_canvas(fonts, sha256))
    return buffer.getvalue()
