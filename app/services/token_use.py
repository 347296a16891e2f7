"""When an API token was last used, stamped without a commit of its own.

`last_used_at` is precise to a minute: a token in steady use is stamped once a minute, not on
every request. The stamp rides on the request's next write transaction (`db.on_next_write`), so
a command commits its own writes and the stamp together; a request that writes nothing gets
one short transaction at its end (`stamp_now`), after its answer is ready.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models.base import utcnow
from app.models.users import ApiToken
from app.services.db import cancel_write_hook, on_next_write, run_pending_write_hooks, write_hook_pending

log = logging.getLogger(__name__)

RESOLUTION = timedelta(minutes=1)
_HOOK = "api_token_use"


def note_use(token: ApiToken) -> None:
    """Arrange the stamp for this request if the token's stamp is older than a minute."""
    if token.last_used_at is not None and utcnow() - token.last_used_at <= RESOLUTION:
        return
    token_id = token.id

    def stamp() -> None:
        # Conditional: of several requests that all saw a stale stamp, only the first one writes.
        now = utcnow()
        db.session.execute(update(ApiToken).where(
            ApiToken.id == token_id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - RESOLUTION),
        ).values(last_used_at=now))

    on_next_write(_HOOK, stamp)


def stamp_now() -> None:
    """The end of a request: a stamp no write transaction carried gets one short transaction.
    Never raises; a missed stamp is made by the token's next request."""
    if not write_hook_pending(_HOOK):
        return
    try:
        run_pending_write_hooks()
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("could not stamp the API token's last use: %s", exc)
    finally:
        cancel_write_hook(_HOOK)
