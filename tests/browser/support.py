"""Helpers for browser tests: the live server handle and page assertions.

Import them in a browser test module with `from support import ...`
(pytest puts this folder on `sys.path`, as it does for every test folder
without an `__init__.py`).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from axe_playwright_python.sync_playwright import Axe
from flask import Flask, url_for
from playwright.sync_api import ConsoleMessage, Page
from sqlalchemy.orm import Session

#: the WCAG levels the city commits to (JIS X 8341-3 follows WCAG 2.x AA)
AXE_OPTIONS: dict[str, Any] = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}

#: WCAG 2.5.5 (AAA) and the platform guidelines of iOS and Android: 44 CSS px
TAP_TARGET_PX = 44

_axe = Axe()

# With JavaScript disabled, Chromium never runs timers, and axe.run() waits on
# setTimeout(fn, 0) between rules: it would hang.  While axe runs, such
# zero-delay timers become microtasks (which DevTools evaluation still
# drains); longer timers are left to the browser; everything is put back after.
_AXE_TIMERS_ON = """() => {
    if (window.__axeTimers) return;
    const original = {set: window.setTimeout, clear: window.clearTimeout};
    const cancelled = new Set();
    let next = -1;
    window.__axeTimers = original;
    window.setTimeout = function (fn, ms, ...args) {
        if ((Number(ms) || 0) > 1 || typeof fn !== 'function') {
            return original.set.call(window, fn, ms, ...args);
        }
        const id = next--;
        Promise.resolve().then(() => { if (!cancelled.delete(id)) fn(...args); });
        return id;
    };
    window.clearTimeout = function (id) {
        if (typeof id === 'number' && id < 0) cancelled.add(id);
        else original.clear.call(window, id);
    };
}"""
_AXE_TIMERS_OFF = """() => {
    const original = window.__axeTimers;
    if (!original) return;
    window.setTimeout = original.set;
    window.clearTimeout = original.clear;
    delete window.__axeTimers;
}"""
_console: WeakKeyDictionary[Page, list[str]] = WeakKeyDictionary()


@dataclass
class LiveServer:
    """The real app served over HTTP on 127.0.0.1 for the whole browser session.

    `url` has no trailing slash; pages of the `phone` fixtures take paths
    relative to it (`page.goto("/procedures/juminhyo-copy")`).  The app has
    its own database, shared by every browser test: create data with unique
    names (e-mail addresses etc.) instead of expecting an empty database.
    """

    url: str
    app: Flask
    #: exceptions raised by views since the last test began (checked after each test)
    errors: list[BaseException] = field(default_factory=list)

    def url_for(self, endpoint: str, **values: Any) -> str:
        """The absolute URL of an endpoint, e.g. `url_for("resident.catalogue", q="犬")`."""
        with self.app.test_request_context():
            return self.url + url_for(endpoint, **values)

    @property
    def outbox(self) -> list[Any]:
        """Mail the app has sent (`MAIL_BACKEND = "memory"`), oldest first."""
        sent: list[Any] = self.app.extensions["madoguchi.outbox"]
        return sent

    @contextmanager
    def db(self) -> Iterator[Session]:
        """A session on the live server's database, inside an app context.

        Commit yourself if you change something; the browser sees only
        committed data.
        """
        from madoguchi import db

        with self.app.app_context():
            yield db.session()


def watch_console(page: Page) -> None:
    """Record the page's console errors and uncaught exceptions (CSP violations among them)."""
    messages: list[str] = []
    _console[page] = messages

    def on_console(message: ConsoleMessage) -> None:
        url = message.location.get("url") or ""
        if message.type == "error" and not url.endswith("/favicon.ico"):
            messages.append(f"console error: {message.text} ({url})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: messages.append(f"uncaught: {error}"))


def assert_no_console_errors(page: Page) -> None:
    """No console errors since the page was opened (the phone fixtures watch every page)."""
    messages = _console.get(page, [])
    assert not messages, "the browser reported errors:\n" + "\n".join(messages)


def assert_accessible(page: Page, context: str | None = None) -> None:
    """axe-core finds no WCAG 2.2 A/AA violation on the page (or in `context`, a selector).

    Works with JavaScript disabled too: Playwright evaluates axe through
    the DevTools protocol, which neither the page's CSP nor the context's
    `java_script_enabled=False` blocks (timers aside, see above).
    """
    page.evaluate(_AXE_TIMERS_ON)
    try:
        results = _axe.run(page, context=context, options=AXE_OPTIONS)
    finally:
        page.evaluate(_AXE_TIMERS_OFF)
    violations: list[dict[str, Any]] = results.response["violations"]
    if not violations:
        return
    lines = [f"{len(violations)} accessibility violation(s) on {page.url}:"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation.get('impact')}): {violation['help']}"
            f" <{violation.get('helpUrl', '')}>"
        )
        for node in violation["nodes"]:
            target = " ".join(map(str, node["target"]))
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    at {target}: {node.get('html', '')[:160]}")
            if summary:
                lines.append(f"       {summary}")
    raise AssertionError("\n".join(lines))


