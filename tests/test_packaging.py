"""pyproject.toml and environment.yml list the same dependencies, and every package geonb imports is declared."""

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
# pip name -> conda-forge name where they differ; None: installed by pip inside environment.yml.
CONDA_NAME = {"tensorflow-cpu": "tensorflow", "jupyter-client": "jupyter_client"}
# Keras backends geonb can use when installed (runtime.py reports them); TensorFlow is the declared default.
OPTIONAL_IMPORTS = {"torch", "jax"}


def _name(spec: str) -> str:
    return re.split(r"[<>=!;\[ ]", spec, maxsplit=1)[0].strip().lower()


def _conda_names() -> set[str]:
    names = set()
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"\s+- ([A-Za-z0-9_.\-]+)", line)
        if m and m.group(1) not in ("pip", "conda-forge"):
            names.add(m.group(1).lower())
    return names


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_name(s) for s in project["dependencies"]}


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


def test_every_package_geonb_imports_is_declared():
    """A third-party import in geonb/ whose distribution is not in pyproject's dependencies fails here."""
    top = set()
    for path in (ROOT / "geonb").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                top.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                top.add(node.module.split(".")[0])
    third_party = top - set(sys.stdlib_module_names) - {"geonb", "__future__"} - OPTIONAL_IMPORTS
    dists = packages_distributions()
    declared = _declared() | {"tensorflow"}  # tensorflow-cpu installs the `tensorflow` import
    missing = {}
    for module in sorted(third_party):
        names = {d.lower().replace("_", "-") for d in dists.get(module, [module])}
        if not names & {d.replace("_", "-") for d in declared}:
            missing[module] = sorted(names)
    assert not missing, f"imported by geonb but not declared in pyproject.toml (module: distributions): {missing}"
