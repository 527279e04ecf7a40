"""Bodies of the operational endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class HealthRead(BaseModel):
    """The service is up (and, for /readyz, ready)."""

    status: Literal["ok"] = "ok"


class ProblemTypeRead(BaseModel):
    """What one problem ``type`` means."""

    type: str
    title: str
    status: int
