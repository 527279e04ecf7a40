"""A repository from a declaration: visible records by id and by page, filters, the
record to change, soft deletes left out, statements built once per shape."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import String, func, literal_column, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Filter, Present, Repository
from app.data.visibility import Through, Visible, inline_predicate
from app.db import columns, utcnow
from app.demo.places import BAI_CHAY, HA_LONG
from app.errors import InvalidCursor, NotFound
from app.models.drills import Drill
from app.models.neighbourhoods import Neighbourhood
from app.models.residential_groups import ResidentialGroup
from app.models.units import Province, Ward
from app.pagination import CursorCodec, Keyset, PageParams
from app.security import Principal, Role
from tests.factories import make_group, make_neighbourhood, unique
from tests.fire_factories import make_drill, make_team

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

    async def test_find_gives_the_row_or_none_where_get_gives_the_404(
        self, session: AsyncSession
    ) -> None:
        made = await make_neighbourhood(session, HA_LONG, name="Khu tìm")
        found = await repository().find(session, officer(HA_LONG), made.id)
        assert (found.id, found.name) == (made.id, "Khu tìm")
        assert await repository().find(session, officer(BAI_CHAY), made.id) is None
        assert await repository().find(session, officer(HA_LONG), made.id, name="other") is None

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


# --- a record read under its parent's id; whether a column holds a value -------------


def groups() -> Repository[ResidentialGroup]:
    return Repository(
        ResidentialGroup,
        noun="residential group",
        columns=(ResidentialGroup.id, ResidentialGroup.neighbourhood_id, ResidentialGroup.name),
        visible=by_ward,
        keyset=Keyset("test-groups", columns(ResidentialGroup.name, ResidentialGroup.id)),
        filters={"neighbourhood_id": ResidentialGroup.neighbourhood_id},
        missing="The neighbourhood has no group with the id {id}.",
    )


class TestWithin:
    async def test_a_record_is_found_under_its_parent(self, session: AsyncSession) -> None:
        neighbourhood = await make_neighbourhood(session, HA_LONG)
        group = await make_group(session, neighbourhood)
        repo = groups()
        row = await repo.get(session, officer(HA_LONG), group.id, neighbourhood_id=neighbourhood.id)
        assert (row.id, row.neighbourhood_id) == (group.id, neighbourhood.id)
        found = await repo.get_for_update(
            session, officer(HA_LONG), group.id, neighbourhood_id=neighbourhood.id
        )
        assert isinstance(found, ResidentialGroup)
        assert found.id == group.id

    async def test_under_another_parent_it_is_the_declared_404(self, session: AsyncSession) -> None:
        neighbourhood = await make_neighbourhood(session, HA_LONG)
        other = await make_neighbourhood(session, HA_LONG)
        group = await make_group(session, neighbourhood)
        repo = groups()
        message = re.escape(f"The neighbourhood has no group with the id {group.id}.")
        with pytest.raises(NotFound, match=message):
            await repo.get(session, officer(HA_LONG), group.id, neighbourhood_id=other.id)
        with pytest.raises(NotFound, match=message):
            await repo.get_for_update(
                session, officer(HA_LONG), group.id, neighbourhood_id=other.id
            )

    async def test_a_parent_id_given_as_none_matches_nothing(self, session: AsyncSession) -> None:
        group = await make_group(session, await make_neighbourhood(session, HA_LONG))
        repo = groups()
        with pytest.raises(NotFound):
            await repo.get(session, officer(HA_LONG), group.id, neighbourhood_id=None)
        with pytest.raises(NotFound):
            await repo.get_for_update(session, officer(HA_LONG), group.id, neighbourhood_id=None)

    async def test_under_its_parent_an_invisible_record_is_still_404(
        self, session: AsyncSession
    ) -> None:
        neighbourhood = await make_neighbourhood(session, HA_LONG)
        group = await make_group(session, neighbourhood)
        repo = groups()
        with pytest.raises(NotFound):
            await repo.get(session, officer(BAI_CHAY), group.id, neighbourhood_id=neighbourhood.id)
        with pytest.raises(NotFound):
            await repo.get_for_update(
                session, officer(BAI_CHAY), group.id, neighbourhood_id=neighbourhood.id
            )

    async def test_with_and_without_the_parent_are_two_statements(
        self, session: AsyncSession
    ) -> None:
        neighbourhood = await make_neighbourhood(session, HA_LONG)
        group = await make_group(session, neighbourhood)
        repo = groups()
        for _ in range(2):
            await repo.get(session, officer(HA_LONG), group.id)
            await repo.get(session, officer(HA_LONG), group.id, neighbourhood_id=neighbourhood.id)
        assert len(repo._by_id) == 2

    async def test_an_undeclared_filter_is_a_programming_error(self, session: AsyncSession) -> None:
        repo = groups()
        with pytest.raises(TypeError, match="no such filters"):
            await repo.get(session, officer(HA_LONG), uuid.uuid4(), ward_code=HA_LONG)
        with pytest.raises(TypeError, match="no such filters"):
            await repo.get_for_update(session, officer(HA_LONG), uuid.uuid4(), ward_code=HA_LONG)


class TestPresent:
    async def test_true_keeps_rows_with_a_value_and_false_those_without(
        self, session: AsyncSession
    ) -> None:
        team = await make_team(session, await make_neighbourhood(session, HA_LONG))
        held = await make_drill(
            session, team, date(2025, 1, 10), held_at=datetime(2025, 1, 10, 2, tzinfo=UTC)
        )
        planned = await make_drill(session, team, date(2025, 2, 10))
        repo = Repository(
            Drill,
            noun="drill",
            columns=(Drill.id, Drill.occurs_on),
            visible=by_ward,
            keyset=Keyset("test-drills", columns(Drill.occurs_on, Drill.id)),
            filters={"team_id": Drill.team_id, "held": Present(Drill.held_at)},
        )

        async def listed(held: bool | None) -> list[uuid.UUID]:
            rows, _ = await repo.page(
                session,
                officer(HA_LONG),
                PageParams(limit=200, cursor=None),
                CODEC,
                team_id=team.id,
                held=held,
            )
            return [row.id for row in rows]

        assert await listed(True) == [held.id]
        assert await listed(False) == [planned.id]
        assert await listed(None) == [held.id, planned.id]
        # True and False bind one statement; left out, the filter is not in it.
        assert len(repo._pages) == 2


# --- a table keyed by an official code, read by anyone, with a computed column -------


def provinces() -> Repository[Province]:
    ward_count = (
        select(func.count())
        .where(col(Ward.province_code) == col(Province.code))
        .correlate(Province)
        .scalar_subquery()
        .label("ward_count")
    )
    return Repository(
        Province,
        noun="province",
        key=Province.code,
        columns=(Province.code, Province.name, ward_count),
        visible=Visible.all(),
        keyset=Keyset("test-provinces", columns(Province.code)),
        filters={
            "name_like": Filter(Province.name, "like"),
            # Any word of the name starts with it: the name with a space before it.
            "word": Filter(literal_column("' '", String) + col(Province.search_key), "like"),
        },
    )


async def ward_count(session: AsyncSession, province_code: str) -> int:
    statement = select(func.count()).where(col(Ward.province_code) == province_code)
    return int((await session.exec(statement)).one()[0])


class TestKeysAndPublicReads:
    async def test_a_record_keyed_by_a_code_is_found_by_it_with_its_computed_column(
        self, session: AsyncSession
    ) -> None:
        row = await provinces().get(session, None, "22")
        assert (row.code, row.name) == ("22", "Quảng Ninh")
        assert row.ward_count == await ward_count(session, "22") > 0
        assert row._fields == ("code", "name", "ward_count")

    async def test_a_missing_code_is_404_naming_the_code_quoted(
        self, session: AsyncSession
    ) -> None:
        repo = provinces()
        with pytest.raises(NotFound) as read:
            await repo.get(session, None, "99")
        assert read.value.detail == "No province has the code '99'."
        with pytest.raises(NotFound) as changed:
            await repo.get_for_update(session, officer(HA_LONG), "99")
        assert changed.value.detail == "No province has the code '99'."

    async def test_the_record_to_change_is_found_by_its_code(self, session: AsyncSession) -> None:
        found = await provinces().get_for_update(session, None, "22")
        assert isinstance(found, Province)
        assert found.code == "22"

    async def test_one_visible_serves_every_caller_signed_in_or_not(
        self, session: AsyncSession
    ) -> None:
        repo = provinces()
        anyone = await repo.get(session, None, "22")
        assert await repo.get(session, officer(BAI_CHAY), "22") == anyone
        assert len(repo._by_id) == 1

    async def test_a_caller_without_a_token_sees_nothing_of_a_scoped_repository(
        self, session: AsyncSession
    ) -> None:
        made = await make_neighbourhood(session, HA_LONG)
        repo = repository()
        with pytest.raises(NotFound):
            await repo.get(session, None, made.id)
        with pytest.raises(NotFound):
            await repo.get_for_update(session, None, made.id)
        rows, cursor = await repo.page(session, None, PageParams(limit=50, cursor=None), CODEC)
        assert (rows, cursor) == ([], None)

    async def test_pages_carry_the_computed_column(self, session: AsyncSession) -> None:
        repo, seen, cursor = provinces(), [], None
        while True:
            rows, cursor = await repo.page(
                session, None, PageParams(limit=10, cursor=cursor), CODEC
            )
            seen += rows
            if cursor is None:
                break
        assert [row.code for row in seen] == sorted(row.code for row in seen)
        assert len(seen) == 34
        [quang_ninh] = [row for row in seen if row.code == "22"]
        assert quang_ninh.ward_count == await ward_count(session, "22")

    async def test_a_like_filter_matches_its_pattern_on_an_expression(
        self, session: AsyncSession
    ) -> None:
        rows, _ = await provinces().page(
            session, None, PageParams(limit=200, cursor=None), CODEC, word="% ninh%"
        )
        assert sorted(row.code for row in rows) == ["22", "24", "37", "80"]
        rows, _ = await provinces().page(
            session, None, PageParams(limit=200, cursor=None), CODEC, word="% inh%"
        )
        assert rows == []

    async def test_a_like_filter_escapes_with_a_backslash(self, session: AsyncSession) -> None:
        prefix = uuid.uuid4().hex[:6]
        await make_neighbourhood(session, HA_LONG, name=f"{prefix} 10% xanh")
        await make_neighbourhood(session, HA_LONG, name=f"{prefix} 10 xanh")
        repo = Repository(
            Neighbourhood,
            noun="neighbourhood",
            columns=(Neighbourhood.id, Neighbourhood.name),
            visible=Visible.all(),
            keyset=Keyset("test-names", columns(Neighbourhood.name, Neighbourhood.id)),
            filters={"name_like": Filter(Neighbourhood.name, "like")},
        )
        everything = PageParams(limit=200, cursor=None)
        rows, _ = await repo.page(session, None, everything, CODEC, name_like=f"{prefix} 10%")
        assert set(names(rows)) == {f"{prefix} 10 xanh", f"{prefix} 10% xanh"}
        rows, _ = await repo.page(session, None, everything, CODEC, name_like=f"{prefix} 10\\%%")
        assert names(rows) == [f"{prefix} 10% xanh"]


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


# --- a visibility through another table ------------------------------------------


def with_group_code(principal: Principal) -> Visible:
    """Neighbourhoods of the officer's ward, and those holding a residential group whose
    code is the principal's unit code (a membership: no column of the table)."""
    visible = Visible.where(ward_code=principal.ward_code) if principal.ward_code else None
    if principal.unit_code is None:
        return visible or Visible.nothing()
    if visible is None:
        return Visible.where(holds=principal.unit_code)
    return visible.or_where(holds=principal.unit_code)


