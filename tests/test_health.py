from starlette.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.conftest import TEST_SECRET_KEY, PortalClient


def test_healthz_reports_the_database_reachable(client: PortalClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_is_unreachable() -> None:
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    settings = Settings(
        database_url="postgresql+psycopg://portal@127.0.0.1:1/portal?connect_timeout=2",
        secret_key=TEST_SECRET_KEY,
    )
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
