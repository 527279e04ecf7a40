"""The certification workflow over HTTP: every step allowed and refused, the pass rule, roles."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.demo.places import BAI_CHAY, HA_LONG
from app.models.audit import AuditEvent
from app.models.certification_criteria import CriteriaSet
from app.models.certifications import Certification, CertificationEvent
from app.security import Role
from tests.conftest import Cast
from tests.factories import (
    PASSING_REVIEW,
    PASSING_SELF_ASSESSMENT,
    assert_forbidden,
    assert_not_found,
    assert_problem,
    assert_unauthorized,
    make_certification,
    make_criteria_set,
    make_neighbourhood,
    make_user,
)

CERTIFICATIONS = "/api/v1/certifications"
YEAR = 2030
STATUSES = ["draft", "submitted", "under_review", "certified", "rejected", "revoked"]
# step -> (the status it starts from, the status it leads to with the body below)
STEPS = {
    "submit": ("draft", "submitted"),
    "review": ("submitted", "under_review"),
    "decide": ("under_review", "certified"),
    "revoke": ("certified", "revoked"),
}
ALLOWED = {
    "draft": ["submit"],
    "submitted": ["review"],
    "under_review": ["decide"],
    "certified": ["revoke"],
    "rejected": [],
    "revoked": [],
}
FAILING_REVIEW = [
    {"code": "C1", "value": True},
    {"code": "C2", "value": False, "note": "Xảy ra 01 vụ trộm cắp nghiêm trọng"},
    {"code": "C3", "score": 55},
    {"code": "C4", "value": True},
]


def body_for(step: str) -> dict[str, Any]:
    return {
        "submit": {"note": "Đề nghị xét công nhận"},
        "review": {"criteria": PASSING_REVIEW, "note": "Đã thẩm định"},
        "decide": {"outcome": "certified", "decision_no": "125/QĐ-UBND", "note": "Công nhận"},
        "revoke": {"reason": "Để xảy ra vụ việc nghiêm trọng", "note": "Thu hồi"},
    }[step]


def actor(cast: Cast, step: str) -> Any:
    return cast.head if step == "submit" else cast.ward_officer


@pytest.fixture
async def criteria_set(session: AsyncSession) -> CriteriaSet:
    found: CriteriaSet = await make_criteria_set(session, YEAR)
    await session.commit()
    return found


async def at(session: AsyncSession, cast: Cast, criteria_set: CriteriaSet, status: str) -> str:
    row = await make_certification(
        session, cast.ha_long_kp, criteria_set, status, self_assessment=PASSING_SELF_ASSESSMENT
    )
    await session.commit()
    return f"{CERTIFICATIONS}/{row.id}"


async def events(session: AsyncSession, url: str) -> list[CertificationEvent]:
    certification_id = uuid.UUID(url.rsplit("/", 1)[1])
    return list(
        (
            await session.exec(
                select(CertificationEvent)
                .where(col(CertificationEvent.certification_id) == certification_id)
                .order_by(col(CertificationEvent.created_at), col(CertificationEvent.id))
            )
        ).all()
    )


class TestStateMachine:
    @pytest.mark.parametrize("status", STATUSES)
    @pytest.mark.parametrize("step", list(STEPS))
    async def test_every_step_from_every_status(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
        status: str,
        step: str,
    ) -> None:
        url = await at(session, cast, criteria_set, status)
        response = await client.post(
            f"{url}/{step}", json=body_for(step), headers=cast.headers(actor(cast, step))
        )
        source, target = STEPS[step]
        if status == source:
            assert response.status_code == 200, response.text
            assert response.json()["status"] == target
            assert response.json()["allowed_transitions"] == ALLOWED[target]
            assert [(e.action, e.from_status, e.to_status) for e in await events(session, url)] == [
                (step, source, target)
            ]
        else:
            body = assert_problem(response, 409, "invalid-transition")
            assert body["current_status"] == status
            assert body["allowed"] == ALLOWED[status]
            assert status in body["detail"]
            assert await events(session, url) == []

    async def test_a_registration_walks_the_whole_workflow_with_its_history(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        head, officer = cast.headers(cast.head), cast.headers(cast.ward_officer)
        created = await client.post(
            CERTIFICATIONS,
            json={"neighbourhood_id": str(cast.ha_long_kp.id), "year": YEAR},
            headers=head,
        )
        url = f"{CERTIFICATIONS}/{created.json()['id']}"
        patched = await client.patch(
            url,
            json={"households_committed": 100, "self_assessment": PASSING_SELF_ASSESSMENT},
            headers={**head, "If-Match": created.headers["etag"]},
        )
        assert patched.status_code == 200, patched.text
        steps = [
            ("submit", head, body_for("submit")),
            ("review", officer, body_for("review")),
            ("decide", officer, body_for("decide")),
            ("revoke", cast.headers(cast.province_officer), body_for("revoke")),
        ]
        etag = patched.headers["etag"]
        for step, headers, body in steps:
            response = await client.post(
                f"{url}/{step}", json=body, headers={**headers, "If-Match": etag}
            )
            assert response.status_code == 200, (step, response.text)
            assert int(response.headers["etag"].strip('"')) == int(etag.strip('"')) + 1
            etag = response.headers["etag"]
        final = response.json()
        assert final["status"] == "revoked"
        assert final["allowed_transitions"] == []
        assert final["submitted_at"] is not None
        assert final["review"]["total_score"] == 75
        assert final["review"]["reviewed_by"] == str(cast.ward_officer.id)
        assert re.fullmatch(rf"ANTT-{YEAR}-{HA_LONG}-\d{{4}}", final["decision"]["certificate_no"])
        assert final["decision"]["decision_no"] == "125/QĐ-UBND"
        assert final["decision"]["decided_by"] == str(cast.ward_officer.id)
        assert final["revocation"]["reason"] == "Để xảy ra vụ việc nghiêm trọng"
        assert final["revocation"]["revoked_by"] == str(cast.province_officer.id)
        history = await client.get(f"{url}/history", headers=head)
        rows = [
            (i["action"], i["from_status"], i["to_status"], i["actor_role"], i["note"])
            for i in history.json()["items"]
        ]
        assert rows == [
            ("register", None, "draft", "neighbourhood_head", None),
            ("submit", "draft", "submitted", "neighbourhood_head", "Đề nghị xét công nhận"),
            ("review", "submitted", "under_review", "ward_officer", "Đã thẩm định"),
            ("decide", "under_review", "certified", "ward_officer", "Công nhận"),
            ("revoke", "certified", "revoked", "province_officer", "Thu hồi"),
        ]
        audit = (
            await session.exec(
                select(AuditEvent.action).where(col(AuditEvent.record_id) == url.rsplit("/", 1)[1])
            )
        ).all()
        assert sorted(audit) == sorted(["create", "update", "submit", "review", "decide", "revoke"])

    async def test_a_stale_if_match_gets_412_and_nothing_moves(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        url = await at(session, cast, criteria_set, "submitted")
        response = await client.post(
            f"{url}/review",
            json=body_for("review"),
            headers={**cast.headers(cast.ward_officer), "If-Match": '"9"'},
        )
        assert_problem(response, 412, "precondition-failed")
        assert await events(session, url) == []


class TestSubmit:
    async def test_households_shortfall_gets_422_naming_it(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        url = await at(session, cast, criteria_set, "draft")
        await client.patch(
            url,
            json={"households_committed": 93, "self_assessment": PASSING_SELF_ASSESSMENT},
            headers={**cast.headers(cast.head), "If-Match": '"1"'},
        )
        response = await client.post(f"{url}/submit", json={}, headers=cast.headers(cast.head))
        body = assert_problem(response, 422, "validation-error")
        assert "7 of 100 households have not signed" in body["detail"]
        assert body["households_shortfall"] == 7
        assert "missing_criteria" not in body

    async def test_missing_required_criteria_get_422_naming_them(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        row = await make_certification(
            session,
            cast.ha_long_kp,
            criteria_set,
            self_assessment=[{"code": "C2", "value": True}, {"code": "C4", "value": True}],
        )
        await session.commit()
        response = await client.post(
            f"{CERTIFICATIONS}/{row.id}/submit", json={}, headers=cast.headers(cast.head)
        )
        body = assert_problem(response, 422, "validation-error")
        assert body["missing_criteria"] == ["C1", "C3"]
        assert "C1, C3" in body["detail"]
        assert "households_shortfall" not in body

    async def test_both_problems_are_named_at_once(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        row = await make_certification(
            session, cast.ha_long_kp, criteria_set, households_committed=0
        )
        await session.commit()
        response = await client.post(
            f"{CERTIFICATIONS}/{row.id}/submit", json={}, headers=cast.headers(cast.head)
        )
        body = assert_problem(response, 422)
        assert (body["households_shortfall"], body["missing_criteria"]) == (100, ["C1", "C2", "C3"])

    async def test_an_area_with_no_households_recorded_cannot_submit(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        row = await make_certification(
            session,
            cast.ha_long_kp,
            criteria_set,
            households_total=0,
            households_committed=0,
            self_assessment=PASSING_SELF_ASSESSMENT,
        )
        await session.commit()
        response = await client.post(
            f"{CERTIFICATIONS}/{row.id}/submit", json={}, headers=cast.headers(cast.head)
        )
        assert "households_total is 0" in assert_problem(response, 422)["detail"]

    async def test_optional_criteria_need_no_self_assessment(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        row = await make_certification(
            session, cast.ha_long_kp, criteria_set, self_assessment=PASSING_SELF_ASSESSMENT
        )
        await session.commit()
        response = await client.post(
            f"{CERTIFICATIONS}/{row.id}/submit", json={}, headers=cast.headers(cast.head)
        )
        assert response.status_code == 200, response.text
        assert response.json()["submitted_at"] is not None

    async def test_role_matrix(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        row = await make_certification(
            session, cast.ha_long_kp, criteria_set, self_assessment=PASSING_SELF_ASSESSMENT
        )
        leader = await make_user(session, Role.GROUP_LEADER, str(cast.ha_long_kp.id))
        other_head = await make_user(session, Role.NEIGHBOURHOOD_HEAD, str(cast.bai_chay_kp.id))
        await session.commit()
        url = f"{CERTIFICATIONS}/{row.id}/submit"
        assert_unauthorized(await client.post(url, json={}))
        for account in (cast.ward_officer, leader, cast.province_officer):
            response = await client.post(url, json={}, headers=cast.headers(account))
            assert response.json()["required_scopes"] == ["certifications:submit"]
        assert_not_found(await client.post(url, json={}, headers=cast.headers(other_head)))
        admin = await client.post(url, json={}, headers=cast.headers(cast.admin))
        assert admin.status_code == 200, admin.text

    async def test_unknown_field_gets_422(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        url = await at(session, cast, criteria_set, "draft")
        response = await client.post(
            f"{url}/submit", json={"status": "certified"}, headers=cast.headers(cast.head)
        )
        assert_problem(response, 422, "validation-error")


class TestReview:
    async def test_records_findings_total_and_verdict(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        url = await at(session, cast, criteria_set, "submitted")
        response = await client.post(
            f"{url}/review",
            json={"criteria": FAILING_REVIEW},
            headers=cast.headers(cast.ward_officer),
        )
        assert response.status_code == 200, response.text
        review = response.json()["review"]
        assert (review["total_score"], review["passed"], review["unmet"]) == (55, False, ["C2"])
        assert review["criteria"][1]["note"] == "Xảy ra 01 vụ trộm cắp nghiêm trọng"
        session.expunge_all()
        row = await session.get(Certification, uuid.UUID(url.rsplit("/", 1)[1]))
        assert row is not None
        assert (row.review_passed, row.review_total_score, row.reviewed_by) == (
            False,
            55,
            cast.ward_officer.id,
        )

    @pytest.mark.parametrize(
        ("criteria", "words"),
        [
            (PASSING_REVIEW[:2], "missing: C3, C4"),
            ([*PASSING_REVIEW, {"code": "C9", "value": True}], "not criteria of this set: C9"),
            ([{**PASSING_REVIEW[2], "score": 101}, *PASSING_REVIEW[:2], PASSING_REVIEW[3]], "100"),
            ([{"code": "C1", "score": 5}, *PASSING_REVIEW[1:]], "C1 is met or not"),
        ],
    )
    async def test_incomplete_or_wrong_findings_get_422(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
        criteria: list[dict[str, Any]],
        words: str,
    ) -> None:
        url = await at(session, cast, criteria_set, "submitted")
        response = await client.post(
            f"{url}/review", json={"criteria": criteria}, headers=cast.headers(cast.ward_officer)
        )
        assert words in assert_problem(response, 422)["detail"]
        assert await events(session, url) == []

    async def test_role_matrix(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        url = await at(session, cast, criteria_set, "submitted")
        body = body_for("review")
        assert_unauthorized(await client.post(f"{url}/review", json=body))
        for account in (cast.head, cast.province_officer, cast.resident):
            assert_forbidden(
                await client.post(f"{url}/review", json=body, headers=cast.headers(account))
            )
        assert_not_found(
            await client.post(
                f"{url}/review", json=body, headers=cast.headers(cast.other_ward_officer)
            )
        )
        peer = await client.post(
            f"{url}/review", json=body, headers=cast.headers(cast.peer_ward_officer)
        )
        assert peer.status_code == 200, peer.text


class TestDecide:
    async def reviewed(
        self,
        session: AsyncSession,
        cast: Cast,
        criteria_set: CriteriaSet,
        passed: bool,
        neighbourhood: Any = None,
    ) -> str:
        values: dict[str, Any] = {}
        if not passed:
            values = {
                "review_criteria": FAILING_REVIEW,
                "review_total_score": 55,
                "review_passed": False,
                "review_unmet": ["C2"],
            }
        row = await make_certification(
            session, neighbourhood or cast.ha_long_kp, criteria_set, "under_review", **values
        )
        await session.commit()
        return f"{CERTIFICATIONS}/{row.id}"

    async def test_a_passing_review_is_certified_with_the_wards_next_number(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        officer = cast.headers(cast.ward_officer)
        numbers = []
        for _ in range(3):
            kp = await make_neighbourhood(session, HA_LONG)
            url = await self.reviewed(session, cast, criteria_set, True, kp)
            response = await client.post(
                f"{url}/decide", json={"outcome": "certified"}, headers=officer
            )
            assert response.status_code == 200, response.text
            decision = response.json()["decision"]
            assert decision["overridden"] is False
            assert decision["reasons"] == []
            numbers.append(decision["certificate_no"])
        first = int(numbers[0].rsplit("-", 1)[1])
        assert numbers == [f"ANTT-{YEAR}-{HA_LONG}-{n:04d}" for n in range(first, first + 3)]
        other_ward = await self.reviewed(session, cast, criteria_set, True, cast.bai_chay_kp)
        response = await client.post(
            f"{other_ward}/decide",
            json={"outcome": "certified"},
            headers=cast.headers(cast.other_ward_officer),
        )
        assert response.json()["decision"]["certificate_no"].startswith(f"ANTT-{YEAR}-{BAI_CHAY}-")

    async def test_a_passing_review_cannot_be_rejected_without_override(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        url = await self.reviewed(session, cast, criteria_set, True)
        response = await client.post(
            f"{url}/decide",
            json={"outcome": "rejected", "reasons": ["Không đồng ý"]},
            headers=cast.headers(cast.ward_officer),
        )
        body = assert_problem(response, 422)
        assert (body["review_passed"], body["outcome_by_rule"]) == (True, "certified")
        assert "override_reason" in body["detail"]
        assert await events(session, url) == []

    async def test_a_failing_review_cannot_be_certified_without_override(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        url = await self.reviewed(session, cast, criteria_set, False)
        response = await client.post(
            f"{url}/decide", json={"outcome": "certified"}, headers=cast.headers(cast.ward_officer)
        )
        body = assert_problem(response, 422)
        assert "required criteria not met: C2" in body["detail"]
        assert body["outcome_by_rule"] == "rejected"

    async def test_a_failing_review_is_rejected_with_reasons(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        url = await self.reviewed(session, cast, criteria_set, False)
        officer = cast.headers(cast.ward_officer)
        without = await client.post(f"{url}/decide", json={"outcome": "rejected"}, headers=officer)
        assert "reasons" in assert_problem(without, 422)["detail"]
        response = await client.post(
            f"{url}/decide",
            json={"outcome": "rejected", "reasons": ["Để xảy ra vụ trộm nghiêm trọng"]},
            headers=officer,
        )
        assert response.status_code == 200, response.text
        decision = response.json()["decision"]
        assert (decision["outcome"], decision["certificate_no"], decision["overridden"]) == (
            "rejected",
            None,
            False,
        )
        assert decision["reasons"] == ["Để xảy ra vụ trộm nghiêm trọng"]

    @pytest.mark.parametrize(("passed", "outcome"), [(False, "certified"), (True, "rejected")])
    async def test_override_reason_lets_the_outcome_go_against_the_rule(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
        passed: bool,
        outcome: str,
    ) -> None:
        url = await self.reviewed(session, cast, criteria_set, passed)
        response = await client.post(
            f"{url}/decide",
            json={
                "outcome": outcome,
                "reasons": ["Theo kết luận của Chủ tịch UBND phường"],
                "override_reason": "Vụ việc xảy ra ngoài địa bàn, đã được làm rõ",
            },
            headers=cast.headers(cast.ward_officer),
        )
        assert response.status_code == 200, response.text
        decision = response.json()["decision"]
        assert (decision["outcome"], decision["overridden"]) == (outcome, True)
        assert decision["override_reason"] == "Vụ việc xảy ra ngoài địa bàn, đã được làm rõ"
        assert (decision["certificate_no"] is not None) == (outcome == "certified")

    async def test_role_matrix(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        url = await self.reviewed(session, cast, criteria_set, True)
        body = {"outcome": "certified"}
        assert_unauthorized(await client.post(f"{url}/decide", json=body))
        for account in (cast.head, cast.province_officer):
            assert_forbidden(
                await client.post(f"{url}/decide", json=body, headers=cast.headers(account))
            )
        assert_not_found(
            await client.post(
                f"{url}/decide", json=body, headers=cast.headers(cast.other_ward_officer)
            )
        )
        admin = await client.post(f"{url}/decide", json=body, headers=cast.headers(cast.admin))
        assert admin.status_code == 200, admin.text


class TestRevoke:
    @pytest.mark.parametrize("who", ["ward_officer", "province_officer", "admin"])
    async def test_ward_and_province_officers_revoke(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
        who: str,
    ) -> None:
        url = await at(session, cast, criteria_set, "certified")
        response = await client.post(
            f"{url}/revoke",
            json={"reason": "Vi phạm sau công nhận", "revoked_on": f"{YEAR}-12-31"},
            headers=cast.headers(getattr(cast, who)),
        )
        assert response.status_code == 200, response.text
        revocation = response.json()["revocation"]
        assert revocation["revoked_on"] == f"{YEAR}-12-31"
        assert revocation["revoked_by"] == str(getattr(cast, who).id)
        [event] = await events(session, url)
        assert event.note == "Vi phạm sau công nhận"  # the reason, when no note is given

    @pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"note": "x"}])
    async def test_a_reason_is_required(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
        body: dict[str, Any],
    ) -> None:
        url = await at(session, cast, criteria_set, "certified")
        response = await client.post(
            f"{url}/revoke", json=body, headers=cast.headers(cast.ward_officer)
        )
        assert_problem(response, 422, "validation-error")

    async def test_revoked_on_before_the_decision_gets_422(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        url = await at(session, cast, criteria_set, "certified")
        response = await client.post(
            f"{url}/revoke",
            json={"reason": "x", "revoked_on": "2020-06-01"},
            headers=cast.headers(cast.ward_officer),
        )
        assert "before the decision" in assert_problem(response, 422)["detail"]

    async def test_role_matrix(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        url = await at(session, cast, criteria_set, "certified")
        body = {"reason": "x"}
        assert_unauthorized(await client.post(f"{url}/revoke", json=body))
        for account in (cast.head, cast.resident):
            assert_forbidden(
                await client.post(f"{url}/revoke", json=body, headers=cast.headers(account))
            )
        for account in (cast.other_ward_officer, cast.other_province_officer):
            assert_not_found(
                await client.post(f"{url}/revoke", json=body, headers=cast.headers(account))
            )
