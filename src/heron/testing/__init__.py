"""Testing heron apps: clients and a pytest plugin (fixtures ``app`` and ``client``)."""

from heron.testing.client import (
    AsyncTestClient,
    ClientSession,
    TestClient,
    TestResponse,
    WebSocketTestSession,
    extract_csrf_token,
)

__all__ = ["AsyncTestClient", "ClientSession", "TestClient", "TestResponse",
           "WebSocketTestSession", "extract_csrf_token"]
