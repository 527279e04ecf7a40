"""The image and the compose file: production unless development is asked for, and the
reverse proxy's addresses passed as wardsafe's own setting."""

from __future__ import annotations

import re

from app.config import BASE_DIR


def runtime_stage() -> str:
    """The Dockerfile from its last FROM (the stage the image runs) to the end."""
    dockerfile = (BASE_DIR / "Dockerfile").read_text(encoding="utf-8")
    stages = re.split(r"^FROM ", dockerfile, flags=re.MULTILINE)
    assert stages[-1].split()[2] == "runtime"
    return stages[-1]


def env_instructions(stage: str) -> dict[str, str]:
    """Every ENV name=value the stage sets (continuation lines joined)."""
    joined = re.sub(r"\\\n\s*", " ", stage)
    values: dict[str, str] = {}
    for line in joined.splitlines():
        if line.startswith("ENV "):
            for name, value in re.findall(r'(\w+)=("[^"]*"|\S+)', line[4:]):
                values[name] = value.strip('"')
    return values


class TestImage:
    def test_the_runtime_stage_sets_production(self) -> None:
        assert env_instructions(runtime_stage())["WARDSAFE_ENV"] == "production"

    def test_no_stage_asks_for_development(self) -> None:
        dockerfile = (BASE_DIR / "Dockerfile").read_text(encoding="utf-8")
        assert "development" not in re.sub(r"#.*", "", dockerfile)


class TestCompose:
    def api_environment(self) -> dict[str, str]:
        """The api service's `NAME: value` environment lines."""
        compose = (BASE_DIR / "docker-compose.yml").read_text(encoding="utf-8")
        api = compose.split("\n  api:\n", 1)[1].split("\n  postgres:\n", 1)[0]
        block = api.split("    environment:\n", 1)[1].split("\n    ports:", 1)[0]
        return dict(re.findall(r"^      (\w+): (.*)$", block, flags=re.MULTILINE))

    def test_trusted_proxies_replace_uvicorns_forwarded_allow_ips(self) -> None:
        environment = self.api_environment()
        assert environment["WARDSAFE_TRUSTED_PROXIES"] == "${WARDSAFE_TRUSTED_PROXIES:-}"
        assert "FORWARDED_ALLOW_IPS" not in environment

    def test_production_with_the_docs_off(self) -> None:
        environment = self.api_environment()
        assert environment["WARDSAFE_ENV"] == "production"
        assert environment["WARDSAFE_DOCS"] == "${WARDSAFE_DOCS:-false}"
