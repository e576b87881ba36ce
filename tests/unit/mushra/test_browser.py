"""The kit's page in real headless Chromium: play every condition, rate, reload, finish,
download the answers and report them."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dubset_cli.main import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
if CHROMIUM is None or DRIVER is None:
    pytest.skip(
        "Debian chromium and chromium-driver are not installed (tools/setup.sh installs them)",
        allow_module_level=True,
    )
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402

pytestmark = pytest.mark.slow
SCORES = {"reference": 100, "baseline": 40, "anchor": 10}


def want(system: str, trial: int) -> int:
    """The score the test gives: the reference always 100, the others 5 more per trial."""
    return SCORES[system] + (0 if system == "reference" else 5 * trial)


def _cli(argv: list[str]) -> int:
    return main(argv)


def _wait(what: str, check: Callable[[], object], timeout: float = 15.0) -> object:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--autoplay-policy=no-user-gesture-required",
        "--window-size=1100,820",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(str(DRIVER)))
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior",
        {"behavior": "allow", "downloadPath": str(tmp_path / "downloads")},
    )
    try:
        yield driver
    finally:
        driver.quit()


def _played(driver: WebDriver, label: str) -> float:
    """How far the label's audio element has played (0 until its `played` ranges grow)."""
    js = "const a = document.getElementById(arguments[0]);"
    value: float = driver.execute_script(
        js + "return a.played.length ? a.currentTime : 0;", f"audio-{label}"
    )
    return value


def _rate(driver: WebDriver, label: str, score: int) -> None:
    slider = driver.find_element(By.ID, f"slider-{label}")
    if score == 100:  # as a person would: focus the slider and press End
        slider.click()
        slider.send_keys(Keys.END)
    else:
        driver.execute_script(
            "arguments[0].value = arguments[1];"
            "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
            slider,
            score,
        )
    assert driver.find_element(By.ID, f"value-{label}").text == str(score)


def test_rater_goes_through_the_kit_and_the_report_has_their_scores(
    dataset: Path, browser: WebDriver, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "kit"
    assert _cli(["mushra", "--dataset", str(dataset), "--out", str(out), "--clips", "3"]) == 0
    key = json.loads((out / "trials.json").read_text())
    browser.get((out / "index.html").as_uri())
    assert "reference" not in browser.find_element(By.ID, "rows").get_attribute("innerHTML")
    browser.find_element(By.ID, "rater").send_keys("alice")
    browser.find_element(By.ID, "start").click()
    for i, trial in enumerate(key["trials"]):
        assert browser.find_element(By.ID, "count").text == f"Trial {i + 1} of 3"
        nxt = browser.find_element(By.ID, "next")
        assert not nxt.is_enabled()
        if i == 0:  # before anything plays, the clock shows the trial's length
            length = f"0.0 / {trial['duration_ms'] / 1000:.1f} s"
            shown = lambda want=length: browser.find_element(By.ID, "time").text == want  # noqa: E731
            _wait("the trial length", shown)
        browser.find_element(By.ID, "play-ref").click()
        _wait("the reference to play", lambda: _played(browser, "ref") > 0.1)
        for c in trial["conditions"]:
            browser.find_element(By.ID, f"play-{c['label']}").click()
            _wait(f"{c['label']} to play", lambda c=c: _played(browser, c["label"]) > 0.1)
            assert browser.execute_script("return document.getElementById('audio-ref').paused")
            _rate(browser, c["label"], want(c["system"], i))
        if i == 0 and "MUSHRA_SCREENSHOT" in os.environ:
            browser.save_screenshot(os.environ["MUSHRA_SCREENSHOT"])
        browser.find_element(By.ID, "stop").click()
        assert nxt.is_enabled()
        if i == 1:  # a reload keeps the rater's place and scores
            browser.refresh()
            assert browser.find_element(By.ID, "count").text == "Trial 2 of 3"
            for c in trial["conditions"]:
                slider = browser.find_element(By.ID, f"slider-{c['label']}")
                assert slider.get_attribute("value") == str(want(c["system"], i))
            nxt = browser.find_element(By.ID, "next")
        nxt.click()
    assert browser.find_element(By.ID, "done").is_displayed()
    downloads = tmp_path / "downloads"
    browser.find_element(By.ID, "dl-json").click()
    browser.find_element(By.ID, "dl-csv").click()
    _wait(
        "the downloads",
        lambda: (
            len(list(downloads.glob("*.json"))) == 1 and len(list(downloads.glob("*.csv"))) == 1
        ),
    )
    saved_json = next(downloads.glob("*.json"))
    saved_csv = next(downloads.glob("*.csv"))
    _wait("the JSON to be complete", lambda: saved_json.stat().st_size > 0)
    answers = json.loads(saved_json.read_text())
    assert answers["rater"] == "alice" and len(answers["trials"]) == 3

    capsys.readouterr()
    for saved in (saved_json, saved_csv):  # the page's two formats report the same
        rc = _cli(["mushra-report", str(saved), "--key", str(out / "trials.json"), "--json"])
        assert rc == 0
        result = json.loads(capsys.readouterr().out)
        assert result["kept"] == ["alice"]
        systems = result["systems"]
        assert systems["reference"]["mean"] == 100.0
        assert systems["baseline"]["mean"] == 45.0  # 40, 45, 50
        assert systems["anchor"]["mean"] == 15.0
        assert systems["baseline"]["n"] == 3
