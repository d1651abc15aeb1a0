"""pyproject.toml and environment.yml list the same dependencies."""

import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
# pip name -> conda-forge name where they differ; None: installed by pip inside environment.yml.
CONDA_NAME = {"tensorflow-cpu": "tensorflow"}


def _name(spec: str) -> str:
    return re.split(r"[<>=!;\[ ]", spec, maxsplit=1)[0].strip().lower()


def _conda_names() -> set[str]:
    names = set()
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"\s+- ([A-Za-z0-9_.\-]+)", line)
        if m and m.group(1) not in ("pip", "conda-forge"):
            names.add(m.group(1).lower())
    return names


def test_environment_and_pyproject_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip = {_name(s) for s in project["dependencies"] + project["optional-dependencies"]["dev"]}
    pip = {CONDA_NAME.get(n, n) for n in pip}
    conda = _conda_names() - {"python"}
    assert pip == conda, f"only in pyproject: {sorted(pip - conda)}; only in environment.yml: {sorted(conda - pip)}"


def test_required_stack_is_declared():
    conda = _conda_names()
    for need in ("jupyterlab", "ipywidgets", "keras", "rasterio", "matplotlib", "folium", "scikit-learn",
                 "scipy", "shapely", "tqdm", "tensorflow"):
        assert need in conda
