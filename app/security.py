"""Passwords, roles and scopes, the principal, and signed access tokens."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jose import JWTError, jwk, jwt
from jose.backends.base import Key
from jose.exceptions import JWKError
from pwdlib import PasswordHash

from app.config import Settings

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


# --- access tokens -----------------------------------------------------------

ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 (RFC 9068 media type, not a secret)


class _Ed25519Key(Key):
    """EdDSA (Ed25519) for python-jose, which ships RSA/EC/HMAC keys only."""

    def __init__(self, key: Any, algorithm: str) -> None:
        if algorithm != "EdDSA":
            raise JWKError("Ed25519 keys sign EdDSA only")
        if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
            self._key = key
            return
        if isinstance(key, str):
            key = key.encode()
        if not isinstance(key, bytes):
            raise JWKError("Ed25519 keys come as PEM")
        try:
            if b"PRIVATE" in key:
                loaded: Any = serialization.load_pem_private_key(key, password=None)
            else:
                loaded = serialization.load_pem_public_key(key)
        except ValueError as error:
            raise JWKError(str(error)) from error
        if not isinstance(loaded, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
            raise JWKError("not an Ed25519 key")
        self._key = loaded

    def sign(self, msg: bytes) -> bytes:
        if not isinstance(self._key, ed25519.Ed25519PrivateKey):
            raise JWKError("a public key cannot sign")
        return self._key.sign(msg)

    def verify(self, msg: bytes, sig: bytes) -> bool:
        public = (
            self._key.public_key()
            if isinstance(self._key, ed25519.Ed25519PrivateKey)
            else self._key
        )
        try:
            public.verify(sig, msg)
        except InvalidSignature:
            return False
        return True

    def public_key(self) -> _Ed25519Key:
        if isinstance(self._key, ed25519.Ed25519PrivateKey):
            return _Ed25519Key(self._key.public_key(), "EdDSA")
        return self

    def to_pem(self) -> bytes:
        if isinstance(self._key, ed25519.Ed25519PrivateKey):
            return self._key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        return self._key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


jwk.register_key("EdDSA", _Ed25519Key)


class InvalidToken(Exception):
    """The token is missing, malformed, forged, expired or not meant for us."""


VERIFIED_TOKENS_CACHED = 4096


class TokenSigner:
    """Signs and verifies access tokens; the key objects are built once.

    A phone sends the same token with every request for its lifetime, so a
    verified token is remembered (bounded, by its exact text) with its
    principal until it expires: the signature and claims are checked once,
    not on every request, which cost a light read about a tenth of its CPU
    (docs/performance.md). A token whose account's epoch has moved on since
    it was issued stops working all the same: that is checked on every
    request, after this (app/revocations.py)."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._verified: dict[str, tuple[Principal, int, int]] = {}
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.ttl = timedelta(seconds=settings.access_token_ttl_seconds)
        if settings.jwt_private_key_file:
            pem = settings.jwt_private_key_file.read_bytes()
            private = serialization.load_pem_private_key(pem, password=None)
            if isinstance(private, rsa.RSAPrivateKey):
                self.algorithm = "RS256"
            elif isinstance(private, ed25519.Ed25519PrivateKey):
                self.algorithm = "EdDSA"
            elif isinstance(private, ec.EllipticCurvePrivateKey) and isinstance(
                private.curve, ec.SECP256R1
            ):
                self.algorithm = "ES256"
            else:
                raise ValueError("the JWT key must be RSA, EC P-256 or Ed25519")
            self._signing_key: Any = jwk.construct(pem, self.algorithm)
            self._verifying_key: Any = self._signing_key.public_key()
        else:
            self.algorithm = "HS256"
            derived = hashlib.sha256(b"wardsafe-jwt\x00" + settings.secret_key.encode()).digest()
            self._signing_key = jwk.construct(derived, "HS256")
            self._verifying_key = self._signing_key

    def issue(self, principal: Principal, now: datetime | None = None) -> tuple[str, int]:
        """A signed access token for ``principal`` and its lifetime in seconds."""
        now = now or datetime.now(UTC)
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(principal.subject),
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + self.ttl).timestamp()),
            "jti": uuid.uuid4().hex,
            "kind": principal.kind,
            "role": principal.role.value,
            "unit_code": principal.unit_code,
            "province_code": principal.province_code,
            "ward_code": principal.ward_code,
            "neighbourhood_id": str(principal.neighbourhood_id)
            if principal.neighbourhood_id
            else None,
            "scopes": sorted(principal.scopes),
            "epoch": principal.token_epoch,
        }
        token = jwt.encode(
            claims,
            self._signing_key,
            algorithm=self.algorithm,
            headers={"typ": ACCESS_TOKEN_TYPE},
        )
        return token, int(self.ttl.total_seconds())

    def verify(self, token: str) -> Principal:
        """The principal a valid access token names; ``InvalidToken`` otherwise."""
        remembered = self._verified.get(token)
        if remembered is not None:
            principal, not_before, expires = remembered
            now = self.clock()
            if not_before <= now < expires:
                return principal
            del self._verified[token]
            raise InvalidToken("the token is not valid at this time")
        principal, not_before, expires = self._verify_signed(token)
        if len(self._verified) >= VERIFIED_TOKENS_CACHED:
            # The oldest entry goes first (dicts keep insertion order).
            self._verified.pop(next(iter(self._verified)), None)
        self._verified[token] = (principal, not_before, expires)
        return principal

    def _verify_signed(self, token: str) -> tuple[Principal, int, int]:
        """The signature and every claim checked: the principal, nbf and exp."""
        try:
            header = jwt.get_unverified_header(token)
            if header.get("typ") != ACCESS_TOKEN_TYPE or header.get("alg") != self.algorithm:
                raise InvalidToken("not an access token of this service")
            claims = jwt.decode(
                token,
                self._verifying_key,
                algorithms=[self.algorithm],  # pinned: never what the token says
                audience=self.audience,
                issuer=self.issuer,
                options={
                    "require_exp": True,
                    "require_iat": True,
                    "require_sub": True,
                    "require_aud": True,
                    "require_iss": True,
                    "require_jti": True,
                },
            )
            neighbourhood = claims.get("neighbourhood_id")
            principal = Principal(
                subject=uuid.UUID(claims["sub"]),
                kind=claims["kind"] if claims.get("kind") in ("user", "client") else "user",
                role=Role(claims["role"]),
                unit_code=claims.get("unit_code"),
                province_code=claims.get("province_code"),
                ward_code=claims.get("ward_code"),
                neighbourhood_id=uuid.UUID(neighbourhood) if neighbourhood else None,
                scopes=frozenset(claims.get("scopes") or ()),
                token_epoch=int(claims.get("epoch") or 0),
            )
            not_before = int(claims.get("nbf", claims["iat"]))
            return principal, not_before, int(claims["exp"])
        except (JWTError, KeyError, ValueError, TypeError, AttributeError) as error:
            raise InvalidToken(str(error)) from None
