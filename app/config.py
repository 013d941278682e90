"""Settings of the portal, read from the environment (prefix ``PORTAL_``) and ``.env``."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"

# Values that people copy from examples; refused as a production secret.
PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "changethis", "secret", "please-change", "dev", "development"}
)
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "de", "fr")


def _development_secret_key() -> str:
    """Generate the development secret once into ``var/`` and reuse it afterwards."""
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key, encoding="utf-8")
    path.chmod(0o600)
    return key


class OidcProvider(BaseModel):
    """An OpenID Connect identity provider members can sign in with."""

    name: str = Field(pattern=r"^[a-z0-9_-]{1,64}$")
    label: str
    issuer: str
    client_id: str
    client_secret: str = ""
    scope: str = "openid email profile"


class Settings(BaseSettings):
    """Every setting of the portal; the defaults suit a newcomer's development machine."""

    model_config = SettingsConfigDict(
        env_prefix="PORTAL_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Literal["development", "production"] = "development"
    database_url: str = Field(default_factory=lambda: f"sqlite:///{VAR_DIR / 'portal.db'}")
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    default_language: Literal["en", "de", "fr"] = "en"
    network_name: str = "European Network for the Prevention of Child Sexual Abuse"

    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    mail_from: str = "Prevention network portal <no-reply@portal.invalid>"
    mail_dir: Path = VAR_DIR / "mail"
    upload_dir: Path = VAR_DIR / "uploads"
    # Largest attachment accepted (bytes); bigger uploads are refused while being read.
    max_upload_bytes: int = 20 * 1024 * 1024

    # How often the in-process worker sends queued e-mail (seconds; 0 turns it off, for
    # deployments that run `portal outbox work` separately).
    outbox_interval_seconds: float = 5.0
    # Requests one worker process handles at once; the others wait at the door, holding
    # nothing (app.kit.middleware.ConcurrencyLimitMiddleware). Handlers are mostly CPU work
    # under one interpreter lock, so a few at a time finish sooner than many sharing it. At
    # most 12: the database pool (15 connections) must hold every admitted request's
    # connection plus the background jobs', or requests could wait on each other forever.
    request_concurrency: int = Field(default=2, ge=1, le=12)
    # Background jobs (outbox, daily membership sweep) run inside the web process.
    run_background_jobs: bool = True
    membership_period_days: int = 730
    password_reset_hours: int = 2
    set_password_days: int = 14
    email_verification_days: int = 7
    # Sign-in attempts allowed per account and per address within the window.
    sign_in_attempts_per_account: int = 5
    sign_in_attempts_per_address: int = 20
    sign_in_window_minutes: int = 15
    # OpenID Connect providers, as JSON: [{"name": "eulogin", "label": "EU Login",
    # "issuer": "https://...", "client_id": "...", "client_secret": "..."}]
    oidc_providers: list[OidcProvider] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_secret_key(self) -> Settings:
        if self.environment == "production":
            if self.secret_key.strip().lower() in PLACEHOLDER_SECRETS or len(self.secret_key) < 32:
                raise ValueError(
                    "PORTAL_SECRET_KEY must be set to a random value of at least 32 characters "
                    "in production (for example: python -c 'import secrets; "
                    "print(secrets.token_urlsafe(48))')"
                )
        elif not self.secret_key:
            self.secret_key = _development_secret_key()
        return self

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
