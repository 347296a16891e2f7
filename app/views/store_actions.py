"""Turn the allowed commands of a work order into the buttons and small forms staff see.

Which commands exist, their labels and whether they are destructive come from the transition
tables; this module only decides how a command's parameters are typed in and how prominent its
button is. Form values go back to the command layer as the same params the API takes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.models import CargoCompany, DenialReason
from app.services import config_cache, said
from app.services.errors import ServiceError, ValidationFailed
from app.services.settings import get_setting
from app.services.state_labels import state_label
from app.services.transitions import DELIVERY_STATUS_TARGETS, PACKAGE_TRANSITIONS, Transition
from app.views import number_or_text

# Shown as the big buttons of the page; everything else goes under "More actions".
PRIMARY = ("prepare", "complete_packing", "complete_packing_channel", "complete_packing_without_shipment",
           "ship", "ready_for_pickup", "deliver_to_customer", "unblock", "refuse",
           "ready_for_dispatch", "dispatch", "receive", "out_of_stock")
# Of those, the usual next step is drawn solid; the others are outlined.
PROMINENT = ("prepare", "complete_packing", "complete_packing_channel", "ship", "ready_for_pickup",
             "deliver_to_customer", "unblock", "ready_for_dispatch", "dispatch", "receive")
# While units are still unscanned these are not the next step (scanning is): drawn outlined, and
# they ask before packing (see `unscanned_question`).
PACKING = ("complete_packing", "complete_packing_channel", "complete_packing_without_shipment")
# Click & collect: packing is simply packing (nothing is shipped), and it is the next step.
PICKUP_LABELS = {"complete_packing_without_shipment": _l("Complete packing")}
PICKUP_PROMINENT = (*PROMINENT, "complete_packing_without_shipment")
# Commands with their own screen (scan field, missing-items form) or not for the shop floor.
NOT_BUTTONS = ("pick", "report_missing", "manual_plan")
NUMBER_PARAMS = ("boxes", "quantity")
DECIMAL_PARAMS = ("weight_kg",)
OPTIONAL_PARAMS = ("weight_kg", "tracking_url", "otp", "label_url")


@dataclass
class Field:
    name: str
    label: str
    kind: str  # text | number | decimal | url | date | select
    options: list[tuple[str, str]] = field(default_factory=list)
    value: str = ""
    required: bool = True
    error: str = ""
    hint: str = ""
    scan: bool = False  # a barcode scanner types into it (data-scan-field)
    focus: bool = False  # the next scan goes here rather than into the item scan field (data-scan-next)


@dataclass
class Action:
    command: str
    label: str
    destructive: bool
    primary: bool
    fields: list[Field]
    emphasis: bool = False  # the one solid button: the usual next step

    @property
    def style(self) -> str:
        if self.destructive:
            return "btn-danger"
        return "btn-primary" if self.emphasis else ""

    @cached_property
    def confirm(self) -> str | None:
        return _("%(action)s? This cannot be undone.", action=self.label) if self.destructive else None


def _cargo_options() -> list[tuple[str, str]]:
    return _configured("store.cargo_options", lambda: db.session.execute(
        select(CargoCompany.code, CargoCompany.name).where(CargoCompany.active.is_(True)).order_by(CargoCompany.name)))


def _denial_options() -> list[tuple[str, str]]:
    return _configured("store.denial_options", lambda: db.session.execute(
        select(DenialReason.code, DenialReason.title).where(DenialReason.active.is_(True))
        .order_by(DenialReason.priority, DenialReason.title)))


def _configured(key: str, rows) -> list[tuple[str, str]]:
    """A list of choices read once per configuration snapshot (`config_cache`: cargo companies
    and denial reasons bump its token, migrations 0011 and 0025), so the answer to a command,
    drawn after its commit, reads nothing for it. The snapshot is shared by threads: the cached
    value is a tuple, each caller gets its own list."""
    config = config_cache.current()
    found = config.extra.get(key)
    if found is None:
        found = config.extra[key] = tuple((code, text) for code, text in rows())
    return list(found)


def _field(command: str, param: str, cache: dict[str, Any], needs_code: bool = False) -> Field | None:
    def options(key: str, loader) -> list[tuple[str, str]]:
        if key not in cache:
            cache[key] = loader()
        return cache[key]

    required = param not in OPTIONAL_PARAMS
    if param == "reason" and command == "refuse":
        # A title is said through the catalogue (the demo's are catalogue sentences; a brand's own
        # title, typed in its language, reads as typed): per request, the snapshot stays stored text.
        return Field(param, _("Reason"), "select",
                     [(code, said.text(said.said(title))) for code, title in options("denial", _denial_options)])
    if param == "reason":
        return Field(param, _("Reason"), "text", required=command != "cancel")
    if param == "cargo_company":
        # Ready-for-dispatch and create-shipment may leave it to the defaults.
        optional = command in ("ready_for_dispatch", "create_shipment", "complete_packing", "update_shipment_info")
        return Field(param, _("Cargo company"), "select", options("cargo", _cargo_options), required=not optional)
    if param == "tracking_number" and command == "complete_packing_channel":
        # The marketplace's label is already on the parcel: its barcode is the tracking number.
        return Field(param, _("Scan the marketplace label"), "text", required=True, scan=True,
                     hint=_("or type the tracking number printed under its barcode and press Enter"))
    if param == "tracking_number":
        optional = command in ("ready_for_dispatch", "ship_advanced", "update_shipment_info")
        return Field(param, _("Tracking number"), "text", required=not optional)
    if param == "status":
        return Field(param, _("New status"), "select", [(s, state_label(s)) for s in DELIVERY_STATUS_TARGETS])
    if param == "otp":
        # Only a package that has a code asks for one (see `needs_pickup_code`).
        return Field(param, _("Customer's code"), "text", required=True) if needs_code else None
    if param == "url" and command == "update_invoice":
        # The service takes a link or a document; a tablet has no document to send (the API
        # uploads one), so here the link is what it takes: required, and said what it is.
        return Field(param, _("Invoice link"), "url", required=True,
                     hint=_("the web address where the invoice can be opened (a PDF document can be attached "
                            "only through the API)"))
    if param not in TYPED_FIELDS:
        return None  # e.g. document_base64: not something to type on a tablet
    label, kind = TYPED_FIELDS[param]
    return Field(param, str(label), kind, value="1" if param == "boxes" else "", required=required)


# A rule the service states for the API said for the store's form, next to the field it is about,
# as what to do: the invoice takes "a link or a document", and the tablet's form has only the link.
ON_THE_FORM = {("update_invoice", "Give url or document_base64."):
               ("url", _l("Type the invoice link: the web address where the invoice can be opened."))}


def on_the_form(command: str, exc: ServiceError) -> ServiceError:
    """`exc` with a whole-form rule of `ON_THE_FORM` moved to its field, in the form's words."""
    details = exc.details or {}
    found = ON_THE_FORM.get((command, details.get("__root__")))
    if found is None:
        return exc
    moved = {key: value for key, value in details.items() if key != "__root__"}
    moved[found[0]] = str(found[1])
    return ValidationFailed(exc.message, moved)


