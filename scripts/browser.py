"""Drive a headless Chromium over the DevTools protocol, through a pipe (no extra packages needed).

Used by the browser tests (tests/test_browser.py) and by scripts/screenshot.py. Chromium is started
with `--remote-debugging-pipe`: it reads protocol messages on file descriptor 3 and writes on 4,
each a JSON object ended by a NUL byte. Everything a page logs, throws or requests is recorded, so
a test can check that a report loads with no console error and no network access.

    with Chromium() as browser:
        page = browser.open(Path("reports/x/report.html"))
        page.wait_for("document.documentElement.dataset.rendered")
        png = page.screenshot()
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--hide-scrollbars",
    "--no-default-browser-check",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
    "--remote-debugging-pipe",
    # No name resolves: a report that tried to fetch anything from the network would fail visibly.
    "--host-resolver-rules=MAP * ~NOTFOUND",
]


class BrowserError(RuntimeError):
    """Chromium could not be started, or did not answer in time."""


def find_chromium() -> str | None:
    """The Chromium to use: $CHROMIUM if set, else the first of the usual names on PATH."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"] if shutil.which(os.environ["CHROMIUM"]) else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


class Page:
    """One tab: what it logged, threw and requested, and ways to look at it."""

    def __init__(self, browser: Chromium, target_id: str, session_id: str) -> None:
        self.browser = browser
        self.target_id = target_id
        self.session_id = session_id
        self.console_errors: list[str] = []
        self.exceptions: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.loaded = False

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30.0) -> dict[str, Any]:
        return self.browser.send(method, params, session_id=self.session_id, timeout=timeout)

    def on_event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(arg.get("value", arg.get("description", ""))) for arg in params.get("args", []))
            self.console_errors.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            description = details.get("exception", {}).get("description") or details.get("text", "")
            self.exceptions.append(str(description))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            self.console_errors.append(f"{entry.get('source')}: {entry.get('text')}")
        elif method == "Network.requestWillBeSent":
            self.requests.append(params.get("request", {}).get("url", ""))
        elif method == "Page.javascriptDialogOpening":
            self.dialogs.append(params.get("message", ""))
            self.browser.post("Page.handleJavaScriptDialog", {"accept": True}, session_id=self.session_id)
        elif method == "Page.loadEventFired":
            self.loaded = True

    @property
    def errors(self) -> list[str]:
        """Every console error and uncaught exception so far."""
        return [*self.console_errors, *self.exceptions]

    def navigate(self, url: str, timeout: float = 30.0) -> None:
        self.loaded = False
        answer = self.send("Page.navigate", {"url": url}, timeout=timeout)
        if answer.get("errorText"):
            raise BrowserError(f"cannot open {url}: {answer['errorText']}")
        self.browser.pump_until(lambda: self.loaded, timeout)

    def evaluate(self, expression: str, timeout: float = 30.0) -> Any:
        """The value of a JavaScript expression (promises are awaited)."""
        answer = self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}, timeout=timeout
        )
        if "exceptionDetails" in answer:
            raise BrowserError(f"{expression!r} threw: {answer['exceptionDetails'].get('text')}")
        return answer.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 30.0, interval: float = 0.05) -> Any:
        """Poll a JavaScript expression until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out after {timeout:g}s waiting for {expression!r}")
            self.browser.pump(interval)

    def set_viewport(self, width: int, height: int, scale: float = 1.0, mobile: bool = False) -> None:
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile},
        )

    def screenshot(self, full_page: bool = False, clip_height: int | None = None) -> bytes:
        """A PNG of the viewport, of the whole page, or of its top `clip_height` pixels."""
        params: dict[str, Any] = {"format": "png"}
        if full_page or clip_height:
            metrics = self.send("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            height = min(size["height"], clip_height) if clip_height else size["height"]
            params.update(
                clip={"x": 0, "y": 0, "width": size["width"], "height": height, "scale": 1}, captureBeyondViewport=True
            )
        return base64.b64decode(self.send("Page.captureScreenshot", params, timeout=60)["data"])

    def print_pdf(self) -> bytes:
        answer = self.send(
            "Page.printToPDF", {"printBackground": False, "paperWidth": 8.27, "paperHeight": 11.69}, timeout=60
        )
        return base64.b64decode(answer["data"])

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target_id})


class Chromium:
    """A headless Chromium with a fresh profile, driven over a pipe; a context manager."""

    def __init__(self, executable: str | None = None, startup_timeout: float = 30.0) -> None:
        self.executable = executable or find_chromium()
        if self.executable is None:
            raise BrowserError("no Chromium found (tried $CHROMIUM and " + ", ".join(CANDIDATES) + ")")
        self.profile = tempfile.mkdtemp(prefix="negotiation-sim-chromium-")
        to_child_read, self._to_child = os.pipe()
        self._from_child, from_child_write = os.pipe()

        def wire_pipes() -> None:  # runs in the child: the protocol pipe must be fds 3 and 4
            read_end = fcntl.fcntl(to_child_read, fcntl.F_DUPFD, 10)
            write_end = fcntl.fcntl(from_child_write, fcntl.F_DUPFD, 10)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        try:
            self.process = subprocess.Popen(
                [self.executable, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                preexec_fn=wire_pipes,
                pass_fds=(3, 4),
                close_fds=True,
            )
        except OSError as error:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise BrowserError(f"cannot start {self.executable}: {error}") from None
        finally:
            os.close(to_child_read)
            os.close(from_child_write)
        self._buffer = b""
        self._next_id = 0
        self._answers: dict[int, dict[str, Any]] = {}
        self.pages: dict[str, Page] = {}
        self.version = self.send("Browser.getVersion", timeout=startup_timeout).get("product", "")

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def post(self, method: str, params: dict[str, Any] | None = None, session_id: str | None = None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session_id:
            message["sessionId"] = session_id
        data = json.dumps(message).encode("utf-8") + b"\0"
        try:
            while data:
                written = os.write(self._to_child, data)
                data = data[written:]
        except OSError as error:
            raise BrowserError(f"Chromium closed the pipe ({error})") from None
        return self._next_id

    def send(
        self, method: str, params: dict[str, Any] | None = None, session_id: str | None = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        """Send a command and wait for its answer; a protocol error raises BrowserError."""
        message_id = self.post(method, params, session_id)
        self.pump_until(lambda: message_id in self._answers, timeout, what=method)
        answer = self._answers.pop(message_id)
        if "error" in answer:
            raise BrowserError(f"{method}: {answer['error'].get('message')}")
        return answer.get("result", {})

    def pump(self, seconds: float) -> None:
        """Handle whatever arrives for `seconds`."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self._read(left)

    def pump_until(self, done: Any, timeout: float, what: str = "an answer") -> None:
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"Chromium did not answer {what} within {timeout:g}s")
            self._read(left)

    def _read(self, timeout: float) -> None:
        ready, _, _ = select.select([self._from_child], [], [], timeout)
        if not ready:
            return
        chunk = os.read(self._from_child, 1 << 20)
        if not chunk:
            raise BrowserError(f"Chromium exited (code {self.process.poll()})")
        self._buffer += chunk
        while b"\0" in self._buffer:
            raw, self._buffer = self._buffer.split(b"\0", 1)
            message = json.loads(raw)
            if "id" in message:
                self._answers[message["id"]] = message
            elif message.get("sessionId") in self.pages:
                self.pages[message["sessionId"]].on_event(message["method"], message.get("params", {}))

    def new_page(self, width: int = 1280, height: int = 900) -> Page:
        target_id = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session_id = self.send("Target.attachToTarget", {"targetId": target_id, "flatten": True})["sessionId"]
        page = Page(self, target_id, session_id)
        self.pages[session_id] = page
        for domain in ("Runtime.enable", "Log.enable", "Page.enable", "Network.enable"):
            page.send(domain)
        page.set_viewport(width, height)
        return page

    def open(self, path: Path | str, width: int = 1280, height: int = 900, timeout: float = 30.0) -> Page:
        """A new tab showing a local file (or a URL), once its load event has fired."""
        url = Path(path).resolve().as_uri() if not str(path).startswith(("file:", "about:", "data:")) else str(path)
        page = self.new_page(width, height)
        page.navigate(url, timeout=timeout)
        return page

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.post("Browser.close")
                self.process.wait(timeout=5)
            except (BrowserError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait(timeout=5)
        for fd in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)
