"""The change log the sync feed reads: one row per write of a record, in commit order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class current_txid(FunctionElement[int]):
    """The writing transaction's id, in the order transactions commit relative to a
    reader's snapshot: ``pg_current_xact_id()`` (xid8, as a bigint) on PostgreSQL; 0 on
    SQLite, whose writers are serialised, so the row id alone is in commit order."""

    type = BigInteger()
    inherit_cache = True


@compiles(current_txid, "postgresql")
def _current_txid_postgresql(element: Any, compiler: Any, **kw: Any) -> str:
    return "(pg_current_xact_id()::text::bigint)"


@compiles(current_txid)
def _current_txid_other(element: Any, compiler: Any, **kw: Any) -> str:
    return "0"


class snapshot_horizon(FunctionElement[int]):
    """The oldest transaction still running for the reader's snapshot (xmin): every
    change written by a transaction below it has committed or rolled back for good, so
    a reader that takes only those never skips one committed later. On SQLite, a value
    above every ``current_txid`` (0): every committed row."""

    type = BigInteger()
    inherit_cache = True


@compiles(snapshot_horizon, "postgresql")
def _horizon_postgresql(element: Any, compiler: Any, **kw: Any) -> str:
    return "(pg_snapshot_xmin(pg_current_snapshot())::text::bigint)"


@compiles(snapshot_horizon)
def _horizon_other(element: Any, compiler: Any, **kw: Any) -> str:
    return "1"


class Change(SQLModel, table=True):
    """One insert, update, transition or soft delete of a record, written with its
    audit event in the write's transaction (app/data/writes.py).

    ``txid`` and ``id`` give the feed's order (commit order, see ``current_txid``).
    ``province_code``/``ward_code`` are the record's unit after the write,
    ``was_province_code``/``was_ward_code`` its unit before it when the write moved
    it, so a reader of the old unit learns that the record left (a delete)."""

    __tablename__ = "changes"
    __table_args__ = (
        Index("ix_changes_txid_id", "txid", "id"),
        Index("ix_changes_ward_txid_id", "ward_code", "txid", "id"),
        Index("ix_changes_province_txid_id", "province_code", "txid", "id"),
        Index("ix_changes_record", "record_type", "record_id", "txid", "id"),
        # The changes that moved a record out of a unit: few, so partial indexes.
        Index(
            "ix_changes_was_ward_txid_id",
            "was_ward_code",
            "txid",
            "id",
            postgresql_where=text("was_ward_code IS NOT NULL"),
            sqlite_where=text("was_ward_code IS NOT NULL"),
        ),
        Index(
            "ix_changes_was_province_txid_id",
            "was_province_code",
            "txid",
            "id",
            postgresql_where=text("was_province_code IS NOT NULL"),
            sqlite_where=text("was_province_code IS NOT NULL"),
        ),
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    txid: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, nullable=False, server_default=current_txid()),
    )
    record_type: str = Field(max_length=64)
    record_id: str = Field(max_length=64)
    op: str = Field(max_length=8)  # "upsert" or "delete"
    version: int | None = Field(default=None)
    province_code: str | None = Field(default=None, max_length=2)
    ward_code: str | None = Field(default=None, max_length=5)
    was_province_code: str | None = Field(default=None, max_length=2)
    was_ward_code: str | None = Field(default=None, max_length=5)
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
