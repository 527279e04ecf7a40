"""Annotated dependency aliases that routers declare their needs with."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import get_session
from app.pagination import CursorCodec, PageParams, page_params

# scope="function": the commit runs when the route returns, before the
# response is sent, so a failed commit is the client's error response.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
PageDep = Annotated[PageParams, Depends(page_params)]


def get_cursor_codec(request: Request) -> CursorCodec:
    """The app's cursor signer."""
    codec: CursorCodec = request.app.state.cursor_codec
    return codec


CursorCodecDep = Annotated[CursorCodec, Depends(get_cursor_codec)]
