"""Token grants (password, refresh_token, client_credentials) and revocation."""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings
from app.data.repository import Repository
from app.data.visibility import Visible
from app.data.writes import Bookkeeping
from app.db import columns, utcnow
from app.models.auth import RefreshToken
from app.models.clients import Client
from app.models.users import User
from app.pagination import Keyset
from app.ratelimit import Rate, RateLimiter, Reservation
from app.security import (
    ROLE_SCOPES,
    Principal,
    Role,
    dummy_password_hash,
    hash_secret,
    new_secret,
    verify_password,
)
from app.tokens import TokenSigner


class OAuthError(Exception):
    """An RFC 6749 error: ``error`` code, description, HTTP status."""

    def __init__(
        self,
        error: str,
        description: str,
        status: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.headers = headers or {}


# The accounts and clients as signing in reads them (every live one: the grant decides
# who gets in), and the refresh tokens by their hash.
ACCOUNTS = Repository(
    User,
    noun="user",
    columns=(
        User.id,
        User.username,
        User.password_hash,
        User.is_active,
        User.role,
        User.unit_code,
        User.province_code,
        User.ward_code,
        User.neighbourhood_id,
        User.token_epoch,
    ),
    visible=Visible.all(),
    keyset=Keyset("accounts", columns(User.username, User.id)),
    filters={"username": User.username},
)
# What a client's principal is made of (``client_principal``), and whether it is active.
_CLIENT_PRINCIPAL = (
    Client.id,
    Client.is_active,
    Client.unit_code,
    Client.province_code,
    Client.ward_code,
    Client.scopes,
    Client.token_epoch,
)
# A client by its id (client credentials), and by its Open311 api_key (stored hashed).
CLIENT_ACCOUNTS = Repository(
    Client,
    noun="client",
    key=Client.client_id,
    columns=(*_CLIENT_PRINCIPAL, Client.secret_hash),
    visible=Visible.all(),
    keyset=Keyset("client-accounts", columns(Client.client_id)),
)
API_KEYS = Repository(
    Client,
    noun="client",
    key=Client.api_key_hash,
    columns=_CLIENT_PRINCIPAL,
    visible=Visible.all(),
    keyset=Keyset("client-api-keys", columns(Client.api_key_hash)),
)
REFRESH_TOKENS = Repository(
    RefreshToken,
    noun="refresh token",
    key=RefreshToken.token_hash,
    columns=(
        RefreshToken.family_id,
        RefreshToken.user_id,
        RefreshToken.scopes,
        RefreshToken.used_at,
        RefreshToken.revoked_at,
    ),
    visible=Visible.all(),
    keyset=Keyset("refresh-tokens", columns(RefreshToken.token_hash)),
)
# Refresh tokens are the service's bookkeeping, not records anyone changes: no audit.
TOKEN_BOOKS = Bookkeeping(RefreshToken)


@dataclass(frozen=True)
class TokenPair:
    """What the token endpoint answers."""

    access_token: str
    expires_in: int
    scope: str
    refresh_token: str | None = None


def user_principal(user: Any, scopes: frozenset[str] | None = None) -> Principal:
    """The principal a user acts as, with the role's scopes or a subset of them."""
    role = Role(user.role)
    return Principal(
        subject=user.id,
        kind="user",
        role=role,
        unit_code=user.unit_code,
        province_code=user.province_code,
        ward_code=user.ward_code,
        neighbourhood_id=user.neighbourhood_id,
        scopes=ROLE_SCOPES[role] if scopes is None else scopes,
        token_epoch=user.token_epoch,
    )


def client_principal(client: Any, scopes: frozenset[str] | None = None) -> Principal:
    """The principal a machine client acts as."""
    return Principal(
        subject=client.id,
        kind="client",
        role=Role.WARD_SYSTEM,
        unit_code=client.unit_code,
        province_code=client.province_code,
        ward_code=client.ward_code,
        neighbourhood_id=None,
        scopes=frozenset(client.scopes.split()) if scopes is None else scopes,
        token_epoch=client.token_epoch,
    )


def _narrow(granted: frozenset[str], requested: str | None) -> frozenset[str]:
    """The scopes asked for, which must all be granted (RFC 6749 3.3)."""
    if not requested:
        return granted
    asked = frozenset(requested.split())
    if not asked <= granted:
        unknown = " ".join(sorted(asked - granted))
        raise OAuthError("invalid_scope", f"These scopes are not available: {unknown}.")
    return asked


@dataclass(frozen=True)
class SignInLimits:
    """How many failed sign-ins are allowed, per account and address, per address, per
    account (docs/access.md)."""

    per_account_and_address: Rate
    per_address: Rate
    per_account: Rate
    # How long an address where an account signed in stays known to it: at the
    # account's ceiling, a known address may still try (within its own budget).
    known_address_seconds: int = 30 * 86_400

    @classmethod
    def of(cls, settings: Settings) -> SignInLimits:
        """The limits the settings give."""
        return cls(
            Rate.parse(settings.login_failures_per_username_and_address),
            Rate.parse(settings.login_failures_per_address),
            Rate.parse(settings.login_failures_per_username),
        )


class _Attempt:
    """One sign-in attempt's reservations against the failure limits.

    Reserved before the password is checked, so that concurrent guesses cannot
    all slip under a limit together; given back when the attempt succeeds."""

    def __init__(self, reservations: list[Reservation]) -> None:
        self.reservations = reservations

    async def succeeded(self) -> None:
        for reservation in self.reservations:
            await reservation.release()


def _too_many(wait: int) -> OAuthError:
    return OAuthError(
        "too_many_requests",
        f"Too many failed sign-ins; try again in {wait} seconds.",
        status=429,
        headers={"Retry-After": str(wait)},
    )


class TokenService:
    """Grants tokens; owns the signer, the limiter and their settings."""

    def __init__(self, settings: Settings, signer: TokenSigner, limiter: RateLimiter) -> None:
        self.settings = settings
        self.signer = signer
        self.limiter = limiter
        self.limits = SignInLimits.of(settings)

    async def _attempt(self, account: str, address: str) -> _Attempt:
        """Reserve one failure against each limit, or 429 with the longest wait.

        An attacker at one address runs out of its own budgets (per account and
        address, per address) long before the account's ceiling, so it cannot
        lock the owner out elsewhere; and an address where the account signed in
        before is not held to the ceiling at all."""
        account = account.lower()
        pair = f"{account}\x00{address}"
        limiter, limits = self.limiter, self.limits
        held: list[Reservation] = []
        checks = (
            (limits.per_account_and_address, "login-pair", pair),
            (limits.per_address, "login-address", address),
            (limits.per_account, "login-account", account),
        )
        for rate, namespace, identifier in checks:
            reservation = await limiter.reserve(rate, namespace, identifier)
            if reservation.decision.allowed:
                held.append(reservation)
                continue
            if namespace == "login-account" and await limiter.remembered("login-known", pair):
                continue
            for taken in held:
                await taken.release()
            raise _too_many(reservation.decision.retry_after)
        return _Attempt(held)

    async def _signed_in(self, attempt: _Attempt, account: str, address: str) -> None:
        """A success: the attempt was no failure, and the address is known to the account."""
        await attempt.succeeded()
        pair = f"{account.lower()}\x00{address}"
        await self.limiter.remember("login-known", pair, self.limits.known_address_seconds)

    async def password_grant(
        self,
        session: AsyncSession,
        username: str,
        password: str,
        scope: str | None,
        address: str,
    ) -> TokenPair:
        """Sign a user in with username and password."""
        attempt = await self._attempt(username, address)
        user = await ACCOUNTS.first(session, None, username=username)
        # Verify against a dummy hash when there is no such user, so both
        # failures take the same time.
        valid = verify_password(password, user.password_hash if user else dummy_password_hash())
        if user is None or not valid or not user.is_active:
            raise OAuthError("invalid_grant", "The username or password is wrong.")
        await self._signed_in(attempt, username, address)
        scopes = _narrow(ROLE_SCOPES[Role(user.role)], scope)
        return await self._issue_for_user(session, user, scopes, family_id=uuid.uuid4())

    async def _issue_for_user(
        self, session: AsyncSession, user: Any, scopes: frozenset[str], family_id: uuid.UUID
    ) -> TokenPair:
        access_token, expires_in = self.signer.issue(user_principal(user, scopes))
        refresh_token = new_secret("wsr_")
        await TOKEN_BOOKS.add(
            session,
            RefreshToken(
                token_hash=hash_secret(refresh_token),
                family_id=family_id,
                user_id=user.id,
                scopes=" ".join(sorted(scopes)),
                expires_at=utcnow() + timedelta(days=self.settings.refresh_token_ttl_days),
            ),
        )
        return TokenPair(access_token, expires_in, " ".join(sorted(scopes)), refresh_token)

    async def refresh_grant(
        self, session: AsyncSession, refresh_token: str, scope: str | None
    ) -> TokenPair:
        """Swap a refresh token for a new pair; a used token revokes its whole family."""
        token_hash = hash_secret(refresh_token)
        now = utcnow()
        # Compare-and-set: of two requests presenting the same token, exactly
        # one marks it used; the other sees it used and revokes the family.
        consumed = await TOKEN_BOOKS.execute(
            session,
            update(RefreshToken)
            .where(
                col(RefreshToken.token_hash) == token_hash,
                col(RefreshToken.used_at).is_(None),
                col(RefreshToken.revoked_at).is_(None),
                col(RefreshToken.expires_at) > now,
            )
            .values(used_at=now, version=col(RefreshToken.version) + 1, updated_at=now),
        )
        stored = await REFRESH_TOKENS.find(session, None, token_hash)
        if stored is None:
            raise OAuthError("invalid_grant", "The refresh token is not valid.")
        if consumed.rowcount != 1:
            if stored.used_at is not None and stored.revoked_at is None:
                # Reuse of a rotated token: someone else may hold it. Revoke all.
                await self.revoke_family(session, stored.family_id)
                raise OAuthError(
                    "invalid_grant",
                    "The refresh token was already used; every token of this sign-in is revoked.",
                )
            raise OAuthError("invalid_grant", "The refresh token is expired or revoked.")
        user = await ACCOUNTS.find(session, None, stored.user_id)
        if user is None or not user.is_active:
            await self.revoke_family(session, stored.family_id)
            raise OAuthError("invalid_grant", "The account is no longer active.")
        granted = frozenset(stored.scopes.split()) & ROLE_SCOPES[Role(user.role)]
        scopes = _narrow(granted, scope)
        return await self._issue_for_user(session, user, scopes, family_id=stored.family_id)

    async def client_credentials_grant(
        self,
        session: AsyncSession,
        client_id: str,
        client_secret: str,
        scope: str | None,
        address: str,
        challenge: str | None,
    ) -> TokenPair:
        """Authenticate a machine client by its id and secret."""
        attempt = await self._attempt(f"client:{client_id}", address)
        client = await CLIENT_ACCOUNTS.find(session, None, client_id)
        expected = client.secret_hash if client else hash_secret(new_secret(""))
        valid = hmac.compare_digest(expected, hash_secret(client_secret))
        if client is None or not valid or not client.is_active:
            headers = {"WWW-Authenticate": challenge} if challenge else {}
            raise OAuthError(
                "invalid_client", "Client authentication failed.", status=401, headers=headers
            )
        await self._signed_in(attempt, f"client:{client_id}", address)
        scopes = _narrow(frozenset(client.scopes.split()), scope)
        access_token, expires_in = self.signer.issue(client_principal(client, scopes))
        return TokenPair(access_token, expires_in, " ".join(sorted(scopes)))

    async def revoke(self, session: AsyncSession, token: str) -> None:
        """RFC 7009: revoke a refresh token's family; unknown tokens are ignored."""
        stored = await REFRESH_TOKENS.find(session, None, hash_secret(token))
        if stored is not None:
            await self.revoke_family(session, stored.family_id)

    @staticmethod
    async def revoke_family(session: AsyncSession, family_id: uuid.UUID) -> None:
        """Revoke every live token of one sign-in."""
        now = utcnow()
        await TOKEN_BOOKS.execute(
            session,
            update(RefreshToken)
            .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
            .values(revoked_at=now, updated_at=now, version=col(RefreshToken.version) + 1),
        )


async def revoke_user_tokens(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Revoke every refresh token of a user (deactivation, deletion)."""
    now = utcnow()
    await TOKEN_BOOKS.execute(
        session,
        update(RefreshToken)
        .where(col(RefreshToken.user_id) == user_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now, updated_at=now, version=col(RefreshToken.version) + 1),
    )
