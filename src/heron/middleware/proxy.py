"""Believe ``Forwarded`` / ``X-Forwarded-*`` headers from trusted proxies only."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from heron.types import ASGIApp, Receive, Scope, Send

__all__ = ["ProxyHeadersMiddleware"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ProxyHeadersMiddleware:
    """Rewrite the client address, scheme and host from a trusted proxy's headers.

    Only requests whose direct peer is in ``trusted`` (IP addresses, CIDR
    networks, or ``"*"`` for any) are rewritten; anyone else could forge the
    headers.  ``Forwarded`` (RFC 7239) wins over ``X-Forwarded-For/Proto/Host``.
    The client is the right-most address in the chain that is not a trusted proxy.
    """

    def __init__(self, app: ASGIApp, trusted: Iterable[str]) -> None:
        self.app = app
        self.trust_all = False
        self.networks: list[Network] = []
        for entry in trusted:
            if entry.strip() == "*":
                self.trust_all = True
            else:
                self.networks.append(ipaddress.ip_network(entry.strip(), strict=False))

    def is_trusted(self, host: str) -> bool:
        if self.trust_all:
            return True
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and client and self.is_trusted(client[0]):
            chain, proto, host = _forwarded(_list_headers(scope["headers"]))
            scope = dict(scope)
            if chain:
                real = next((h for h in reversed(chain) if not self.is_trusted(h)), chain[0])
                scope["client"] = (real, 0)
            if proto in ("http", "https"):
                websocket = scope["type"] == "websocket"
                scope["scheme"] = {"http": "ws", "https": "wss"}[proto] if websocket else proto
            if host:
                scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"host"]
                scope["headers"].append((b"host", host.encode("latin-1")))
        await self.app(scope, receive, send)


def _list_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Header values by lower-case name; repeated headers joined as one comma list."""
    headers: dict[str, str] = {}
    for key, value in raw:
        name = key.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers[name] = f"{headers[name]}, {text}" if name in headers else text
    return headers


def _node_address(node: str) -> str:
    """The address of a Forwarded ``for=`` node: ``[v6]:port`` and ``v4:port`` lose the port."""
    if node.startswith("["):
        return node[1:].partition("]")[0]
    return node.rsplit(":", 1)[0] if node.count(":") == 1 else node


def _forwarded(headers: dict[str, str]) -> tuple[list[str], str | None, str | None]:
    """(client chain, proto, host) from Forwarded or X-Forwarded-* headers."""
    if "forwarded" in headers:
        chain: list[str] = []
        proto = host = None
        for element in headers["forwarded"].split(","):
            for pair in element.split(";"):
                key, _, value = pair.strip().partition("=")
                value = value.strip().strip('"')
                key = key.lower()
                if key == "for":
                    chain.append(_node_address(value))
                elif key == "proto":
                    proto = value.lower()
                elif key == "host":
                    host = value
        return chain, proto, host
    chain = [h.strip() for h in headers.get("x-forwarded-for", "").split(",") if h.strip()]
    proto = headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower() or None
    host = headers.get("x-forwarded-host", "").split(",")[-1].strip() or None
    return chain, proto, host