# The other typed parameters: label and kind (translated only when a form shows one).
TYPED_FIELDS = {"boxes": (_l("Boxes"), "number"), "weight_kg": (_l("Weight (kg)"), "decimal"),
                "tracking_url": (_l("Tracking link"), "url"), "label_url": (_l("Label link"), "url"),
                "number": (_l("Invoice number"), "text"), "date": (_l("Invoice date"), "date")}


# What staff read after a step worked: what happened and what comes next, in their words.
DONE_MESSAGES = {
    ("package", "prepare"): _l("Started. Scan each item as you take it."),
    ("package", "complete_packing"): _l("Packed. The carrier is asked for the label: Print label appears here by itself."),
    ("package", "complete_packing_channel"): _l("Packed with the marketplace's label. Tap Ship when the courier takes it."),
    ("package", "complete_packing_without_shipment"): _l("Packed."),
    ("package", "create_shipment"): _l("The carrier is asked for a label: Print label appears here by itself."),
    ("package", "refresh_label"): _l("A new label is on its way: Print label appears here by itself."),
    ("package", "update_shipment_info"): _l("Shipping details saved. The label is made again with them."),
    ("package", "ship"): _l("Shipped. The parcel is on its way."),
    ("package", "ship_advanced"): _l("Shipped with the details you typed."),
    ("package", "ship_without_integration"): _l("Shipped with the details you typed."),
    ("package", "update_delivery_status"): _l("Delivery status saved."),
    ("package", "ready_for_pickup"): _l("On the pickup shelf. The customer is told it can be collected."),
    ("package", "deliver_to_customer"): _l("Handed over to the customer."),
    ("package", "refuse"): _l("Refused. The package goes to another store."),
    ("package", "deallocate"): _l("Stock released to the store's own system."),
    ("package", "packed_for_refund"): _l("Marked packed for refund."),
    ("package", "block"): _l("Blocked. Nobody can work on it until it is unblocked."),
    ("package", "unblock"): _l("Unblocked. Carry on where it was left."),
    ("package", "update_invoice"): _l("Invoice saved."),
    ("package", "cancel"): _l("Cancelled. Its items are released."),
    ("transfer", "ready_for_dispatch"): _l("Ready for dispatch. Tap Dispatch when the goods leave."),
    ("transfer", "dispatch"): _l("Dispatched. The other store sees it coming."),
    ("transfer", "receive"): _l("Received. The goods are in your stock for the package."),
    ("transfer", "out_of_stock"): _l("Marked out of stock. The items are planned elsewhere."),
    ("transfer", "cancel"): _l("Cancelled. Its items are planned again."),
}
PICKUP_DONE = {"complete_packing_without_shipment": _l("Packed. Put it on the pickup shelf and tap Ready for pickup.")}


