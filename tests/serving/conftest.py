"""`wardsafe serve` as a real process: a free port of 127.0.0.1, a migrated SQLite file,
bounded waits, and the process (workers included) killed in the end whatever happens."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from app import migrations
from app.config import Settings
from app.db import create_engine
from app.services import units as unit_service
from tests.conftest import TEST_SECRET

WARDSAFE = str(Path(sys.executable).with_name("wardsafe"))
START_SECONDS = 30  # a cold start on a busy 2-core machine; it takes 2-4 s when quiet


def clean_environment() -> dict[str, str]:
    """This process's environment without any WARDSAFE_ or Prometheus setting."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("WARDSAFE_") and name.lower() != "prometheus_multiproc_dir"
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Served:
    """A running `wardsafe serve` and where its output goes."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def output(self) -> str:
        """What the server printed, for assertion messages."""
        return self.log.read_text(errors="replace")[-4000:]

    def client(self) -> httpx.Client:
        """A client of the server (one connection, kept alive, until it is closed)."""
        return httpx.Client(base_url=self.base_url, timeout=5)

    def signal(self, number: int) -> None:
        self.process.send_signal(number)

    def wait_exit(self, seconds: float) -> int:
        """The exit status, waiting at most ``seconds``."""
        try:
            return self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the server did not exit within {seconds} s:\n{self.output()}")


ServeFactory = Callable[..., AbstractContextManager[Served]]


@pytest.fixture(scope="session")
def served_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file migrated to head with the official units, for the served processes."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('served') / 'served.db'}"
    migrations.upgrade(url)

    async def import_units() -> None:
        engine = create_engine(Settings(env="development", database_url=url))
        try:
            async with AsyncSession(engine, expire_on_commit=False) as session:
                await unit_service.import_official_units(session)
                await session.commit()
        finally:
            await engine.dispose()

    asyncio.run(import_units())
    return url


@pytest.fixture
def serve(served_database: str, tmp_path: Path) -> ServeFactory:
    """Starts `wardsafe serve` with settings on top of development's, and stops it."""

    @contextmanager
    def start(*args: str, **settings: str) -> Iterator[Served]:
        port = free_port()
        env = clean_environment()
        env.update(
            WARDSAFE_ENV="development",
            WARDSAFE_SECRET_KEY=TEST_SECRET,
            WARDSAFE_DATABASE_URL=served_database,
            TMPDIR=str(tmp_path),
        )
        env.update({f"WARDSAFE_{name.upper()}": value for name, value in settings.items()})
        log = tmp_path / f"server-{port}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(  # noqa: S603 (our own console script)
                [WARDSAFE, "serve", "--host", "127.0.0.1", "--port", str(port), *args],
                env=env,
                cwd=tmp_path,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                # Its own process group: the end kills the workers with it.
                start_new_session=True,
            )
        served = Served(process, f"http://127.0.0.1:{port}", log)
        try:
            workers = int(args[args.index("--workers") + 1]) if "--workers" in args else 1
            _wait_ready(served, workers)
            yield served
        finally:
            # The group is this server's (its workers too, should it have died first).
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    return start


def _wait_ready(served: Served, workers: int) -> None:
    """Until /readyz answers 200 and every worker has started: a signal sent while one
    is still starting would test its startup, not the server's drain."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            pytest.fail(f"the server exited with {served.process.returncode}:\n{served.output()}")
        started = served.log.read_text(errors="replace").count("Application startup complete.")
        try:
            ready = httpx.get(served.base_url + "/readyz", timeout=2).status_code == 200
        except httpx.TransportError:
            ready = False
        if ready and started >= workers:
            return
        time.sleep(0.1)
    pytest.fail(f"the server was not ready within {START_SECONDS} s:\n{served.output()}")
