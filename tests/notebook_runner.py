"""Run a notebook with a real Jupyter kernel, the way the notebook tests do (imported by test modules).

Parameters are injected as papermill does: one cell right after the cell tagged ``parameters``.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"


def inject_parameters(nb, values: dict) -> None:
    """Insert a cell setting ``values`` right after the cell tagged ``parameters`` (papermill's convention)."""
    index = next(i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", []))
    source = "\n".join(f"{name} = {value!r}" for name, value in values.items())
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]}))


def run_notebook(path: Path, monkeypatch, build: Path, *, parameters: dict | None = None, timeout: int = 600):
    """Execute ``path`` in the ``quick`` profile with ``$GEONB_BUILD=build``; return ``(notebook, text)``.

    ``text`` joins every output's text and data (images left out), for assertions on what the notebook
    showed. A cell that raises fails right here (nbclient's CellExecutionError names the cell).
    """
    monkeypatch.setenv("GEONB_PROFILE", "quick")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.setenv("GEONB_BUILD", str(build))
    nb = nbformat.read(path, as_version=4)
    if parameters:
        inject_parameters(nb, parameters)
    # The venv's own `python3` kernel: the same interpreter as the tests, whatever kernels are registered.
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK_DIR)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "\n".join(o.get("text", "") + json.dumps({k: v for k, v in o.get("data", {}).items()
                                                     if not k.startswith("image/")}) for o in outputs)
    return nb, text
