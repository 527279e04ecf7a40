"""Open311 GeoReport v2 over the community reports: services, requests, updates.

The rules are the specification's (http://wiki.open311.org/GeoReport_v2):
``jurisdiction_id`` is a ward code; dates are W3C datetimes with a zone; a
request list covers at most 90 days (the last 90 by default) and at most
1,000 requests. wardsafe adds one rule: requests and their updates are read
with an ``api_key`` too, and only inside the key's ward or province, because
these are reports to the police (who reported drug dealing at which address
is nobody else's business). Reporter contact details sent by a client are
never stored: see docs/open311.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import NotFound
from app.models.clients import Client
from app.models.reports import Report
from app.schemas.common import refusal_message, refused_character
from app.security import hash_secret
from app.services import units as unit_service
from app.services.auth import API_KEYS, client_principal
from app.services.reports import categories as report_categories
from app.services.reports.records import CLOSED_STATUSES, REPORTS

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When the service list last changed (the categories are code, not data).
CHANGESET = "2026-11-29T00:00:00Z"
FORMATS = ["application/json", "application/xml"]
SERVICE_NOTICE = (
    "Công an phường đã tiếp nhận phản ánh. Trường hợp khẩn cấp, gọi 113. "
    "(Received by the ward police; in an emergency call 113.)"
)
OPEN, CLOSED = "open", "closed"


class Open311Failure(Exception):
    """An error answered in the specification's own format, the body ``Open311Error`` describes.

    Not an ``AppError``: it must never reach the problem handler, which would answer
    an Open311 client in a format it does not read (``Open311Route`` renders it)."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def status_of(report_status: str | None) -> str:
    """A report status as Open311's ``open`` or ``closed``."""
    return CLOSED if report_status in CLOSED_STATUSES else OPEN


# --- discovery and services ---------------------------------------------------


def discovery(base_url: str, production: bool) -> dict[str, Any]:
    """The discovery document."""
    return {
        "changeset": CHANGESET,
        "contact": "Ward police: call 113 in an emergency. API: your ward's administrator.",
        "key_service": "An administrator issues an api_key with each machine client "
        "(POST /api/v1/clients); it is shown once.",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": f"{base_url}/open311/v2",
                "changeset": CHANGESET,
                "type": "production" if production else "test",
                "formats": FORMATS,
            }
        ],
    }


def services() -> list[dict[str, Any]]:
    """Every report category as a service."""
    return [
        {
            "service_code": category.code,
            "service_name": category.name,
            "description": category.description,
            "metadata": bool(category.questions),
            "type": "realtime",
            "keywords": ", ".join(category.keywords),
            "group": category.group,
        }
        for category in report_categories.CATEGORIES.values()
    ]


def service_definition(service_code: str) -> dict[str, Any]:
    """A service's attributes (404 for an unknown code)."""
    category = report_categories.CATEGORIES.get(service_code)
    if category is None:
        raise Open311Failure(404, f"service_code {service_code!r} was not found.")
    attributes = []
    for order, question in enumerate(category.questions, start=1):
        attribute: dict[str, Any] = {
            "variable": True,
            "code": question.code,
            "datatype": question.datatype,
            "required": question.required,
            "datatype_description": question.datatype_description,
            "order": order,
            "description": question.description,
        }
        if question.choices:
            attribute["values"] = [
                {"key": choice.key, "name": choice.name} for choice in question.choices
            ]
        attributes.append(attribute)
    return {"service_code": category.code, "attributes": attributes}


# --- keys and jurisdictions ---------------------------------------------------


async def authenticate(session: AsyncSession, api_key: str | None, action: str) -> Any:
    """The active machine client an ``api_key`` belongs to; 403 otherwise."""
    if not api_key:
        raise Open311Failure(403, f"api_key is required to {action}.")
    client = await API_KEYS.find(session, None, hash_secret(api_key))
    if client is None or not client.is_active:
        raise Open311Failure(403, f"Invalid api_key received -- can't proceed to {action}.")
    return client


async def ward_of(session: AsyncSession, jurisdiction_id: str) -> Any:
    """The ward a ``jurisdiction_id`` names, as a row of ``units.WARDS`` (404 if none)."""
    try:
        if jurisdiction_id.isdigit():
            return await unit_service.get_ward(session, jurisdiction_id)
    except NotFound:
        pass
    raise Open311Failure(404, f"jurisdiction_id {jurisdiction_id!r} was not found.")


