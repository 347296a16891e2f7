"""Sign in, sign out, and the role-aware landing page."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.services.users import LoginError, authenticate

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=100)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=500)])


def landing_url() -> str:
    role = current_user.role
    if role == "admin":
        return url_for("admin.console")
    if role == "supervisor":
        return url_for("supervisor.board")
    return url_for("store.index")


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


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
            user = authenticate(form.username.data, form.password.data, request.remote_addr or "-")
        except LoginError as exc:
            error, status = exc.message, 401 if exc.code != "throttled" else 429
        else:
            next_url = _safe_next(request.args.get("next"))
            session.clear()  # a fresh session (and CSRF token) at every sign-in
            login_user(user)
            session.permanent = True
            session["last_seen"] = datetime.now(UTC).timestamp()
            return redirect(next_url or landing_url(), code=303)
    elif request.method == "POST":
        error, status = "Enter your username and password.", 400
    if request.args.get("expired") and not error:
        flash("You were signed out after a period of inactivity. Please sign in again.", "info")
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"), code=303)