HOLDS: Through = {
    "holds": lambda code: col(Neighbourhood.id).in_(
        select(col(ResidentialGroup.neighbourhood_id)).where(col(ResidentialGroup.code) == code)
    )
}


def member(unit_code: str | None, ward_code: str | None = None) -> Principal:
    return Principal(
        subject=uuid.uuid4(),
        kind="user",
        role=Role.WARD_OFFICER,
        unit_code=unit_code,
        province_code="22",
        ward_code=ward_code,
        neighbourhood_id=None,
    )


def through_repository() -> Repository[Neighbourhood]:
    return Repository(
        Neighbourhood,
        noun="neighbourhood",
        columns=(Neighbourhood.id, Neighbourhood.name),
        visible=with_group_code,
        keyset=Keyset("test-held", columns(Neighbourhood.name, Neighbourhood.id)),
        through=HOLDS,
    )


class TestThrough:
    async def test_a_record_is_visible_through_a_name_that_is_no_column(
        self, session: AsyncSession
    ) -> None:
        code = unique("TDP-")
        holding = await make_neighbourhood(session, BAI_CHAY)
        await make_group(session, holding, code)
        other = await make_neighbourhood(session, BAI_CHAY)
        repo = through_repository()
        assert (await repo.get(session, member(code), holding.id)).id == holding.id
        assert (await repo.get_for_update(session, member(code), holding.id)).id == holding.id
        for find in (repo.get, repo.get_for_update):
            with pytest.raises(NotFound):
                await find(session, member(code), other.id)
            with pytest.raises(NotFound):
                await find(session, member(unique("TDP-")), holding.id)

    async def test_through_joins_the_other_alternatives_in_a_page(
        self, session: AsyncSession
    ) -> None:
        code, prefix = unique("TDP-"), uuid.uuid4().hex[:6]
        holding = await make_neighbourhood(session, BAI_CHAY, name=f"{prefix} held")
        await make_group(session, holding, code)
        await make_neighbourhood(session, BAI_CHAY, name=f"{prefix} not held")
        await make_neighbourhood(session, HA_LONG, name=f"{prefix} of the ward")
        rows, _ = await through_repository().page(
            session, member(code, HA_LONG), PageParams(limit=200, cursor=None), CODEC
        )
        assert sorted(n for n in names(rows) if n.startswith(prefix)) == [
            f"{prefix} held",
            f"{prefix} of the ward",
        ]

    def test_inline_predicate_writes_the_through_value_in(self) -> None:
        predicate = inline_predicate(
            Visible.where(holds="TDP-9"), {"ward_code": col(Neighbourhood.ward_code)}, HOLDS
        )
        sql = str(predicate.compile(compile_kwargs={"literal_binds": True}))
        assert "residential_groups.code = 'TDP-9'" in sql
        assert "neighbourhoods.id IN" in sql
