"""Group rules at the service level: counts for statistics, eligibility, masking, visibility."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import utcnow
from app.demo.places import HA_LONG
from app.errors import Conflict, NotFound, ValidationFailed
from app.models.exemplary_models import ExemplaryModel
from app.models.group_members import GroupMember
from app.models.groups import SelfManagedGroup
from app.models.units import Ward
from app.schemas.group_members import MemberCreate
from app.security import ROLE_SCOPES, Principal, Role
from app.services.groups import counts as group_counts
from app.services.groups import members as member_service
from app.services.groups import policies
from app.services.groups.member_rules import check_member, mask_phone
from tests import factories

GRASSROOTS = "grassroots_security_team"


def values(**changes: Any) -> dict[str, Any]:
    base = {
        "birth_year": 1980,
        "joined_on": date(2025, 3, 1),
        "resident_since": date(2010, 1, 1),
        "elected_on": None,
        "exception_approved_by": None,
        "left_on": None,
    }
    return {**base, **changes}


def rule_of(kind: str, **changes: Any) -> str | None:
    try:
        check_member(kind, values(**changes))
    except ValidationFailed as error:
        rule: str = error.extensions["rule"]
        return rule
    return None


class TestCheckMember:
    @pytest.mark.parametrize(
        ("birth_year", "approved", "rule"),
        [
            (2008, None, "grassroots_team_age"),  # 17 in 2025
            (2007, None, None),  # 18
            (1955, None, None),  # 70
            (1954, None, "grassroots_team_age"),  # 71
            (1954, "Chủ tịch UBND phường", None),
            (1930, "Chủ tịch UBND phường", None),
            (2008, "Chủ tịch UBND phường", "grassroots_team_age"),
        ],
    )
    def test_grassroots_age_counts_the_joining_year(
        self, birth_year: int, approved: str | None, rule: str | None
    ) -> None:
        # Born in December 2007, joining in January 2025: 18 by the year, as the rule counts.
        assert (
            rule_of(
                GRASSROOTS,
                birth_year=birth_year,
                joined_on=date(2025, 1, 2),
                exception_approved_by=approved,
            )
            == rule
        )

    @pytest.mark.parametrize(
        ("joined_on", "resident_since", "rule"),
        [
            (date(2025, 3, 1), date(2024, 3, 1), None),
            (date(2025, 3, 1), date(2024, 3, 2), "grassroots_team_residence"),
            (date(2025, 3, 1), None, "grassroots_team_residence"),
            (date(2024, 2, 29), date(2023, 2, 28), None),
            (date(2024, 2, 29), date(2023, 3, 1), "grassroots_team_residence"),
        ],
    )
    def test_grassroots_residence_of_a_year(
        self, joined_on: date, resident_since: date | None, rule: str | None
    ) -> None:
        assert rule_of(GRASSROOTS, joined_on=joined_on, resident_since=resident_since) == rule

    def test_mediation_needs_elected_on(self) -> None:
        assert rule_of("mediation_team") == "mediation_team_election"
        assert rule_of("mediation_team", elected_on=date(2025, 2, 1)) is None

    @pytest.mark.parametrize(
        "kind", ["security_self_management", "crime_prevention_channel", "market_self_management"]
    )
    def test_other_kinds_have_no_age_or_residence_rule(self, kind: str) -> None:
        assert rule_of(kind, birth_year=2010, resident_since=None) is None

    def test_any_kind_refuses_impossible_dates(self) -> None:
        assert rule_of("market_self_management", birth_year=2026) == "born_before_joining"
        assert rule_of("market_self_management", left_on=date(2025, 2, 1)) == "left_after_joining"

    def test_the_problem_names_the_field(self) -> None:
        with pytest.raises(ValidationFailed) as raised:
            check_member(GRASSROOTS, values(birth_year=2010))
        assert raised.value.status == 422
        assert raised.value.extensions["errors"][0]["loc"] == ["body", "birth_year"]
        assert "18" in (raised.value.detail or "")


class TestMaskPhone:
    @pytest.mark.parametrize(
        ("phone", "masked"),
        [
            ("0912345678", "09******78"),
            ("+84912345678", "+8********78"),
            ("02033123456", "02*******56"),
            ("1234", "****"),
            (None, None),
        ],
    )
    def test_keeps_the_first_and_last_two(self, phone: str | None, masked: str | None) -> None:
        assert mask_phone(phone) == masked


def principal(role: Role, **anchors: Any) -> Principal:
    return Principal(
        subject=uuid.uuid4(),
        kind="user",
        role=role,
        unit_code=None,
        province_code=anchors.get("province_code"),
        ward_code=anchors.get("ward_code"),
        neighbourhood_id=anchors.get("neighbourhood_id"),
        scopes=ROLE_SCOPES[role],
    )


class TestVisibility:
    @pytest.mark.parametrize(
        "role",
        [Role.PROVINCE_OFFICER, Role.WARD_OFFICER, Role.NEIGHBOURHOOD_HEAD, Role.RESIDENT],
    )
    async def test_a_principal_without_a_unit_sees_nothing(
        self, session: AsyncSession, role: Role
    ) -> None:
        neighbourhood = await factories.make_neighbourhood(session, HA_LONG)
        await factories.make_self_managed_group(session, neighbourhood)
        rows = await session.exec(
            select(SelfManagedGroup.id).where(policies.visible(principal(role)))
        )
        assert rows.all() == []


async def another_ward(session: AsyncSession) -> str:
    """A Quảng Ninh ward that no other test puts groups in."""
    code = (
        await session.exec(
            select(Ward.code).where(col(Ward.province_code) == "22").order_by(col(Ward.code))
        )
    ).first()
    assert code is not None
    assert code not in (HA_LONG, "06673")
    return code


class TestCountGroups:
    async def test_by_kind_status_and_exemplary_year_for_each_unit_level(
        self, session: AsyncSession
    ) -> None:
        ward_code = await another_ward(session)
        province_before = await group_counts.count_groups(session, "22")
        kp1 = await factories.make_neighbourhood(session, ward_code)
        kp2 = await factories.make_neighbourhood(session, ward_code)
        make = factories.make_self_managed_group
        a = await make(session, kp1)
        await make(session, kp1, status="suspended")
        await make(session, kp1, "crime_prevention_channel")
        b = await make(session, kp2, "mediation_team", status="dissolved")
        ward_wide = await make(session, ward_code, GRASSROOTS)
        gone = await make(session, kp1, deleted_at=utcnow())
        for group, year in ((a, 2024), (a, 2025), (b, 2025), (ward_wide, 2025), (gone, 2025)):
            session.add(
                ExemplaryModel(
                    group_id=group.id,
                    province_code="22",
                    ward_code=ward_code,
                    year=year,
                    decision_no="1/QĐ",
                )
            )
        session.add(
            ExemplaryModel(
                group_id=b.id,
                province_code="22",
                ward_code=ward_code,
                year=2023,
                decision_no="withdrawn",
                deleted_at=utcnow(),
            )
        )
        await session.flush()

        ward = await group_counts.count_groups(session, ward_code)
        assert ward.unit_code == ward_code
        assert ward.total == 5
        assert ward.by_kind_and_status["security_self_management"] == {
            "active": 1,
            "suspended": 1,
            "dissolved": 0,
        }
        assert ward.by_kind_and_status["mediation_team"]["dissolved"] == 1
        assert ward.by_kind_and_status[GRASSROOTS]["active"] == 1
        assert ward.by_kind_and_status["market_self_management"] == {
            "active": 0,
            "suspended": 0,
            "dissolved": 0,
        }
        assert ward.exemplary_models_by_year == {2024: 1, 2025: 3}

        neighbourhood = await group_counts.count_groups(session, str(kp1.id))
        assert neighbourhood.total == 3
        assert neighbourhood.by_kind_and_status["crime_prevention_channel"]["active"] == 1
        assert neighbourhood.exemplary_models_by_year == {2024: 1, 2025: 1}

        province = await group_counts.count_groups(session, "22")
        assert province.total == province_before.total + 5
        before = province_before.exemplary_models_by_year
        assert province.exemplary_models_by_year[2025] == before.get(2025, 0) + 3

    async def test_every_kind_and_status_is_present_for_an_empty_unit(
        self, session: AsyncSession
    ) -> None:
        counts = await group_counts.count_groups(session, "01")
        assert set(counts.by_kind_and_status) == {
            "security_self_management",
            GRASSROOTS,
            "mediation_team",
            "market_self_management",
            "boarding_house_self_management",
            "crime_prevention_channel",
        }
        assert counts.total == 0
        assert counts.exemplary_models_by_year == {}

    @pytest.mark.parametrize("code", ["99", "99999", str(uuid.uuid4()), "not-a-unit"])
    async def test_unknown_unit_is_not_found(self, session: AsyncSession, code: str) -> None:
        with pytest.raises(NotFound):
            await group_counts.count_groups(session, code)


class TestOneLeaderRace:
    async def test_a_leader_stored_after_the_check_is_still_a_409_naming_the_rule(
        self, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """What a concurrent request sees: the check passed, the partial unique index refuses."""
        neighbourhood = await factories.make_neighbourhood(session, HA_LONG)
        group = await factories.make_self_managed_group(session, neighbourhood)
        await factories.make_member(session, group, position="leader")
        real_check = member_service._other_leader
        calls: list[object] = []

        async def blind_first_check(*args: Any) -> Any:
            calls.append(args)
            return False if len(calls) == 1 else await real_check(*args)

        monkeypatch.setattr(member_service, "_other_leader", blind_first_check)
        data = MemberCreate.model_validate(
            {
                "full_name": "Người Thứ Hai",
                "birth_year": 1980,
                "position": "leader",
                "joined_on": "2025-03-01",
            }
        )
        with pytest.raises(Conflict) as raised:
            await member_service.create_member(session, principal(Role.ADMIN), group.id, data)
        assert raised.value.extensions["rule"] == "one_active_leader"
        assert len(calls) == 2  # the blinded check, then the one after the index refused
        # The savepoint kept the transaction usable.
        leaders = await session.exec(
            select(GroupMember.id).where(
                col(GroupMember.group_id) == group.id, col(GroupMember.position) == "leader"
            )
        )
        assert len(leaders.all()) == 1
