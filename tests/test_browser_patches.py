"""The patch-size slider in real JupyterLab, in headless Chromium (TESTING-NOTES' recipe)."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

CELL = """
import numpy as np
from geonb.scene import Scene
from geonb.widgets import patch_size_explorer
rng = np.random.default_rng(0)
r, c = np.mgrid[:132, :132]
lab = np.where((r - 60) ** 2 + (c - 70) ** 2 < 40 ** 2, 1, 2).astype(np.uint8)
img = (rng.random((132, 132, 7)) * np.where(lab == 1, 0.2, 1.0)[..., None]).astype(np.float32)
app = patch_size_explorer(scenes=[Scene(img, lab, name="test lake")], size=16, dpi=60)
app
"""


@pytest.mark.xdist_group("jupyterlab")  # one JupyterLab server for these (make test runs pytest-xdist)
@pytest.mark.browser
@pytest.mark.timeout(300)
def test_patch_size_slider_in_jupyterlab(jupyterlab, chromium_page):
    import browser as _b

    nb = new_notebook(cells=[new_code_cell(CELL.strip())], metadata={
        "kernelspec": {"display_name": "geonb (Python 3)", "language": "python", "name": "geonb"}})
    nbformat.write(nb, jupyterlab.root_dir / "patch_slider_test.ipynb")
    page = chromium_page
    _b.open_notebook(page, jupyterlab, "patch_slider_test.ipynb")
    _b.run_all(page)
    handle = page.locator(".widget-slider .noUi-handle").first
    handle.wait_for(timeout=60_000)
    readout = page.locator(".widget-slider .widget-readout").first
    assert readout.inner_text().strip() == "16"
    figure = page.locator(".jp-OutputArea-output img").first
    figure.wait_for(timeout=60_000)
    src_before = figure.get_attribute("src")
    shot_before = _b.screenshot(figure, "patches_slider_16").read_bytes()

    handle.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "() => document.querySelector('.widget-slider .widget-readout').textContent.trim() === '17'",
        timeout=30_000)
    page.wait_for_function(
        "(before) => document.querySelector('.jp-OutputArea-output img').getAttribute('src') !== before",
        arg=src_before, timeout=30_000)
    shot_after = _b.screenshot(figure, "patches_slider_17").read_bytes()
    assert shot_after != shot_before
    counts = page.locator(".jp-OutputArea-output .widget-html-content").first.inner_text()
    assert "17×17 px patches" in counts
    assert not _b.error_outputs(page)