def assert_no_horizontal_scroll(page: Page) -> None:
    """The page fits the viewport's width: nothing to scroll sideways on a phone.

    `scrollWidth <= innerWidth` alone misses overflow on a mobile viewport:
    Chromium (`is_mobile=True`) zooms out to show wide content, and
    `innerWidth` grows with it.  So the page must also fit the layout
    viewport (`clientWidth`) and the width the context was opened with.
    """
    viewport = page.viewport_size
    widths: dict[str, Any] = page.evaluate(
        """() => {
            const limit = document.documentElement.clientWidth;
            const wide = [...document.querySelectorAll('body *')]
                .filter((e) => e.getBoundingClientRect().right > limit + 0.5)
                .slice(0, 10)
                .map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                    + (e.className && typeof e.className === 'string'
                        ? '.' + e.className.trim().split(/\\s+/).join('.') : '')
                    + ' right=' + Math.round(e.getBoundingClientRect().right));
            return {
                scroll: document.documentElement.scrollWidth,
                inner: window.innerWidth,
                client: limit,
                wide,
            };
        }"""
    )
    limit = min(widths["inner"], widths["client"])
    if viewport is not None:
        limit = min(limit, viewport["width"])
    assert max(widths["scroll"], widths["inner"]) <= limit, (
        f"page scrolls sideways on {page.url}: scrollWidth {widths['scroll']}, "
        f"innerWidth {widths['inner']}, clientWidth {widths['client']}, viewport "
        f"{viewport and viewport['width']}; elements reaching past the edge: {widths['wide']}"
    )


def small_tap_targets(page: Page, selector: str, minimum: int = TAP_TARGET_PX) -> list[str]:
    """Visible elements matching `selector` whose box is under `minimum` CSS px either way."""
    found: list[str] = page.evaluate(
        """([selector, minimum]) => [...document.querySelectorAll(selector)]
            .filter((e) => {
                const r = e.getBoundingClientRect();
                const style = getComputedStyle(e);
                return style.visibility !== 'hidden' && style.display !== 'none'
                    && r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0
                    && (r.width < minimum || r.height < minimum);
            })
            .map((e) => {
                const r = e.getBoundingClientRect();
                const size = `${Math.round(r.width)}×${Math.round(r.height)}`;
                return `${e.outerHTML.slice(0, 80)} (${size})`;
            })""",
        [selector, minimum],
    )
    return found


def focused_element(page: Page) -> dict[str, Any]:
    """What has the keyboard focus: tag, text, href, outline and whether it is on screen."""
    info: dict[str, Any] = page.evaluate(
        """() => {
            const e = document.activeElement;
            if (!e || e === document.body) return {tag: null};
            const style = getComputedStyle(e);
            const r = e.getBoundingClientRect();
            return {
                tag: e.tagName.toLowerCase(),
                text: (e.textContent || '').trim(),
                href: e.getAttribute('href'),
                outlineStyle: style.outlineStyle,
                outlineWidth: parseFloat(style.outlineWidth) || 0,
                outlineColor: style.outlineColor,
                boxShadow: style.boxShadow,
                onScreen: r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0
                    && r.right <= window.innerWidth && r.bottom <= window.innerHeight,
            };
        }"""
    )
    return info


def screenshot_dir() -> Path:
    """`$MADOGUCHI_SCREENSHOTS`, or `madoguchi-screenshots` in the temporary folder."""
    configured = os.environ.get("MADOGUCHI_SCREENSHOTS")
    folder = (
        Path(configured) if configured else Path(tempfile.gettempdir()) / "madoguchi-screenshots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(page: Page, name: str, *, full_page: bool = False) -> Path:
    """Save a PNG of the page for debugging; returns its path."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "page"
    path = screenshot_dir() / f"{safe}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
