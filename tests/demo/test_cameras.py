"""The demo cameras and footage requests: where, how many, in every state, and reruns."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import demo as demo_data
from app.demo.cameras import CAMERA_PLANS
from app.demo.places import BAI_CHAY, HA_LONG, demo_id
from app.models.cameras import Camera
from app.models.footage_requests import FootageRequest, FootageRequestItem
from app.services.cameras import custody as footage_custody


class TestDemoCameras:
    async def test_a_few_hundred_cameras_inside_each_wards_box_and_a_rerun_adds_none(
        self, session: AsyncSession
    ) -> None:
        summary = await demo_data.seed_demo(session)
        assert summary.added["cameras"] == 360
        for plan in CAMERA_PLANS:
            row = (
                await session.exec(
                    select(
                        func.count(),
                        func.min(Camera.lat),
                        func.max(Camera.lat),
                        func.min(Camera.lon),
                        func.max(Camera.lon),
                    ).where(col(Camera.ward_code) == plan.ward_code)
                )
            ).one()
            count, lat_min, lat_max, lon_min, lon_max = row
            assert count == plan.cameras
            assert plan.lat[0] <= lat_min <= lat_max <= plan.lat[1]
            assert plan.lon[0] <= lon_min <= lon_max <= plan.lon[1]
        again = await demo_data.seed_demo(session)
        assert "cameras" not in again.added
        assert again.changed is False

    async def test_the_demo_owner_kinds_modes_statuses_and_stable_ids(
        self, session: AsyncSession
    ) -> None:
        await demo_data.seed_demo(session)
        owned = (
            await session.exec(
                select(Camera).where(col(Camera.owner_user_id) == demo_id("user", "camera.halong"))
            )
        ).all()
        assert len(owned) == 12
        assert {(c.ward_code, c.sharing, c.status) for c in owned} == {
            (HA_LONG, "on_request", "active")
        }
        for column, values in (
            (Camera.owner_kind, {"household", "business", "school", "agency", "public"}),
            (Camera.sharing, {"none", "on_request", "live"}),
            (Camera.status, {"active", "offline", "decommissioned"}),
        ):
            found = set((await session.exec(select(column).distinct())).all())
            assert found == values
        camera = await session.get(Camera, demo_id("camera", BAI_CHAY, "0001"))
        assert camera is not None
        assert camera.ward_code == BAI_CHAY


class TestDemoFootageRequests:
    async def test_requests_with_cameras_in_every_state_and_chains_that_hold(
        self, session: AsyncSession
    ) -> None:
        summary = await demo_data.seed_demo(session)
        assert summary.added["footage_requests"] == 5
        items = (await session.exec(select(FootageRequestItem))).all()
        assert set(Counter(item.status for item in items)) == {
            "pending",
            "accepted",
            "declined",
            "handed_over",
            "closed",
        }
        requests = (
            await session.exec(
                select(FootageRequest).where(col(FootageRequest.ward_code) == HA_LONG)
            )
        ).all()
        assert len(requests) == 5
        for request in requests:
            events = await footage_custody.events_of(session, request.id)
            verdict = footage_custody.verify(events, request.custody_length, request.custody_head)
            assert verdict.holds, verdict.detail
        first = await session.get(FootageRequest, demo_id("footage-request", "HL-DEMO-0001"))
        assert first is not None
        # The demo camera owner has cameras waiting for an answer.
        pending_owned = (
            await session.exec(
                select(FootageRequestItem)
                .join(Camera, col(Camera.id) == col(FootageRequestItem.camera_id))
                .where(
                    col(Camera.owner_user_id) == demo_id("user", "camera.halong"),
                    col(FootageRequestItem.status) == "pending",
                )
            )
        ).all()
        assert len(pending_owned) >= 3
        again = await demo_data.seed_demo(session)
        assert "footage_requests" not in again.added
