"""List, create and edit master data with one pattern: locations, channels, products, cargo
companies and denial reasons. Each entity names its record kind (`services.records`), form and
list columns; saving goes through the same write path as the API and the imports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import or_, select

from app.extensions import db
from app.forms import form_data, show_service_errors
from app.forms.masterdata import CargoCompanyForm, ChannelForm, DenialReasonForm, LocationForm, ProductForm
from app.schemas import json_text
from app.services import human_input, records, text_search
from app.services.actors import Actor
from app.services.catalog import PRODUCTS
from app.services.db import committed
from app.services.errors import NotFound, ServiceError
from app.services.locations import LOCATIONS
from app.services.masterdata import CARGO_COMPANIES, CHANNELS, DENIAL_REASONS
from app.services.pagination import PageArgs, paginate
from app.views.admin import bp
from app.views.htmx import render, wants_fragment
from app.views.security import role_required


@dataclass(frozen=True)
class Entity:
    name: str  # URL segment and service kind
    title: Any  # the words on the page, each a whole phrase (word order differs in Turkish)
    new_label: Any
    heading: Any  # "Location %(key)s"
    saved_message: Any  # "Saved location %(key)s."
    kind: records.Kind
    form: type[FlaskForm]
    columns: tuple[tuple[str, Any], ...]
    search: tuple[str, ...]
    label: str = "name"  # the column people read, which "Sort by name" sorts (Turkish alphabet)

    @property
    def model(self) -> Any:
        return self.kind.model

    @property
    def key(self) -> str:
        return self.kind.key


ENTITIES = {e.name: e for e in (
    Entity("locations", _l("Locations"), _l("New location"), _l("Location %(key)s"), _l("Saved location %(key)s."),
           LOCATIONS, LocationForm,
           (("code", _l("Code")), ("name", _l("Name")), ("type", _l("Type")), ("city", _l("City")),
            ("priority", _l("Priority")), ("max_quota", _l("Quota")), ("active", _l("Active"))),
           ("code", "name", "city")),
    Entity("channels", _l("Channels"), _l("New channel"), _l("Channel %(key)s"), _l("Saved channel %(key)s."),
           CHANNELS, ChannelForm,
           (("code", _l("Code")), ("name", _l("Name")), ("provides_shipping_label", _l("Prints labels"))),
           ("code", "name")),
    Entity("products", _l("Products"), _l("New product"), _l("Product %(key)s"), _l("Saved product %(key)s."),
           PRODUCTS, ProductForm,
           (("sku", _l("SKU")), ("name", _l("Name")), ("barcode_values", _l("Barcodes")),
            ("weight_kg", _l("Weight (kg)"))), ("sku", "name")),
    Entity("cargo_companies", _l("Cargo companies"), _l("New cargo company"), _l("Cargo company %(key)s"),
           _l("Saved cargo company %(key)s."), CARGO_COMPANIES, CargoCompanyForm,
           (("code", _l("Code")), ("name", _l("Name")), ("adapter", _l("Adapter")), ("active", _l("Active"))),
           ("code", "name")),
    Entity("denial_reasons", _l("Denial reasons"), _l("New denial reason"), _l("Denial reason %(key)s"),
           _l("Saved denial reason %(key)s."), DENIAL_REASONS, DenialReasonForm,
           (("code", _l("Code")), ("title", _l("Title")), ("priority", _l("Order")), ("active", _l("Active"))),
           ("code", "title"), label="title"),
)}
SORTS = ("code", "name")


def _entity(name: str) -> Entity:
    entity = ENTITIES.get(name)
    if entity is None:
        abort(404)
    return entity


def _object(entity: Entity, key: str):
    obj = db.session.scalar(select(entity.model).where(getattr(entity.model, entity.key) == key))
    if obj is None:
        abort(404)
    return obj


def _form_for(entity: Entity, obj=None, formdata: Any = "request") -> FlaskForm:
    kwargs: dict[str, Any] = {} if formdata == "request" else {"formdata": None}
    form = entity.form(obj=obj, **kwargs)
    if obj is not None:
        form[entity.key].render_kw = {"readonly": True}  # codes never change once in use
    return form


def _data(entity: Entity, form: FlaskForm) -> dict[str, Any]:
    data = form_data(form)
    if entity.name == "cargo_companies":
        data["config"] = json_text.loads(data.get("config") or "{}")  # the form checked it
    return human_input.clean(entity.kind.schema, data)


def _list_view(name: str):
    entity = _entity(name)
    q = (request.args.get("q") or "").strip()
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else "code"
    key = getattr(entity.model, entity.key)
    query = select(entity.model).order_by(
        *((text_search.turkish_order(getattr(entity.model, entity.label)), key) if sort == "name" else (key,)))
    if q:
        query = query.where(or_(*(text_search.contains(getattr(entity.model, col), q) for col in entity.search)))
    rows = paginate(query, PageArgs.lenient(request.args, 50))
    return render("admin/entities/list.html", "admin/entities/_table.html", entity=entity, rows=rows, q=q, sort=sort)


def _form_view(name: str, key: str | None):
    entity = _entity(name)
    obj = _object(entity, key) if key else None
    if request.method == "GET":
        return _page(entity, obj, _form_for(entity, obj, formdata=None))
    form = _form_for(entity, obj)
    if form.validate_on_submit():
        actor = Actor.for_user(current_user)
        try:
            if key:
                saved = committed(records.update, entity.kind, key, _data(entity, form), actor, partial=False)
            else:
                saved = committed(records.create, entity.kind, _data(entity, form), actor)
        except NotFound:
            abort(404)
        except ServiceError as exc:  # invalid (422) or a duplicate / clash (409): shown in place
            return _page(entity, obj, form, error=_unmatched(form, exc), status=422)
        flash(str(entity.saved_message) % {"key": getattr(saved, entity.key)}, "ok")
        target = url_for(f"admin.entity_edit:{name}", key=getattr(saved, entity.key))
        if wants_fragment():
            return _page(entity, saved, _form_for(entity, saved, formdata=None), saved=True,
                         trigger={"entity-saved": entity.name})
        return redirect(target, 303)
    return _page(entity, obj, form, status=422)


def _unmatched(form: FlaskForm, exc: ServiceError) -> str | None:
    leftover = show_service_errors(form, human_input.in_words(exc.details))
    return "; ".join(leftover) or (None if exc.details else exc.message)


def _page(entity: Entity, obj, form: FlaskForm, *, error: str | None = None, status: int = 200,
          saved: bool = False, trigger: dict | None = None):
    key = getattr(obj, entity.key) if obj is not None else None
    action = url_for(f"admin.entity_edit:{entity.name}", key=key) if key else url_for(f"admin.entity_new:{entity.name}")
    return render("admin/entities/form.html", "admin/entities/_form.html", status=status, entity=entity, obj=obj,
                  form=form, action=action, error=error, saved=saved, trigger=trigger)


def _register(name: str) -> None:
    # One set of URL rules per entity so each has readable endpoints like admin.entity_list:products.
    bp.add_url_rule(f"/{name}/", f"entity_list:{name}", role_required("admin")(lambda: _list_view(name)))
    bp.add_url_rule(f"/{name}/new", f"entity_new:{name}", role_required("admin")(lambda: _form_view(name, None)),
                    methods=["GET", "POST"])
    bp.add_url_rule(f"/{name}/<key>/edit", f"entity_edit:{name}",
                    role_required("admin")(lambda key: _form_view(name, key)), methods=["GET", "POST"])


for _name in ENTITIES:
    _register(_name)
