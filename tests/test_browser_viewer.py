"""The prediction viewer in a real JupyterLab, driven in headless Chromium, on a small synthetic cell.

Notebook 06 itself runs headless in tests/test_notebooks.py; here only the widget's round trip through
JupyterLab (lake buttons, the threshold slider, scores and panels following them) is checked, on two
tiny lakes made in the cell, so no model is trained and no notebook is re-executed.
"""

from __future__ import annotations

import nbformat
import pytest
from browser import open_notebook, run_all, screenshot, wait_until
from nbformat.v4 import new_code_cell, new_notebook

pytestmark = [pytest.mark.browser, pytest.mark.notebook, pytest.mark.timeout(300)]

CELL = """
from types import SimpleNamespace
import numpy as np
from geonb.labels import LAND, UNCLASSIFIED, WATER
from geonb.scene import Scene
from geonb.widgets import PredictionViewer
rng = np.random.default_rng(0)
r, c = np.mgrid[:40, :48]
def lake(name, col):
    lab = np.where((r - 20) ** 2 + (c - col) ** 2 < 12 ** 2, WATER, LAND).astype(np.uint8)
    img = (rng.random((40, 48, 7)) * np.where(lab == WATER, 0.2, 1.0)[..., None]).astype(np.float32)
    props = {"id": name.split()[0].lower(), "split": "test", "source": "synthetic"}
    return Scene(img, lab, name=name, properties=props)
def predict(lab):
    p = np.clip(np.where(lab == WATER, 0.6, 0.4) + rng.uniform(-0.3, 0.3, lab.shape), 0, 1).astype(np.float32)
    return SimpleNamespace(classes=np.where(p >= 0.5, WATER, LAND).astype(np.uint8),
                           probabilities=np.stack([p, 1 - p, np.zeros_like(p)], axis=-1),
                           class_codes=(WATER, LAND, UNCLASSIFIED))
scenes = {s.properties["id"]: s for s in (lake("First lake", 16), lake("Second lake", 30))}
viewer = PredictionViewer(scenes, {"fcn": {k: predict(s.labels) for k, s in scenes.items()}})
viewer
"""


@pytest.mark.xdist_group("jupyterlab")  # one JupyterLab server for these (make test runs pytest-xdist)
def test_viewer_in_jupyterlab_reacts_to_lake_and_threshold(chromium_page, jupyterlab):
    nb = new_notebook(cells=[new_code_cell(CELL.strip())], metadata={
        "kernelspec": {"display_name": "geonb (Python 3)", "language": "python", "name": "geonb"}})
    nbformat.write(nb, jupyterlab.root_dir / "viewer_test.ipynb")
    page = chromium_page
    open_notebook(page, jupyterlab, "viewer_test.ipynb")
    run_all(page, timeout_s=120)

    viewer = page.locator(".jp-OutputArea-output .widget-vbox").filter(has_text="search").first
    viewer.wait_for(timeout=60_000)
    viewer.scroll_into_view_if_needed()
    scores = viewer.locator(".widget-html").filter(has_text="F1 (water)").first
    image = viewer.locator(".widget-image").first
    wait_until(lambda: image.evaluate("e => e.complete && e.naturalWidth > 0"), 30, what="the viewer's panels")
    text0, png0 = scores.inner_text(), image.screenshot()
    assert "synthetic scene near " in text0  # a stand-in lake is not titled as the real place
    screenshot(viewer, "viewer_start")

    # Next lake: the scores (lake name, counts) and the panels change.
    viewer.locator("button", has_text="next").click()
    wait_until(lambda: scores.inner_text() != text0, 30, what="the scores to follow the lake")
    text1 = scores.inner_text()
    assert "Second lake" in text1
    wait_until(lambda: image.screenshot() != png0, 30, what="the panels to follow the lake")
    png1 = image.screenshot()

    # Threshold slider: three steps down (0.50 -> 0.35) with the keyboard.
    slider = viewer.locator(".widget-slider").filter(has_text="water threshold")
    handle = slider.locator(".noUi-handle")
    handle.focus()
    for _ in range(3):
        handle.press("ArrowLeft")
    wait_until(lambda: slider.locator(".widget-readout").inner_text().strip() == "0.35", 30,
               what="the threshold readout")
    wait_until(lambda: "threshold 0.35" in scores.inner_text(), 30, what="the scores to follow the threshold")
    assert scores.inner_text() != text1
    wait_until(lambda: image.screenshot() != png1, 30, what="the panels to follow the threshold")
    screenshot(viewer, "viewer_after")
