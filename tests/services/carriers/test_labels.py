"""Labels and packing slips, read back the way a printer or a person would: from the real PDF."""

from __future__ import annotations

import io
from collections import Counter
from decimal import Decimal

import pytest
from barcode.charsets import code128 as code128_tables
from pypdf import PdfReader
from pypdf.generic import ContentStream

from app.services.carriers.base import Address, ShipmentRequest
from app.services.carriers.labels import (
    load_fonts,
    render_label_pdf,
    render_packing_slip_pdf,
    render_zpl,
    transliterate,
)

A6_POINTS = (297.6, 419.5)
A4_POINTS = (595.3, 841.9)
TRACKING = "PKL0123456789012345"


def shipment_request(**overrides: object) -> ShipmentRequest:
    values: dict[str, object] = {
        "package_number": "PKG-000123",
        "order_number": "TY-98765",
        "boxes": 3,
        "weight_kg": Decimal("2.750"),
        "cargo_company_code": "YURTICI",
        "sender": Address(
            "Kadıköy Mağazası",
            "Caferağa Mah. Moda Cad. No: 12",
            "İstanbul",
            "Kadıköy",
            "34710",
            "Türkiye",
            "+90 216 555 00 00",
        ),
        "recipient": Address(
            "Ayşe Çığ Öztürk",
            "Güneşli Sok. No: 5 Daire 3",
            "İzmir",
            "Karşıyaka",
            "35540",
            "Türkiye",
            "+90 555 111 22 33",
        ),
        "idempotency_key": "PKG-000123",
    }
    values.update(overrides)
    return ShipmentRequest(**values)  # type: ignore[arg-type]


def page_size(reader: PdfReader, index: int = 0) -> tuple[float, float]:
    box = reader.pages[index].mediabox
    return float(box.width), float(box.height)


def barcode_bars(reader: PdfReader, index: int) -> list[tuple[float, float]]:
    """(x, width) in page coordinates of every bar of the page's barcode, left to right.

    The bars are the filled rectangles that share one baseline and height; nothing else on a
    label is drawn that way in such numbers. Only translation and scale are followed, which is
    all a label uses.
    """
    contents = ContentStream(reader.pages[index].get_contents(), reader)
    scale_x, scale_y, dx, dy = 1.0, 1.0, 0.0, 0.0
    saved: list[tuple[float, float, float, float]] = []
    rects: list[tuple[float, float, float, float]] = []
    for operands, operator in contents.operations:
        if operator == b"q":
            saved.append((scale_x, scale_y, dx, dy))
        elif operator == b"Q":
            scale_x, scale_y, dx, dy = saved.pop()
        elif operator == b"cm":
            a, _, _, d, e, f = (float(v) for v in operands)
            dx, dy = dx + scale_x * e, dy + scale_y * f
            scale_x, scale_y = scale_x * a, scale_y * d
        elif operator == b"re":
            x, y, w, h = (float(v) for v in operands)
            rects.append((dx + scale_x * x, dy + scale_y * y, scale_x * w, scale_y * h))
    (row, count), *_ = Counter((round(y, 3), round(h, 3)) for _, y, _, h in rects).most_common(1)
    assert count >= 10, "no barcode on the page"
    return sorted((x, w) for x, y, w, h in rects if (round(y, 3), round(h, 3)) == row)


def decode_code128(bars: list[tuple[float, float]]) -> str:
    """Decode Code 128 from bar geometry using python-barcode's symbol tables (not ours)."""
    widths: list[float] = []
    previous_end: float | None = None
    for x, width in bars:
        if previous_end is not None:
            widths.append(x - previous_end)
        widths.append(width)
        previous_end = x + width
    module = min(widths)
    bits = "".join(("1" if i % 2 == 0 else "0") * round(w / module) for i, w in enumerate(widths))
    assert bits.endswith(code128_tables.STOP + "11"), "no stop pattern"
    body = bits[: -len(code128_tables.STOP) - 2]
    assert len(body) % 11 == 0
    values = [code128_tables.CODES.index(body[i : i + 11]) for i in range(0, len(body), 11)]
    start, *data, check = values
    assert (start + sum(i * v for i, v in enumerate(data, 1))) % 103 == check, "bad check digit"

    by_value = {
        "A": {v: k for k, v in code128_tables.A.items()},
        "B": {v: k for k, v in code128_tables.B.items()},
        "C": {v: k for k, v in code128_tables.C.items()},
    }
    charset = {v: k for k, v in code128_tables.START_CODES.items()}[start]
    text = ""
    for value in data:
        if charset == "C" and value < 100:
            text += f"{value:02d}"
            continue
        symbol = by_value[charset][value]
        if symbol.startswith("TO_"):
            charset = symbol[-1]
        else:
            text += symbol
    return text


def test_label_is_one_a6_page_per_box() -> None:
    reader = PdfReader(io.BytesIO(render_label_pdf(shipment_request(boxes=3), TRACKING)))

    assert len(reader.pages) == 3
    for index in range(3):
        assert page_size(reader, index) == pytest.approx(A6_POINTS, abs=0.5)


