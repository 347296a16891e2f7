"""Imports: upload a CSV/JSON file, watch the progress bar (htmx polls a fragment), read the report."""

from __future__ import annotations

import htmx_flask
from flask import redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.forms import show_service_errors
from app.forms.admin import ImportForm
from app.models import ImportRun
from app.services import imports
from app.services.actors import Actor
from app.services.errors import ValidationFailed
from app.services.pagination import PageArgs, paginate
from app.services.said import N_
from app.views.admin import bp
from app.views.htmx import render, wants_fragment
from app.views.security import role_required

# A run's page is headed with what it imports, one whole sentence per kind.
RUN_HEADINGS = {
    "locations": N_("Locations import %(number)s"), "channels": N_("Channels import %(number)s"),
    "products": N_("Products import %(number)s"), "stock": N_("Stock import %(number)s"),
    "orders": N_("Orders import %(number)s"), "purchase_orders": N_("Purchase orders import %(number)s"),
}
RUN_HEADING = N_("Import %(number)s")  # a kind this list does not know yet


def _list_page(form: ImportForm, status: int = 200):
    runs = paginate(select(ImportRun).order_by(ImportRun.id.desc()), PageArgs.lenient(request.args, 25))
    return render("admin/imports/list.html", "admin/imports/_upload_form.html", status=status, form=form, runs=runs)


@bp.get("/imports/", endpoint="imports")
@role_required("admin")
def imports_page():
    return _list_page(ImportForm(formdata=None))


@bp.post("/imports/")
@role_required("admin")
def import_upload():
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            run = imports.start_import(form.kind.data, upload.filename, upload.read(), Actor.for_user(current_user))
        except ValidationFailed as exc:
            show_service_errors(form, exc.details)
        else:
            target = url_for("admin.import_run", run_id=run.id)
            if wants_fragment():
                return htmx_flask.make_response(render("admin/imports/list.html", "admin/imports/_upload_form.html",
                                                       form=form, runs=None), redirect=target)
            return redirect(target, 303)
    return _list_page(form, status=422)


@bp.get("/imports/<int:run_id>/")
@role_required("admin")
def import_run(run_id: int):
    run = imports.get_run(run_id)
    heading = _(RUN_HEADINGS.get(run.kind, RUN_HEADING), number=run.id)
    return render("admin/imports/run.html", "admin/imports/_progress.html", run=run, heading=heading)

