"""``make lab`` — the first command a teacher runs — starts JupyterLab, also as root (issue 17).

A real ``make lab`` on a free port, headless: the URL with its token is printed plainly, the server answers
``/lab`` and ``/api/kernelspecs`` (the ``geonb`` kernel listed), and the whole process group is stopped after.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 180  # make's prerequisites are up to date in a set-up checkout; JupyterLab itself starts in seconds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@pytest.fixture
def lab(tmp_path):
    if not (ROOT / ".venv" / "bin" / "jupyter").exists():
        pytest.skip("no .venv with JupyterLab here: run `make setup` first")
    port = _free_port()
    log = tmp_path / "lab.log"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    env.pop("LAB_TOKEN", None)
    with log.open("wb") as out:
        proc = subprocess.Popen(["make", "--no-print-directory", "lab", f"PORT={port}", "LAB_ARGS=--no-browser"],
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        yield proc, port, log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def _wait_for_url(proc, log: Path, port: int) -> str:
    deadline = time.monotonic() + START_TIMEOUT_S
    pattern = re.compile(rf"geonb: JupyterLab will be at\s+(http://127\.0\.0\.1:{port}/lab\?token=[0-9a-f]+)")
    url = None
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        assert proc.poll() is None, f"make lab exited with {proc.returncode}:\n{text[-3000:]}"
        url = url or (m.group(1) if (m := pattern.search(text)) else None)
        if url and "is running at" in text:
            return url
        time.sleep(0.5)
    pytest.fail(f"make lab did not start in {START_TIMEOUT_S} s:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.mark.slow
def test_make_lab_starts_headless_and_lists_the_geonb_kernel(lab):
    proc, port, log = lab
    url = _wait_for_url(proc, log, port)
    token = url.rsplit("token=", 1)[1]
    text = log.read_text(errors="replace")
    if os.geteuid() == 0:
        assert "running as root, so JupyterLab is started with --allow-root" in text
    assert "Running as root is not recommended" not in text or "--allow-root" in text

    status, body = _get(url)
    assert status == 200 and b"JupyterLab" in body
    status, body = _get(f"http://127.0.0.1:{port}/api/kernelspecs?token={token}")
    assert status == 200
    specs = json.loads(body)["kernelspecs"]
    assert "geonb" in specs, f"kernels listed: {sorted(specs)}"
    # the token is required: without it the API refuses
    assert _get(f"http://127.0.0.1:{port}/api/kernelspecs")[0] == 403


@pytest.mark.slow
def test_make_lab_on_a_busy_port_fails_instead_of_moving(tmp_path):
    if not (ROOT / ".venv" / "bin" / "jupyter").exists():
        pytest.skip("no .venv with JupyterLab here: run `make setup` first")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
        run = subprocess.run(["make", "--no-print-directory", "lab", f"PORT={port}", "LAB_ARGS=--no-browser"],
                             cwd=ROOT, capture_output=True, text=True, timeout=START_TIMEOUT_S, env=env)
    assert run.returncode != 0
    assert "is running at" not in run.stdout + run.stderr
