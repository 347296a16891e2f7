"""Users (role, locations, active, password reset) and their API tokens (shown once, revocable)."""

from __future__ import annotations

import htmx_flask
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.forms import show_service_errors
from app.forms.admin import PasswordResetForm, TokenForm, UserCreateForm, UserEditForm
from app.models import StockLocation, User
from app.models.users import ApiToken
from app.services import users as user_service
from app.services.db import committed
from app.services.errors import Conflict, ValidationFailed
from app.services.pagination import PageArgs, paginate
from app.views.admin import bp
from app.views.htmx import render, wants_fragment
from app.views.security import role_required


def _locations() -> list[StockLocation]:
    return list(db.session.scalars(select(StockLocation).order_by(StockLocation.code)))


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/users/")
@role_required("admin")
def users():
    rows = paginate(select(User).order_by(User.username), PageArgs.lenient(request.args, 50))
    return render("admin/users/list.html", rows=rows)


@bp.route("/users/new", methods=["GET", "POST"])
@role_required("admin")
def user_new():
    form = UserCreateForm(locations=_locations())
    if form.is_submitted():
        if form.validate():
            try:
                user = committed(user_service.create_user, form.username.data, form.role.data,
                                 form.password.data, form.locations.data or [])
            except ValidationFailed as exc:
                show_service_errors(form, exc.details)
            except Conflict as exc:
                show_service_errors(form, {"username": exc.message})
            else:
                flash(_('User %(username)s created.', username=user.username), "ok")
                target = url_for("admin.user", user_id=user.id)
                if wants_fragment():
                    return htmx_flask.make_response(render("admin/users/new.html", "admin/users/_create_form.html",
                                                           form=form), redirect=target)
                return redirect(target, 303)
        return render("admin/users/new.html", "admin/users/_create_form.html", form=form, status=422)
    return render("admin/users/new.html", form=UserCreateForm(formdata=None, locations=_locations()))


def _detail(user: User, *, edit_form=None, password_form=None, token_form=None, new_token: str | None = None,
            status: int = 200, fragment: str | None = None, saved: str | None = None):
    if edit_form is None:
        edit_form = UserEditForm(formdata=None, locations=_locations(), role=user.role, active=user.active,
                                 data={"locations": [loc.code for loc in user.locations]})
    tokens = list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))
    return render("admin/users/detail.html", fragment, status=status, user=user, edit_form=edit_form,
                  password_form=password_form or PasswordResetForm(formdata=None),
                  token_form=token_form or TokenForm(formdata=None), tokens=tokens, new_token=new_token, saved=saved)


@bp.get("/users/<int:user_id>/")
@role_required("admin")
def user(user_id: int):
    return _detail(_user(user_id))


@bp.post("/users/<int:user_id>/")
@role_required("admin")
def user_update(user_id: int):
    target = _user(user_id)
    form = UserEditForm(locations=_locations())
    if form.validate_on_submit():
        try:
            committed(user_service.update_user, user_id, form.role.data, form.locations.data or [],
                      bool(form.active.data))
        except ValidationFailed as exc:
            show_service_errors(form, exc.details)
        else:
            if wants_fragment():
                db.session.expire_all()
                return _detail(_user(user_id), fragment="admin/users/_edit_form.html", saved="Saved.")
            flash(_('User saved.'), "ok")
            return redirect(url_for("admin.user", user_id=user_id), 303)
    return _detail(target, edit_form=form, status=422, fragment="admin/users/_edit_form.html")


@bp.post("/users/<int:user_id>/password")
@role_required("admin")
def user_password(user_id: int):
    target = _user(user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            committed(user_service.reset_password, user_id, form.password.data)
        except ValidationFailed as exc:
            show_service_errors(form, exc.details)
        else:
            if wants_fragment():
                return _detail(_user(user_id), fragment="admin/users/_password_form.html",
                               saved=_("Password changed; the user was signed out everywhere."))
            flash(_('Password changed; the user was signed out everywhere.'), "ok")
            return redirect(url_for("admin.user", user_id=user_id), 303)
    return _detail(target, password_form=form, status=422, fragment="admin/users/_password_form.html")


@bp.post("/users/<int:user_id>/tokens")
@role_required("admin")
def token_create(user_id: int):
    target = _user(user_id)
    form = TokenForm()
    if not form.validate_on_submit():
        return _detail(target, token_form=form, status=422, fragment="admin/users/_tokens.html")
    raw = committed(user_service.create_token, target.username, form.name.data.strip())
    # Rendered directly (no redirect) so the token never travels in a cookie or URL: it is shown once.
    return _detail(_user(user_id), new_token=raw, status=201, fragment="admin/users/_tokens.html")


@bp.post("/users/<int:user_id>/tokens/<int:token_id>/revoke")
@role_required("admin")
def token_revoke(user_id: int, token_id: int):
    target = _user(user_id)
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != target.id:
        abort(404)
    committed(user_service.revoke_token, token_id)  # CSRF is checked app-wide for every POST
    if wants_fragment():
        return _detail(_user(user_id), fragment="admin/users/_tokens.html")
    flash(_('Token revoked.'), "ok")
    return redirect(url_for("admin.user", user_id=user_id), 303)
