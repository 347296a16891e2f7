"""Shipping labels (A6 PDF and 4x6in ZPL II, one label per box) and the A4 packing slip.

Turkish addresses must print as written, so the PDFs embed DejaVu Sans (Debian package
`fonts-dejavu-core`). Without it they fall back to Helvetica, whose encoding lacks ğ, ş, ı and İ,
and transliterate (İstanbul -> Istanbul) rather than print black boxes.

Their words ("Box 1 of 2", "Ship to", …) are in the brand's language (the LANGUAGE setting): the
documents travel with the parcel, so they do not follow whoever pressed Print.
"""

from __future__ import annotations

import functools
import io
import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from babel.numbers import format_decimal
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, A6
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app.i18n import brand_language
from app.services.carriers.base import Address, ShipmentRequest, validate_tracking_number

log = logging.getLogger(__name__)

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")

# A6 label geometry, in points.
MARGIN = 5 * mm
BARCODE_HEIGHT = 85.0
MAX_BAR_WIDTH = 1.6  # module width; ~0.56 mm scans well from a 203 dpi print

# 4x6in at 203 dpi, in dots.
ZPL_WIDTH = 812
ZPL_HEIGHT = 1218
ZPL_MARGIN = 40


@dataclass(frozen=True)
class Fonts:
    """The font names to draw with and whether they can show any Turkish text."""

    regular: str
    bold: str
    unicode: bool

    def text(self, value: str) -> str:
        """Return `value` as these fonts can draw it."""
        return value if self.unicode else transliterate(value)


def load_fonts(directory: Path = DEJAVU_DIR) -> Fonts:
    """Register DejaVu Sans from `directory`, or fall back to Helvetica when it is unusable."""
    try:
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(directory / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(directory / "DejaVuSans-Bold.ttf")))
    except (OSError, TTFError) as exc:
        log.warning("DejaVu Sans unusable (%s); labels fall back to Helvetica", exc)
        return Fonts("Helvetica", "Helvetica-Bold", unicode=False)
    return Fonts("DejaVuSans", "DejaVuSans-Bold", unicode=True)


@functools.cache
def default_fonts() -> Fonts:
    """The fonts every document uses, resolved once per process."""
    return load_fonts()


def transliterate(value: str) -> str:
    """Fold text to what Helvetica's Latin-1 encoding can show (ğ -> g, ı -> i, İ -> I)."""
    # The dotless ı has no decomposition, so it needs its own rule.
    decomposed = unicodedata.normalize("NFKD", value.replace("ı", "i"))
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return folded.encode("latin-1", "replace").decode("latin-1")


def _address_lines(address: Address) -> tuple[str, str, str, str]:
    """(street line, 'district / city postcode', country, phone) with empty parts dropped."""
    place = " / ".join(part for part in (address.district, address.city) if part)
    place = " ".join(part for part in (place, address.postcode) if part)
    phone = f"Tel: {address.phone}" if address.phone else ""
    return address.line, place, address.country, phone


def _in_brand_language(render):
    """Render a document in the brand's language (see the module's docstring)."""

    @functools.wraps(render)
    def wrapper(*args, **kwargs):
        with force_locale(brand_language()):
            return render(*args, **kwargs)

    return wrapper


def _number(value: int | Decimal) -> str:
    """1.5 → "1.5" (English) / "1,5" (Turkish)."""
    return format_decimal(value, locale=get_locale() or "en", group_separator=False)


def _weight(req: ShipmentRequest) -> str:
    if req.weight_kg is None:
        return ""
    return _("%(weight)s kg", weight=_number(Decimal(str(req.weight_kg)).normalize()))


# ---------------------------------------------------------------------------------------- PDF


