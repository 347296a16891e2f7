"""Labels and packing slips in the brand's language (SPEC §15): Turkish words and Turkish letters
come out of the PDF as they went in (pypdf text extraction), and numbers use a decimal comma."""

from __future__ import annotations

import io
from decimal import Decimal

from pypdf import PdfReader

from app.services.carriers.labels import render_label_pdf, render_packing_slip_pdf, render_zpl
from app.services.settings import put_setting
from tests.services.carriers.test_labels import TRACKING, shipment_request


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_turkish_label_prints_turkish_words_and_letters_intact(app):
    put_setting("LANGUAGE", "tr")
    text = pdf_text(render_label_pdf(shipment_request(boxes=2), TRACKING))
    assert "Koli 1 / 2" in text and "Koli 2 / 2" in text
    assert "GÖNDEREN" in text and "ALICI" in text
    assert "Paket: PKG-000123" in text and "Sipariş: TY-98765" in text
    assert "Ağırlık: 2,75 kg" in text
    # The addresses, with ğ ş ı İ ö ü ç intact, and no English word of ours left.
    assert "Ayşe Çığ Öztürk" in text and "Karşıyaka / İzmir 35540" in text and "Kadıköy Mağazası" in text
    for english in ("Box ", "FROM", "Package:", "Order:", "Weight:"):
        assert english not in text


def test_a_turkish_packing_slip_and_zpl_label(app):
    put_setting("LANGUAGE", "tr")
    request = shipment_request()
    items = [("SKU-1", "Deri çanta, şık ve ışıklı", 2), ("SKU-KG", "Türk kahvesi (kg)", Decimal("1.5"))]
    text = pdf_text(render_packing_slip_pdf("PKG-000123", "TY-98765", request.sender, request.recipient, items))
    assert "Paket içerik listesi" in text and "Sipariş: TY-98765" in text
    assert "Toplam adet" in text and "3,5" in text and "Deri çanta, şık ve ışıklı" in text
    assert "Packing slip" not in text and "Total units" not in text
    zpl = render_zpl(request, TRACKING)
    assert "Koli 1 / 3" in zpl and "GÖNDEREN" in zpl and "^CI28" in zpl


def test_the_documents_follow_the_brand_not_the_person_printing(app):
    put_setting("LANGUAGE", "en")
    with app.test_request_context("/", headers={"Accept-Language": "tr"}):
        text = pdf_text(render_label_pdf(shipment_request(boxes=1), TRACKING))
    assert "Box 1 of 1" in text and "Weight: 2.75 kg" in text
