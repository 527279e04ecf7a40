"""Administrative units: official provinces and wards, their import, and unit codes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, String, func, literal_column, or_, select
from sqlmodel import col
from sqlmodel import select as select_model
from sqlmodel.ext.asyncio.session import AsyncSession

from app.cache import TTLCache
from app.data.repository import Filter, Repository
from app.data.visibility import Visible
from app.data.writes import Bookkeeping
from app.db import columns, utcnow
from app.models.neighbourhoods import Neighbourhood
from app.models.units import Province, Ward
from app.pagination import CursorCodec, Keyset, PageParams
from app.security import UnitLevel
from app.text import fold, word_prefix_patterns

ListResult = tuple[Sequence[Any], str | None]

_ward_count = (
    select(func.count())
    .where(col(Ward.province_code) == col(Province.code))
    .correlate(Province)
    .scalar_subquery()
    .label("ward_count")
)


def _words(search_key: Any) -> Any:
    # A space before the folded name: then every word of it, the first too, follows a space.
    return literal_column("' '", String) + col(search_key)


# Reference data, keyed by official code: anyone reads every row.
PROVINCES = Repository(
    Province,
    noun="province",
    key=Province.code,
    columns=(Province.code, Province.name, Province.division_type, _ward_count),
    visible=Visible.all(),
    keyset=Keyset("provinces", columns(Province.code)),
    filters={"q": Filter(_words(Province.search_key), "like")},
)
WARDS = Repository(
    Ward,
    noun="ward",
    key=Ward.code,
    columns=(Ward.code, Ward.name, Ward.division_type, Ward.province_code),
    visible=Visible.all(),
    keyset=Keyset("wards", columns(Ward.code)),
    filters={
        "province_code": Ward.province_code,
        "q": Filter(_words(Ward.search_key), "like"),
    },
)

# Where a neighbourhood is, for ``resolve_unit`` (its own domain's repository,
# services/neighbourhoods.py, builds on this module).
_NEIGHBOURHOOD_PLACES = Repository(
    Neighbourhood,
    noun="neighbourhood",
    columns=(Neighbourhood.id, Neighbourhood.province_code, Neighbourhood.ward_code),
    visible=Visible.all(),
    keyset=Keyset("neighbourhood-places", columns(Neighbourhood.id)),
)


def name_matches(search_key: Any, q: str) -> ColumnElement[bool]:
    """``search_key`` (a folded name) has a word starting with the folded ``q``."""
    at_start, after_space = word_prefix_patterns(q)
    return or_(search_key.like(at_start, escape="\\"), search_key.like(after_space, escape="\\"))


def _word_prefix(q: str | None) -> str | None:
    """The ``q`` filter's pattern: a word of the name starts with the folded ``q``, matched on
    ``_words`` (as ``name_matches``); None when ``q`` folds to nothing, which every name
    matches."""
    if not q or not fold(q):
        return None
    return word_prefix_patterns(q)[1]


async def list_provinces(
    session: AsyncSession, page: PageParams, codec: CursorCodec, *, q: str | None = None
) -> ListResult:
    """Official provinces in code order, optionally matching ``q`` without diacritics."""
    return await PROVINCES.page(session, None, page, codec, q=_word_prefix(q))


async def get_province(session: AsyncSession, code: str) -> Any:
    """One province by its official code."""
    return await PROVINCES.get(session, None, code)


async def list_wards(
    session: AsyncSession,
    page: PageParams,
    codec: CursorCodec,
    *,
    province_code: str | None = None,
    q: str | None = None,
) -> ListResult:
    """Official wards in code order, by province and/or a diacritic-free name match."""
    return await WARDS.page(
        session, None, page, codec, province_code=province_code, q=_word_prefix(q)
    )


async def get_ward(session: AsyncSession, code: str) -> Any:
    """One ward by its official code."""
    return await WARDS.get(session, None, code)


@dataclass(frozen=True)
class ImportSummary:
    """What one run of the official-units import changed."""

    provinces_added: int
    provinces_updated: int
    wards_added: int
    wards_updated: int

    @property
    def changed(self) -> bool:
        return any(
            (self.provinces_added, self.provinces_updated, self.wards_added, self.wards_updated)
        )


def _official_units() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    from vietnam_provinces import Province as OfficialProvince
    from vietnam_provinces import Ward as OfficialWard

    provinces = [
        {
            "code": f"{int(p.code):02d}",
            "name": p.name,
            "division_type": str(p.division_type.value),
            "codename": p.codename,
            "search_key": fold(p.name),
        }
        for p in OfficialProvince.iter_all()
    ]
    wards = [
        {
            "code": f"{int(w.code):05d}",
            "name": w.name,
            "division_type": str(w.division_type.value),
            "codename": w.codename,
            "province_code": f"{int(w.province_code):02d}",
            "search_key": fold(w.name),
        }
        for w in OfficialWard.iter_all()
    ]
    return provinces, wards


async def import_official_units(session: AsyncSession) -> ImportSummary:
    """Bring provinces and wards in line with ``vietnam-provinces``; a rerun changes nothing."""
    provinces, wards = _official_units()
    p_added, p_updated = await _upsert(session, Province, provinces)
    w_added, w_updated = await _upsert(session, Ward, wards)
    # Other processes see the change when their entries expire.
    ward_provinces.clear()
    return ImportSummary(p_added, p_updated, w_added, w_updated)


OfficialUnit = TypeVar("OfficialUnit", Province, Ward)
# Provinces and wards change only by the official import (``wardsafe import-units``):
# reference data, not records anyone edits, so no audit event.
_OFFICIAL: dict[type[Any], Bookkeeping] = {Province: Bookkeeping(Province), Ward: Bookkeeping(Ward)}


async def _upsert(
    session: AsyncSession, model: type[OfficialUnit], rows: list[dict[str, str]]
) -> tuple[int, int]:
    # The whole official table as records to change: a bulk import, not a request's read.
    existing = {obj.code: obj for obj in (await session.exec(select_model(model))).all()}
    added = updated = 0
    with _OFFICIAL[model].changing():
        for row in rows:
            current = existing.get(row["code"])
            if current is None:
                session.add(model.model_validate(row))
                added += 1
                continue
            changes = {k: v for k, v in row.items() if getattr(current, k) != v}
            if changes:
                for key, value in changes.items():
                    setattr(current, key, value)
                current.version += 1
                current.updated_at = utcnow()
                updated += 1
        await session.flush()
    return added, updated


class _UnknownWard(Exception):
    """No ward has the code: not a value to remember."""


class WardProvinces:
    """Ward code → province code, remembered in this process for ``ttl`` seconds.

    Official wards change only by ``wardsafe import-units``, so filing a report
    need not read its ward from the database each time. Unknown codes are not
    remembered (a ward imported meanwhile is found at once); at most
    ``max_size`` wards are (the country has about 3,300), the least recently
    used making room. The keeping is ``app.cache.TTLCache``'s."""

    def __init__(
        self,
        ttl: float = 300.0,
        max_size: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cache: TTLCache[str, str] = TTLCache(ttl, max_size, clock)

    async def province_of(self, session: AsyncSession, ward_code: str) -> str | None:
        """The province code of the ward, or None if no ward has this code."""

        async def read() -> str:
            ward = await WARDS.find(session, None, ward_code)
            if ward is None:
                raise _UnknownWard  # a failed computation is not stored
            province_code: str = ward.province_code
            return province_code

        try:
            return (await self._cache.get_or_compute(ward_code, read)).value
        except _UnknownWard:
            return None

    def clear(self) -> None:
        """Forget every ward (after an import in this process)."""
        self._cache.clear()

    def __len__(self) -> int:
        return len(self._cache)


ward_provinces = WardProvinces()


async def province_of_ward(session: AsyncSession, ward_code: str) -> str | None:
    """The province of an official ward, or None if there is no such ward (cached in process)."""
    return await ward_provinces.province_of(session, ward_code)


@dataclass(frozen=True)
class UnitAnchor:
    """Where a ``unit_code`` sits: its level and the province/ward/neighbourhood it names."""

    level: UnitLevel
    unit_code: str
    province_code: str
    ward_code: str | None
    neighbourhood_id: uuid.UUID | None


async def resolve_unit(session: AsyncSession, unit_code: str) -> UnitAnchor | None:
    """Find the province (2 digits), ward (5 digits) or neighbourhood (UUID) a code names."""
    if len(unit_code) == 2 and unit_code.isdigit():
        if await PROVINCES.find(session, None, unit_code) is None:
            return None
        return UnitAnchor(UnitLevel.PROVINCE, unit_code, unit_code, None, None)
    if len(unit_code) == 5 and unit_code.isdigit():
        province_code = await province_of_ward(session, unit_code)
        if province_code is None:
            return None
        return UnitAnchor(UnitLevel.WARD, unit_code, province_code, unit_code, None)
    try:
        neighbourhood_id = uuid.UUID(unit_code)
    except ValueError:
        return None
    row = await _NEIGHBOURHOOD_PLACES.find(session, None, neighbourhood_id)
    if row is None:
        return None
    return UnitAnchor(
        UnitLevel.NEIGHBOURHOOD,
        str(neighbourhood_id),
        row.province_code,
        row.ward_code,
        neighbourhood_id,
    )
