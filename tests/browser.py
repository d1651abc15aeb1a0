"""Helpers for tests that drive a real headless Chromium (and a real JupyterLab) with Playwright.

Used through the fixtures in ``tests/conftest.py`` (``chromium_page``, ``jupyterlab``), or directly::

    from browser import open_notebook, run_all, screenshot

Facts these helpers rely on are in ``TESTING-NOTES.md`` ("Headless Chromium", "JupyterLab driven in
Chromium"): Debian's ``/usr/bin/chromium`` with fixed flags (never ``playwright install``), JupyterLab
served from a temporary COPY of the notebooks with its own HOME/config folders, the news pop-up
disabled, and every wait bounded by a timeout so a test fails instead of hanging.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"

CHROMIUM = os.environ.get("GEONB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Default wait for one browser step (ms). Generous: CI machines have 2 busy cores.
STEP_TIMEOUT_MS = 30_000
#: Kernel name the notebooks ask for (their kernelspec); registered in the server's own data dir.
KERNEL_NAME = "geonb"


def chromium_skip_reason() -> str | None:
    """Why browser tests cannot run here (None when they can)."""
    if not Path(CHROMIUM).exists():
        return (f"headless Chromium not found at {CHROMIUM} (install Debian's `chromium` package; "
                "never `playwright install`)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the `playwright` Python package is not installed (pip install playwright)"
    return None


def launch_chromium(playwright, **kwargs):
    """Launch Debian's Chromium through Playwright with the flags from TESTING-NOTES."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, **kwargs)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], object], timeout_s: float = 30.0, interval_s: float = 0.2,
               what: str = "condition") -> object:
    """Call ``predicate`` until it returns a truthy value; raise ``TimeoutError`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except Exception as exc:  # noqa: BLE001 - retried until the deadline, then reported
            last_exc = exc
            value = None
        if value:
            return value
        time.sleep(interval_s)
    raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}"
                       + (f" (last error: {last_exc!r})" if last_exc else ""))


def screenshot_dir() -> Path:
    """Where :func:`screenshot` saves: ``screenshots/`` in ``$GEONB_BUILD`` (else the checkout's ``build/``)."""
    return Path(os.environ.get("GEONB_BUILD") or REPO_ROOT / "build") / "screenshots"


def screenshot(target, name: str, **kwargs) -> Path:
    """Save a PNG screenshot of a Playwright page or locator to ``<screenshot_dir()>/<name>.png``."""
    folder = screenshot_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name if name.endswith(".png") else f"{name}.png")
    target.screenshot(path=str(path), **kwargs)
    return path


def png_pixel(png: bytes, x: int, y: int) -> tuple[int, int, int, int]:
    """RGBA of pixel (x, y) of a PNG given as bytes (e.g. ``page.screenshot()``)."""
    import io

    import matplotlib.image as mpimg
    import numpy as np

    arr = mpimg.imread(io.BytesIO(png), format="png")
    px = np.asarray(arr[int(y), int(x)], dtype=float)
    if px.max() <= 1.0:
        px = px * 255
    px = np.round(px).astype(int).tolist()
    return tuple(px + [255] * (4 - len(px)))  # type: ignore[return-value]


def png_array(png: bytes):
    """A PNG (bytes) as a ``(rows, cols, channels)`` uint8 array."""
    import io

    import matplotlib.image as mpimg
    import numpy as np

    arr = mpimg.imread(io.BytesIO(png), format="png")
    if arr.dtype != np.uint8:
        arr = np.round(arr * 255).astype(np.uint8)
    return arr


# ---------------------------------------------------------------------------------------------
# JupyterLab
# ---------------------------------------------------------------------------------------------
@dataclass
class JupyterLabServer:
    """A running JupyterLab server on 127.0.0.1 serving ``root_dir`` (a temporary copy of notebooks)."""

    url: str
    token: str
    root_dir: Path
    process: subprocess.Popen
    log_path: Path
    env: dict = field(default_factory=dict, repr=False)

    def lab_url(self, notebook: str) -> str:
        """URL that opens ``notebook`` (relative to ``root_dir``) in a fresh workspace."""
        return f"{self.url}/lab/tree/{notebook}?token={self.token}&reset"

    def log(self) -> str:
        """The server's log so far (for failure messages)."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def api(self, path: str, timeout_s: float = 5.0):
        """GET ``/api/<path>`` and return the decoded JSON."""
        req = urllib.request.Request(f"{self.url}/api/{path}", headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            return json.loads(resp.read().decode())

    def stop(self, timeout_s: float = 15.0) -> None:
        """Shut the server (and its kernels) down; kill it if it does not stop in time."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            self.process.terminate()
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=5)


def copy_notebooks(dest: Path, names: list[str] | None = None, source: Path = NOTEBOOKS_DIR) -> Path:
    """Copy ``notebooks/`` (or only ``names``) into ``dest/notebooks`` and return that folder.

    Served from a copy, JupyterLab's autosave cannot write outputs into the repository. The copy sits
    one level below ``dest`` so a notebook's ``../build/...`` outputs also stay inside ``dest``.
    """
    target = Path(dest) / "notebooks"
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(Path(source).glob("*.ipynb")):
        if names is None or path.name in names:
            shutil.copy2(path, target / path.name)
    return target


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1))


