import pytest

pytest_plugins = ["tests.fixtures_http", "tests.fixtures_postgres"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
