"""Every notebook runs top to bottom in the quick profile with a real Jupyter kernel, and is committed clean.

The notebook runs share one temporary build folder per session (``session_build_dir`` in conftest):
the experiment cells notebook 05 trains are cached there and read back by 06 and 07 (the
parametrized runs go in file-name order), and the checkout's ``build/`` is left alone.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from notebook_runner import run_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_notebooks_are_numbered_from_00_without_gaps():
    names = [p.name for p in NOTEBOOKS]
    bad = [n for n in names if not re.fullmatch(r"\d\d[a-z]?_[a-z0-9_]+\.ipynb", n)]
    assert not bad, f"notebook names are NN_words.ipynb (or NNb_ for a companion), got {bad}"
    numbers = sorted({int(n[:2]) for n in names})
    assert numbers[:2] == [0, 1] and numbers == list(range(len(numbers))), f"numbers with gaps: {numbers}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_clean_and_structured(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), "strip outputs"
    assert nb["cells"][0]["cell_type"] == "markdown" and nb["cells"][0]["source"], "start with a title"
    tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged `parameters`"
    assert "get_profile" in "".join(tagged[0]["source"])
    prose = sum(c["cell_type"] == "markdown" for c in nb["cells"])
    assert prose >= len(code) // 2, "notebooks explain their code in prose"


#: Parameters injected into a notebook's quick run: 08b reads the real chip in ../shared/realdata by default
#: (tests/test_buildings.py runs it so); here it runs without one, on the generated town.
PARAMETERS = {"08b_buildings_real_chip": {"REAL_CHIP": None}}
#: Text a notebook's quick run must show (beyond running every cell), and text it must not.
SHOWS = {"08b_buildings_real_chip": ["AOI_0_Synthtown"]}  # no real chip given: the generated town
NEVER_SHOWS = {"08b_buildings_real_chip": ["winner"]}  # ... and no winners' predictions without a real chip


# One pytest-xdist worker runs them all, in file-name order (05 before the notebooks that read its cache).
@pytest.mark.xdist_group("notebooks")
@pytest.mark.notebook
@pytest.mark.timeout(600)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes_in_quick_profile(path, session_build_dir, monkeypatch):
    nb, text = run_notebook(path, monkeypatch, session_build_dir, parameters=PARAMETERS.get(path.stem))
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "every code cell ran, in order"
    shown = [o for c in code for o in c.get("outputs", [])
             if o.get("output_type") in ("display_data", "execute_result")]
    assert shown, f"{path.name} showed nothing (no figure, table, map or widget)"
    assert all(t in text for t in SHOWS.get(path.stem, ())), SHOWS[path.stem]
    assert not any(t in text for t in NEVER_SHOWS.get(path.stem, ()))


# ---- Notebook 09 on a real scene (parameters injected after the `parameters` cell, as papermill does) ----
NOTEBOOK_09 = ROOT / "notebooks" / "09_your_own_raster.ipynb"


@pytest.mark.notebook
@pytest.mark.timeout(900)
def test_notebook_09_runs_on_the_real_landsat5_scene(realdata, tmp_path, monkeypatch):
    folder = realdata / "landsat5-tucurui"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent (the real Landsat-5 scene lives in ../shared/realdata)")
    _, text = run_notebook(NOTEBOOK_09, monkeypatch, tmp_path / "build", parameters={
        "IMAGE": str(folder / "LT05_224063_19880814_B1-7.tif"), "LABELS": str(folder / "training_polygons.geojson"),
        "CLASS_FIELD": "class", "SENSOR": "landsat5"})
    # It really ran on the real scene: the sensor was taken as given, its four classes were found,
    # and the exported files are the scene's (not the generated example's).
    assert "landsat5" in text and "DN (Level-1 digital numbers" in text
    assert all(name in text for name in ("water", "forest", "cleared", "fallen_dry"))
    out = tmp_path / "build" / "09_your_own_raster"
    assert (out / "LT05_224063_19880814_B1-7_classes.tif").is_file()
    assert (out / "map.html").is_file()
    assert not (tmp_path / "build" / "09_example").exists()