class _LabelPage:
    """Draws one A6 label top-down, keeping the vertical cursor."""

    def __init__(self, canvas: Canvas, fonts: Fonts) -> None:
        self.c = canvas
        self.fonts = fonts
        self.width = A6[0] - 2 * MARGIN
        self.y = A6[1] - MARGIN

    def text(self, value: str, size: float, bold: bool = False, max_lines: int = 1) -> None:
        if not value:
            return
        font = self.fonts.bold if bold else self.fonts.regular
        lines = simpleSplit(self.fonts.text(value), font, size, self.width) or [""]
        if len(lines) > max_lines:
            last = lines[max_lines - 1]
            while " " in last and pdfmetrics.stringWidth(last + " ...", font, size) > self.width:
                last = last.rsplit(" ", 1)[0]
            lines = lines[: max_lines - 1] + [last + " ..."]
        self.c.setFont(font, size)
        for line in lines:
            self.y -= size * 1.15
            self.c.drawString(MARGIN, self.y, line)

    def caption(self, value: str) -> None:
        self.y -= 3
        self.text(value, 6.5, bold=True)
        self.y -= 1

    def rule(self) -> None:
        self.y -= 5
        self.c.setLineWidth(0.8)
        self.c.line(MARGIN, self.y, MARGIN + self.width, self.y)
        self.y -= 2

    def barcode(self, tracking_number: str) -> None:
        modules = Code128(tracking_number, barWidth=1, quiet=0).width
        # Keep ten modules of quiet zone on each side inside the printable width.
        bar_width = min(MAX_BAR_WIDTH, self.width / (modules + 20))
        symbol = Code128(
            tracking_number,
            barWidth=bar_width,
            barHeight=BARCODE_HEIGHT,
            quiet=0,
            humanReadable=0,
        )
        self.y -= BARCODE_HEIGHT + 8
        symbol.drawOn(self.c, MARGIN + (self.width - symbol.width) / 2, self.y)
        self.y -= 16
        size = min(14.0, 14 * self.width / pdfmetrics.stringWidth(tracking_number, self.fonts.bold, 14))
        self.c.setFont(self.fonts.bold, size)
        self.c.drawCentredString(MARGIN + self.width / 2, self.y, tracking_number)


@_in_brand_language
def render_label_pdf(req: ShipmentRequest, tracking_number: str) -> bytes:
    """Render the A6 shipping label as PDF, one page per box ("Box i of n")."""
    tracking_number = validate_tracking_number(tracking_number)
    fonts = default_fonts()
    buffer = io.BytesIO()
    # invariant: same input, same bytes, so a regenerated label is byte-identical.
    canvas = Canvas(buffer, pagesize=A6, invariant=True, pageCompression=1)
    canvas.setTitle(_("Label %(tracking)s", tracking=tracking_number))
    canvas.setAuthor("Packline")
    street, place, country, phone = _address_lines(req.recipient)
    s_street, s_place, s_country, s_phone = _address_lines(req.sender)
    for box in range(1, req.boxes + 1):
        page = _LabelPage(canvas, fonts)
        page.text(req.cargo_company_code, 13, bold=True)
        canvas.setFont(fonts.bold, 13)
        canvas.drawRightString(MARGIN + page.width, page.y, _("Box %(box)s of %(boxes)s", box=box, boxes=req.boxes))
        page.rule()
        page.caption(_("FROM"))
        page.text(req.sender.name, 8, bold=True)
        page.text(s_street, 8, max_lines=2)
        page.text(" · ".join(p for p in (s_place, s_country, s_phone) if p), 8, max_lines=2)
        page.rule()
        page.caption(_("TO"))
        page.text(req.recipient.name, 13, bold=True, max_lines=2)
        page.text(street, 11, max_lines=3)
        page.text(place, 12, bold=True, max_lines=2)
        page.text(" · ".join(p for p in (country, phone) if p), 10)
        page.rule()
        page.barcode(tracking_number)
        page.rule()
        page.text(_("Package: %(number)s", number=req.package_number), 9, bold=True)
        page.text(_("Order: %(number)s", number=req.order_number), 9)
        if req.weight_kg is not None:
            page.text(_("Weight: %(weight)s", weight=_weight(req)), 9)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _quantity(value: int | Decimal) -> str:
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    return _number(value)


@_in_brand_language
def render_packing_slip_pdf(
    package_number: str,
    order_number: str,
    location: Address,
    recipient: Address,
    items: Sequence[tuple[str, str, int | Decimal]],
) -> bytes:
    """Render the A4 packing slip listing (sku, name, quantity); long lists flow onto more pages."""
    fonts = default_fonts()

    def para(value: str, size: float = 9, bold: bool = False) -> Paragraph:
        style = ParagraphStyle(
            "slip",
            fontName=fonts.bold if bold else fonts.regular,
            fontSize=size,
            leading=size * 1.25,
        )
        return Paragraph(escape(fonts.text(value)), style)

    def address(title: str, a: Address) -> list[Paragraph]:
        lines = [line for line in (a.name, *_address_lines(a)) if line]
        return [para(title, 8, bold=True), *(para(line, 10) for line in lines)]

    def footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.setFont(fonts.regular, 8)
        canvas.drawRightString(
            A4[0] - 15 * mm,
            10 * mm,
            fonts.text(_("%(package)s · page %(page)s", package=package_number, page=doc.page)),
        )

    rows: list[list[Paragraph]] = [[para(_("SKU"), bold=True), para(_("Product"), bold=True),
                                    para(_("Qty"), bold=True)]]
    rows += [[para(sku), para(name), para(_quantity(qty))] for sku, name, qty in items]
    total = sum((Decimal(qty) for _sku, _name, qty in items), Decimal(0))
    rows.append([para(""), para(_("Total units"), bold=True), para(_quantity(total), bold=True)])
    width = A4[0] - 30 * mm
    item_table = Table(rows, colWidths=[45 * mm, width - 65 * mm, 20 * mm], repeatRows=1)
    item_table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("LINEBELOW", (0, 1), (-1, -2), 0.25, colors.grey),
                ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black),
            ]
        )
    )
    addresses = Table(
        [[address(_("SHIP FROM"), location), address(_("SHIP TO"), recipient)]],
        colWidths=[width / 2, width / 2],
    )
    addresses.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=_("Packing slip %(package)s", package=package_number),
        author="Packline",
        invariant=True,
    )
    doc.build(
        [
            para(_("Packing slip"), 18, bold=True),
            Spacer(1, 4 * mm),
            para(_("Package: %(number)s", number=package_number), 11, bold=True),
            para(_("Order: %(number)s", number=order_number), 11),
            Spacer(1, 6 * mm),
            addresses,
            Spacer(1, 8 * mm),
            item_table,
        ],
        onFirstPage=footer,
        onLaterPages=footer,
    )
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------- ZPL


