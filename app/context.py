"""Per-request context that logs and error bodies read: the request id."""

from __future__ import annotations

from contextvars import ContextVar

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served, if any."""
    return _request_id.get()


def set_request_id(request_id: str | None) -> object:
    """Bind a request id to the current context; returns a token for ``reset_request_id``."""
    return _request_id.set(request_id)


def reset_request_id(token: object) -> None:
    """Undo ``set_request_id``."""
    _request_id.reset(token)  # type: ignore[arg-type]
