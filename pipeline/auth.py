"""People and roles: a local user store with hashed passwords, and what each role may reach.

Roles: ``consultant`` (hearings, review, flow, assistant), ``operator`` (only the assistant,
only approved knowledge of the engagements they are a member of) and ``admin`` (everything,
settings included). Membership is ``Engagement.members`` (user names).

The embedded single-user default needs no login: while the workspace has no users, the app
runs as one local admin (named by the reviewer setting). Adding the first user
(``shikumi users add NAME --role admin``) turns login on. Passwords are hashed with scrypt
(standard library) and a random salt; only the hash is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from .errors import ShikumiError
from .models import utcnow

if TYPE_CHECKING:  # the store keeps users: imported lazily to avoid a cycle
    from .retrieve import Filters
    from .store import Store

Role = Literal["consultant", "operator", "admin"]
ROLES: tuple[Role, ...] = ("consultant", "operator", "admin")

# app pages (url paths) each role reaches; a page not listed is not even in the navigation
PAGES: dict[Role, frozenset[str]] = {
    "admin": frozenset(
        {"hearings", "transcript", "review", "flow", "assistant", "engagement", "settings"}
    ),
    "consultant": frozenset(
        {"hearings", "transcript", "review", "flow", "assistant", "engagement"}
    ),
    "operator": frozenset({"assistant"}),
}
NO_INTERVIEW = "__none__"  # a filter value no interview has: an operator without engagements

_N, _R, _P = 2**14, 8, 1  # scrypt cost (about 16 MiB, ~50 ms)


class AuthError(ShikumiError):
    """Login failed, or a signed-in user asked for something their role does not allow."""


class User(BaseModel):
    name: str
    role: Role = "consultant"
    password_hash: str = ""
    created_at: datetime = Field(default_factory=utcnow)

    def may(self, page: str) -> bool:
        return page in PAGES[self.role]

    @property
    def reviews(self) -> bool:
        """May edit, approve, reject or retire elements."""
        return self.role in ("consultant", "admin")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(got.hex(), digest)


def new_user(name: str, role: Role, password: str) -> User:
    name = name.strip()
    if not name or len(name) > 100:
        raise AuthError("A user name is 1 to 100 characters.", "Choose another name.")
    if role not in ROLES:
        raise AuthError(f"Unknown role {role!r}.", f"Use one of: {', '.join(ROLES)}.")
    if len(password) < 8:
        raise AuthError("A password has at least 8 characters.", "Choose a longer password.")
    return User(name=name, role=role, password_hash=hash_password(password))


def local_admin(name: str) -> User:
    """The single user of a workspace without users (the embedded default): no login."""
    return User(name=name or "admin", role="admin")


def check_login(user: User | None, password: str) -> User:
    """The user, when the password is theirs; one message for unknown user and wrong password."""
    if user is None or not verify_password(password, user.password_hash):
        raise AuthError(
            "The user name or password is wrong.",
            "Try again; an admin can reset it with `shikumi users add NAME --role ROLE`.",
        )
    return user


def require(user: User, page: str) -> None:
    if not user.may(page):
        raise AuthError(
            f"{user.name} ({user.role}) may not open {page}.",
            "Ask an admin for another role, or use the pages in the menu.",
        )


def knowledge_filters(user: User, store: Store) -> Filters | None:
    """What the assistant may answer from: None (everything approved) for consultants and
    admins; for operators, the interviews of their engagements only (nothing without any)."""
    from .retrieve import Filters

    if user.role != "operator":
        return None
    allowed = [
        iv.id
        for eng in store.list_engagements()
        if user.name in eng.members
        for iv in store.list_engagement_interviews(eng.id)
    ]
    return Filters(interviews=allowed or [NO_INTERVIEW])
