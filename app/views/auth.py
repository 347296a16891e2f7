"""Sign in, sign out, and the role-aware landing page."""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app import i18n
from app.services import users
from app.services.db import committed
from app.services.sessions import end_session
from app.services.users import LoginError, sign_in
from app.views.client import client_address, known_device, remember_device

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=100)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=500)])


def landing_url() -> str:
    role = current_user.role
    if role == "admin":
        return url_for("admin.console")
    if role == "supervisor":
        return url_for("supervisor.board")
    return url_for("store.index")


def _safe_next(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None. Browsers read "\\" as "/" and skip
    tabs and newlines inside URLs, and a proxy may decode %2F, so the check runs on the text as
    given, its NFKC form (fullwidth "／" becomes "/") and its percent-decoded form."""
    if not target or len(target) > 2000:
        return None
    for form in (target, unicodedata.normalize("NFKC", target), unquote(target)):
        if not _is_local_path(form):
            return None
    return target


def _is_local_path(text: str) -> bool:
    if any(_suspicious(char) for char in text):
        return False
    path = text.replace("\\", "/")
    if not path.startswith("/") or path.startswith("//"):
        return False
    parts = urlsplit(path)
    return not (parts.scheme or parts.netloc)


def _suspicious(char: str) -> bool:
    # Whitespace, controls, invisible format characters; beyond ASCII only letters, digits and
    # marks (a path may hold a name), never symbols such as the many slash look-alikes.
    category = unicodedata.category(char)
    if char.isspace() or category[0] in "CZ":
        return True
    return not char.isascii() and category[0] not in "LNM"


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(landing_url())


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(landing_url())
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        try:
            user, session_id = sign_in(form.username.data, form.password.data, client_address(),
                                       known_device=known_device(form.username.data))
        except LoginError as exc:
            error, status = exc.message, 401 if exc.code != "throttled" else 429
        else:
            next_url = _safe_next(request.args.get("next"))
            # A fresh session (and CSRF token) at every sign-in; the one this browser had ends on
            # the server too, or a copy of its cookie would outlive the next logout.
            end_session(session.get("sid"))
            chosen_language = session.get(i18n.SESSION_KEY)  # chosen on this page: keep it
            session.clear()
            if chosen_language:
                session[i18n.SESSION_KEY] = chosen_language
            login_user(user)
            session["sid"] = session_id
            session.permanent = True
            response = redirect(next_url or landing_url(), code=303)
            remember_device(response, user.username)
            return response
    elif request.method == "POST":
        error, status = _("Enter your username and password."), 400
    expired = request.args.get("expired")
    if expired == "limit" and not error:
        flash(_("Your session reached its time limit. Please sign in again."), "info")
    elif expired and not error:
        flash(_("You were signed out after a period of inactivity. Please sign in again."), "info")
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
@login_required
def logout():
    end_session(session.get("sid"))  # on the server: a copy of the cookie stops working too
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"), code=303)


def _with_query(path: str | None) -> str | None:
    """`path` with the query of the page the switch was pressed on (page 3 of a filtered list stays
    there). The form carries the path only, so a page drawn for ?page=3 is the same as for
    ?page=4 (tests/views/test_paging); the query comes from the browser's Referer, used only when
    it is this site (same host) and names the same path — never a way to send someone elsewhere."""
    referrer = request.referrer
    if not path or not referrer or "?" in path:
        return path
    try:
        parts = urlsplit(referrer)
    except ValueError:  # the browser's header is not a URL at all ("http://[x/"): keep the path
        return path
    here = urlsplit(request.host_url)
    if parts.scheme not in ("http", "https") or parts.netloc != here.netloc or not parts.query:
        return path
    if parts.path != request.script_root + path:
        return path
    return _safe_next(f"{path}?{parts.query}") or path


@bp.post("/language")
def set_language():
    """The header's language switch: saved on the user (every device follows it), or for this
    browser until it signs in. Back to the page it was pressed on."""
    language = request.form.get("language", "")
    back = _with_query(_safe_next(request.form.get("next"))) or url_for("auth.index")
    if language not in i18n.LANGUAGES:
        flash(_("That language is not available. Choose English or Türkçe."), "error")
        return redirect(back, code=303)
    if current_user.is_authenticated:
        committed(users.set_language, current_user.id, language)
    session[i18n.SESSION_KEY] = language
    refresh()
    return redirect(back, code=303)
