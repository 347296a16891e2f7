"""Admin screens for channel connections: the inbox (filters, raw payload, re-process),
mappings (one by one and CSV), the connection form and what was pushed back."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin_channels", __name__, url_prefix="/admin/integrations")
