"""Attacks on access and refresh tokens, and the asymmetric signing keys."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from fastapi import FastAPI
from jose import jwt
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import tokens as token_module
from app.config import Settings
from app.demo.places import HA_LONG
from app.models.auth import RefreshToken
from app.models.users import User
from app.security import Role
from app.services import auth as auth_service
from app.tokens import ACCESS_TOKEN_TYPE, InvalidToken, TokenSigner
from tests.conftest import TEST_SECRET, AppClientFactory
from tests.factories import (
    b64url,
    bearer,
    jwt_parts,
    login,
    make_user,
    token_request,
    unb64url,
)

ME = "/api/v1/users/me"


def compact(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A compact JWS from its parts, signature given as raw bytes."""
    return ".".join((b64url(orjson.dumps(header)), b64url(orjson.dumps(claims)), b64url(signature)))


def hs256(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """An HS256 token signed by hand, so any secret (even a PEM) can be used."""
    signing_input = ".".join((b64url(orjson.dumps(header)), b64url(orjson.dumps(claims))))
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def service_key(app: FastAPI) -> Any:
    """The app's own HS256 key, to sign tokens that differ from real ones in one respect."""
    signer: TokenSigner = app.state.token_signer
    return signer._signing_key


def forge(app: FastAPI, claims: dict[str, Any], typ: str = ACCESS_TOKEN_TYPE) -> str:
    """A token signed with the service's real key, with claims and ``typ`` of our choosing."""
    return jwt.encode(claims, service_key(app), algorithm="HS256", headers={"typ": typ})


def assert_invalid_token(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


@pytest.fixture
async def officer(session: AsyncSession) -> User:
    user = await make_user(session, Role.WARD_OFFICER, HA_LONG)
    await session.commit()
    return user


@pytest.fixture
def real_claims(app: FastAPI, officer: User) -> dict[str, Any]:
    """The claims of a genuine access token for ``officer``."""
    token, _ = app.state.token_signer.issue(auth_service.user_principal(officer))
    _, claims, _ = jwt_parts(token)
    return claims


class TestForgedTokenControl:
    """The forging helper makes tokens the API accepts: so each attack below
    fails for the one thing it changes, not for a broken forgery."""

    async def test_forged_token_with_genuine_claims_is_accepted(
        self, client: httpx.AsyncClient, app: FastAPI, real_claims: dict[str, Any]
    ) -> None:
        response = await client.get(ME, headers=bearer(forge(app, real_claims)))
        assert response.status_code == 200, response.text

    async def test_hand_signed_hs256_with_the_service_key_is_accepted(
        self, client: httpx.AsyncClient, app: FastAPI, real_claims: dict[str, Any]
    ) -> None:
        key = service_key(app).prepared_key
        token = hs256({"alg": "HS256", "typ": ACCESS_TOKEN_TYPE}, real_claims, key)
        assert (await client.get(ME, headers=bearer(token))).status_code == 200


class TestAccessTokenAttacks:
    async def test_missing_token_gets_401_with_bearer_challenge(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get(ME)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"

    @pytest.mark.parametrize("alg", ["none", "None", "NONE"])
    async def test_alg_none_token_is_refused(
        self, client: httpx.AsyncClient, real_claims: dict[str, Any], alg: str
    ) -> None:
        token = compact({"alg": alg, "typ": ACCESS_TOKEN_TYPE}, real_claims)
        assert_invalid_token(await client.get(ME, headers=bearer(token)))

    async def test_token_signed_with_another_key_is_refused(
        self, client: httpx.AsyncClient, real_claims: dict[str, Any]
    ) -> None:
        token = jwt.encode(
            real_claims,
            hashlib.sha256(b"someone else's secret").digest(),
            algorithm="HS256",
            headers={"typ": ACCESS_TOKEN_TYPE},
        )
        assert_invalid_token(await client.get(ME, headers=bearer(token)))

    async def test_token_of_another_deployment_with_its_own_secret_is_refused(
        self, client: httpx.AsyncClient, settings: Settings, officer: User
    ) -> None:
        other = TokenSigner(settings.model_copy(update={"secret_key": TEST_SECRET + "-other"}))
        token, _ = other.issue(auth_service.user_principal(officer))
        assert_invalid_token(await client.get(ME, headers=bearer(token)))

    async def test_expired_token_is_refused(
        self, client: httpx.AsyncClient, app: FastAPI, officer: User
    ) -> None:
        signer: TokenSigner = app.state.token_signer
        an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
        token, _ = signer.issue(auth_service.user_principal(officer), now=an_hour_ago)
        assert_invalid_token(await client.get(ME, headers=bearer(token)))

    async def test_token_not_yet_valid_is_refused(
        self, client: httpx.AsyncClient, app: FastAPI, real_claims: dict[str, Any]
    ) -> None:
        later = real_claims["iat"] + 3600
        claims = {**real_claims, "nbf": later, "exp": later + 900}
        assert_invalid_token(await client.get(ME, headers=bearer(forge(app, claims))))

    @pytest.mark.parametrize(
        ("claim", "value"),
        [("aud", "another-api"), ("aud", ["another-api"]), ("iss", "someone-else")],
    )
    async def test_wrong_audience_or_issuer_is_refused(
        self,
        client: httpx.AsyncClient,
        app: FastAPI,
        real_claims: dict[str, Any],
        claim: str,
        value: Any,
    ) -> None:
        token = forge(app, {**real_claims, claim: value})
        assert_invalid_token(await client.get(ME, headers=bearer(token)))

    async def test_signer_with_other_audience_and_issuer_makes_refused_tokens(
        self, client: httpx.AsyncClient, settings: Settings, officer: User
    ) -> None:
        other = TokenSigner(
            settings.model_copy(update={"jwt_audience": "elsewhere", "jwt_issuer": "elsewhere"})
        )
        token, _ = other.issue(auth_service.user_principal(officer))
        assert_invalid_token(await client.get(ME, headers=bearer(token)))

    @pytest.mark.parametrize("claim", ["exp", "iat", "sub", "aud", "iss", "jti"])
    async def test_token_missing_a_required_claim_is_refused(
        self, client: httpx.AsyncClient, app: FastAPI, real_claims: dict[str, Any], claim: str
    ) -> None:
        claims = {k: v for k, v in real_claims.items() if k != claim}
        assert_invalid_token(await client.get(ME, headers=bearer(forge(app, claims))))

    @pytest.mark.parametrize("typ", ["JWT", "jwt", "refresh+jwt", ""])
    async def test_wrong_typ_header_is_refused(
        self, client: httpx.AsyncClient, app: FastAPI, real_claims: dict[str, Any], typ: str
    ) -> None:
        token = forge(app, real_claims, typ=typ)
        assert_invalid_token(await client.get(ME, headers=bearer(token)))

    async def test_missing_typ_header_is_refused(
        self, client: httpx.AsyncClient, app: FastAPI, real_claims: dict[str, Any]
    ) -> None:
        key = service_key(app).prepared_key
        token = hs256({"alg": "HS256"}, real_claims, key)
        assert_invalid_token(await client.get(ME, headers=bearer(token)))

    async def test_role_changed_in_the_payload_is_refused(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        resident = await make_user(session, Role.RESIDENT, HA_LONG)
        await session.commit()
        token = (await login(client, resident.username))["Authorization"].removeprefix("Bearer ")
        header, claims, signature = token.split(".")
        raised = {**orjson.loads(unb64url(claims)), "role": "admin", "scopes": ["users:write"]}
        tampered = f"{header}.{b64url(orjson.dumps(raised))}.{signature}"
        assert (await client.get(ME, headers=bearer(token))).status_code == 200
        assert_invalid_token(await client.get("/api/v1/users", headers=bearer(tampered)))
        assert_invalid_token(await client.get(ME, headers=bearer(tampered)))

    @pytest.mark.parametrize(
        "token", ["garbage", "a.b.c", "a.b", "", "Bearer", "e30.e30.", "....", "é.é.é"]
    )
    async def test_malformed_token_is_refused(self, client: httpx.AsyncClient, token: str) -> None:
        response = await client.get(ME, headers={"Authorization": f"Bearer {token}".encode()})
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")

    async def test_refresh_token_is_not_an_access_token(
        self, client: httpx.AsyncClient, officer: User
    ) -> None:
        response = await token_request(
            client, grant_type="password", username=officer.username, password="wardsafe-demo"
        )
        refresh_token = response.json()["refresh_token"]
        assert_invalid_token(await client.get(ME, headers=bearer(refresh_token)))


class TestVerifiedTokenMemory:
    """A verified token is remembered until it expires, and never past that."""

    def test_token_verified_once_is_answered_from_memory(
        self, settings: Settings, officer: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        signer = TokenSigner(settings)
        token, _ = signer.issue(auth_service.user_principal(officer))
        first = signer.verify(token)
        # Any second look at the signature would now fail.
        monkeypatch.setattr(jwt, "decode", lambda *a, **k: pytest.fail("verified twice"))
        assert signer.verify(token) is first
        assert first.subject == officer.id

    def test_remembered_token_is_refused_once_it_expires(
        self, settings: Settings, officer: User
    ) -> None:
        signer = TokenSigner(settings)
        token, lifetime = signer.issue(auth_service.user_principal(officer))
        signer.verify(token)
        issued = datetime.now(UTC).timestamp()
        signer.clock = lambda: issued + lifetime + 1
        with pytest.raises(InvalidToken):
            signer.verify(token)
        assert token not in signer._verified

    def test_forged_copy_of_a_remembered_token_is_still_refused(
        self, settings: Settings, officer: User
    ) -> None:
        signer = TokenSigner(settings)
        token, _ = signer.issue(auth_service.user_principal(officer))
        signer.verify(token)
        header, claims, _ = token.split(".")
        raised = orjson.loads(unb64url(claims)) | {"role": Role.ADMIN.value}
        forged = ".".join((header, b64url(orjson.dumps(raised)), token.rsplit(".", 1)[1]))
        with pytest.raises(InvalidToken):
            signer.verify(forged)

    def test_memory_is_bounded(
        self, settings: Settings, officer: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(token_module, "VERIFIED_TOKENS_CACHED", 3)
        signer = TokenSigner(settings)
        tokens = [signer.issue(auth_service.user_principal(officer))[0] for _ in range(5)]
        for token in tokens:
            signer.verify(token)
        assert list(signer._verified) == tokens[2:]


class TestRefreshTokenReuse:
    async def test_second_use_gets_invalid_grant_and_revokes_the_family(
        self, client: httpx.AsyncClient, session: AsyncSession, officer: User
    ) -> None:
        signed_in = await token_request(
            client, grant_type="password", username=officer.username, password="wardsafe-demo"
        )
        stolen = signed_in.json()["refresh_token"]
        first_use = await token_request(client, grant_type="refresh_token", refresh_token=stolen)
        assert first_use.status_code == 200, first_use.text
        successor = first_use.json()["refresh_token"]

        second_use = await token_request(client, grant_type="refresh_token", refresh_token=stolen)
        assert second_use.status_code == 400
        assert second_use.json()["error"] == "invalid_grant"
        # Whoever got the successor (the thief or the owner) is signed out too.
        after = await token_request(client, grant_type="refresh_token", refresh_token=successor)
        assert after.status_code == 400
        assert after.json()["error"] == "invalid_grant"
        family = (
            await session.exec(select(RefreshToken).where(col(RefreshToken.user_id) == officer.id))
        ).all()
        assert len(family) == 2
        assert all(token.revoked_at is not None for token in family)

    async def test_another_sign_in_of_the_same_user_survives_the_revocation(
        self, client: httpx.AsyncClient, officer: User
    ) -> None:
        form = {"grant_type": "password", "username": officer.username, "password": "wardsafe-demo"}
        phone = (await token_request(client, **form)).json()["refresh_token"]
        laptop = (await token_request(client, **form)).json()["refresh_token"]
        await token_request(client, grant_type="refresh_token", refresh_token=phone)
        await token_request(client, grant_type="refresh_token", refresh_token=phone)
        still = await token_request(client, grant_type="refresh_token", refresh_token=laptop)
        assert still.status_code == 200, still.text


# --- asymmetric keys ---------------------------------------------------------


def write_key(tmp_path: Path, private: Any) -> Path:
    path = tmp_path / "jwt-key.pem"
    path.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def public_pem(private: Any) -> bytes:
    pem: bytes = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem


async def sign_in(client: httpx.AsyncClient, username: str) -> str:
    response = await token_request(
        client, grant_type="password", username=username, password="wardsafe-demo"
    )
    assert response.status_code == 200, response.text
    access_token: str = response.json()["access_token"]
    return access_token


def signing_input(token: str) -> bytes:
    return token.rsplit(".", 1)[0].encode()


class TestRs256:
    @pytest.fixture
    def rsa_key(self) -> rsa.RSAPrivateKey:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    async def test_tokens_are_rs256_and_verify_with_the_public_key(
        self,
        app_client: AppClientFactory,
        tmp_path: Path,
        rsa_key: rsa.RSAPrivateKey,
        officer: User,
    ) -> None:
        _, client = await app_client(jwt_private_key_file=write_key(tmp_path, rsa_key))
        token = await sign_in(client, officer.username)
        header, _, _ = jwt_parts(token)
        assert header == {"alg": "RS256", "typ": ACCESS_TOKEN_TYPE}
        claims = jwt.decode(
            token, public_pem(rsa_key).decode(), algorithms=["RS256"], audience="wardsafe-api"
        )
        assert claims["sub"] == str(officer.id)
        assert (await client.get(ME, headers=bearer(token))).status_code == 200

    async def test_hs256_token_keyed_with_the_public_pem_is_refused(
        self,
        app_client: AppClientFactory,
        tmp_path: Path,
        rsa_key: rsa.RSAPrivateKey,
        officer: User,
    ) -> None:
        _, client = await app_client(jwt_private_key_file=write_key(tmp_path, rsa_key))
        genuine = await sign_in(client, officer.username)
        _, claims, _ = jwt_parts(genuine)
        confused = hs256({"alg": "HS256", "typ": ACCESS_TOKEN_TYPE}, claims, public_pem(rsa_key))
        assert_invalid_token(await client.get(ME, headers=bearer(confused)))

    async def test_hs256_token_of_the_secret_key_is_refused_once_rs256_is_configured(
        self,
        app_client: AppClientFactory,
        tmp_path: Path,
        rsa_key: rsa.RSAPrivateKey,
        app: FastAPI,
        officer: User,
    ) -> None:
        _, client = await app_client(jwt_private_key_file=write_key(tmp_path, rsa_key))
        hs256_token, _ = app.state.token_signer.issue(auth_service.user_principal(officer))
        assert_invalid_token(await client.get(ME, headers=bearer(hs256_token)))

    async def test_token_signed_by_another_rsa_key_is_refused(
        self,
        app_client: AppClientFactory,
        tmp_path: Path,
        rsa_key: rsa.RSAPrivateKey,
        officer: User,
    ) -> None:
        _, client = await app_client(jwt_private_key_file=write_key(tmp_path, rsa_key))
        genuine = await sign_in(client, officer.username)
        _, claims, _ = jwt_parts(genuine)
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = stranger.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        forged = jwt.encode(claims, pem.decode(), algorithm="RS256", headers={"typ": "at+jwt"})
        assert_invalid_token(await client.get(ME, headers=bearer(forged)))


class TestEs256:
    async def test_tokens_are_es256_verify_with_the_public_key_and_work(
        self, app_client: AppClientFactory, tmp_path: Path, officer: User
    ) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        _, client = await app_client(jwt_private_key_file=write_key(tmp_path, key))
        token = await sign_in(client, officer.username)
        header, _, signature = jwt_parts(token)
        assert header["alg"] == "ES256"
        # JWS carries r||s (64 bytes); cryptography verifies DER.
        raw = unb64url(signature)
        assert len(raw) == 64
        der = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
        key.public_key().verify(der, signing_input(token), ec.ECDSA(hashes.SHA256()))
        me = await client.get(ME, headers=bearer(token))
        assert me.status_code == 200
        assert me.json()["id"] == str(officer.id)

    async def test_es256_token_of_another_key_is_refused(
        self, app_client: AppClientFactory, tmp_path: Path, officer: User
    ) -> None:
        _, client = await app_client(
            jwt_private_key_file=write_key(tmp_path, ec.generate_private_key(ec.SECP256R1()))
        )
        _, claims, _ = jwt_parts(await sign_in(client, officer.username))
        stranger = ec.generate_private_key(ec.SECP256R1())
        pem = stranger.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        forged = jwt.encode(claims, pem.decode(), algorithm="ES256", headers={"typ": "at+jwt"})
        assert_invalid_token(await client.get(ME, headers=bearer(forged)))


class TestEdDsa:
    async def test_tokens_are_eddsa_verify_with_the_public_key_and_work(
        self, app_client: AppClientFactory, tmp_path: Path, officer: User
    ) -> None:
        key = ed25519.Ed25519PrivateKey.generate()
        _, client = await app_client(jwt_private_key_file=write_key(tmp_path, key))
        token = await sign_in(client, officer.username)
        header, _, signature = jwt_parts(token)
        assert header == {"alg": "EdDSA", "typ": ACCESS_TOKEN_TYPE}
        key.public_key().verify(unb64url(signature), signing_input(token))
        me = await client.get(ME, headers=bearer(token))
        assert me.status_code == 200
        assert me.json()["username"] == officer.username

    async def test_eddsa_token_of_another_key_is_refused(
        self, app_client: AppClientFactory, tmp_path: Path, officer: User
    ) -> None:
        _, client = await app_client(
            jwt_private_key_file=write_key(tmp_path, ed25519.Ed25519PrivateKey.generate())
        )
        genuine = await sign_in(client, officer.username)
        header, claims, _ = jwt_parts(genuine)
        stranger = ed25519.Ed25519PrivateKey.generate()
        unsigned = f"{b64url(orjson.dumps(header))}.{b64url(orjson.dumps(claims))}"
        forged = f"{unsigned}.{b64url(stranger.sign(unsigned.encode()))}"
        assert_invalid_token(await client.get(ME, headers=bearer(forged)))

    async def test_eddsa_token_with_alg_switched_to_hs256_is_refused(
        self, app_client: AppClientFactory, tmp_path: Path, officer: User
    ) -> None:
        key = ed25519.Ed25519PrivateKey.generate()
        _, client = await app_client(jwt_private_key_file=write_key(tmp_path, key))
        _, claims, _ = jwt_parts(await sign_in(client, officer.username))
        confused = hs256({"alg": "HS256", "typ": ACCESS_TOKEN_TYPE}, claims, public_pem(key))
        assert_invalid_token(await client.get(ME, headers=bearer(confused)))


class TestKeyFile:
    def test_unsupported_curve_is_refused_at_startup(self, tmp_path: Path) -> None:
        key = ec.generate_private_key(ec.SECP384R1())
        settings = Settings(env="development", jwt_private_key_file=write_key(tmp_path, key))
        with pytest.raises(ValueError, match="RSA, EC P-256 or Ed25519"):
            TokenSigner(settings)
