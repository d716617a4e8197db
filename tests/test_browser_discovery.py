"""Where the browser tests get a browser: system, Selenium Manager, or an error."""

import _browser_helpers as helpers
import pytest

pytestmark = pytest.mark.repository


@pytest.fixture(autouse=True)
def fresh_lookup():
    helpers.find_browser.cache_clear()
    yield
    helpers.find_browser.cache_clear()


def test_system_browser_is_used_without_asking_selenium_manager(monkeypatch):
    monkeypatch.setattr(helpers, "_find_executable", lambda env, names: f"/sys/{env}")
    monkeypatch.setattr(
        helpers, "_selenium_manager_browser", lambda: pytest.fail("must not be asked")
    )
    assert helpers.find_browser() == (
        "/sys/GMMBOOK_CHROMIUM",
        "/sys/GMMBOOK_CHROMEDRIVER",
    )


def test_selenium_manager_supplies_a_browser_when_the_system_has_none(monkeypatch):
    monkeypatch.setattr(helpers, "_find_executable", lambda env, names: None)
    monkeypatch.setattr(
        helpers, "_selenium_manager_browser", lambda: ("/cache/chrome", "/cache/driver")
    )
    assert helpers.find_browser() == ("/cache/chrome", "/cache/driver")


def test_no_browser_anywhere_names_the_install_command(monkeypatch):
    monkeypatch.setattr(helpers, "_find_executable", lambda env, names: None)
    monkeypatch.setattr(helpers, "_selenium_manager_browser", lambda: None)
    with pytest.raises(helpers.BrowserMissing) as raised:
        helpers.find_browser()
    message = str(raised.value)
    assert "chromium, chromedriver" in message
    assert "Selenium Manager could not fetch" in message
    assert "Install them with:\n    " in message
