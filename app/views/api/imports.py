"""/api/v1/imports: upload a CSV or JSON file of locations, channels, products, stock or orders
(multipart: `file` and `kind`), then read the run's progress and per-line errors — the same
service and the same runs as the admin import page (services/imports). Admins only."""

from __future__ import annotations

from flask import jsonify, request, url_for
from flask_babel import gettext as _

from app.models import ImportRun
from app.models.base import iso
from app.schemas.reports import ImportRunOut
from app.services import imports
from app.services.errors import ValidationFailed
from app.views.api.access import actor, require_admin
from app.views.api.routing import api_route

TAG = "Imports"
UPLOAD = {"type": "object", "required": ["kind", "file"], "properties": {
    "kind": {"type": "string", "enum": list(imports.KINDS), "description": "What the file holds"},
    "file": {"type": "string", "format": "binary",
             "description": f"CSV (UTF-8 or Windows-1254) or JSON, up to {imports.MAX_BYTES // (1024 * 1024)} MB"}}}


def run_dict(run: ImportRun) -> dict:
    return {"id": run.id, "kind": run.kind, "filename": run.filename, "status": run.status,
            "progress": {"done": run.done, "total": run.total}, "created": run.created, "updated": run.updated,
            "rejected": run.rejected,
            "errors": [{"line": int(e.get("line") or 0), "message": str(e.get("message") or "")}
                       for e in (run.errors or []) if isinstance(e, dict)],
            "created_at": iso(run.created_at), "finished_at": iso(run.finished_at)}


@api_route("/v1/imports", "POST", summary="Upload a file to import; a background job processes it", tag=TAG,
           response=ImportRunOut, status=202, multipart=UPLOAD)
def create_import():
    require_admin()
    if not (request.mimetype or "").startswith("multipart/form-data"):
        raise ValidationFailed(_("Send the file as multipart/form-data with the fields 'kind' and 'file'."),
                               {"file": _("Send a multipart/form-data upload.")})
    upload = request.files.get("file")
    if upload is None:
        raise ValidationFailed(_("Attach the file to import."), {"file": _("Attach the file to import.")})
    kind = request.form.get("kind") or ""
    content = upload.read(imports.MAX_BYTES + 1)
    run = imports.start_import(kind, upload.filename, content, actor())
    response = jsonify(run_dict(run))
    response.status_code = 202
    response.headers["Location"] = url_for("api.get_import", run_id=run.id)
    return response


@api_route("/v1/imports/<int:run_id>", "GET", summary="An import's progress and per-line errors", tag=TAG,
           response=ImportRunOut)
def get_import(run_id: int):
    require_admin()
    return jsonify(run_dict(imports.get_run(run_id)))