def serves(client: Client, ward: Any) -> bool:
    """Whether a client acts for ``ward`` (its own ward, or a ward of its province)."""
    if client.ward_code is not None:
        return client.ward_code == str(ward.code)
    return client.province_code == str(ward.province_code)


async def check_jurisdiction(session: AsyncSession, jurisdiction_id: str | None) -> None:
    """404 unless ``jurisdiction_id`` (when given) names a ward."""
    if jurisdiction_id:
        await ward_of(session, jurisdiction_id)


# --- parameters ---------------------------------------------------------------


def check_text(params: Mapping[str, str]) -> None:
    """400 if a parameter's name or value carries a character the API refuses (as its
    text types do: docs/api-guide.md); descriptions and attribute answers may hold line breaks."""
    for name, value in params.items():
        if refused_character(name) is not None:
            raise Open311Failure(400, "A parameter name contains a control character.")
        multiline = name == "description" or name.startswith("attribute[")
        refused = refused_character(value, multiline=multiline)
        if refused is not None:
            raise Open311Failure(400, f"{name}: {refusal_message(refused, multiline=multiline)}")


# --- creating a request -------------------------------------------------------

_LIMITS = {"description": 4000, "address_string": 500, "media_url": 2000}


def _float(form: Mapping[str, str], name: str, bound: float) -> float | None:
    raw = form.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise Open311Failure(400, f"{name} must be a number.") from None
    if not -bound <= value <= bound:
        raise Open311Failure(400, f"{name} must lie between -{bound:g} and {bound:g}.")
    return value


def _answers(form: Mapping[str, str]) -> dict[str, str]:
    answers = {}
    for name, value in form.items():
        if name.startswith("attribute[") and name.endswith("]"):
            answers[name[len("attribute[") : -1]] = value
    return answers


async def create_request(session: AsyncSession, form: Mapping[str, str]) -> Report:
    """File a report from an Open311 POST. Contact fields (email, names, phone, device and
    account ids) are accepted and dropped: nothing names the person behind the request."""
    client = await authenticate(session, form.get("api_key"), "create_request")
    service_code = form.get("service_code")
    if not service_code:
        raise Open311Failure(400, "service_code is required.")
    if service_code not in report_categories.CATEGORIES:
        raise Open311Failure(404, f"service_code {service_code!r} was not found.")
    for name, most in _LIMITS.items():
        if len(form.get(name, "")) > most:
            raise Open311Failure(400, f"{name} is longer than {most} characters.")
    lat, lon = _float(form, "lat", 90), _float(form, "long", 180)
    address = (form.get("address_string") or "").strip() or None
    if (lat is None) != (lon is None):
        raise Open311Failure(400, "Give both lat and long, or neither.")
    if lat is None and address is None:
        raise Open311Failure(400, "A location is required: lat and long, or address_string.")
    description = (form.get("description") or "").strip()
    if not description:
        raise Open311Failure(400, "description is required.")
    media_url = (form.get("media_url") or "").strip()
    if media_url and not media_url.startswith(("http://", "https://")):
        raise Open311Failure(400, "media_url must be an http or https URL.")
    jurisdiction_id = form.get("jurisdiction_id") or client.ward_code
    if not jurisdiction_id:
        raise Open311Failure(400, "jurisdiction_id (the ward code) is required for this api_key.")
    ward = await ward_of(session, jurisdiction_id)
    if not serves(client, ward):
        raise Open311Failure(403, f"This api_key does not serve jurisdiction {ward.code}.")
    try:
        attributes = report_categories.check_answers(service_code, _answers(form))
    except report_categories.AnswerError as error:
        raise Open311Failure(
            400, "; ".join(f"attribute[{code}]: {text}" for code, text in error.problems)
        ) from None
    report = Report(
        province_code=ward.province_code,
        ward_code=ward.code,
        category=service_code,
        description=description,
        lat=lat,
        lon=lon,
        address=address,
        media_refs=[media_url] if media_url else [],
        attributes=attributes,
        anonymous=True,
        source="open311",
        client_id=client.id,
    )
    fields = {"category", "description", "ward_code"}
    fields |= {"lat", "lon"} if lat is not None else set()
    fields |= {"address"} if address else set()
    return await REPORTS.insert(session, client_principal(client), report, fields=fields)
