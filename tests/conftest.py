"""Shared pytest fixtures. Shared file: add your fixtures in your own section; do not rewrite others'."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

# `tests/` on sys.path so test modules (imported with --import-mode=importlib) can `import browser`.
_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)


# ---- Browser fixtures (headless Chromium via Playwright; JupyterLab) -------------------------------
# Tests using them should be marked `@pytest.mark.browser` and given a `@pytest.mark.timeout(...)`.
# They skip with a clear reason when /usr/bin/chromium (or playwright) is missing.
@pytest.fixture(scope="session")
def chromium_browser():
    """A headless Chromium browser (Playwright), shared by the whole session."""
    import browser as _b

    reason = _b.chromium_skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = _b.launch_chromium(p)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def chromium_page(chromium_browser):
    """A fresh Playwright page (own context: no shared cookies/storage) with generous step timeouts.

    Requests to anything but 127.0.0.1/localhost, ``data:`` and ``file:`` URLs are aborted, so a test
    proves the page works without internet.
    """
    import browser as _b

    context = chromium_browser.new_context(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
    context.set_default_timeout(_b.STEP_TIMEOUT_MS)
    context.set_default_navigation_timeout(60_000)

    def _offline(route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "http://localhost", "ws://127.0.0.1", "data:", "file:",
                           "blob:", "about:")):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", _offline)
    page = context.new_page()
    page.geonb_console = []  # console messages, for failure diagnostics
    page.on("console", lambda msg: page.geonb_console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: page.geonb_console.append(f"pageerror: {exc}"))
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="session")
def session_build_dir(tmp_path_factory) -> Path:
    """One temporary build folder (``$GEONB_BUILD``) for every notebook run of the session.

    Shared by the headless notebook runs and the JupyterLab kernels of one pytest process (under
    ``make test``'s pytest-xdist each worker has its own): experiment cells that one notebook trained
    and cached (05) are read back by the next (06, 07) instead of retrained, and the checkout's
    ``build/`` is never read or written by the tests.
    """
    return tmp_path_factory.mktemp("build")


@pytest.fixture(scope="session")
def jupyterlab(tmp_path_factory, session_build_dir):
    """A JupyterLab server (session-scoped) serving a temporary COPY of ``notebooks/``.

    Yields a ``browser.JupyterLabServer`` with ``url``, ``token``, ``root_dir`` (the copy),
    ``lab_url(name)`` and ``log()``. Runs with ``GEONB_PROFILE=quick`` unless set otherwise, and
    with ``GEONB_BUILD`` = :func:`session_build_dir`.
    """
    import browser as _b

    reason = _b.chromium_skip_reason()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("jupyterlab")
    root = _b.copy_notebooks(base)
    server = _b.start_jupyterlab(root, base / "home", extra_env={"GEONB_BUILD": str(session_build_dir)})
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sinusoidal_scene(tmp_path):
    """A small lake scene (20 x 24 px, 7 bands) on the MODIS sinusoidal grid near Lake Geneva, read
    back from real GeoTIFFs in ``tmp_path``: water (class 1) in the left half, land (2) right, a
    nodata corner. Used by the map and viewer tests."""
    from affine import Affine

    from geonb.labels import LAND, WATER
    from geonb.scene import Scene, read_scene, write_scene

    rng = np.random.default_rng(0)
    rows, cols = 20, 24
    labels = np.full((rows, cols), LAND, np.uint8)
    labels[:, : cols // 2] = WATER
    water = np.array([0.03, 0.02, 0.05, 0.04, 0.01, 0.005, 0.003], np.float32)
    land = np.array([0.12, 0.30, 0.06, 0.10, 0.28, 0.22, 0.14], np.float32)
    image = np.where((labels == WATER)[..., None], water, land) + rng.normal(0, 0.004, (rows, cols, 7))
    nodata = np.zeros((rows, cols), bool)
    nodata[:2, -3:] = True
    sinu = "+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m +no_defs"
    transform = Affine(463.312716525, 0, 510000.0, 0, -463.312716525, 5150000.0)
    scene = Scene(image.astype(np.float32), labels=labels, crs=sinu, transform=transform, nodata_mask=nodata,
                  name="Test lake", properties={"id": "test-lake", "split": "test"})
    write_scene(scene, tmp_path / "img.tif", tmp_path / "lab.tif")
    return read_scene(tmp_path / "img.tif", tmp_path / "lab.tif", name="Test lake",
                      properties={"id": "test-lake", "split": "test"})


# ---- Lakes datasets (geonb.datasets) ---------------------------------------------------------------
@pytest.fixture(scope="session")
def tiny_lakes_root(tmp_path_factory):
    """A folder holding both synthetic lakes datasets, tiny (12 and 4 lakes), generated once per session.

    Use ``LakeDataset("lakes-synthetic", root=tiny_lakes_root)``. Do not modify it (copy it first).
    """
    from geonb.datasets.synthetic import generate_lakes

    root = tmp_path_factory.mktemp("lakes")
    generate_lakes(root, seed=0, n_lakes=12, n_lakes_unclassified=4, progress=False, workers=1)
    return root


# ---- Real files nobody here made (../shared/realdata, never copied into the repository) -------------
REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The folder of real scenes beside the project (``../shared/realdata``); skip when it is absent."""
    if not REALDATA.is_dir():
        pytest.skip(f"real data folder {REALDATA} is absent (it lives beside the project, in ../shared/realdata)")
    return REALDATA


@pytest.fixture(scope="session", autouse=True)
def _close_local_dask_cluster():
    """Stop the local Dask cluster that geonb.distributed.get_client may have started, while pytest's output is
    still open (its workers' shutdown messages otherwise hit closed streams at interpreter exit)."""
    yield
    import sys

    if "geonb.distributed" in sys.modules:
        sys.modules["geonb.distributed"].close_local_cluster()
