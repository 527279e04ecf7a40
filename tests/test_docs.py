"""The documentation says what the code does."""

from __future__ import annotations

from app.config import BASE_DIR
from app.security import scope_table


def test_access_doc_shows_the_scope_table_the_code_enforces() -> None:
    page = (BASE_DIR / "docs" / "access.md").read_text(encoding="utf-8")
    assert scope_table() in page