def test_label_shows_tracking_number_addresses_package_and_box_count_in_turkish() -> None:
    reader = PdfReader(io.BytesIO(render_label_pdf(shipment_request(boxes=2), TRACKING)))

    for index, page in enumerate(reader.pages, 1):
        text = page.extract_text()
        assert TRACKING in text
        assert f"Box {index} of 2" in text
        assert "PKG-000123" in text
        assert "TY-98765" in text
        assert "YURTICI" in text
        # Sender (the packing location) and recipient, with ğ ş ı İ ö ü ç intact.
        assert "Kadıköy Mağazası" in text
        assert "Caferağa Mah. Moda Cad. No: 12" in text
        assert "Ayşe Çığ Öztürk" in text
        assert "Güneşli Sok. No: 5 Daire 3" in text
        assert "Karşıyaka / İzmir 35540" in text
        assert "2.75 kg" in text


def test_label_barcode_is_code128_of_the_tracking_number_on_every_page() -> None:
    reader = PdfReader(io.BytesIO(render_label_pdf(shipment_request(boxes=2), TRACKING)))

    assert [decode_code128(barcode_bars(reader, i)) for i in range(2)] == [TRACKING, TRACKING]


def test_a_long_carrier_tracking_number_still_fits_the_label_and_scans() -> None:
    tracking = "1Z-ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789"
    reader = PdfReader(io.BytesIO(render_label_pdf(shipment_request(boxes=1), tracking)))

    bars = barcode_bars(reader, 0)
    assert decode_code128(bars) == tracking
    module = min(width for _, width in bars)
    left, (last_x, last_width) = bars[0][0], bars[-1]
    # Ten modules of quiet zone on each side, as scanners need.
    assert left >= 10 * module and last_x + last_width <= A6_POINTS[0] - 10 * module


def test_a_long_address_is_wrapped_not_cut_off_the_page() -> None:
    street = "Atatürk Bulvarı Çiçek Apartmanı No: 145 Kat: 7 Daire: 28 Yenişehir Mahallesi"
    req = shipment_request(recipient=Address("Ali Yılmaz", street, "Ankara", "Çankaya"))
    text = PdfReader(io.BytesIO(render_label_pdf(req, TRACKING))).pages[0].extract_text()

    assert " ".join(text.split()).count(street) == 1


def test_label_renders_byte_identical_when_asked_again() -> None:
    req = shipment_request()

    assert render_label_pdf(req, TRACKING) == render_label_pdf(req, TRACKING)


@pytest.mark.parametrize("tracking", ["", "PKL 123", "PKL^XZ", "ÇKL123", "X" * 101])
def test_label_refuses_a_tracking_number_no_scanner_or_printer_could_take(tracking: str) -> None:
    with pytest.raises(ValueError, match="tracking number"):
        render_label_pdf(shipment_request(), tracking)
    with pytest.raises(ValueError, match="tracking number"):
        render_zpl(shipment_request(), tracking)


def test_zpl_is_one_4x6_label_per_box_with_code128_of_the_tracking_number() -> None:
    zpl = render_zpl(shipment_request(boxes=3), TRACKING)

    assert zpl.startswith("^XA")
    assert zpl.endswith("^XZ")
    labels = zpl.split("^XZ")[:-1]
    assert len(labels) == 3
    for index, label in enumerate(labels, 1):
        assert "^PW812" in label and "^LL1218" in label  # 4x6 in at 203 dpi
        assert f"^BCN,200,N,N,N,A^FD{TRACKING}^FS" in label
        assert f"Box {index} of 3" in label
        assert "PKG-000123" in label
        assert "Ayşe Çığ Öztürk" in label  # UTF-8 field data, announced by ^CI28
    assert zpl.count("^CI28") == 3


def test_zpl_cannot_be_hijacked_by_an_address() -> None:
    req = shipment_request(boxes=1, recipient=Address("Evil^XZ^XA~JA", "Line_one \\ two", "İzmir"))
    zpl = render_zpl(req, TRACKING)

    assert zpl.count("^XA") == 1 and zpl.count("^XZ") == 1
    assert "~JA" not in zpl
    assert "Evil_5EXZ_5EXA_7EJA" in zpl
    assert "Line_5Fone / two" in zpl


def test_packing_slip_is_a4_and_lists_every_item_over_as_many_pages_as_needed() -> None:
    items: list[tuple[str, str, int | Decimal]] = [
        (f"SKU-{n:03d}", f"Deri çanta, şık ve ışıklı no {n}", 2) for n in range(70)
    ]
    items.append(("SKU-KG", "Türk kahvesi (kg)", Decimal("1.5")))
    sender = shipment_request().sender
    recipient = shipment_request().recipient

    pdf = render_packing_slip_pdf("PKG-000123", "TY-98765", sender, recipient, items)

    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) > 1
    assert all(page_size(reader, i) == pytest.approx(A4_POINTS, abs=0.5) for i in range(2))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for sku, name, _ in items:
        assert sku in text and name in text
    assert "PKG-000123" in text and "TY-98765" in text
    assert "Kadıköy Mağazası" in text and "Ayşe Çığ Öztürk" in text
    assert "141.5" in text  # total units
    assert "SKU" in reader.pages[1].extract_text()  # the header repeats on later pages


def test_without_dejavu_fonts_fall_back_to_helvetica_and_transliterate(tmp_path) -> None:
    fonts = load_fonts(tmp_path)

    assert (fonts.regular, fonts.bold, fonts.unicode) == ("Helvetica", "Helvetica-Bold", False)
    assert fonts.text("Ağrı Iğdır İstanbul Şişli Çeşme Ödemiş Ürgüp") == (
        "Agri Igdir Istanbul Sisli Cesme Odemis Urgup"
    )


def test_transliteration_keeps_plain_text_as_it_is() -> None:
    assert transliterate("PKG-1 / Box 2 of 3") == "PKG-1 / Box 2 of 3"
