"""ProxyHeadersMiddleware: Forwarded and X-Forwarded-* believed from trusted peers only."""

from __future__ import annotations

from typing import Any

import pytest

from heron import App, Request, WebSocket
from heron.middleware import ProxyHeadersMiddleware
from heron.testing import TestClient


def build_app(trusted: list[str]) -> App:
    app = App(debug=True, trusted_proxies=trusted, allowed_hosts=["*"])

    @app.get("/")
    async def index(request: Request) -> dict:
        return {"scheme": request.url.scheme, "host": request.url.netloc,
                "client": request.client.host if request.client else None,
                "secure": request.is_secure}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({"url": str(websocket.url)})
        await websocket.close()

    return app


def get(trusted: list[str], headers: dict[str, str],
        peer: tuple[str, int] = ("127.0.0.1", 50000)) -> Any:
    with TestClient(build_app(trusted), client=peer) as client:
        return client.get("/", headers=headers).json()


X_FORWARDED = {"x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https",
               "x-forwarded-host": "shop.example"}


def test_x_forwarded_headers_from_a_trusted_peer() -> None:
    assert get(["127.0.0.1"], X_FORWARDED) == {
        "scheme": "https", "host": "shop.example", "client": "203.0.113.7", "secure": True,
    }


def test_headers_from_an_untrusted_peer_are_ignored() -> None:
    assert get(["10.0.0.1"], X_FORWARDED) == {
        "scheme": "http", "host": "testserver", "client": "127.0.0.1", "secure": False,
    }


def test_a_cidr_network_is_trusted() -> None:
    data = get(["10.0.0.0/8"], X_FORWARDED, peer=("10.1.2.3", 1234))
    assert data["client"] == "203.0.113.7"


def test_star_trusts_every_peer() -> None:
    assert get(["*"], X_FORWARDED, peer=("198.51.100.1", 1))["client"] == "203.0.113.7"


def test_ipv6_network() -> None:
    assert get(["::1/128"], X_FORWARDED, peer=("::1", 1))["client"] == "203.0.113.7"


def test_the_client_is_the_rightmost_untrusted_address() -> None:
    headers = {"x-forwarded-for": "6.6.6.6, 203.0.113.7, 10.0.0.2"}
    assert get(["127.0.0.1", "10.0.0.0/8"], headers)["client"] == "203.0.113.7"


def test_repeated_x_forwarded_for_headers_form_one_chain() -> None:
    app = build_app(["127.0.0.1", "10.0.0.2"])
    with TestClient(app) as client:
        headers = [("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "203.0.113.7, 10.0.0.2")]
        assert client.get("/", headers=headers).json()["client"] == "203.0.113.7"


def test_forwarded_header() -> None:
    headers = {"forwarded": 'for=203.0.113.7;proto=https;host="shop.example"'}
    assert get(["127.0.0.1"], headers) == {
        "scheme": "https", "host": "shop.example", "client": "203.0.113.7", "secure": True,
    }


def test_forwarded_wins_over_x_forwarded() -> None:
    headers = {**X_FORWARDED, "forwarded": "for=198.51.100.9;proto=http"}
    data = get(["127.0.0.1"], headers)
    assert (data["client"], data["scheme"]) == ("198.51.100.9", "http")


@pytest.mark.parametrize(("value", "client"), [
    ('for="[2001:db8::1]:4711"', "2001:db8::1"),
    ('for="[2001:db8::1]"', "2001:db8::1"),
    ("for=203.0.113.7:8080", "203.0.113.7"),
    ("for=192.0.2.1, for=203.0.113.7", "203.0.113.7"),
])
def test_forwarded_for_addresses_with_ports_and_brackets(value: str, client: str) -> None:
    assert get(["127.0.0.1"], {"forwarded": value})["client"] == client


def test_unknown_proto_is_ignored() -> None:
    assert get(["127.0.0.1"], {"x-forwarded-proto": "gopher"})["scheme"] == "http"


def test_websocket_scheme_becomes_wss() -> None:
    app = build_app(["127.0.0.1"])
    headers = {"x-forwarded-proto": "https"}
    with TestClient(app) as client, client.websocket_connect("/ws", headers=headers) as ws:
        assert ws.receive_json() == {"url": "wss://testserver/ws"}


async def test_lifespan_passes_through() -> None:
    seen: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    await ProxyHeadersMiddleware(inner, trusted=["*"])({"type": "lifespan"}, None, None)
    assert seen == ["lifespan"]
