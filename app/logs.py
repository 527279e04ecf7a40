"""Structured JSON logs, one object a line, each carrying the request id."""

from __future__ import annotations

import contextlib
import logging
import math
import sys
import time
import traceback
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

from app import internals
from app.context import current_request_id

# Attributes every LogRecord has; anything else was passed with ``extra=``.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
}
_LEVELS = {name: name.lower() for name in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")}


@lru_cache(maxsize=4)
def _second(whole: int) -> str:
    return datetime.fromtimestamp(whole, UTC).isoformat(timespec="seconds").removesuffix("+00:00")


def _timestamp(created: float) -> str:
    """``datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")``, the
    date and time of day formatted once a second (a datetime per line was a sixth
    of the access line's CPU).

    The fraction is rounded to microseconds half to even, as ``fromtimestamp``
    rounds it, and then cut to milliseconds, as ``isoformat`` cuts it."""
    if created < 0:
        return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    fraction, whole = math.modf(created)
    micros = round(fraction * 1e6)
    if micros >= 1_000_000:
        whole += 1
        micros -= 1_000_000
    return f"{_second(int(whole))}.{micros // 1000:03d}+00:00"


# Attributes of a database error that name a part of the schema or a condition,
# never a value: asyncpg's, SQLAlchemy's dialect errors', sqlite3's.
_SAFE_ATTRIBUTES = (
    "sqlstate",
    "schema_name",
    "table_name",
    "column_name",
    "constraint_name",
    "sqlite_errorname",
)

_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def _chain(error: BaseException) -> list[tuple[BaseException, str]]:
    """``error`` and the exceptions it chains, first raised first, each with the line
    that leads to the next, as Python prints them."""
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = error
    link = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            current = None
    return chain[::-1]


def type_name(error: BaseException) -> str:
    """The qualified name of ``error``'s type (``asyncpg.exceptions.UniqueViolationError``)."""
    kind = type(error)
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def _described(error: BaseException) -> str:
    name = type_name(error)
    safe = [
        f"{attribute}={value}"
        for attribute in _SAFE_ATTRIBUTES
        if isinstance(value := getattr(error, attribute, None), str) and value
    ]
    return f"{name} ({', '.join(safe)})" if safe else name


def redacted_traceback(error: BaseException) -> str:
    """The traceback of ``error`` and of the exceptions it chains: each one's type and
    frames, but not its message.

    A message can quote a request's values: a database's (``Key (username)=(...)
    already exists``, ``invalid input for query argument $1: '...'``),
    SQLAlchemy's ``[parameters: ...]``, ``KeyError('0912...')``, pydantic's
    ``input_value``. What is kept names no value: a database error's SQLSTATE
    and the schema, table, column or constraint it names."""
    parts: list[str] = []
    for each, link in _chain(error):
        parts.append(link)
        if each.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_list(traceback.extract_tb(each.__traceback__)))
        parts.append(_described(each) + "\n")
    return "".join(parts).rstrip("\n")


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object (never with request bodies or query strings,
    nor an exception's message: ``redacted_traceback``)."""

    def formatException(self, ei: Any) -> str:
        """The record's exception as ``redacted_traceback`` prints it."""
        error = ei[1] if isinstance(ei, tuple) else None
        return redacted_traceback(error) if isinstance(error, BaseException) else ""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": _LEVELS.get(record.levelname) or record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


# The handler ``configure_logging`` installed, while it is the only one.
_HANDLER: list[logging.StreamHandler[Any]] = []


class AccessLog:
    """The one line each request leaves, as the JSON formatter writes it.

    Written straight to the stream of the handler ``configure_logging``
    installed while logging is still as it set it up (that handler alone,
    no filters, the access logger enabled and passing its records up); a
    record through ``logging`` otherwise (a test's capture, a handler an
    operator added), which then sees exactly the record it saw before. The
    record's way through ``logging`` (the record, the logger hierarchy, the
    handler's filters and lock, the formatter's walk over the record's
    attributes) cost a read by id 9 % of its CPU; the line is the same
    (``tests/test_logs.py``)."""

    def __init__(self, name: str) -> None:
        self.logger = logging.getLogger(name)

    def _handler(self) -> logging.StreamHandler[Any] | None:
        """``configure_logging``'s handler, if it is the only one the record would reach."""
        logger = self.logger
        if not _HANDLER or logging.root.handlers != _HANDLER:
            return None
        if logger.filters or not logger.isEnabledFor(logging.INFO):
            return None
        node: logging.Logger | None = logger
        while node is not None and node is not logging.root:
            if node.handlers or not node.propagate:
                return None
            node = node.parent
        handler = _HANDLER[0]
        if handler.filters or handler.level > logging.INFO:
            return None
        return handler

    def request(
        self, request_id: str, method: str, route: str, status: int, duration_ms: float
    ) -> None:
        """Log a request: its id, method, route template, status and duration."""
        fields = {
            "request_id": request_id,
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": duration_ms,
        }
        handler = self._handler()
        if handler is None:
            # The id rides on the record itself: a handler that formats later
            # (a queue, another thread) no longer sees the context.
            self.logger.info("request", extra=fields)
            return
        line = orjson.dumps(
            {
                "ts": _timestamp(time.time()),
                "level": "info",
                "logger": self.logger.name,
                "msg": "request",
                **fields,
            },
            default=str,
        )
        with handler.lock or contextlib.nullcontext():
            handler.stream.write(line.decode() + handler.terminator)
            handler.flush()


def configure_logging(level: str = "INFO") -> None:
    """Send every logger, uvicorn's included, through the JSON formatter on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    _HANDLER[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # uvicorn's access log would carry client addresses and raw query strings.
    logging.getLogger("uvicorn.access").disabled = True
    # No record needs its caller's file and line: the formatter above prints neither.
    internals.skip_caller_lookup()
    # Nor the thread's, the process's or multiprocessing's name and id: the
    # formatter prints none of them either, and looking them up was a third of
    # making each record.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    # Driver debug logs carry SQL parameters, which can be personal data:
    # never below WARNING, whatever the level asked for.
    for name in ("aiosqlite", "asyncpg", "sqlalchemy.engine", "sqlalchemy.pool"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
