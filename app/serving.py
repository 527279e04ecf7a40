"""``wardsafe serve``: uvicorn, with a drain before it stops, the trusted proxies'
forwarded addresses, and metrics that several workers share.

The drain: on SIGTERM /readyz turns to 503 at once, everything else is still
served for ``WARDSAFE_SHUTDOWN_DRAIN_SECONDS`` (load balancers and Kubernetes
take the instance out meanwhile), then the server stops as uvicorn does: the
listener closes and requests in flight finish. A second SIGTERM or SIGINT stops
at once. SIGINT alone (Ctrl+C at a terminal) stops as uvicorn does, no drain.
With several workers uvicorn's supervisor sends SIGTERM to each, and each drains.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from socket import socket
from types import FrameType

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import multiprocess

from app import internals, lifecycle
from app.config import Settings, get_settings
from app.logs import configure_logging

logger = logging.getLogger("wardsafe.serving")

APP = "app.asgi:app"
# prometheus_client's multiprocess mode is on in a process whose environment
# names this directory when it first imports prometheus_client.
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
_MULTIPROC_NAMES = (MULTIPROC_DIR, "prometheus_multiproc_dir")


class DrainingServer(uvicorn.Server):
    """uvicorn's server whose SIGTERM starts a drain instead of stopping at once."""

    def __init__(self, config: uvicorn.Config, drain_seconds: float | None = None) -> None:
        super().__init__(config)
        # A worker builds its server in its own process, from the same environment.
        self.drain_seconds = (
            get_settings().shutdown_drain_seconds if drain_seconds is None else drain_seconds
        )
        self.drain_until: float | None = None
        self._drain_logged = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """SIGTERM: start the drain; a second signal during it: stop at once."""
        if self.drain_until is not None:
            self.force_exit = True
        elif sig == signal.SIGTERM and not self.should_exit:
            # Not passed on to uvicorn, which would raise the signal again once
            # stopped: a drained server exits 0, as after any orderly stop.
            lifecycle.PROCESS.draining = True
            self.drain_until = time.monotonic() + self.drain_seconds
            return
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        """Every 0.1 s: once the drain is over, stop (uvicorn's own tick then says so)."""
        if self.drain_until is not None:
            if not self._drain_logged:
                # Logged here, not in the signal handler: logging takes locks.
                self._drain_logged = True
                logger.info(
                    "SIGTERM: draining, /readyz answers 503",
                    extra={"drain_seconds": self.drain_seconds},
                )
            if time.monotonic() >= self.drain_until:
                self.should_exit = True
        return await super().on_tick(counter)

    async def serve(self, sockets: list[socket] | None = None) -> None:
        """Serve until stopped; then this process's live metrics are marked dead."""
        try:
            await super().serve(sockets)
        finally:
            if os.environ.get(MULTIPROC_DIR):
                from prometheus_client import multiprocess as prometheus_multiprocess

                prometheus_multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


class DrainingProcess(multiprocess.Process):
    """A worker of uvicorn's supervisor whose server is a DrainingServer."""

    _draining_server: DrainingServer | None = None

    @property
    def server(self) -> uvicorn.Server:
        """The worker's server, built in the worker's own process."""
        if self._draining_server is None:
            self._draining_server = DrainingServer(self.config)
        return self._draining_server


class Supervisor(multiprocess.Multiprocess):
    """uvicorn's supervisor, whose workers drain, and which passes a second signal on."""

    def run(self) -> None:
        """Start the workers, keep them alive, and stop them on SIGTERM or SIGINT."""
        with internals.workers_made_as(DrainingProcess):
            super().run()

    def join_all(self) -> None:
        """Wait for the workers; a signal meanwhile (the second) stops them at once."""
        # uvicorn's own join waits on each worker in turn and reads no signal.
        while any(process.exitcode is None for process in self.processes):
            if self.signal_queue:
                self.signal_queue.clear()
                for process in self.processes:
                    if process.exitcode is None and process.pid is not None:
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(process.pid, signal.SIGTERM)
            time.sleep(0.1)
        super().join_all()


@contextlib.contextmanager
def _metrics_directory(workers: int) -> Iterator[None]:
    """With several workers, a fresh directory for their metrics, removed afterwards;
    with one, none (a stale directory from elsewhere would add its counts)."""
    for name in _MULTIPROC_NAMES:
        os.environ.pop(name, None)
    if workers == 1:
        yield
        return
    directory = tempfile.mkdtemp(prefix="wardsafe-metrics-")
    os.environ[MULTIPROC_DIR] = directory
    try:
        yield
    finally:
        os.environ.pop(MULTIPROC_DIR, None)
        shutil.rmtree(directory, ignore_errors=True)


def uvicorn_config(settings: Settings, host: str, port: int, workers: int) -> uvicorn.Config:
    """uvicorn's configuration: forwarded headers believed only from the trusted proxies."""
    return uvicorn.Config(
        APP,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_config=None,
        # Given explicitly, so that uvicorn's own FORWARDED_ALLOW_IPS default
        # (127.0.0.1, any local peer) never applies.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=list(settings.trusted_proxies),
        server_header=False,
    )


def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    """Serve the API until SIGTERM (drained) or SIGINT."""
    configure_logging(settings.log_level)
    config = uvicorn_config(settings, host, port, workers)
    with _metrics_directory(config.workers):
        if config.workers > 1:
            Supervisor(config, sockets=[config.bind_socket()]).run()
            return
        server = DrainingServer(config, settings.shutdown_drain_seconds)
        with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises a SIGINT once stopped
            server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)
