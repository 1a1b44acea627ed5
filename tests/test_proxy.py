"""X-Forwarded-For and -Proto count only from a configured proxy: from anyone else they change nothing."""

import pytest

from jaki.proxy import TrustedProxyFix, parse_proxies

UNKNOWN_NIK = "3174054107909999"


def _seen(middleware, remote_addr, **headers):
    """What the app behind the middleware sees of one request."""
    seen = {}

    def app(environ, start_response):
        seen.update(environ)
        start_response("204 No Content", [])
        return [b""]

    middleware.app = middleware.proxied.app = app
    environ = {
        "REMOTE_ADDR": remote_addr,
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "jaki.example",
        "SERVER_NAME": "jaki.example",
        "SERVER_PORT": "80",
    }
    environ.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
    middleware(environ, lambda *_: None)
    return seen


def test_forwarded_headers_from_an_untrusted_peer_are_dropped():
    middleware = TrustedProxyFix(None, "10.0.0.5")
    seen = _seen(middleware, "203.0.113.9", x_forwarded_for="1.2.3.4", x_forwarded_proto="https", forwarded="for=1")
    assert seen["REMOTE_ADDR"] == "203.0.113.9" and seen["wsgi.url_scheme"] == "http"
    assert not any(key.startswith("HTTP_X_FORWARDED") or key == "HTTP_FORWARDED" for key in seen)


def test_nobody_is_trusted_by_default():
    seen = _seen(TrustedProxyFix(None, ""), "127.0.0.1", x_forwarded_for="1.2.3.4")
    assert seen["REMOTE_ADDR"] == "127.0.0.1" and "HTTP_X_FORWARDED_FOR" not in seen


@pytest.mark.parametrize(
    ("trusted", "peer"),
    [
        ("10.0.0.5", "10.0.0.5"),
        ("10.0.0.0/8", "10.200.1.2"),
        ("10.0.0.0/8", "::ffff:10.0.0.7"),
        ("fd00::/8", "fd00::1"),
    ],
)
def test_a_trusted_proxy_is_believed(trusted, peer):
    seen = _seen(
        TrustedProxyFix(None, trusted), peer, x_forwarded_for="1.2.3.4, 198.51.100.7", x_forwarded_proto="https"
    )
    assert seen["REMOTE_ADDR"] == "198.51.100.7"  # one hop: the address the proxy itself saw
    assert seen["wsgi.url_scheme"] == "https"


def test_two_hops_and_unix_sockets():
    seen = _seen(TrustedProxyFix(None, "10.0.0.0/8", hops=2), "10.0.0.1", x_forwarded_for="1.2.3.4, 10.9.9.9")
    assert seen["REMOTE_ADDR"] == "1.2.3.4"
    assert _seen(TrustedProxyFix(None, "unix"), "", x_forwarded_for="1.2.3.4")["REMOTE_ADDR"] == "1.2.3.4"
    assert "HTTP_X_FORWARDED_FOR" not in _seen(TrustedProxyFix(None, "10.0.0.0/8"), "", x_forwarded_for="1.2.3.4")


def test_a_bad_setting_stops_the_start_naming_the_entry():
    with pytest.raises(RuntimeError, match=r"'10\.0\.0\.300'"):
        parse_proxies("10.0.0.1, 10.0.0.300")
    names, networks = parse_proxies(["unix", "192.168.0.0/16"])
    assert names == {"unix"} and len(networks) == 1


def _login(client, forwarded_for, remote_addr="127.0.0.1"):
    return client.post(
        "/api/v1/auth/login",
        json={"nik": UNKNOWN_NIK, "password": "salah-salah-salah"},
        headers={"X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": remote_addr},
    )


@pytest.fixture
def no_lockout(app):
    saved = dict(app.config)
    app.config.update(LOGIN_LOCKOUT_THRESHOLD=10_000, LOGIN_RATE_PER_NIK="1000 per minute")
    yield
    app.config.update({k: saved[k] for k in ("LOGIN_LOCKOUT_THRESHOLD", "LOGIN_RATE_PER_NIK")})


def test_a_client_cannot_dodge_the_per_client_limit_with_x_forwarded_for(app, client, ctx, no_lockout):
    limit = int(app.config["LOGIN_RATE_PER_CLIENT"].split()[0])
    statuses = [_login(client, f"198.51.100.{n}").status_code for n in range(limit + 1)]
    assert statuses == [401] * limit + [429]


def test_behind_a_trusted_proxy_each_client_has_its_own_budget(app, client, ctx, no_lockout, monkeypatch):
    _names, networks = parse_proxies("10.0.0.5")
    monkeypatch.setattr(app.extensions["jaki.proxy_fix"], "networks", networks)
    limit = int(app.config["LOGIN_RATE_PER_CLIENT"].split()[0])
    statuses = [_login(client, f"198.51.100.{n}", remote_addr="10.0.0.5").status_code for n in range(limit + 1)]
    assert statuses == [401] * (limit + 1)
    # The same forwarded address is one client, whichever of its requests is counted.
    repeated = [_login(client, "192.0.2.1", remote_addr="10.0.0.5").status_code for _ in range(limit + 1)]
    assert repeated[-1] == 429
