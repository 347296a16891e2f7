"""Supervisor package lists (ageing, out of stock, blocked) and actions: block, unblock, cancel and
manual planning. Every action is one call to the package command service."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.forms import show_service_errors
from app.forms.supervisor import ReasonForm, VersionForm
from app.services import admin_queries
from app.services.errors import Conflict, ValidationFailed
from app.services.packages import run_package_command
from app.services.transitions import allowed_package_commands
from app.views.htmx import render, wants_fragment
from app.views.security import role_required
from app.views.supervisor import MANAGERS, bp, current_actor, page_arg

LISTS = {
    "ageing": (_l("Ageing"), _l("Open packages older than their location's target packaging time, oldest first.")),
    "out_of_stock": (_l("Out of stock"), _l("Packages nobody can supply yet. Plan them manually or wait for stock.")),
    "blocked": (_l("Blocked"), _l("Packages put on hold. Unblock, cancel or plan them elsewhere.")),
}


def _list(kind: str):
    actor = current_actor()
    location = admin_queries.location_by_code(actor, request.args.get("location"))
    if kind == "ageing":
        packages = admin_queries.ageing_packages(actor, location, page=page_arg())
    else:
        packages = admin_queries.packages_in_states(actor, (kind,), location, page=page_arg())
    title, intro = LISTS[kind]
    return render("supervisor/package_list.html", "supervisor/_package_table.html", kind=kind, title=title,
                  intro=intro, packages=packages, location=location,
                  locations=admin_queries.visible_locations(actor), minutes_late=admin_queries.minutes_late)


@bp.get("/ageing")
@role_required(*MANAGERS)
def ageing():
    return _list("ageing")


@bp.get("/out-of-stock")
@role_required(*MANAGERS)
def out_of_stock():
    return _list("out_of_stock")


@bp.get("/blocked")
@role_required(*MANAGERS)
def blocked():
    return _list("blocked")


def _package_page(package, *, block_form=None, cancel_form=None, error: str | None = None, status: int = 200):
    return render("supervisor/package.html", "supervisor/_package_actions.html", status=status,
                  package=package, allowed=allowed_package_commands(package, manager=True),
                  block_form=block_form or ReasonForm(formdata=None, version=package.version),
                  cancel_form=cancel_form or ReasonForm(formdata=None, version=package.version),
                  plain_form=VersionForm(formdata=None, version=package.version), error=error,
                  trigger={"packages-changed": True} if status == 200 and request.method == "POST" else None)


@bp.get("/packages/<int:package_id>/")
@role_required(*MANAGERS)
def package(package_id: int):
    return _package_page(admin_queries.package_for(current_actor(), package_id))


def _version(form) -> int | None:
    try:
        return int(form.version.data) if form.version.data else None
    except ValueError:
        return None


def _run(package_id: int, command: str, params: dict, form, form_name: str):
    """Run one command; on a bad input re-render the actions with the errors in place (422)."""
    actor = current_actor()
    package = admin_queries.package_for(actor, package_id)
    if form.validate_on_submit():
        try:
            run_package_command(package_id, command, params | _params(form), actor, expected_version=_version(form))
        except ValidationFailed as exc:
            unmatched = show_service_errors(form, exc.details)
            return _package_page(package, status=422, error="; ".join(unmatched) or None, **{form_name: form})
        except Conflict as exc:
            package = admin_queries.package_for(actor, package_id)
            return _package_page(package, error=exc.message, status=409)
        else:
            if not wants_fragment():
                flash(_('Package %(number)s: done.', number=package.number), "ok")
                return redirect(url_for("supervisor.package", package_id=package_id), 303)
            return _package_page(admin_queries.package_for(actor, package_id))
    return _package_page(package, status=422, **{form_name: form})


def _params(form) -> dict:
    return {"reason": form.reason.data.strip()} if hasattr(form, "reason") else {}


@bp.post("/packages/<int:package_id>/block")
@role_required(*MANAGERS)
def block(package_id: int):
    return _run(package_id, "block", {}, ReasonForm(), "block_form")


@bp.post("/packages/<int:package_id>/cancel")
@role_required(*MANAGERS)
def cancel(package_id: int):
    return _run(package_id, "cancel", {}, ReasonForm(), "cancel_form")


@bp.post("/packages/<int:package_id>/unblock")
@role_required(*MANAGERS)
def unblock(package_id: int):
    return _run(package_id, "unblock", {}, VersionForm(), "plain_form")


from app.views import supervisor_planning  # noqa: E402, F401