def done_message(kind: str, command: str, label: str, pickup: bool = False) -> str:
    """The message after `command` worked (never a command name: "Done: ship." said nothing)."""
    if pickup and kind == "package" and command in PICKUP_DONE:
        return str(PICKUP_DONE[command])
    message = DONE_MESSAGES.get((kind, command))
    return str(message) if message else _("%(action)s — done.", action=label)


def needs_pickup_code(package: Any) -> bool:
    """Handing this package over asks for the customer's code: codes are on and it has one. One put
    on the pickup shelf while codes were off has none (its customer was sent none): it is handed
    over on the name check, with no code field (docs/decisions.md, "Pickup codes switched on")."""
    return bool(package.otp_code and get_setting("IS_OTP_ENABLED", False))


@dataclass(frozen=True)
class Submitted:
    """A command form that came back with an error: its values and per-field messages."""

    command: str
    form: MultiDict
    errors: dict[str, Any]


def build_actions(table: dict[str, Transition], commands: list[str], hidden: tuple[str, ...] = (),
                  submitted: Submitted | None = None, not_next: tuple[str, ...] = (),
                  pickup: bool = False, needs_code: bool = False) -> list[Action]:
    """The buttons for `commands` (already filtered to what is allowed now), in table order.

    With `submitted`, that command's fields keep what was typed and show their error. Commands
    in `not_next` are shown but never drawn as the solid next step. `pickup`: a click & collect
    package, whose buttons speak of packing and pickup, not shipment; `needs_code`: its handover
    asks for the customer's pickup code (`needs_pickup_code`)."""
    labels = PICKUP_LABELS if pickup else {}
    prominent = PICKUP_PROMINENT if pickup else PROMINENT
    cache: dict[str, Any] = {}
    actions = []
    for command in commands:
        if command in NOT_BUTTONS or command in hidden:
            continue
        transition = table[command]
        fields = [f for f in (_field(command, p, cache, needs_code) for p in transition.params) if f is not None]
        if submitted is not None and submitted.command == command:
            for f in fields:
                f.value = submitted.form.get(f.name, f.value)
                message = submitted.errors.get(f.name)
                f.error = message if isinstance(message, str) else ""
        actions.append(Action(command, str(labels.get(command, transition.label)), transition.destructive,
                              command in PRIMARY, fields))
    next_step = next((a for a in actions if a.command in prominent and a.command not in not_next), None)
    if next_step is not None:
        next_step.emphasis = True
    return actions


