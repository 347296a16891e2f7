"""The store app for staff on tablets: location picker, home, and shared helpers.

Package routes live in store_packages.py and transfer routes in store_transfers.py, on this
same blueprint. Every route loads the location with `location_or_404` first and only ever
looks up work orders through that location, so another store's URLs answer 404.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from app.extensions import db
from app.i18n import lower
from app.models.base import utcnow
from app.models.events import TransitionLog
from app.models.locations import StockLocation
from app.schemas import parse
from app.schemas.commands import PACKAGE_COMMAND_PARAMS, TRANSFER_COMMAND_PARAMS
from app.services import dashboards, queues_store
from app.services.actors import Actor
from app.services.errors import ServiceError
from app.services.human_input import say
from app.services.local_times import show_time
from app.services.state_labels import command_label, ledger_reason, state_label, trigger_label
from app.services.transitions import PACKED_STATES, PREVIOUS, SHIPPED_OR_LATER, Transition
from app.views import whole_number
from app.views.htmx import render, wants_fragment
from app.views.store_actions import params_from_form

bp = Blueprint("store", __name__, url_prefix="/store")

STALE_MESSAGE = _l("Already done — here is the current state.")
# A stale form whose step is NOT in place: someone else moved the work order first.
NOT_APPLIED = _l("Someone changed this meanwhile (a colleague, or you in another tab), so “%(action)s” was not "
                 "done. Here is how it is now: check it, then try again if it is still needed.")
# A step's effect stays in place when the work order moves on in the usual flow: packing is done
# once the package waits for its label, and still done when the label job has moved it on to
# packed, or when it has been shipped since (keyed by the state the step moves to).
MOVED_ON = {
    "preparing": (*PACKED_STATES, *SHIPPED_OR_LATER),
    "waiting_cargo_label": ("packed", "ready_for_pickup", *SHIPPED_OR_LATER),
    "packed": ("waiting_cargo_label", "ready_for_pickup", *SHIPPED_OR_LATER),
    "ready_for_pickup": ("delivered",),
    "shipped": SHIPPED_OR_LATER,
    "ready_for_dispatch": ("in_transit", "received"),
    "in_transit": ("received",),
}
# States in which a step that returns to the remembered state (Unblock) was not done: still
# blocked, or ended another way meanwhile.
NOT_RETURNED = ("cancelled", "refused")
# How many history rows of the step since the form was drawn a stale form's values are looked for in.
HISTORY_LOOKBACK = 20
# What a command adds to its history row about itself, beyond the values posted.
LOGGED_EXTRAS = ("unscanned",)
# Details that are codes for programs (a state, a status), not words for people.
MACHINE_DETAILS = ("state", "commands", "allowed_commands", "shipment_status", "version")
# A refusal whose details name nothing but the state: "not possible now" says it for staff.
STATE_ONLY = {"state", "allowed_commands", "version"}
# Say nothing the field messages do not say better (in the language the service said them).
GENERIC_INVALID = (_l("Some fields are not valid."), _l("The command parameters are not valid."),
                   _l("The request is not valid."), _l("Some missing items are not valid."))
# The top of a page whose form shows every problem next to its field.
AT_THE_FIELD = _l("Check the field marked in red: nothing was done.")
# How often home and the queue ask for new work; the STORE_POLL_SECONDS config overrides it (tests).
POLL_SECONDS = 15


@bp.after_request
def never_stale(response):
    """Work pages change under staff's hands: Back must fetch them again, never show a copy
    (the browser's cache and back/forward cache; store/layout.html turns off htmx's history cache)."""
    response.cache_control.no_store = True
    return response


@bp.context_processor
def store_page_settings() -> dict[str, Any]:
    return {"poll_seconds": current_app.config.get("STORE_POLL_SECONDS", POLL_SECONDS)}


def visible_locations() -> list[StockLocation]:
    query = select(StockLocation).where(StockLocation.active.is_(True)).order_by(StockLocation.code)
    if not current_user.sees_all_locations:
        query = query.where(StockLocation.id.in_(current_user.location_ids or {-1}))
    return list(db.session.scalars(query))


def location_or_404(code: str) -> StockLocation:
    """The location if this user may work there; 404 otherwise (never reveal other stores).

    Staff work at their own locations, which the signed-in session loaded with the user
    (`sessions.find_session`): the location is taken from those, without a query on every
    request. Only users who see every location look it up."""
    if not current_user.sees_all_locations:
        location = next((loc for loc in current_user.locations if loc.code == code), None)
    else:
        location = db.session.scalar(select(StockLocation).where(StockLocation.code == code))
    if location is None:
        abort(404)
    return location


def current_actor() -> Actor:
    return Actor.for_user(current_user)


def form_version() -> int | None:
    """The work order version the form was rendered with (None if missing or garbled)."""
    raw = request.form.get("version", "")
    return whole_number(raw)


def form_drawn_at() -> datetime | None:
    """The moment (server clock, UTC) the form was drawn, from its `drawn_at` field (None if
    missing or garbled)."""
    raw = request.form.get("drawn_at", "")
    try:
        moment = datetime.fromisoformat(raw) if 0 < len(raw) <= 40 else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


@bp.app_template_global()
def form_drawn_at_now() -> str:
    """What a store form's `drawn_at` field carries: now, on the server's clock (UTC, as history
    rows are stamped)."""
    return utcnow().isoformat()


def int_arg(name: str, default: int = 1) -> int:
    """A small non-negative integer query argument; anything else (or absurdly large) is the default."""
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) <= 9 else default


def stale_message(exc: ServiceError, transition: Transition | None) -> str:
    """What a form sent with an old version hears (packages, batches, transfers: one rule).

    "Already done" when the step's effect is in place: the work order is in the state the step
    moves it to, or has moved on from it in the usual flow (Complete packing, then the label job
    moved the package on to packed); a step back to the remembered state (Unblock) is done when
    the work order is no longer in a state the step starts from (nor cancelled meanwhile); a step
    that keeps the state (Refresh label, Update invoice) — or whose work order is back in a state
    it starts from — is done when the work order's history since the form was drawn holds it (a
    double tap: the first tap did it). Otherwise the step
    was not done because someone changed the work order first: say so, with the current state."""
    if transition is not None and _step_in_place(exc, transition):
        return str(STALE_MESSAGE)
    return str(NOT_APPLIED) % {"action": transition.label if transition is not None else _("That step")}


def _step_in_place(exc: ServiceError, transition: Transition) -> bool:
    details = exc.details or {}
    state = details.get("state")
    if not isinstance(state, str):
        return False
    if transition.target == PREVIOUS:
        return state not in transition.sources and state not in NOT_RETURNED
    if transition.target is not None and state == transition.target:
        return True
    if transition.target is not None and state not in transition.sources:
        return state in MOVED_ON.get(transition.target, ())
    # The step keeps the state, or the work order is back where the step starts from (Create
    # shipment, then the label came and it is packed again): its history says whether it ran.
    return _ran_since_form(transition)


def _ran_since_form(transition: Transition) -> bool:
    """Whether the work order this request is about (the route's package or transfer) has, since
    the form was drawn (its `drawn_at`), a history row of this very step with the values posted:
    a double tap, or the same change from another tab. Another change, the same step with other
    values (tab A stored invoice FTR-2, tab B's stale form sends FTR-3), or rows from before the
    form was drawn do not count; a form without the moment (a page from before it was sent)
    cannot tell, so it hears that the step was not done. Read only on a stale form's answer,
    never on a button's usual path."""
    args = request.view_args or {}
    entity = ("package", args["package_id"]) if "package_id" in args else \
        ("transfer", args["transfer_id"]) if "transfer_id" in args else None
    drawn = form_drawn_at()
    posted = _posted_params(entity[0], transition) if entity is not None and drawn is not None else None
    if posted is None:
        return False
    rows = db.session.scalars(select(TransitionLog.params)
                              .where(TransitionLog.entity_type == entity[0], TransitionLog.entity_id == entity[1],
                                     TransitionLog.command == transition.command, TransitionLog.created_at >= drawn)
                              .order_by(TransitionLog.id.desc()).limit(HISTORY_LOOKBACK))
    return any(_same_values(posted, logged) for logged in rows)


def _posted_params(entity_type: str, transition: Transition) -> dict[str, Any] | None:
    """The posted values as the command parses and logs them (None if they would not parse)."""
    models = PACKAGE_COMMAND_PARAMS if entity_type == "package" else TRANSFER_COMMAND_PARAMS
    model = models.get(transition.command)
    if model is None:
        return None
    try:
        return parse(model, params_from_form(transition, request.form)).model_dump(mode="json", exclude_none=True)
    except ServiceError:
        return None


def _same_values(posted: dict[str, Any], logged: Any) -> bool:
    """The logged row holds exactly the posted values (what the command adds to its row about
    itself, such as the units packed unscanned, aside)."""
    if not isinstance(logged, dict):
        return False
    return {k: v for k, v in logged.items() if k not in LOGGED_EXTRAS} == posted


def error_message(exc: ServiceError, at_fields: tuple[str, ...] = ()) -> str:
    """A message store staff can act on; field details are appended in plain words, except those of
    `at_fields`, which the answer shows next to their field (not the same words twice on a page)."""
    if exc.code == "stale":
        return str(STALE_MESSAGE)
    state = (exc.details or {}).get("state")
    if exc.code == "command_not_allowed" and isinstance(state, str) and set(exc.details) <= STATE_ONLY:
        # The service names states and commands as the API does; say it in shop-floor words (a
        # message with more to say, such as why the label is not ready, is kept).
        return _("That is not possible now (it is %(state)s). The buttons show what you can do.",
                 state=lower(state_label(state)))
    generic = {str(text) for text in GENERIC_INVALID}  # in the page's language, as `say` puts the message
    parts = [] if say(exc.message) in generic and exc.details else [say(exc.message)]
    for key, value in (exc.details or {}).items():
        if str(key).split(".")[0] in at_fields:
            continue
        value = say(value, key)
        if isinstance(value, str) and key not in MACHINE_DETAILS and value not in parts:
            parts.append(value)
    return " ".join(parts).strip() or str(AT_THE_FIELD)


def after_command(redirect_to: str, message: str, category: str, fragment_page: str, fragment: str,
                  status: int = 200, **context: Any):
    """htmx: the re-rendered fragment with the message inline. Plain POST: flash + 303 back."""
    if wants_fragment():
        return render(fragment_page, fragment, status=status,
                      notice={"text": message, "category": category}, **context)
    flash(message, category)
    return redirect(redirect_to, code=303)


@bp.app_template_filter("age")
def age(moment: datetime | None) -> str:
    """How long ago, in the words staff use: "5 min", "3 h", "2 days"."""
    if moment is None:
        return ""
    minutes = max(0, int((utcnow() - moment).total_seconds() // 60))
    if minutes < 60:
        return _("%(n)s min", n=minutes)
    if minutes < 48 * 60:
        return _("%(n)s h", n=minutes // 60)
    return _("%(n)s days", n=minutes // (24 * 60))


# The store and supervisor templates read state names through one map (services/state_labels.py).
bp.add_app_template_filter(state_label, "state_label")
bp.add_app_template_filter(ledger_reason, "ledger_reason")
bp.add_app_template_filter(trigger_label, "trigger_label")
bp.add_app_template_filter(command_label, "command_label")
# Every time on every screen goes through one helper (the `when` macro in admin/_macros.html calls it).
bp.add_app_template_global(show_time, "local_time")
# Form errors on every HTML screen in plain words (the JSON API keeps pydantic's texts and paths).
bp.add_app_template_filter(say, "plain_words")


@bp.get("/")
@login_required
def index():
    locations = visible_locations()
    if len(locations) == 1:
        return redirect(url_for("store.home", code=locations[0].code))
    return render_template("store/picker.html", locations=locations)


@bp.get("/<code>/")
@login_required
def home(code: str):
    location = location_or_404(code)
    summary = dashboards.location_summary(location)
    return render("store/home.html", "store/_home.html", location=location, summary=summary,
                  tabs=queues_store.PACKAGE_TABS, tab_counts=queues_store.tab_counts(location.id),
                  transfer_counts=queues_store.transfer_counts(location.id),
                  newest_id=queues_store.newest_package_id(location.id))


# Routes on this blueprint defined by the split modules.
from app.views import (  # noqa: E402,F401
    store_batches,
    store_kpis,
    store_packages,
    store_receiving,
    store_settings,
    store_transfers,
)
