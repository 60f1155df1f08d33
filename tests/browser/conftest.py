"""A real browser for the citizen's phone page: Debian's chromium and chromedriver,
headless, at a phone's 390x844. Skipped, saying why, where they are not installed
(`make system` installs them)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
PHONE = (390, 844)


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for exe in (CHROMIUM, CHROMEDRIVER):
        if not exe.exists() and shutil.which(exe.name) is None:
            return f"{exe} not found: apt-get install chromium chromium-driver (make system)"
    return None


@pytest.fixture
def browser() -> Iterator[Any]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium"))
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--disable-gpu", f"--window-size={PHONE[0]},{PHONE[1]}",
                "--autoplay-policy=no-user-gesture-required", "--lang=zh-CN"):
        opts.add_argument(arg)
    opts.add_experimental_option("mobileEmulation", {
        "deviceMetrics": {"width": PHONE[0], "height": PHONE[1], "pixelRatio": 2.0},
        "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
                     "(KHTML, like Gecko) Chrome/120 Mobile Safari/537.36"})
    driver_path = CHROMEDRIVER if CHROMEDRIVER.exists() else Path(str(shutil.which("chromedriver")))
    driver = webdriver.Chrome(options=opts, service=Service(str(driver_path)))
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def shot(driver: Any, name: str) -> Path:
    """A screenshot in artifacts/ (looked at by a person when the page changes)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"phone-{name}.png"
    driver.save_screenshot(str(path))
    return path


def page_settings(data: Path, **values: Any) -> None:
    """Set [status_page] keys in the hall's config.toml before the server starts."""
    cfg = data / "config.toml"
    text = cfg.read_text("utf-8")
    if "[status_page]" not in text:
        text += "\n[status_page]\n"
    for key, value in values.items():
        literal = f'"{value}"' if isinstance(value, str) else str(value)
        line = f"{key} = {literal}"
        pattern = re.compile(rf"(?m)^{key}\s*=.*$")
        if pattern.search(text):
            text = pattern.sub(line, text, count=1)
        else:
            text = text.replace("[status_page]\n", f"[status_page]\n{line}\n", 1)
    cfg.write_text(text, "utf-8")
