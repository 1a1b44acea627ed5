"""Forwarded headers (X-Forwarded-For, -Proto) honoured only when the direct peer is one of the configured proxies."""

from __future__ import annotations

import ipaddress

from werkzeug.middleware.proxy_fix import ProxyFix

# What a client could send to pose as someone else; removed unless a trusted proxy set it.
FORWARDED_HEADERS = (
    "HTTP_FORWARDED",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
)
UNIX_SOCKET = "unix"  # a peer without an IP address: a proxy on the same machine talking over a unix socket


def parse_proxies(value) -> tuple[frozenset[str], tuple]:
    """ "10.0.0.0/8, 192.168.1.10, unix" -> (names, networks); a bad entry stops the start with its name."""
    entries = value.replace(",", " ").split() if isinstance(value, str) else list(value or ())
    names, networks = set(), []
    for entry in entries:
        if entry == UNIX_SOCKET:
            names.add(entry)
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise RuntimeError(f"TRUSTED_PROXIES: {entry!r} is neither an IP address, a CIDR nor 'unix'") from None
    return frozenset(names), tuple(networks)


class TrustedProxyFix:
    """ProxyFix for requests from a trusted proxy; for anyone else the forwarded headers are dropped, so a client
    reaching the app directly cannot choose its address (per-client rate limits, audit rows) or scheme."""

    def __init__(self, app, trusted, *, hops: int = 1):
        self.app = app
        self.names, self.networks = parse_proxies(trusted)
        self.proxied = ProxyFix(app, x_for=hops, x_proto=hops)

    def is_trusted(self, peer: str | None) -> bool:
        if not peer:
            return UNIX_SOCKET in self.names
        try:
            address = ipaddress.ip_address(peer.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)

    def __call__(self, environ, start_response):
        if self.is_trusted(environ.get("REMOTE_ADDR")):
            return self.proxied(environ, start_response)
        for name in FORWARDED_HEADERS:
            environ.pop(name, None)
        return self.app(environ, start_response)
