"""Pieces every domain's schemas share: the input types for text and dates, the base models."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar, NamedTuple

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, GetCoreSchemaHandler
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

# --- text -----------------------------------------------------------------------
# What no field takes (docs/api-guide.md): C0 controls, DEL, C1 controls, and
# lone UTF-16 surrogates (JSON can carry "\ud800"; UTF-8, hence PostgreSQL and
# SQLite, cannot store it). Free text keeps tab, line feed and carriage return;
# one-line text refuses them and the Unicode line and paragraph separators too.
_SURROGATES = "\ud800-\udfff"
_MULTILINE_REFUSED = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_SURROGATES}]")
_ONE_LINE_REFUSED = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_SURROGATES}]")


class RefusedCharacter(NamedTuple):
    """The first character a text input may not carry: its error type, code point and index."""

    type: str
    code_point: str
    position: int


def refused_character(text: str, *, multiline: bool = False) -> RefusedCharacter | None:
    """The first character of ``text`` that the API refuses, or None."""
    found = (_MULTILINE_REFUSED if multiline else _ONE_LINE_REFUSED).search(text)
    if found is None:
        return None
    code = ord(found.group())
    kind = "lone_surrogate" if 0xD800 <= code <= 0xDFFF else "control_character"
    return RefusedCharacter(kind, f"U+{code:04X}", found.start())


def refusal_message(refused: RefusedCharacter, *, multiline: bool = False) -> str:
    """Why a text was refused, naming the character by code point (never the text itself)."""
    where = f"{refused.code_point} at position {refused.position}"
    if refused.type == "lone_surrogate":
        return f"Text may not contain a lone UTF-16 surrogate ({where}); send real characters."
    if multiline:
        return (
            f"Text may not contain control characters ({where}); "
            "only tab, line feed and carriage return are allowed."
        )
    return f"One-line text may not contain control characters, tabs or line breaks ({where})."


@dataclass(frozen=True, slots=True)
class Text:
    """A one-line text input, e.g. ``Annotated[str, Text(max_length=200)]``: names, codes,
    usernames, search queries. Refuses control characters (tab and line breaks included).

    Every ``str`` a request carries goes through ``Text`` or ``MultilineText``
    (tests/test_input_types.py checks every route). Give the string's constraints
    here, not in ``StringConstraints``, ``Field`` or ``Query`` after it: pydantic
    would apply a pattern there as a separate step the OpenAPI document omits."""

    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None

    multiline: ClassVar[bool] = False

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        constraints = {
            name: getattr(self, name)
            for name in ("min_length", "max_length", "pattern")
            if getattr(self, name) is not None
        }
        schema = _constrained(handler(source), constraints)
        if schema is None:
            raise TypeError(f"{type(self).__name__} annotates strings, not {source!r}")
        # Before the string's own checks (white space stripped, length, pattern):
        # a refused character gets its own error type, whatever else is wrong.
        return core_schema.no_info_before_validator_function(self._check, schema)

    def _check(self, value: Any) -> Any:
        if isinstance(value, str):
            refused = refused_character(value, multiline=self.multiline)
            if refused is not None:
                raise PydanticCustomError(
                    refused.type,
                    refusal_message(refused, multiline=self.multiline),
                    {"character": refused.code_point, "position": refused.position},
                )
        return value


@dataclass(frozen=True, slots=True)
class MultilineText(Text):
    """Free text (descriptions, notes, reasons): like ``Text``, but tab, line feed and
    carriage return are allowed."""

    multiline: ClassVar[bool] = True


def _constrained(schema: CoreSchema, constraints: dict[str, Any]) -> Any:
    """``schema`` with ``constraints`` on its str schema (itself, or an arm of a nullable
    or a union); None if it has none."""
    if schema["type"] == "str":
        return {**schema, **constraints}
    if schema["type"] == "nullable":
        inner = _constrained(schema["schema"], constraints)
        return None if inner is None else {**schema, "schema": inner}
    if schema["type"] == "union":
        choices: list[Any] = []
        found = False
        for choice in schema["choices"]:
            arm = choice[0] if isinstance(choice, tuple) else choice
            constrained = _constrained(arm, constraints)
            found = found or constrained is not None
            arm = arm if constrained is None else constrained
            choices.append((arm, choice[1]) if isinstance(choice, tuple) else arm)
        return {**schema, "choices": choices} if found else None
    return None


# --- dates ------------------------------------------------------------------------
# What any input date or instant may be. The services add days, months (up to ten
# years for inspections) and Open311's 90-day windows, and convert to UTC and
# Vietnam time: a thousand years of room on either side keeps all of it in
# Python's years 1 to 9999.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)
FIRST_INSTANT = datetime(1900, 1, 1, tzinfo=UTC)
END_INSTANT = datetime(3000, 1, 1, tzinfo=UTC)  # the first instant refused
_RANGE = "between 1900-01-01T00:00:00Z and 2999-12-31T23:59:59Z"


def instant_in_range(value: datetime) -> bool:
    """Whether an aware datetime lies in the range the API takes (compared as instants)."""
    return FIRST_INSTANT <= value < END_INSTANT


@dataclass(frozen=True, slots=True)
class InRange:
    """Dates and datetimes the API can compute with: between ``FIRST_DAY`` and
    ``LAST_DAY``, and instants in those years of UTC (see ``Timestamp`` and ``Day``)."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    @staticmethod
    def _check(value: Any) -> Any:
        if isinstance(value, datetime):
            if not instant_in_range(value):
                raise PydanticCustomError(
                    "datetime_out_of_range", f"The time must lie {_RANGE} (any offset)."
                )
        elif isinstance(value, date) and not FIRST_DAY <= value <= LAST_DAY:
            raise PydanticCustomError(
                "date_out_of_range", "The date must lie between 1900-01-01 and 2999-12-31."
            )
        return value


# Every datetime and date a request carries is one of these two.
Timestamp = Annotated[AwareDatetime, InRange()]
Day = Annotated[date, InRange()]

# --- shared fields and models -------------------------------------------------------

ProvinceCode = Annotated[str, Text(pattern=r"^\d{2}$"), Field(examples=["22"])]
WardCode = Annotated[str, Text(pattern=r"^\d{5}$"), Field(examples=["06688"])]


class ReadModel(BaseModel):
    """A response body: built from ORM objects or selected rows."""

    model_config = ConfigDict(from_attributes=True)


class InputModel(BaseModel):
    """A request body: unknown fields are refused, so nothing can be mass-assigned."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RecordRead(ReadModel):
    """The fields every stored record carries."""

    id: uuid.UUID
    created_at: datetime
    updated_at: datetime
    version: int = Field(examples=[1])


# Fields of local units (neighbourhoods, residential groups).
UnitLocalCode = Annotated[str, Text(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._-]+$")]
UnitName = Annotated[str, Text(min_length=1, max_length=200)]
HeadCount = Annotated[int, Field(ge=0, le=10_000_000)]
