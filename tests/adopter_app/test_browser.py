"""The adopters' app in a real browser: PostgreSQL, the register and the app as real
processes, driven by Debian's headless Chromium through its chromedriver (never a browser
download: Selenium Manager is never asked). One browser for the module.

On each page: no restricted field in its HTML, axe-core (vendored, run in the page) finds
no serious or critical violation, the Tab key reaches every control with a visible focus,
nothing scrolls sideways at a phone's width, and a screenshot is saved under
artifacts/screenshots/ (the children page also as docs/adopter-app-children.png, with
UPDATE_README_SCREENSHOT=1)."""

import asyncio
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from services.core.settings import Settings
from services.register.oauth.keys import mint_access_token, signing_key
from tests.adopter_app.register_data import PASSWORD, build_register, register_app_client, restricted
from tests.factories import add_agencies
from tests.fixtures.processes import ServerProcess, free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
README_SCREENSHOT = ROOT / "docs" / "adopter-app-children.png"
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
STAFF_SCOPES = ["children:read", "children:write", "households:read", "households:write"]
NEWEST_LINK = text(
    "SELECT link FROM notifications WHERE lower(to_email) = lower(:email) AND kind = :kind ORDER BY id DESC LIMIT 1"
)
WAIT_SECONDS = 20
NARRATIVE = "We are a family of three in a quiet town, with a garden and a lot of board games."

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e .[test])")
if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
    pytest.skip(
        f"Chromium is not installed ({CHROMIUM}, {CHROMEDRIVER}): apt-get install chromium chromium-driver",
        allow_module_level=True,
    )

from selenium.common.exceptions import TimeoutException  # noqa: E402 (after the skip above)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

pytestmark = pytest.mark.slow  # started first: see `slow` in pyproject.toml


@pytest.fixture(scope="module")
def stack(databases, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """A migrated database with the test agencies, children and households; the register and
    the app each in a process of its own; the app registered as a confidential client."""
    url = databases.create("migrated", "browser")
    logs = tmp_path_factory.mktemp("browser")
    register_port, app_port = free_port(), free_port()
    register_base, app_base = f"http://127.0.0.1:{register_port}", f"http://127.0.0.1:{app_port}"

    async def prepare() -> tuple[str, str, dict[str, str]]:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                await add_agencies(conn)
                await conn.commit()
            client_id, secret = await register_app_client(engine, f"{app_base}/callback")
            async with AsyncSession(engine) as session:
                key = await signing_key(session)
        finally:
            await engine.dispose()
        # Tokens of the register's own issuer (its public address, where its emails' links point).
        issuer = Settings(token_issuer=register_base)
        tokens = {
            agency: mint_access_token(
                key,
                issuer,
                subject=f"staff-{agency}",
                scopes=STAFF_SCOPES,
                client_id="staff",
                agency_ref=agency or None,
            )
            for agency in ("", "RAA-S")
        }
        return client_id, secret, tokens

    client_id, secret, tokens = asyncio.run(prepare())
    register = ServerProcess(
        url,
        logs / "register.log",
        service="register",
        port=register_port,
        env={"TOKEN_ISSUER": register_base, "ADOPTER_APP_URL": app_base},
    )
    app = ServerProcess(
        url,
        logs / "app.log",
        service="adopter-app",
        port=app_port,
        env={
            "ADOPTER_APP_REGISTER_URL": register_base,
            "ADOPTER_APP_PUBLIC_URL": app_base,
            "ADOPTER_APP_CLIENT_ID": client_id,
            "ADOPTER_APP_CLIENT_SECRET": secret,
            "ADOPTER_APP_DEVELOPMENT": "true",
        },
    )
    try:
        register.wait_until_ready()
        app.wait_until_ready()
        staff = {"Authorization": f"Bearer {tokens['']}"}

        async def load() -> dict[str, Any]:
            async with httpx.AsyncClient(base_url=register_base, timeout=30) as client:
                return await build_register(client, staff)

        data = asyncio.run(load())
        yield {
            "url": url,
            "register": register_base,
            "app": app_base,
            "staff": staff,
            "households_agency": {"Authorization": f"Bearer {tokens['RAA-S']}"},
            "data": data,
        }
    finally:
        app.stop()
        register.stop()
        databases.drop(url)


@pytest.fixture(scope="module")
def browser(tmp_path_factory, monkeypatch_module) -> Iterator[Any]:
    from selenium.webdriver.common import selenium_manager

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("Selenium Manager must never run (it would download a browser)")

    monkeypatch_module.setattr(selenium_manager.SeleniumManager, "binary_paths", refuse)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
        "--window-size=1280,1400",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(WAIT_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


# --- what every page must pass ------------------------------------------------------------

FOCUSABLE = (
    "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), "
    "textarea:not([disabled]), summary, [tabindex]:not([tabindex='-1'])"
)
MARK_CONTROLS = f"""
const found = Array.from(document.querySelectorAll("{FOCUSABLE}"))
  .filter(e => !e.closest('details:not([open])') || e.tagName === 'SUMMARY')
  // A radio group is one stop for Tab (its checked radio); arrow keys move within it.
  .filter(e => e.type !== 'radio' || e.checked
    || !document.querySelector(`input[type=radio][name="${{e.name}}"]:checked`));
found.forEach((e, i) => e.setAttribute('data-kbd', String(i)));
return found.map(e => e.tagName + ' ' + (e.getAttribute('name') || e.textContent.trim().slice(0, 40)));
"""
ACTIVE = """
const e = document.activeElement;
if (!e || e === document.body) return null;
const style = getComputedStyle(e);
const visible = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
return [e.getAttribute('data-kbd'), e.tagName, visible, e.tagName === 'SUMMARY' && !e.parentElement.open];
"""
AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']})
  .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))
  .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
