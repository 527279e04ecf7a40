"""Open311 GeoReport v2 documents, in JSON and in XML, as the specification shapes them.

JSON lists are bare arrays; the XML form wraps the same items in the
specification's elements (``<services><service>``, ``<service_requests>
<request>``, ``<errors><error>``), each value an element, booleans as
``true``/``false``, empty values as empty elements.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

import orjson
from pydantic import BaseModel, Field

XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'


class Open311Error(BaseModel):
    """One error, as the specification writes it."""

    code: int = Field(examples=[403])
    description: str = Field(examples=["Invalid api_key received -- can't proceed."])


class Open311Endpoint(BaseModel):
    """One API endpoint named by the discovery document."""

    specification: str = Field(examples=["http://wiki.open311.org/GeoReport_v2"])
    url: str = Field(examples=["https://wardsafe.example.vn/open311/v2"])
    changeset: str = Field(examples=["2026-11-29T00:00:00Z"])
    type: str = Field(examples=["production"])
    formats: list[str] = Field(examples=[["application/json", "application/xml"]])


class Open311Discovery(BaseModel):
    """Service discovery: where the GeoReport v2 API is and what it speaks."""

    changeset: str
    contact: str
    key_service: str
    endpoints: list[Open311Endpoint]


class Open311Service(BaseModel):
    """A service: one report category."""

    service_code: str = Field(examples=["noise"])
    service_name: str = Field(examples=["Gây ồn ào"])
    description: str
    metadata: bool = Field(description="Whether the service has attributes (questions).")
    type: str = Field(examples=["realtime"])
    keywords: str = Field(examples=["ồn ào, karaoke, noise"])
    group: str = Field(examples=["An ninh trật tự"])


class Open311AttributeValue(BaseModel):
    """One allowed answer of a list attribute."""

    key: str = Field(examples=["night"])
    name: str = Field(examples=["Sau 22 giờ"])


class Open311Attribute(BaseModel):
    """One attribute of a service definition."""

    variable: bool
    code: str = Field(examples=["time_of_day"])
    datatype: str = Field(examples=["singlevaluelist"])
    required: bool
    datatype_description: str | None
    order: int
    description: str
    values: list[Open311AttributeValue] | None = Field(
        default=None, description="Only for singlevaluelist and multivaluelist."
    )


class Open311ServiceDefinition(BaseModel):
    """A service's attributes."""

    service_code: str
    attributes: list[Open311Attribute]


class Open311ServiceRequest(BaseModel):
    """A service request (a report), never with anything about its reporter."""

    service_request_id: str
    status: str = Field(examples=["open"], description="`open` or `closed`.")
    status_notes: str | None
    service_name: str
    service_code: str
    description: str | None
    agency_responsible: str | None = Field(examples=["Công an phường Hạ Long"])
    service_notice: str | None
    requested_datetime: str = Field(examples=["2026-11-29T07:12:08+00:00"])
    updated_datetime: str | None
    expected_datetime: str | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class Open311RequestCreated(BaseModel):
    """The answer to a new service request."""

    service_request_id: str
    service_notice: str | None
    account_id: str | None


class Open311RequestUpdate(BaseModel):
    """A change to a service request (FixMyStreet's servicerequestupdates extension)."""

    update_id: str
    service_request_id: str
    status: str = Field(description="`open` or `closed`.")
    external_status_code: str = Field(
        examples=["in_progress"], description="The report's own status, for finer sync."
    )
    updated_datetime: str
    description: str
    media_url: str


# XML: the element each list item gets, by the list's name.
_ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}


# Characters XML 1.0 cannot carry at all (most C0 controls): dropped from text.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def w3c(value: datetime | None) -> str | None:
    """A W3C datetime in UTC, to the second (``2026-11-29T07:12:08+00:00``): what
    ``OPEN311_JSON`` writes for a datetime, and what the XML answers carry."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="seconds")


# orjson's options for Open311's JSON: datetimes (always UTC) as W3C datetimes to the
# second, in C; formatting them in Python was a seventh of a list of requests.
OPEN311_JSON = orjson.OPT_OMIT_MICROSECONDS


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return w3c(value)
    return _NOT_XML.sub("", str(value))


def _append(parent: ElementTree.Element, name: str, value: Any) -> None:
    element = ElementTree.SubElement(parent, name)
    _fill(element, name, value)


def _fill(element: ElementTree.Element, name: str, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _append(element, key, item)
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        for item in value:
            _append(element, _ITEM_NAMES[name], item)
    else:
        element.text = _text(value)


def to_xml(root: str, value: Any) -> bytes:
    """A document as the specification's XML: ``root`` holds ``value`` (a list or a mapping)."""
    element = ElementTree.Element(root)
    _fill(element, root, value)
    document: bytes = ElementTree.tostring(element, encoding="utf-8", xml_declaration=False)
    return XML_DECLARATION + document


def errors_xml(status: int, descriptions: Sequence[str]) -> bytes:
    """``<errors><error><code>..</code><description>..</description></error></errors>``."""
    return to_xml("errors", [{"code": status, "description": text} for text in descriptions])
