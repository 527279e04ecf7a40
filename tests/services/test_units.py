"""The import of official provinces and wards: idempotent, and it repairs drift."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import col, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.units import Province, Ward
from app.services import units as unit_service
from app.services.units import ImportSummary, WardProvinces


async def count(session: AsyncSession, model: type[Province] | type[Ward]) -> int:
    return (await session.exec(select(func.count()).select_from(model))).one()


class TestImportOfficialUnits:
    async def test_rerun_changes_nothing(self, session: AsyncSession) -> None:
        # The session fixture's database was imported once already.
        summary = await unit_service.import_official_units(session)
        assert summary == ImportSummary(0, 0, 0, 0)
        assert summary.changed is False
        again = await unit_service.import_official_units(session)
        assert again == ImportSummary(0, 0, 0, 0)
        assert (await count(session, Province), await count(session, Ward)) == (34, 3321)

    async def test_changed_ward_name_is_restored_and_counted(self, session: AsyncSession) -> None:
        ward = await session.get(Ward, "06688")
        assert ward is not None
        version, updated_at = ward.version, ward.updated_at
        ward.name = "Phường Hạ Long Cũ"
        ward.search_key = "phuong ha long cu"
        ward.updated_at -= timedelta(days=1)
        session.add(ward)
        await session.commit()

        summary = await unit_service.import_official_units(session)
        await session.commit()

        assert summary == ImportSummary(0, 0, 0, 1)
        assert summary.changed is True
        await session.refresh(ward)
        assert ward.name == "Phường Hạ Long"
        assert ward.search_key == "phuong ha long"
        assert ward.version == version + 1
        assert ward.updated_at > updated_at

    async def test_changed_province_is_restored_and_counted(self, session: AsyncSession) -> None:
        province = await session.get(Province, "22")
        assert province is not None
        province.division_type = "thành phố trung ương"
        session.add(province)
        await session.commit()

        summary = await unit_service.import_official_units(session)

        assert summary == ImportSummary(0, 1, 0, 0)
        await session.refresh(province)
        assert (province.name, province.division_type) == ("Quảng Ninh", "tỉnh")
        assert province.version == 2

    async def test_missing_ward_is_added_back(self, session: AsyncSession) -> None:
        await session.exec(delete(Ward).where(col(Ward.code) == "07093"))
        await session.commit()
        assert await session.get(Ward, "07093") is None

        summary = await unit_service.import_official_units(session)
        await session.commit()

        assert summary == ImportSummary(0, 0, 1, 0)
        restored = await session.get(Ward, "07093")
        assert restored is not None
        assert (restored.name, restored.province_code, restored.version) == (
            "Phường Đông Triều",
            "22",
            1,
        )
        assert await count(session, Ward) == 3321

    async def test_codes_are_zero_padded_and_search_keys_folded(
        self, session: AsyncSession
    ) -> None:
        lengths = (await session.exec(select(func.length(Ward.code)).distinct())).all()
        assert lengths == [5]
        province_lengths = (await session.exec(select(func.length(Province.code)).distinct())).all()
        assert province_lengths == [2]
        bai_chay = await session.get(Ward, "06673")
        assert bai_chay is not None
        assert bai_chay.search_key == "phuong bai chay"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def move_ward(session: AsyncSession, code: str, province_code: str) -> None:
    """Change a ward's province behind the cache's back (rolled back after the test)."""
    await session.exec(
        update(Ward).where(col(Ward.code) == code).values(province_code=province_code)
    )
    await session.commit()


class TestWardProvinces:
    async def test_a_ward_is_read_once_then_answered_from_memory(
        self, session: AsyncSession
    ) -> None:
        cache = WardProvinces(ttl=300, clock=FakeClock())
        assert await cache.province_of(session, "06688") == "22"
        await move_ward(session, "06688", "01")
        assert await cache.province_of(session, "06688") == "22"

    async def test_an_entry_is_read_again_after_its_time(self, session: AsyncSession) -> None:
        clock = FakeClock()
        cache = WardProvinces(ttl=300, clock=clock)
        assert await cache.province_of(session, "06688") == "22"
        await move_ward(session, "06688", "01")
        clock.now += 299
        assert await cache.province_of(session, "06688") == "22"
        clock.now += 1
        assert await cache.province_of(session, "06688") == "01"

    async def test_an_unknown_ward_is_none_and_not_remembered(self, session: AsyncSession) -> None:
        cache = WardProvinces(clock=FakeClock())
        assert await cache.province_of(session, "99999") is None
        session.add(
            Ward(
                code="99999",
                name="Phường Thử",
                division_type="phường",
                codename="phuong_thu",
                province_code="22",
                search_key="phuong thu",
            )
        )
        await session.commit()
        assert await cache.province_of(session, "99999") == "22"

    async def test_it_holds_at_most_max_size_wards_dropping_the_oldest(
        self, session: AsyncSession
    ) -> None:
        cache = WardProvinces(max_size=2, clock=FakeClock())
        for code in ("06688", "06673", "00070"):
            await cache.province_of(session, code)
        assert len(cache) == 2
        await move_ward(session, "06688", "01")
        await move_ward(session, "06673", "01")
        assert await cache.province_of(session, "06688") == "01"  # dropped: read again
        assert await cache.province_of(session, "00070") == "01"  # Hoàn Kiếm, still held

    async def test_an_import_in_this_process_empties_it(self, session: AsyncSession) -> None:
        assert await unit_service.province_of_ward(session, "06688") == "22"
        assert len(unit_service.ward_provinces) > 0
        await unit_service.import_official_units(session)
        assert len(unit_service.ward_provinces) == 0