def _zpl_text(value: str) -> str:
    """Field data for ^FH_: control characters escaped as hex so no address can inject commands."""
    # ^FB reads backslash sequences of its own, so a stray backslash is not worth the risk.
    value = " ".join(value.replace("\\", "/").split())
    return "".join(f"_{ord(ch):02X}" if ch in "^~_" else ch for ch in value)


def _zpl_field(y: int, value: str, size: int, lines: int = 1, align: str = "L") -> str:
    width = ZPL_WIDTH - 2 * ZPL_MARGIN
    return f"^FO{ZPL_MARGIN},{y}^A0N,{size},{size}^FB{width},{lines},0,{align},0^FH_^FD{_zpl_text(value)}^FS"


def _zpl_rule(y: int) -> str:
    return f"^FO{ZPL_MARGIN},{y}^GB{ZPL_WIDTH - 2 * ZPL_MARGIN},3,3^FS"


def _zpl_barcode(y: int, tracking_number: str) -> str:
    modules = int(Code128(tracking_number, barWidth=1, quiet=0).width)
    printable = ZPL_WIDTH - 2 * ZPL_MARGIN
    module = max(1, min(3, printable // (modules + 20)))
    x = max(0, (ZPL_WIDTH - modules * module) // 2)
    # Mode A lets the printer pick the Code 128 subsets, so the data needs no invocation codes.
    return f"^FO{x},{y}^BY{module},3,200^BCN,200,N,N,N,A^FD{tracking_number}^FS"


def _zpl_label(req: ShipmentRequest, tracking_number: str, box: int) -> str:
    street, place, country, phone = _address_lines(req.recipient)
    s_street, s_place, s_country, s_phone = _address_lines(req.sender)
    fields = [
        "^XA",
        "^CI28",  # field data is UTF-8
        f"^PW{ZPL_WIDTH}",
        f"^LL{ZPL_HEIGHT}",
        "^LH0,0",
        _zpl_field(30, req.cargo_company_code, 45),
        _zpl_field(30, _("Box %(box)s of %(boxes)s", box=box, boxes=req.boxes), 45, align="R"),
        _zpl_rule(88),
        _zpl_field(100, _("FROM"), 22),
        _zpl_field(126, req.sender.name, 28),
        _zpl_field(158, s_street, 24, lines=2),
        _zpl_field(212, " · ".join(p for p in (s_place, s_country, s_phone) if p), 24, lines=2),
        _zpl_rule(270),
        _zpl_field(282, _("TO"), 24),
        _zpl_field(312, req.recipient.name, 44, lines=2),
        _zpl_field(410, street, 34, lines=3),
        _zpl_field(530, place, 40, lines=2),
        _zpl_field(624, " · ".join(p for p in (country, phone) if p), 30),
        _zpl_rule(668),
        _zpl_barcode(700, tracking_number),
        _zpl_field(920, tracking_number, 50, align="C"),
        _zpl_rule(990),
        _zpl_field(1010, _("Package: %(number)s", number=req.package_number), 32),
        _zpl_field(1052, _("Order: %(number)s", number=req.order_number), 32),
    ]
    if req.weight_kg is not None:
        fields.append(_zpl_field(1094, _("Weight: %(weight)s", weight=_weight(req)), 32))
    fields.append("^XZ")
    return "\n".join(fields)


@_in_brand_language
def render_zpl(req: ShipmentRequest, tracking_number: str) -> str:
    """Render the label as ZPL II for a 4x6in 203 dpi thermal printer, one label per box."""
    tracking_number = validate_tracking_number(tracking_number)
    return "\n".join(_zpl_label(req, tracking_number, box) for box in range(1, req.boxes + 1))
