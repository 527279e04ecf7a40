"""Signed access tokens (RFC 9068 JWTs): issued at sign-in, verified on every request."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jose import JWTError, jwk, jwt
from jose.backends.base import Key
from jose.exceptions import JWKError

from app.config import Settings
from app.security import Principal, Role

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
