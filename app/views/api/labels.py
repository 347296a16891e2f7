"""Printable documents of a package: its shipping label (PDF or ZPL) and its packing slip (PDF)."""

from __future__ import annotations

import re

from flask import Response, request

from app.services import shipments
from app.views.api import current_actor
from app.views.api.routing import QueryParam, api_route

TAG = "packages"


def _send(document: shipments.Document, disposition: str = "inline") -> Response:
    response = Response(document.content, content_type=document.mimetype)
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", document.filename)
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    # Labels carry customer addresses: never keep them in shared caches.
    response.headers["Cache-Control"] = "private, no-store"
    return response


@api_route("/v1/packages/<int:package_id>/label", "GET", tag=TAG,
           summary="The package's shipping label: A6 PDF (one page per box) or ZPL for thermal printers",
           query=(QueryParam("format", description="pdf (default) or zpl", enum=shipments.LABEL_FORMATS),),
           produces=("application/pdf", "text/plain"))
def package_label(package_id: int):
    fmt = request.args.get("format", "pdf")
    document = shipments.label_document(package_id, fmt, current_actor())
    return _send(document, "inline" if fmt == "pdf" else "attachment")


@api_route("/v1/packages/<int:package_id>/packing-slip", "GET", tag=TAG,
           summary="The package's packing slip (A4 PDF)", produces=("application/pdf",))
def package_packing_slip(package_id: int):
    return _send(shipments.packing_slip_document(package_id, current_actor()))
