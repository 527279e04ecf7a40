"""Passwords, roles and scopes, and the principal (tokens: app/tokens.py)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from pwdlib import PasswordHash

# --- passwords ---------------------------------------------------------------


@lru_cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """Whether ``password`` matches ``password_hash``."""
    return _hasher().verify(password, password_hash)


# A real hash to verify against when the username is unknown, so that a miss
# costs the same time as a wrong password and does not reveal which it was.
@lru_cache
def dummy_password_hash() -> str:
    """A hash of a random password."""
    return hash_password(secrets.token_urlsafe(16))


def new_secret(prefix: str, nbytes: int = 32) -> str:
    """A high-entropy secret string (client secrets, refresh tokens)."""
    return f"{prefix}{secrets.token_urlsafe(nbytes)}"


def hash_secret(secret: str) -> str:
    """SHA-256 of a high-entropy secret: enough for random tokens, and fast to look up."""
    return hashlib.sha256(secret.encode()).hexdigest()


# --- roles and scopes --------------------------------------------------------


class Role(StrEnum):
    """Who a principal is; the order of ``RANK`` says who may manage whom."""

    ADMIN = "admin"
    PROVINCE_OFFICER = "province_officer"
    WARD_OFFICER = "ward_officer"
    NEIGHBOURHOOD_HEAD = "neighbourhood_head"
    GROUP_LEADER = "group_leader"
    CAMERA_OWNER = "camera_owner"
    RESIDENT = "resident"
    WARD_SYSTEM = "ward_system"


USER_ROLES = tuple(role for role in Role if role is not Role.WARD_SYSTEM)

RANK: dict[Role, int] = {
    Role.ADMIN: 100,
    Role.PROVINCE_OFFICER: 80,
    Role.WARD_OFFICER: 60,
    Role.WARD_SYSTEM: 50,
    Role.NEIGHBOURHOOD_HEAD: 40,
    Role.GROUP_LEADER: 30,
    Role.CAMERA_OWNER: 20,
    Role.RESIDENT: 10,
}


class UnitLevel(StrEnum):
    """The kind of unit a ``unit_code`` names."""

    PROVINCE = "province"
    WARD = "ward"
    NEIGHBOURHOOD = "neighbourhood"


# Which unit levels each role may be anchored to (admin: none).
ROLE_UNIT_LEVELS: dict[Role, tuple[UnitLevel, ...]] = {
    Role.ADMIN: (),
    Role.PROVINCE_OFFICER: (UnitLevel.PROVINCE,),
    Role.WARD_OFFICER: (UnitLevel.WARD,),
    Role.NEIGHBOURHOOD_HEAD: (UnitLevel.NEIGHBOURHOOD,),
    Role.GROUP_LEADER: (UnitLevel.NEIGHBOURHOOD,),
    Role.CAMERA_OWNER: (UnitLevel.WARD, UnitLevel.NEIGHBOURHOOD),
    Role.RESIDENT: (UnitLevel.WARD, UnitLevel.NEIGHBOURHOOD),
    Role.WARD_SYSTEM: (UnitLevel.WARD, UnitLevel.PROVINCE),
}

SCOPES: dict[str, str] = {
    "units:write": "Create, edit and delete neighbourhoods and residential groups",
    "users:read": "Read user accounts in scope",
    "users:write": "Manage user accounts in scope",
    "clients:write": "Manage machine clients",
    "audit:read": "Read the audit trail",
    "groups:read": "Read self-managed groups and their members",
    "groups:write": "Manage self-managed groups",
    "members:write": "Manage members of self-managed groups",
    "certifications:read": "Read safe-zone certifications",
    "certifications:submit": "Register and self-assess for safe-zone certification",
    "certifications:review": "Review and decide safe-zone certifications",
    "certifications:revoke": "Revoke safe-zone certificates",
    "criteria:write": "Publish and edit certification criteria sets",
    "cameras:read": "Read the camera registry",
    "cameras:write": "Register and edit cameras",
    "footage:request": "Request footage from cameras",
    "footage:respond": "Answer footage requests for own cameras",
    "fire:read": "Read fire-safety teams, equipment and drills",
    "fire:write": "Manage fire-safety teams, equipment and drills",
    "competitions:write": "Run fire-safety competitions",
    "reports:create": "Submit community reports",
    "reports:read": "Read community reports in scope",
    "reports:triage": "Triage community reports",
    "broadcasts:read": "Read broadcasts",
    "broadcasts:write": "Send broadcasts",
    "stats:read": "Read statistics",
    "sync:read": "Read the change feed",
}

_READ_ALL = {"groups:read", "certifications:read", "cameras:read", "fire:read", "broadcasts:read"}

ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.ADMIN: frozenset(SCOPES),
    Role.PROVINCE_OFFICER: frozenset(
        _READ_ALL
        | {"users:read", "audit:read", "certifications:revoke", "competitions:write"}
        | {"reports:read", "broadcasts:write", "stats:read", "sync:read"}
    ),
    Role.WARD_OFFICER: frozenset(
        _READ_ALL
        | {"units:write", "users:read", "users:write", "groups:write", "members:write"}
        | {"certifications:review", "certifications:revoke", "cameras:write", "footage:request"}
        | {"fire:write", "competitions:write", "reports:read", "reports:triage"}
        | {"broadcasts:write", "stats:read", "sync:read"}
    ),
    Role.NEIGHBOURHOOD_HEAD: frozenset(
        _READ_ALL
        | {"groups:write", "members:write", "certifications:submit", "fire:write"}
        | {"reports:create", "stats:read"}
    ),
    Role.GROUP_LEADER: frozenset(_READ_ALL | {"members:write", "fire:write", "reports:create"}),
    Role.CAMERA_OWNER: frozenset(
        {"groups:read", "cameras:read", "cameras:write", "footage:respond"}
        | {"reports:create", "broadcasts:read"}
    ),
    Role.RESIDENT: frozenset({"groups:read", "cameras:read", "reports:create", "broadcasts:read"}),
    Role.WARD_SYSTEM: frozenset(
        _READ_ALL | {"reports:read", "stats:read", "sync:read", "units:write"}
    ),
}

# Machine clients are created with these unless a narrower list is given.
DEFAULT_CLIENT_SCOPES = frozenset(ROLE_SCOPES[Role.WARD_SYSTEM] - {"units:write"})


def scope_table() -> str:
    """The role-to-scope table in Markdown, as docs/access.md shows it."""
    roles = list(Role)
    lines = [
        "| scope | what it allows | " + " | ".join(f"`{r.value}`" for r in roles) + " |",
        "|---|---|" + "---|" * len(roles),
    ]
    for scope, meaning in SCOPES.items():
        marks = " | ".join("✓" if scope in ROLE_SCOPES[r] else "" for r in roles)
        lines.append(f"| `{scope}` | {meaning} | {marks} |")
    return "\n".join(lines)


# --- the principal -----------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """Who is calling: from a verified access token, never from the request body."""

    subject: uuid.UUID
    kind: str  # "user" or "client"
    role: Role
    unit_code: str | None
    province_code: str | None
    ward_code: str | None
    neighbourhood_id: uuid.UUID | None
    scopes: frozenset[str] = field(default_factory=frozenset)
    # The account's token epoch when the token was issued (app/revocations.py).
    token_epoch: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def actor_key(self) -> str:
        """A stable key for this caller (idempotency, audit)."""
        return f"{self.kind}:{self.subject}"

    def outranks(self, role: Role) -> bool:
        """Whether this principal's role is strictly above ``role``."""
        return RANK[self.role] > RANK[role]
