"""The chain of custody below HTTP: canonical content, hashes, and the verifier."""

from __future__ import annotations

from datetime import UTC, datetime

from app.data.writes import GUARDED
from app.services.cameras import custody as footage_custody


def chain(length: int) -> list[dict[str, object]]:
    """A well-formed chain of ``length`` events."""
    events: list[dict[str, object]] = []
    prev = footage_custody.GENESIS
    for sequence in range(1, length + 1):
        event: dict[str, object] = {
            "id": f"00000000-0000-7000-8000-{sequence:012d}",
            "footage_request_id": "00000000-0000-7000-8000-000000000000",
            "sequence": sequence,
            "camera_id": "00000000-0000-7000-8000-00000000ffff",
            "action": "requested",
            "actor_id": None,
            "actor_kind": "user",
            "actor_role": "ward_officer",
            "created_at": datetime(2026, 11, 29, 7, sequence, tzinfo=UTC),
            "sha256": None,
            "media_ref": None,
            "size_bytes": None,
            "prev_hash": prev,
        }
        event["hash"] = footage_custody.chain_hash(prev, footage_custody.canonical(event))
        prev = str(event["hash"])
        events.append(event)
    return events


class TestVerify:
    def test_a_well_formed_chain_holds(self) -> None:
        events = chain(4)
        verdict = footage_custody.verify(events, 4, str(events[-1]["hash"]))
        assert (verdict.holds, verdict.events_checked, verdict.broken_at_sequence) == (
            True,
            4,
            None,
        )

    def test_an_empty_chain_of_an_empty_request_holds(self) -> None:
        assert footage_custody.verify([], 0, footage_custody.GENESIS).holds is True

    def test_a_changed_time_breaks_it_at_that_event(self) -> None:
        events = chain(4)
        events[1]["created_at"] = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
        verdict = footage_custody.verify(events, 4, str(events[-1]["hash"]))
        assert (verdict.holds, verdict.broken_at_sequence) == (False, 2)

    def test_a_missing_middle_event_breaks_it_there(self) -> None:
        events = chain(4)
        del events[2]
        verdict = footage_custody.verify(events, 4, str(events[-1]["hash"]))
        assert (verdict.holds, verdict.broken_at_sequence) == (False, 3)
        assert "missing" in verdict.detail

    def test_a_shorter_chain_than_recorded_breaks_it(self) -> None:
        events = chain(4)
        verdict = footage_custody.verify(events[:3], 4, str(events[-1]["hash"]))
        assert (verdict.holds, verdict.broken_at_sequence) == (False, 4)

    def test_a_head_that_does_not_match_breaks_it(self) -> None:
        events = chain(2)
        verdict = footage_custody.verify(events, 2, "f" * 64)
        assert verdict.holds is False

    def test_the_hash_covers_each_fact(self) -> None:
        base = chain(1)[0]
        digest = footage_custody.chain_hash(
            footage_custody.GENESIS, footage_custody.canonical(base)
        )
        for key, other in [
            ("action", "closed"),
            ("actor_role", "admin"),
            ("sha256", "0" * 64),
            ("size_bytes", 1),
            ("media_ref", "x"),
            ("camera_id", "00000000-0000-7000-8000-00000000eeee"),
        ]:
            changed = {**base, key: other}
            assert (
                footage_custody.chain_hash(
                    footage_custody.GENESIS, footage_custody.canonical(changed)
                )
                != digest
            ), key


def test_cameras_and_every_footage_table_are_written_only_through_their_units() -> None:
    """The suite's guard covers them: a request that wrote one past its unit would fail."""
    assert {"cameras", "footage_requests", "footage_request_items", "custody_events"} <= GUARDED