"""


class Pages:
    def __init__(self, driver: Any, stack: dict[str, Any]) -> None:
        self.driver = driver
        self.stack = stack
        self.checked: list[str] = []
        self.axe = AXE.read_text()
        shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # this run's pages only
        SCREENSHOTS.mkdir(parents=True)

    def open(self, path: str) -> None:
        self.driver.get(self.stack["app"] + path)

    def wait_for(self, condition: Any, what: str) -> None:
        try:
            WebDriverWait(self.driver, WAIT_SECONDS).until(condition)
        except TimeoutException:
            logs = [e["message"] for e in self.driver.get_log("browser")][-3:]
            raise AssertionError(f"waited for {what}; at {self.driver.current_url}; console: {logs}") from None

    def click(self, text_: str) -> None:
        self.driver.find_element(By.XPATH, f"//*[self::a or self::button][normalize-space()='{text_}']").click()

    def check(self, name: str) -> None:
        """Everything each page must pass; a screenshot for review. The register's own pages
        on the way (set a password, sign in) are held to the same checks."""
        driver = self.driver
        driver.execute_script("window.scrollTo(0, 0)")
        driver.save_screenshot(str(SCREENSHOTS / f"{len(self.checked) + 1:02d}-{name}.png"))
        html = driver.page_source
        leaked = [v for v in restricted(self.stack["data"]) if v in html]
        assert not leaked, f"{name} shows restricted values {leaked}"
        assert driver.find_elements(By.TAG_NAME, "h1"), f"{name} has no heading"
        driver.execute_script(self.axe)
        violations = driver.execute_async_script(AXE_RUN)
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert not serious, f"{name}: axe-core found {serious}"
        self._keyboard(name)
        driver.set_window_size(375, 812)  # a phone
        width = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{name} scrolls sideways on a phone: {width}"
        driver.set_window_size(1280, 1400)
        self.checked.append(name)

    def _keyboard(self, name: str) -> None:
        """From the top of the page, Tab alone reaches every control, each with a visible
        focus indicator; a closed <details> is opened with Enter and its controls reached."""
        driver = self.driver
        driver.execute_script("window.scrollTo(0, 0); document.activeElement && document.activeElement.blur();")
        controls = driver.execute_script(MARK_CONTROLS)
        body = driver.find_element(By.TAG_NAME, "body")
        reached: set[str] = set()
        body.send_keys("")  # the page has focus; the first Tab goes to its first control
        for _ in range(len(controls) + 30):
            webdriver.ActionChains(driver).send_keys(Keys.TAB).perform()
            active = driver.execute_script(ACTIVE)
            if active is None:
                break  # past the last control
            index, tag, visible, closed_summary = active
            assert visible, f"{name}: {tag} #{index} has no visible focus"
            if index is not None:
                reached.add(index)
            if closed_summary:
                webdriver.ActionChains(driver).send_keys(Keys.ENTER).perform()
                controls = driver.execute_script(MARK_CONTROLS)
        missing = [c for i, c in enumerate(controls) if str(i) not in reached]
        assert not missing, f"{name}: Tab never reached {missing}"


def invited(pages: Pages, household_ref: str, email: str) -> None:
    """The household's agency invites the adopter (staff API); the adopter opens the emailed
    link, sets a password on the register's page and is sent on to the app's start page."""
    stack = pages.stack

    async def invite() -> str:
        async with httpx.AsyncClient(base_url=stack["register"], timeout=30) as client:
            made = await client.post(
                f"/v1/households/{household_ref}/adopters", json={"email": email}, headers=stack["households_agency"]
            )
            assert made.status_code == 201, made.text
        engine = create_async_engine(stack["url"], poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                link = await conn.scalar(NEWEST_LINK, {"email": email, "kind": "adopter_invitation"})
        finally:
            await engine.dispose()
        assert link and link.startswith(f"{stack['register']}/account/invitation/"), link
        return link

    pages.driver.get(asyncio.run(invite()))
    pages.check("register-set-password")
    pages.driver.find_element(By.ID, "password").send_keys(PASSWORD)
    pages.driver.find_element(By.ID, "confirm").send_keys(PASSWORD)
    pages.click("Set password")
    pages.wait_for(lambda d: d.current_url.rstrip("/") == stack["app"], "the app's start page after the password")


def sign_in(pages: Pages, email: str) -> None:
    pages.open("/")
    pages.check("start")
    pages.click("Sign in")
    pages.wait_for(lambda d: "/oauth/authorize" in d.current_url, "the register's sign-in page")
    pages.check("register-sign-in")
    pages.driver.find_element(By.ID, "email").send_keys(email)
    pages.driver.find_element(By.ID, "password").send_keys(PASSWORD)
    pages.click("Sign in and allow")
    pages.wait_for(lambda d: d.current_url.startswith(pages.stack["app"] + "/children"), "the app's children page")


def sign_out(pages: Pages) -> None:
    pages.click("Sign out")
    pages.wait_for(lambda d: "You have signed out." in d.page_source, "the signed-out page")


async def answer(stack: dict[str, Any], status: str, reason: str) -> None:
    async with httpx.AsyncClient(base_url=stack["register"], timeout=30) as client:
        found = (await client.get("/v1/interests", headers=stack["staff"])).json()["items"]
        assert len(found) == 1
        answered = await client.post(
            f"/v1/interests/{found[0]['ref']}/answer",
            json={"status": status, "reason": reason},
            headers={**stack["staff"], "If-Match": f'"{found[0]["version"]}"'},
        )
        assert answered.status_code == 200, answered.text


def card_ages(driver: Any) -> list[str]:
    return [dd.text for dd in driver.find_elements(By.XPATH, "//li[@class='card']//dt[.='Ages']/following-sibling::dd")]


def test_an_adopters_journey_in_a_real_browser(stack, browser):
    started = time.monotonic()
    pages = Pages(browser, stack)
    data = stack["data"]
    invited(pages, data["household"]["ref"], "first@example.org")
    sign_in(pages, "first@example.org")
    pages.check("children")
    if os.environ.get("UPDATE_README_SCREENSHOT"):  # only when asked: a test run leaves git's tree as it was
        shutil.copyfile(SCREENSHOTS / f"{len(pages.checked):02d}-children.png", README_SCREENSHOT)

    # Filter: every child of a group in the band; the 9-year-old is not among 2-4.
    pages.open("/children?view=all")
    assert "8-10 years" in card_ages(browser)
    browser.find_element(By.XPATH, "//select[@id='age_band']/option[@value='2-4']").click()
    pages.click("Show children")
    pages.wait_for(lambda d: "age_band=2-4" in d.current_url, "the filtered list")
    ages = card_ages(browser)
    assert ages and all(set(a.removesuffix(" years").split(", ")) == {"2-4"} for a in ages), ages
    pages.check("children-filtered")

    # A child's profile; express interest with a short message.
    browser.find_element(By.CSS_SELECTOR, "li.card h3 a").click()
    pages.wait_for(lambda d: "/children/PR-" in d.current_url, "a child's profile")
    pages.check("child")
    browser.find_element(By.ID, "message").send_keys("We have a garden and love trains.")
    pages.click("Express interest")
    pages.wait_for(lambda d: "Waiting for an answer" in d.page_source, "our interests")
    pages.check("interests")

    # The child's agency answers, with its reason; the adopters see it as written.
    reason = "We are looking for a family who live nearer the children's school."
    asyncio.run(answer(stack, "declined", reason))
    pages.open("/interests")
    shown = browser.find_element(By.TAG_NAME, "main").text
    assert "Declined" in shown and f"The agency's reason: {reason}" in shown, shown
    pages.check("interests-answered")

    # Our family's profile: written, sent for approval, its state shown.
    pages.open("/family-profile")
    pages.check("family-profile")
    browser.find_element(By.ID, "narrative").send_keys(NARRATIVE)
    browser.find_element(By.ID, "what_we_offer").send_keys("A big garden\nA dog who loves children")
    pages.click("Save and send for approval")
    pages.wait_for(lambda d: "sent to your agency for approval" in d.page_source, "the saved family profile")
    assert "Sent to your agency for approval" in browser.find_element(By.TAG_NAME, "main").text
    pages.check("family-profile-sent")
    for path, name in (("/passport", "passport"), ("/support", "support")):
        pages.open(path)
        pages.check(name)
    sign_out(pages)
    pages.check("signed-out")
    pages.open("/children")
    assert browser.current_url.rstrip("/") == stack["app"], "signed out: the children page is closed"

    # A second household sees none of the first's interests, nor its profile.
    invited(pages, data["household_b"]["ref"], "second@example.org")
    sign_in(pages, "second@example.org")
    pages.open("/interests")
    shown = browser.find_element(By.TAG_NAME, "main").text
    assert "You have not expressed interest" in shown and reason not in shown, shown
    pages.open("/family-profile")
    shown = browser.find_element(By.TAG_NAME, "main").text
    assert "not written yet" in shown and NARRATIVE not in browser.page_source, shown
    sign_out(pages)
    print(f"\nbrowser journey: {len(pages.checked)} pages checked in {time.monotonic() - started:.1f} s")