@dataclass(frozen=True)
class UnscannedQuestion:
    """Packing with fewer units scanned than ordered: asked before the command runs."""

    command: str
    picked: int
    required: int
    params: list[tuple[str, str]]  # what was typed in the packing form, carried to "Pack anyway"


def unscanned_question(command: str, form: MultiDict, picked: int, required: int) -> UnscannedQuestion | None:
    """The question to ask before `command` packs a package with units unscanned, or None when it
    need not be asked (not a packing command, everything scanned, or already confirmed)."""
    if command not in PACKING or picked >= required or form.get("confirm_unscanned") == "1":
        return None
    params = [(name, form.get(name, "").strip()) for name in PACKAGE_TRANSITIONS[command].params]
    return UnscannedQuestion(command, picked, required, [(name, value) for name, value in params if value])


@dataclass(frozen=True)
class ConfirmQuestion:
    """A step that asks before it runs, answered on the page (so it works without JavaScript):
    destructive commands, and handing a click & collect package over without a pickup code."""

    command: str
    question: str
    facts: list[tuple[str, str]]  # what staff check before they answer: the reason, the customer
    consequence: str
    answer: str  # the button that goes ahead
    danger: bool
    params: list[tuple[str, str]]  # what was typed in the command's form, carried to the answer


# The question and what follows, per command; the button that goes ahead says the command's label.
QUESTIONS = {
    ("package", "refuse"): (_l("Refuse this package?"),
                            _l("The whole package goes to another store. This cannot be undone.")),
    ("package", "packed_for_refund"): (_l("Mark this package packed for refund?"),
                                       _l("The customer is refunded for it. This cannot be undone.")),
    ("package", "cancel"): (_l("Cancel this package?"), _l("Its items are released. This cannot be undone.")),
    ("transfer", "out_of_stock"): (_l("Mark this transfer out of stock?"),
                                   _l("None of its items will be sent from here; they are planned elsewhere.")),
    ("transfer", "cancel"): (_l("Cancel this transfer?"), _l("Its items are planned again. This cannot be undone.")),
}


def confirm_question(kind: str, table: dict[str, Transition], command: str, form: MultiDict,
                     customer: tuple[str, str] | None = None, needs_code: bool = False) -> ConfirmQuestion | None:
    """The question to ask before `command` runs, or None when it runs now: it is not one that
    asks, the form already answered it (`confirm=1`: the confirmation page, or the browser's own
    dialog when JavaScript is on), or a required field is empty (the command then says which).

    `customer` (name, phone): handing a package over without a pickup code asks staff to check
    who is collecting it; when the package `needs_code`, the customer's code is that check."""
    transition = table.get(command)
    if transition is None or form.get("confirm") == "1":
        return None
    values = [(name, form.get(name, "").strip()) for name in transition.params]
    params = [(name, value) for name, value in values if value]
    if kind == "package" and command == "deliver_to_customer":
        if needs_code:
            return None
        name, phone = customer or ("", "")
        return ConfirmQuestion(command, _("Hand this package over to the customer?"),
                               [(_("Name on the order"), name or _("No name given")), (_("Phone"), phone or _("No phone given"))],
                               _("Ask for their name and check it against the order."), str(transition.label), False, params)
    if not transition.destructive or (kind, command) not in QUESTIONS:
        return None
    cache: dict[str, Any] = {}
    facts = []
    for name, value in values:
        f = _field(command, name, cache)
        if f is None:
            continue
        if f.required and not value:
            return None
        if value:
            facts.append((f.label, dict(f.options).get(value, value)))
    question, consequence = QUESTIONS[(kind, command)]
    return ConfirmQuestion(command, str(question), facts, str(consequence), str(transition.label), True, params)


def params_from_form(transition: Transition, form: MultiDict) -> dict[str, Any]:
    """The command's params from a submitted form: blank fields are left out, counts become ints,
    a decimal comma becomes a point."""
    params: dict[str, Any] = {}
    for name in transition.params:
        raw = form.get(name, "").strip()
        if not raw:
            continue
        if name in DECIMAL_PARAMS:
            raw = raw.replace(",", ".")  # "1,5": a tablet set to Turkish types a decimal comma
        params[name] = number_or_text(raw) if name in NUMBER_PARAMS else raw
    return params
