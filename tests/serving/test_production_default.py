"""Production is the default: with no WARDSAFE_ variable every command refuses the
development secret with what to set, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.serving.conftest import WARDSAFE, clean_environment, free_port

COMMANDS = {
    "serve": [WARDSAFE, "serve", "--host", "127.0.0.1", "--port", "{port}"],
    "migrate": [WARDSAFE, "migrate"],
    "import-units": [WARDSAFE, "import-units"],
    "seed-demo": [WARDSAFE, "seed-demo"],
    "create-admin": [WARDSAFE, "create-admin", "--username", "root", "--password", "pw-12345678"],
    "uvicorn": [
        str(Path(sys.executable).with_name("uvicorn")),
        "app.asgi:app",
        "--port",
        "{port}",
    ],
}


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_no_settings_at_all_exit_non_zero_saying_what_to_set(
    command: list[str], tmp_path: Path
) -> None:
    port = str(free_port())
    finished = subprocess.run(  # noqa: S603 (our own console scripts)
        [part.replace("{port}", port) for part in command],
        env=clean_environment(),
        cwd=tmp_path,  # no .env here
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = finished.stdout + finished.stderr
    assert finished.returncode != 0, output
    assert "production (WARDSAFE_ENV's default) refuses" in finished.stderr, output
    assert "set WARDSAFE_SECRET_KEY to a random string of at least 32 characters" in output
    assert "Traceback" not in output
    assert not list(tmp_path.iterdir())  # nothing written: no database, no log
