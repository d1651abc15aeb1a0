"""Every notebook runs top to bottom in the quick profile with a real Jupyter kernel, and is committed clean."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_notebooks_exist_in_order():
    names = [p.name[:2] for p in NOTEBOOKS]
    assert names == sorted(names)
    assert "00" in names and "01" in names


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


@pytest.mark.notebook
@pytest.mark.timeout(900)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes_in_quick_profile(path, tmp_path, monkeypatch):
    monkeypatch.setenv("GEONB_PROFILE", "quick")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.setenv("GEONB_BUILD", str(tmp_path / "build"))
    nb = nbformat.read(path, as_version=4)
    # The venv's own `python3` kernel: the same interpreter as the tests, whatever kernels are registered.
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "notebooks")}})
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    errors = [o for c in nb.cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    out = ROOT / "build" / "notebooks"
    out.mkdir(parents=True, exist_ok=True)
    (out / "timings.txt").open("a").write(f"{path.stem}\t{elapsed:.1f} s\t{os.environ.get('GEONB_PROFILE')}\n")


# ---- Notebook 09 on a real scene (parameters injected after the `parameters` cell, as papermill does) ----
NOTEBOOK_09 = ROOT / "notebooks" / "09_your_own_raster.ipynb"


def _inject_parameters(nb, values: dict) -> None:
    """Insert a cell setting ``values`` right after the cell tagged ``parameters`` (papermill's convention)."""
    index = next(i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", []))
    source = "\n".join(f"{name} = {value!r}" for name, value in values.items())
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]}))


@pytest.mark.notebook
@pytest.mark.timeout(900)
def test_notebook_09_runs_on_the_real_landsat5_scene(realdata, tmp_path, monkeypatch):
    folder = realdata / "landsat5-tucurui"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent (the real Landsat-5 scene lives in ../shared/realdata)")
    monkeypatch.setenv("GEONB_PROFILE", "quick")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.setenv("GEONB_BUILD", str(tmp_path / "build"))
    nb = nbformat.read(NOTEBOOK_09, as_version=4)
    _inject_parameters(nb, {"IMAGE": str(folder / "LT05_224063_19880814_B1-7.tif"),
                            "LABELS": str(folder / "training_polygons.geojson"),
                            "CLASS_FIELD": "class", "SENSOR": "landsat5"})
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "notebooks")}})
    client.execute()
    text = "\n".join(o.get("text", "") + json.dumps(o.get("data", {}))
                     for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    errors = [o for c in nb.cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    # It really ran on the real scene: the sensor was taken as given, its four classes were found,
    # and the exported files are the scene's (not the generated example's).
    assert "landsat5" in text and "DN (Level-1 digital numbers" in text
    assert all(name in text for name in ("water", "forest", "cleared", "fallen_dry"))
    out = tmp_path / "build" / "09_your_own_raster"
    assert (out / "LT05_224063_19880814_B1-7_classes.tif").is_file()
    assert (out / "map.html").is_file()
    assert not (tmp_path / "build" / "09_example").exists()
