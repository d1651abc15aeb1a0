"""Notebook 06 (the prediction viewer) run in a real JupyterLab, driven in headless Chromium."""

from __future__ import annotations

import pytest
from browser import open_notebook, run_all, screenshot, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.notebook, pytest.mark.timeout(900)]


def test_viewer_in_jupyterlab_reacts_to_lake_and_threshold(chromium_page, jupyterlab):
    page = chromium_page
    open_notebook(page, jupyterlab, "06_predictions_viewer.ipynb")
    run_all(page, timeout_s=600)

    viewer = page.locator(".jp-OutputArea-output .widget-vbox").filter(has_text="search").first
    viewer.wait_for(timeout=60_000)
    viewer.scroll_into_view_if_needed()
    scores = viewer.locator(".widget-html").filter(has_text="F1 (water)").first
    image = viewer.locator(".widget-image").first
    wait_until(lambda: image.evaluate("e => e.complete && e.naturalWidth > 0"), 30, what="the viewer's panels")
    text0, png0 = scores.inner_text(), image.screenshot()
    assert "synthetic scene near " in text0  # a stand-in lake is not titled as the real place
    screenshot(viewer, "nb06_viewer_start")

    # Next lake: the scores (lake name, counts) and the panels change.
    viewer.locator("button", has_text="next").click()
    wait_until(lambda: scores.inner_text() != text0, 30, what="the scores to follow the lake")
    text1 = scores.inner_text()
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
    screenshot(viewer, "nb06_viewer_after")
