"""The web page in headless Chromium: type a sentence, press Translate, see the translation.

Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Where they are
absent the test is skipped, except under CI (CI=true), where it fails instead.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import tiny_model


def unavailable(reason: str):
    """Skip, or fail under CI (CI=true), where the browser test must run."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}, and CI must run the browser test", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


try:
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from seq2seq.serving.server import BackgroundServer
except ImportError as error:
    unavailable(f"{error.name} is not installed (pip install -e '.[test]')")


def chromium_paths() -> tuple[str, str]:
    """The Chromium browser and its driver."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (browser and driver):
        unavailable(
            f"{'chromium' if not browser else 'chromedriver'} is not installed (apt-get install chromium "
            "chromium-driver)"
        )
    return browser, driver


@pytest.fixture(scope="module")
def browser():
    browser_path, driver_path = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = browser_path
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=900,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))
    yield driver
    driver.quit()


def test_typing_a_sentence_and_pressing_translate_shows_the_translation_and_attention(browser):
    model = tiny_model(seed=5, attention="luong-general", embedding_dim=3)
    expected = model.translate(["Who are you?"])[0]
    with BackgroundServer(model) as url:
        browser.get(url + "/")
        WebDriverWait(browser, 30).until(lambda b: "luong-general" in b.find_element(By.ID, "model").text)
        browser.find_element(By.ID, "source").send_keys("Who are you?")
        browser.find_element(By.ID, "translate").click()
        WebDriverWait(browser, 30).until(lambda b: b.find_element(By.ID, "translation").text.strip())
        assert browser.find_element(By.ID, "translation").text == expected.strip()
        WebDriverWait(browser, 30).until(lambda b: b.find_element(By.ID, "attention-card").is_displayed())
        assert browser.find_element(By.ID, "error").text == ""
        if os.environ.get("SEQ2SEQ_SCREENSHOT"):
            browser.save_screenshot(os.environ["SEQ2SEQ_SCREENSHOT"])


def test_an_error_from_the_service_is_shown_on_the_page(browser):
    with BackgroundServer(tiny_model(seed=2), max_chars=5) as url:
        browser.get(url + "/")
        browser.find_element(By.ID, "source").send_keys("Who are you?")
        browser.find_element(By.ID, "translate").click()
        WebDriverWait(browser, 30).until(lambda b: b.find_element(By.ID, "error").text.strip())
        assert "at most 5 are allowed" in browser.find_element(By.ID, "error").text
