"""A repository from a declaration: visible records by id and by page, filters, the
record to change, soft deletes left out, statements built once per shape."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Filter, Repository
from app.data.visibility import Visible
from app.db import columns, utcnow
from app.demo.places import BAI_CHAY, HA_LONG
from app.errors import InvalidCursor, NotFound
from app.models.units import Neighbourhood
from app.pagination import CursorCodec, Keyset, PageParams
from app.security import Principal, Role
from tests.factories import make_neighbourhood

CODEC = CursorCodec("a test secret")


def officer(ward_code: str | None) -> Principal:
    return Principal(
        subject=uuid.uuid4(),
        kind="user",
        role=Role.WARD_OFFICER,
        unit_code=ward_code,
        province_code="22",
        ward_code=ward_code,
        neighbourhood_id=None,
    )


def by_ward(principal: Principal) -> Visible:
    if principal.ward_code == "both":
        return Visible.where(ward_code=HA_LONG).or_where(ward_code=BAI_CHAY)
    if principal.ward_code == "all":
        return Visible.all()
    if principal.ward_code:
        return Visible.where(ward_code=principal.ward_code)
    return Visible.nothing()


def repository() -> Repository[Neighbourhood]:
    return Repository(
        Neighbourhood,
        noun="neighbourhood",
        columns=(Neighbourhood.id, Neighbourhood.ward_code, Neighbourhood.name),
        visible=by_ward,
        keyset=Keyset("test-neighbourhoods", columns(Neighbourhood.name, Neighbourhood.id)),
        filters={
            "name": Neighbourhood.name,
            "households_at_least": Filter(Neighbourhood.households, ">="),
        },
    )


def names(rows: list[object]) -> list[str]:
    return [row.name for row in rows]  # type: ignore[attr-defined]


class TestGet:
    async def test_a_visible_record_comes_back_as_a_row_of_the_declared_columns(
        self, session: AsyncSession
    ) -> None:
        made = await make_neighbourhood(session, HA_LONG, name="Khu 1")
        row = await repository().get(session, officer(HA_LONG), made.id)
        assert (row.id, row.ward_code, row.name) == (made.id, HA_LONG, "Khu 1")
        assert row._fields == ("id", "ward_code", "name")

    @pytest.mark.parametrize("ward", [BAI_CHAY, None])
    async def test_an_invisible_record_is_404_as_if_it_did_not_exist(
        self, session: AsyncSession, ward: str | None
    ) -> None:
        made = await make_neighbourhood(session, HA_LONG)
        with pytest.raises(NotFound, match=f"No neighbourhood has the id {made.id}"):
            await repository().get(session, officer(ward), made.id)

    async def test_a_soft_deleted_record_is_not_visible(self, session: AsyncSession) -> None:
        made = await make_neighbourhood(session, HA_LONG, deleted_at=utcnow())
        with pytest.raises(NotFound):
            await repository().get(session, officer(HA_LONG), made.id)
        with pytest.raises(NotFound):
            await repository().get_for_update(session, officer(HA_LONG), made.id)

    async def test_either_of_two_alternatives_makes_a_record_visible(
        self, session: AsyncSession
    ) -> None:
        here = await make_neighbourhood(session, HA_LONG)
        there = await make_neighbourhood(session, BAI_CHAY)
        repo = repository()
        for made in (here, there):
            assert (await repo.get(session, officer("both"), made.id)).id == made.id

    async def test_the_record_to_change_is_the_model(self, session: AsyncSession) -> None:
        made = await make_neighbourhood(session, HA_LONG)
        found = await repository().get_for_update(session, officer(HA_LONG), made.id)
        assert isinstance(found, Neighbourhood)
        assert found.id == made.id
        with pytest.raises(NotFound):
            await repository().get_for_update(session, officer(BAI_CHAY), made.id)

    async def test_a_statement_is_built_once_per_shape(self, session: AsyncSession) -> None:
        made = await make_neighbourhood(session, HA_LONG)
        repo = repository()
        await repo.get(session, officer(HA_LONG), made.id)
        await repo.get(session, officer(HA_LONG), made.id)
        with pytest.raises(NotFound):
            await repo.get(session, officer(BAI_CHAY), made.id)  # same shape, other value
        await repo.get(session, officer("both"), made.id)
        assert len(repo._by_id) == 2


class TestPage:
    async def test_pages_follow_the_keyset_and_end_with_no_cursor(
        self, session: AsyncSession
    ) -> None:
        prefix = uuid.uuid4().hex[:6]
        for letter in "cabd":
            await make_neighbourhood(session, HA_LONG, name=f"{prefix} {letter}")
        await make_neighbourhood(session, BAI_CHAY, name=f"{prefix} e")
        repo, seen, cursor = repository(), [], None
        while True:
            rows, cursor = await repo.page(
                session, officer(HA_LONG), PageParams(limit=3, cursor=cursor), CODEC
            )
            seen += [name for name in names(rows) if name.startswith(prefix)]
            if cursor is None:
                break
        assert seen == [f"{prefix} {letter}" for letter in "abcd"]

    async def test_filters_narrow_the_page(self, session: AsyncSession) -> None:
        await make_neighbourhood(session, HA_LONG, name="Khu lớn", households=300)
        await make_neighbourhood(session, HA_LONG, name="Khu nhỏ", households=20)
        repo = repository()
        rows, _ = await repo.page(
            session, officer(HA_LONG), PageParams(limit=200, cursor=None), CODEC, name="Khu lớn"
        )
        assert names(rows) == ["Khu lớn"]
        rows, _ = await repo.page(
            session,
            officer(HA_LONG),
            PageParams(limit=200, cursor=None),
            CODEC,
            households_at_least=250,
        )
        assert "Khu lớn" in names(rows)
        assert "Khu nhỏ" not in names(rows)

    async def test_nothing_visible_is_an_empty_page(self, session: AsyncSession) -> None:
        await make_neighbourhood(session, HA_LONG)
        rows, cursor = await repository().page(
            session, officer(None), PageParams(limit=50, cursor=None), CODEC
        )
        assert (rows, cursor) == ([], None)

    async def test_a_cursor_of_other_filters_is_refused(self, session: AsyncSession) -> None:
        for _ in range(3):
            await make_neighbourhood(session, HA_LONG, households=500)
        repo = repository()
        _, cursor = await repo.page(
            session, officer("all"), PageParams(limit=1, cursor=None), CODEC
        )
        assert cursor is not None
        with pytest.raises(InvalidCursor):
            await repo.page(
                session,
                officer("all"),
                PageParams(limit=1, cursor=cursor),
                CODEC,
                households_at_least=1,
            )

    async def test_an_undeclared_filter_is_a_programming_error(self, session: AsyncSession) -> None:
        with pytest.raises(TypeError, match="no such filters"):
            await repository().page(
                session, officer(HA_LONG), PageParams(limit=1, cursor=None), CODEC, code="x"
            )


def test_a_filter_with_an_unknown_operator_is_refused() -> None:
    with pytest.raises(ValueError, match="no such operator"):
        Filter(Neighbourhood.households, "~")


def test_visibility_shapes_depend_on_columns_not_values() -> None:
    assert Visible.where(ward_code="1").shape == Visible.where(ward_code="2").shape
    assert Visible.where(ward_code="1").shape != Visible.where(province_code="1").shape
    assert Visible.all().or_where(ward_code="1") == Visible.all()
    assert Visible.where(ward_code="1").or_where(neighbourhood_id="n").values() == {
        "visible_0_ward_code": "1",
        "visible_1_neighbourhood_id": "n",
    }


class TestFirst:
    async def test_the_first_visible_record_in_the_keysets_order_matching_the_filters(
        self, session: AsyncSession
    ) -> None:
        prefix, many = uuid.uuid4().hex[:6], 5_000_000  # more households than any other row
        await make_neighbourhood(session, HA_LONG, name=f"{prefix} d", households=many)
        await make_neighbourhood(session, BAI_CHAY, name=f"{prefix} a", households=many)
        await make_neighbourhood(session, HA_LONG, name=f"{prefix} c", households=many)
        await make_neighbourhood(session, HA_LONG, name=f"{prefix} b", households=20)
        await make_neighbourhood(
            session, HA_LONG, name=f"{prefix} a", households=many, deleted_at=utcnow()
        )
        repo = repository()
        first = await repo.first(session, officer(HA_LONG), households_at_least=many)
        assert first is not None
        assert first.name == f"{prefix} c"
        assert first._fields == ("id", "ward_code", "name")
        assert (await repo.first(session, officer(HA_LONG), name=f"{prefix} b")).name == (
            f"{prefix} b"
        )

    async def test_none_when_nothing_visible_matches(self, session: AsyncSession) -> None:
        made = await make_neighbourhood(session, HA_LONG, name=uuid.uuid4().hex)
        repo = repository()
        assert await repo.first(session, officer(BAI_CHAY), name=made.name) is None
        assert await repo.first(session, officer(None)) is None
        assert await repo.first(session, officer(HA_LONG), name="no such name") is None

    async def test_an_undeclared_filter_is_a_programming_error(self, session: AsyncSession) -> None:
        with pytest.raises(TypeError, match="no such filters"):
            await repository().first(session, officer(HA_LONG), code="x")
