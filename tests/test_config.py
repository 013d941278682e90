"""Settings: safe defaults for development, refusals in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app import config
from app.config import Settings


def test_development_generates_a_secret_once_and_reuses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config, "VAR_DIR", tmp_path)
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)

    first = Settings(_env_file=None)
    second = Settings(_env_file=None)

    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").read_text() == first.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("secret", ["", "changeme", "secret", "too-short-but-random"])
def test_production_refuses_missing_or_placeholder_secrets(secret: str) -> None:
    with pytest.raises(ValidationError, match="PORTAL_SECRET_KEY"):
        Settings(environment="production", secret_key=secret, _env_file=None)


def test_production_accepts_a_real_secret() -> None:
    settings = Settings(
        environment="production",
        secret_key="Zq3u8-real-random-production-secret-value-1234",
        _env_file=None,
    )

    assert not settings.is_development


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_PORT", "8123")
    monkeypatch.setenv("PORTAL_DEFAULT_LANGUAGE", "fr")
    monkeypatch.setenv("PORTAL_DATABASE_URL", "postgresql://u@127.0.0.1/portal")

    settings = Settings(_env_file=None)

    assert settings.port == 8123
    assert settings.default_language == "fr"
    assert not settings.is_sqlite


def test_the_default_database_is_a_sqlite_file_under_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORTAL_DATABASE_URL", raising=False)

    settings = Settings(_env_file=None)

    assert settings.database_url == f"sqlite:///{config.VAR_DIR / 'portal.db'}"
    assert settings.mail_dir == config.VAR_DIR / "mail"
