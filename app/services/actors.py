"""Who is acting: a signed-in user, an API token, or the system itself."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.models.users import User


@dataclass(frozen=True)
class Actor:
    label: str  # written to logs: "user:ayse", "token:erp#3", "system:planner"
    role: str  # admin | supervisor | staff | system
    user_id: int | None = None
    # None means every location; otherwise the locations this actor may see and act on.
    location_ids: frozenset[int] | None = field(default=None)

    @classmethod
    def for_user(cls, user: User, via_token_id: int | None = None) -> Actor:
        label = f"token:{user.username}#{via_token_id}" if via_token_id else f"user:{user.username}"
        scope = None if user.sees_all_locations else frozenset(user.location_ids)
        return cls(label=label, role=user.role, user_id=user.id, location_ids=scope)

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(label=f"system:{name}", role="system")

    def can_see(self, location_id: int | None) -> bool:
        return self.location_ids is None or location_id in self.location_ids

    @property
    def is_manager(self) -> bool:
        """Supervisors, admins and the system may run supervisor-only commands."""
        return self.role in ("admin", "supervisor", "system")
