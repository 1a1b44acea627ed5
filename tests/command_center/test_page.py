"""/command-center: served by jaki under a strict CSP, and driven in a real headless Chromium against a real server."""

import re
from pathlib import Path

import httpx
import pytest

from jaki.command_center.routes import ASSETS, STATIC

CHROMIUM = Path("/usr/bin/chromium")
OUTPUT = Path(__file__).resolve().parent.parent / "output"  # git-ignored: screenshots for a person to look at
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def test_the_page_and_its_assets_are_served_under_a_strict_policy(client):
    page = client.get("/command-center")
    assert page.status_code == 200 and page.mimetype == "text/html"
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "form-action 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"
    assert '<html lang="id">' in page.get_data(as_text=True)
    assert '<html lang="en">' in client.get("/command-center?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in client.get("/command-center", headers={"Accept-Language": "en"}).get_data(as_text=True)
    for name in ASSETS:
        with client.get(f"/command-center/assets/{name}") as asset:  # a file response: closed when read
            assert asset.status_code == 200 and asset.headers["Content-Security-Policy"] == policy
            assert asset.get_data()
    assert client.get("/command-center/assets/index.html").status_code == 404
    assert client.get("/command-center/assets/..%2Froutes.py").status_code == 404


def test_everything_comes_from_jaki_and_the_token_stays_in_memory():
    text = "\n".join((STATIC / name).read_text() for name in ("index.html", "app.js", "app.css", "icon.svg"))
    outside = {url for url in re.findall(r"https?://[^\s\"')]+", text) if url != "http://www.w3.org/2000/svg"}
    assert outside == set(), outside  # no CDN, no map tiles, no web fonts
    script = (STATIC / "app.js").read_text()
    for forbidden in ("localStorage", "sessionStorage", "document.cookie", "indexedDB", "innerHTML", "eval("):
        assert forbidden not in script, forbidden
    html = (STATIC / "index.html").read_text()
    assert "<script>" not in html and " style=" not in html  # no inline script or style for the CSP to allow
    assert not re.search(r"<[^>]+\son[a-z]+=", html)  # no inline handlers either


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (CI installs it: .ci/run)")
    from tests.support.command_center import command_center_server

    with command_center_server(tmp_path_factory.mktemp("command-center"), count=1500) as running:
        yield running


def _api(http: httpx.Client, login: dict) -> dict:
    """What the API answers the same person (the figures the page must show)."""
    token = http.post("/api/v1/auth/login", json={"nik": login["nik"], "password": login["password"]}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}

    def get(path, **params):
        response = http.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    return {
        "summary": get("/api/v1/stats/summary"),
        "kelurahan": get("/api/v1/stats/reports", group_by="kelurahan"),
        "backlog": get("/api/v1/stats/backlog", group_by="agency"),
        "board": get("/api/v1/stats/agencies"),
        "get": get,
    }


def test_a_person_logs_in_and_sees_the_city_in_a_real_browser(server):
    from playwright.sync_api import sync_playwright

    base, login = server
    OUTPUT.mkdir(exist_ok=True)
    problems = []
    with httpx.Client(base_url=base, timeout=30) as http, sync_playwright() as playwright:
        api = _api(http, login)
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1680, "height": 1050}, locale="id-ID")
            page = context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(base + "/command-center")
            assert page.locator("[data-kpi=today] .kpi-label").inner_text().lower() == "laporan hari ini"
            page.fill("#nik", login["nik"])
            page.fill("#password", login["password"])
            page.click("button[type=submit]")
            page.wait_for_selector("#map path[data-code]", timeout=30_000)
            page.wait_for_function("document.querySelector('#board').children.length > 0", timeout=30_000)

            # The map: 267 kelurahan, each coloured by the API's own count.
            shapes = page.locator("#map path[data-code]")
            assert shapes.count() == 267
            drawn = page.eval_on_selector_all(
                "#map path[data-code]", "els => els.map(e => [e.dataset.code, Number(e.dataset.count)])"
            )
            counts = {r["key"]: r["count"] for r in api["kelurahan"]["rows"]}
            assert {code: n for code, n in drawn if n} == counts
            assert len({code for code, _ in drawn}) == 267

            # The tiles say what the API says.
            def tile(name):
                return page.get_attribute(f'[data-kpi="{name}"]', "data-value")

            summary = api["summary"]
            assert (tile("today"), tile("open"), tile("overdue")) == tuple(
                str(summary[k]) for k in ("today", "open", "overdue")
            )
            assert float(tile("within_sla")) == summary["within_sla_share"]
            backlog = page.eval_on_selector_all(
                "#backlog tbody tr", "rows => rows.map(r => [r.dataset.agency, r.children[1].textContent])"
            )
            assert [a for a, _ in backlog] == [r["key"] for r in api["backlog"]["rows"]]
            assert page.locator("#board .tile").count() == 52 == api["board"]["total"]
            assert "40" in page.inner_text("#board-count") and "52" in page.inner_text("#board-count")

            # The token lives in the page's memory only.
            stored = page.evaluate("[JSON.stringify(localStorage), JSON.stringify(sessionStorage), document.cookie]")
            assert stored == ["{}", "{}", ""] and context.cookies() == []

            # A click on the busiest kelurahan lists its reports, as the public feed does.
            busiest = max(api["kelurahan"]["rows"], key=lambda r: r["count"])
            page.click(f'#map path[data-code="{busiest["key"]}"]')
            page.wait_for_selector("#detail-reports li[data-report]", timeout=15_000)
            listed = page.eval_on_selector_all(
                "#detail-reports li[data-report]", "els => els.map(e => e.dataset.report)"
            )
            feed = api["get"]("/api/v1/reports", area=busiest["key"], limit=20)
            assert listed == [r["id"] for r in feed["items"]] and listed
            assert page.locator("#detail h2").first.text_content() == busiest["name"]
            page.screenshot(path=str(OUTPUT / "command-center.png"), full_page=True)

            # English on request.
            page.click("#lang")
            page.wait_for_function("document.documentElement.lang === 'en'")
            page.wait_for_timeout(500)
            assert page.locator("[data-kpi=today] .kpi-label").inner_text().lower() == "reports today"
            page.wait_for_function("document.querySelectorAll('#map path[data-code]').length === 267")
            page.screenshot(path=str(OUTPUT / "command-center-en.png"), full_page=True)
        finally:
            browser.close()
    assert problems == []
    assert (OUTPUT / "command-center.png").stat().st_size > 50_000