def start_jupyterlab(root_dir: Path, home: Path, *, timeout_s: float = 90.0,
                     extra_env: dict | None = None) -> JupyterLabServer:
    """Start JupyterLab on a free port serving ``root_dir``, isolated under ``home``.

    HOME, Jupyter config/data/runtime folders, IPython and Matplotlib config all live under ``home``;
    a ``geonb`` kernelspec pointing at this Python is registered there; the news/update pop-ups are
    off and notebook windowing is off (so every cell stays in the DOM for the tests).
    Raises ``RuntimeError`` with the server log if it is not ready within ``timeout_s``.
    """
    home = Path(home)
    token = uuid.uuid4().hex
    port = free_port()
    dirs = {name: home / name for name in ("config", "data", "runtime", "ipython", "mpl", "settings",
                                            "workspaces")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    _write_json(dirs["data"] / "kernels" / KERNEL_NAME / "kernel.json", {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "geonb (Python 3)",
        "language": "python",
    })
    _write_json(dirs["config"] / "labconfig" / "page_config.json",
                {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    _write_json(dirs["settings"] / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings",
                {"windowingMode": "none"})
    _write_json(dirs["settings"] / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings",
                {"checkForUpdates": False, "fetchNews": "false"})
    env = dict(os.environ)
    env.update({
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
        "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
        "IPYTHONDIR": str(dirs["ipython"]),
        "MPLCONFIGDIR": str(dirs["mpl"]),
        "GEONB_PROFILE": os.environ.get("GEONB_PROFILE", "quick"),
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p),
    })
    env.update(extra_env or {})
    log_path = home / "jupyterlab.log"
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}",
        "--ip=127.0.0.1", f"--ServerApp.token={token}", f"--ServerApp.root_dir={root_dir}",
        "--ServerApp.port_retries=0", "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--MappingKernelManager.cull_idle_timeout=0",
    ]
    log_file = open(log_path, "wb")  # noqa: SIM115 - kept open for the server's lifetime
    proc = subprocess.Popen(cmd, cwd=str(root_dir), env=env, stdout=log_file, stderr=subprocess.STDOUT,
                            start_new_session=True)
    log_file.close()  # the child holds its own descriptor
    server = JupyterLabServer(url=f"http://127.0.0.1:{port}", token=token, root_dir=Path(root_dir),
                              process=proc, log_path=log_path, env=env)

    def ready():
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {proc.returncode}:\n{server.log()[-3000:]}")
        try:
            return server.api("status", timeout_s=2)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return None

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ready():
            return server
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"JupyterLab did not answer within {timeout_s:.0f} s:\n{server.log()[-3000:]}")


# ---------------------------------------------------------------------------------------------
# Driving a notebook
# ---------------------------------------------------------------------------------------------
IDLE = ".jp-Notebook-ExecutionIndicator[data-status='idle']"

_KERNEL_IDLE_JS = """() => Array.from(document.querySelectorAll('.jp-StatusBar-TextItem'))
    .some(e => / \\| Idle$/.test(e.textContent.trim()))"""

_PROMPTS_JS = """() => Array.from(document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt')).map(e => e.textContent.trim())"""


def open_notebook(page, server: JupyterLabServer, notebook: str, timeout_ms: int = 90_000) -> None:
    """Open ``notebook`` in JupyterLab and wait until its kernel is idle."""
    page.goto(server.lab_url(notebook), timeout=timeout_ms)
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=timeout_ms)
    # The execution indicator says "idle" before a kernel exists; wait for the kernel itself.
    page.wait_for_function(_KERNEL_IDLE_JS, timeout=timeout_ms)
    page.wait_for_selector(IDLE, timeout=timeout_ms)


def cell_prompts(page) -> list[str]:
    """The input prompts of the open notebook's code cells (``"[3]:"``, ``"[*]:"``, ``"[ ]:"``)."""
    return page.evaluate(_PROMPTS_JS)


def run_all(page, timeout_s: float = 300.0) -> list[str]:
    """Run every cell through the Run menu; wait until each code cell has a number and the kernel is idle.

    Returns the prompts. Raises ``TimeoutError`` (with the prompts seen) if that does not happen in time.
    A cell that raises stops "run all" in JupyterLab, so a failing notebook ends here with a timeout that
    lists which cells did not run; :func:`error_outputs` gives the traceback text.
    """
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
    last: list[str] = []

    deadline = time.monotonic() + timeout_s
    stalled_since = None
    while time.monotonic() < deadline:
        last = cell_prompts(page)
        idle = page.locator(IDLE).count() > 0 and page.evaluate(_KERNEL_IDLE_JS)
        unfinished = not last or any(not p.strip("[]: ").isdigit() for p in last)
        if idle and not unfinished:
            return last
        # Idle with unrun cells and no "[*]" for a few seconds: run-all stopped (a cell raised).
        if idle and not any("*" in p for p in last):
            stalled_since = stalled_since or time.monotonic()
            if time.monotonic() - stalled_since > 4.0 and error_outputs(page):
                raise AssertionError(f"run-all stopped, a cell raised (prompts {last}):\n"
                                     + "\n---\n".join(error_outputs(page)))
        else:
            stalled_since = None
        time.sleep(0.5)
    raise TimeoutError(f"run-all did not finish in {timeout_s:.0f} s; prompts: {last}; "
                       f"errors: {error_outputs(page)}")


def error_outputs(page) -> list[str]:
    """Text of the error (traceback) outputs in the open notebook."""
    # JupyterLab 4 renders tracebacks as stderr text; warnings are stderr too, so keep tracebacks only.
    loc = page.locator("[data-mime-type='application/vnd.jupyter.error'], "
                       "[data-mime-type='application/vnd.jupyter.stderr']")
    texts = [loc.nth(i).inner_text() for i in range(loc.count())]
    return [t[-2500:] for t in texts if "Traceback" in t or t.lstrip().startswith("-----")]


def wait_idle(page, timeout_ms: int = STEP_TIMEOUT_MS) -> None:
    """Wait until the notebook's kernel is idle again (after a widget change triggered work)."""
    page.wait_for_timeout(150)  # let a just-sent message flip the indicator to busy first
    page.wait_for_selector(IDLE, timeout=timeout_ms)
