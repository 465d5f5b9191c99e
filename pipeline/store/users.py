"""The local user store (people, roles, password hashes) for the embedded default."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from ..auth import User
from .base import StoreBase
from .schema import UserRow, _dump


class UserStore(StoreBase):
    def save_user(self, user: User) -> User:
        """Insert or replace a user (a new password or role)."""
        with self.tx() as s:
            row = s.get(UserRow, user.name)
            if row is None:
                s.add(UserRow(name=user.name, data=_dump(user), created_at=user.created_at))
            else:
                row.data = _dump(user)
        return user

    def get_user(self, name: str) -> User | None:
        with self.tx() as s:
            row = s.get(UserRow, name)
            return User.model_validate(row.data) if row else None

    def list_users(self) -> list[User]:
        with self.tx() as s:
            rows = s.scalars(select(UserRow).order_by(UserRow.created_at)).all()
            return [User.model_validate(r.data) for r in rows]

    def count_users(self) -> int:
        with self.tx() as s:
            return int(s.scalar(select(func.count()).select_from(UserRow)) or 0)

    def delete_user(self, name: str) -> bool:
        """Remove a user (their review history keeps their name); False if there was none."""
        with self.tx() as s:
            result = s.execute(delete(UserRow).where(UserRow.name == name))
            return bool(result.rowcount)  # type: ignore[attr-defined]
