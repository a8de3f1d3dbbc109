"""Real-browser tests: Debian's Chromium driven by Playwright against `schoolhealth serve` on the demo database.

The server is started here, on loopback with a port the system chooses, and stopped here (and by the kernel if
pytest dies first: PR_SET_PDEATHSIG). Screenshots of each page go to e2e-screenshots/ for a person to look at.
"""
import ctypes
import contextlib
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile

import pytest
from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHOTS = ROOT / "e2e-screenshots"
PASSWORD = "demo-password"  # the demo's synthetic accounts (DemoAccounts.password); never used outside the demo


def _binary() -> str:
    explicit = os.environ.get("SCHOOLHEALTH_BIN")
    if explicit:
        return explicit
    bin_path = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()
    path = pathlib.Path(bin_path) / "schoolhealth"
    if not path.exists():
        subprocess.run(["swift", "build", "--product", "schoolhealth"], cwd=ROOT, check=True)
    return str(path)


def _die_with_parent():
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@contextlib.contextmanager
def demo_server():
    """`schoolhealth demo` in a fresh folder, then `schoolhealth serve` on its database (loopback, a free port);
    yields the base URL and stops the server (SIGTERM) afterwards."""
    binary = _binary()
    work = pathlib.Path(tempfile.mkdtemp(prefix="schoolhealth-e2e-"))
    demo = subprocess.run([binary, "demo"], cwd=work, capture_output=True, text=True, timeout=600)
    assert demo.returncode == 0, demo.stderr
    assert "schoolhealth serve --db schoolhealth.sqlite" in demo.stdout
    env = dict(os.environ, LANG="C.UTF-8")
    process = subprocess.Popen([binary, "serve", "--db", "schoolhealth.sqlite", "--host", "127.0.0.1", "--port", "0",
                                "--backup-dir", str(work / "backups")],
                               cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                               preexec_fn=_die_with_parent)
    port = None
    log = []
    for line in process.stdout:
        log.append(line)
        if line.startswith("LISTENING "):
            port = int(line.split()[1])
            break
    assert port, "".join(log)
    # Keep draining the server's log so it never blocks on a full pipe.
    import threading
    threading.Thread(target=lambda: [log.append(l) for l in process.stdout], daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        assert process.returncode is not None
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="session")
def server():
    """The server the role tests share."""
    with demo_server() as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    executable = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="session", autouse=True)
def shots_folder():
    SHOTS.mkdir(exist_ok=True)
    return SHOTS


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN", accept_downloads=True)
    p = context.new_page()
    errors = []
    p.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    p.console_errors = errors
    yield p
    context.close()


def login(page, base, account, password=PASSWORD):
    page.goto(base + "/login")
    page.fill("#login", account)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("form[action='/login'] button[type=submit]")


def shot(page, name):
    """A screenshot for a person to look at; and no message key left untranslated on the page (e.g. `role.nurse`)."""
    import re
    text = page.inner_text("body")
    missing = re.findall(r"\b(?:role|state|tier|result|upload|case|queue|dashboard|consent|accounts|nav)\.[A-Za-z-]+", text)
    assert not missing, f"untranslated message keys on {page.url}: {missing}"
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
