"""The domain API: the only layer that commits."""

# Every process that writes (web, worker, CLI) imports the services, so the audit log's session
# hook is installed wherever a person's change can be flushed (services/audit.py).
from app.services import audit as _audit  # noqa: F401, E402
