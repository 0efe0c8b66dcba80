"""The app in a real browser: Debian's chromium, driven by Playwright, over the simulated lakehouse.

Every page renders its data with no console error; acknowledging an incident in the page changes
``fact_incident``; a silence created in the page mutes the next matching alert. Screenshots of every
page are kept in ``test-artifacts/app/`` (``LAKESENTINEL_ARTIFACTS`` moves them).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lakesentinel.context import Context
from lakesentinel.alerts.lifecycle import FACT_INCIDENT
from lakesentinel.app.api import STATIC

# Needs a lakehouse built by the monitor and gold (minutes on 2 cores): run with -m extended.
pytestmark = pytest.mark.extended

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(os.environ.get("LAKESENTINEL_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")) / "app"
USER = "browser-test@example.com"

# Each page, and what shows that its data arrived.
PAGES = {
    "overview": ("#/", ".score"),
    "cost": ("#/cost", "figure.chart .recharts-line"),
    "security": ("#/security", "figure.chart .recharts-line"),
    "performance": ("#/performance", "figure.chart .recharts-line"),
    "reliability": ("#/reliability", "figure.chart .recharts-line"),
    "alert-center": ("#/alerts", "button[data-incident]"),
    "incident-review": ("#/review", "figure.chart .recharts-line"),
    "chat": ("#/chat", "text=No copilot configured"),
}


@pytest.fixture(scope="module")
def app_url(app_lake, app_spark):
    from lakesentinel.app.composition import build_app
    from lakesentinel.app.server import AppServer

    assert (STATIC / "index.html").is_file(), "the frontend is not built: `./run setup` builds it (needs Node 20)"
    os.environ["LAKESENTINEL_USER"] = USER
    server = AppServer(build_app(app_lake, app_spark)).start()
    yield server.url
    server.stop()
    os.environ.pop("LAKESENTINEL_USER", None)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def errors():
    return []


@pytest.fixture
def page(browser, errors):
    """A fresh tab; console errors and uncaught exceptions land in ``errors``."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    yield pg
    context.close()


def incidents(cfg) -> dict[str, dict]:
    tables = Context(cfg).ops_tables
    return {r["incident_id"]: r for r in tables.read(tables.name("gold", FACT_INCIDENT))}


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_renders_its_data_without_console_errors(page, errors, app_url, name):
    route, ready = PAGES[name]
    page.goto(app_url + route)
    page.wait_for_selector(ready, timeout=60_000)
    page.wait_for_load_state("networkidle")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert page.locator(".state.error").count() == 0, page.locator(".state.error").first.inner_text()
    assert errors == []


def test_the_pages_are_usable_by_keyboard(page, app_url):
    page.goto(app_url + "#/")
    page.wait_for_selector(".score", timeout=60_000)
    page.keyboard.press("Tab")  # the skip link first
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for _ in range(3):  # then the navigation: Overview, Cost, Security
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/#/security")
    page.wait_for_selector("figure.chart .recharts-line", timeout=60_000)


def test_acknowledging_an_incident_in_the_page_changes_fact_incident(page, errors, app_url, app_lake, app_spark):
    from lakesentinel.alerts.commands import COMMANDS

    tables = Context(app_lake).ops_tables
    asked = {c["incident_id"] for c in tables.read(tables.name("ops", COMMANDS))}  # other tests' requests
    target = next(i for i in incidents(app_lake).values()
                  if i["status"] == "open" and not i["acknowledged_at"] and i["incident_id"] not in asked)
    page.goto(app_url + f"#/alerts?incident={target['incident_id']}")
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_selector("text=Acknowledgement recorded", timeout=30_000)
    Context(app_lake, spark=app_spark).lifecycle().step(merge=True)
    after = incidents(app_lake)[target["incident_id"]]
    assert after["status"] == "acknowledged" and after["acknowledged_by"] == USER
    assert errors == []


def test_a_silence_created_in_the_page_mutes_the_next_matching_alert(page, errors, app_url, app_lake, app_spark):
    from lakesentinel.opstables import aware_rows
    from lakesentinel.alerts.record import ALERT_SCHEMA
    from lakesentinel.alerts.sink import write_alerts
    from tests.alerts.conftest import build_alert

    page.goto(app_url + "#/alerts")
    page.get_by_label("Matchers").fill('entity_id="browser-test-entity"')
    page.get_by_label("Why").fill("maintenance window for the browser test")
    page.get_by_role("button", name="Preview").click()
    page.wait_for_selector("text=would be muted now")
    page.get_by_role("button", name="Create silence").click()
    created = page.wait_for_selector("text=/Silence [0-9a-f]+ created/", timeout=30_000).inner_text()
    silence_id = created.split()[1]

    alert = build_alert("security.browser_test", entity="browser-test-entity", domain="security")
    write_alerts(app_spark, app_lake, app_spark.createDataFrame(aware_rows([alert], ALERT_SCHEMA), ALERT_SCHEMA))
    Context(app_lake, spark=app_spark).lifecycle().step(merge=True)
    muted = [i for i in incidents(app_lake).values() if i["entity_id"] == "browser-test-entity"]
    assert len(muted) == 1 and muted[0]["status"] == "silenced" and muted[0]["muted_by"] == f"silence:{silence_id}"
    page.goto(app_url + "#/alerts")
    page.wait_for_selector(f"text={silence_id}", timeout=30_000)
    assert errors == []
