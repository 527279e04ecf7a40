"""The documentation says what the code does."""

from __future__ import annotations

from app.config import BASE_DIR
from app.security import scope_table


def test_access_doc_shows_the_scope_table_the_code_enforces() -> None:
    page = (BASE_DIR / "docs" / "access.md").read_text(encoding="utf-8")
    assert scope_table() in page


def test_sync_doc_lists_every_record_type_the_feed_carries() -> None:
    from app.services.changes.sources import SOURCES

    page = (BASE_DIR / "docs" / "sync.md").read_text(encoding="utf-8")
    for source in SOURCES.values():
        assert f"| `{source.type}` | `{source.description}` |" in page, source.type
