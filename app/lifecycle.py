"""Where this process is in its life: serving, or draining before it stops.

``wardsafe serve`` (app/serving.py) starts the drain on SIGTERM; /readyz reads it.
One flag per process: each uvicorn worker is a process with one server."""

from __future__ import annotations


class Lifecycle:
    """The serving process's state, set from a signal handler (so a plain attribute:
    nothing that could wait on a lock the interrupted code holds)."""

    def __init__(self) -> None:
        self.draining = False


PROCESS = Lifecycle()
