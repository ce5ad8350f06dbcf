"""Render a local HTML file in headless Chromium and report what a person would see.

Needs Debian's `chromium` and `chromium-driver` packages and the `selenium` Python package.
Nothing is downloaded: the driver and browser paths are fixed, so Selenium Manager never runs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",  # required as root
    "--disable-gpu",
    "--disable-dev-shm-usage",  # Debian's launcher fails to add it itself (bad findmnt test)
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1024",
)


@dataclass
class Page:
    """What the browser showed: title, visible body text, console errors, selector results
    (count, visible, bottom edge of the first match in CSS pixels from the page's top), and
    the window's inner height."""

    title: str
    text: str
    console_errors: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    shown: dict[str, bool] = field(default_factory=dict)
    bottoms: dict[str, float] = field(default_factory=dict)
    window_height: int = 0
    pids: list[int] = field(default_factory=list)  # chromedriver and the browser processes

    def count(self, css: str) -> int:
        """Number of elements matching `css` (a selector passed to `render`)."""
        return self.counts[_known(self.counts, css)]

    def visible(self, css: str) -> bool:
        """Whether an element matching `css` was displayed with a non-zero size."""
        return self.shown[_known(self.shown, css)]

    def above_the_fold(self, css: str) -> bool:
        """Whether the first element matching `css` ends within the first screenful."""
        bottom = self.bottoms[_known(self.bottoms, css)]
        return 0 < bottom <= self.window_height


def _known(results: Mapping[str, object], css: str) -> str:
    if css not in results:
        raise KeyError(f"selector {css!r} was not passed to render(); known: {list(results)}")
    return css


def _processes(root: int, marker: str) -> list[int]:
    """`root`, every process below it, and any whose command line holds `marker` (from /proc).

    The marker catches Chromium's crash handlers, which detach from the process tree.
    """
    parents: dict[int, int] = {}
    found: list[int] = [root]
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (proc / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        parents[int(proc.name)] = ppid
        if marker.encode() in cmdline:
            found.append(int(proc.name))
    for parent in found:
        found += [pid for pid, ppid in parents.items() if ppid == parent and pid not in found]
    return found


def _require() -> None:
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not path.is_file():
            raise RuntimeError(f"{path} is missing: apt-get install {package}")
    try:
        import selenium  # noqa: F401
    except ImportError as err:
        raise RuntimeError("selenium is missing: pip install selenium") from err


@contextmanager
def chromium(timeout: float = 20) -> Iterator[Any]:
    """A headless Chromium under Selenium (its WebDriver), quit and its profile removed
    afterwards. Raises RuntimeError if the browser, its driver or selenium is missing."""
    _require()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = None
    try:
        # XDG_CONFIG_HOME: the crash handler's database goes in the profile, not ~/.config
        env = {**os.environ, "XDG_CONFIG_HOME": profile}
        service = Service(executable_path=str(CHROMEDRIVER), env=env)
        driver = webdriver.Chrome(service=service, options=options)
        driver.set_page_load_timeout(timeout)
        driver.profile_dir = profile
        yield driver
    finally:
        if driver is not None:
            driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def console_errors(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def render(html: Path, selectors: list[str], wait_for: str | None = None,
           timeout: float = 20) -> Page:
    """Load `html` as a file:// URL once it and `wait_for` (if given) are ready; see `Page`.

    Raises RuntimeError if the browser, its driver or selenium is missing, and TimeoutError
    (with the console errors) if the page or `wait_for` is not ready within `timeout` seconds.
    """
    with chromium(timeout) as driver:
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        wait = WebDriverWait(driver, timeout)
        try:
            driver.get(Path(html).resolve().as_uri())
            wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
            if wait_for:
                wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, wait_for))
        except TimeoutException as err:
            raise TimeoutError(f"{html} not ready ({wait_for=}) in {timeout}s; "
                               f"console errors: {console_errors(driver)}") from err
        counts: dict[str, int] = {}
        shown: dict[str, bool] = {}
        bottoms: dict[str, float] = {}
        for css in selectors:
            found = driver.find_elements(By.CSS_SELECTOR, css)
            counts[css] = len(found)
            shown[css] = any(e.is_displayed() and e.size["width"] and e.size["height"]
                             for e in found)
            bottoms[css] = float(driver.execute_script(
                "return arguments[0].getBoundingClientRect().bottom + window.scrollY",
                found[0])) if found else 0.0
        pids = _processes(driver.service.process.pid, driver.profile_dir)
        text = driver.execute_script("return document.body ? document.body.innerText : ''")
        height = int(driver.execute_script("return window.innerHeight"))
        return Page(driver.title, text, console_errors(driver), counts, shown, bottoms, height,
                    pids)
