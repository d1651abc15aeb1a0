"""Runtime settings: the Keras backend default, the run profile, and a device report.

Nothing here imports Keras or a backend at module import time; :func:`device_report` does,
when it is called.

Profiles (``GEONB_PROFILE``)
----------------------------
``quick``
    CI and smoke tests: a few lakes, one epoch, one seed. Minutes for every notebook together.
``class`` (default)
    A laptop CPU in a class: the whole datasets, a few epochs, several seeds. Minutes per notebook.
``full``
    A GPU kernel: more epochs and seeds, larger sweeps.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field, replace

from geonb.errors import InvalidParameterError

#: Backend used when the user has not set ``KERAS_BACKEND``: TensorFlow measured fastest on CPU.
DEFAULT_BACKEND = "tensorflow"
#: Backends whose GPU builds exist on the GPU machines (TensorFlow is not installed there).
GPU_BACKENDS = ("torch", "jax")
PROFILE_ENV = "GEONB_PROFILE"
DEFAULT_PROFILE = "class"


def build_dir(*parts: str) -> "Path":
    """Folder for outputs the notebooks make (models, maps, tables): ``$GEONB_BUILD`` or ``build/``.

    ``build/`` is the checkout's (beside ``geonb/``) when geonb runs from a checkout, else ``./build``.
    The folder is created.
    """
    from pathlib import Path

    env = os.environ.get("GEONB_BUILD")
    if env:
        base = Path(env)
    else:
        checkout = Path(__file__).resolve().parents[1]
        base = checkout / "build" if (checkout / "pyproject.toml").exists() else Path.cwd() / "build"
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def set_default_backend() -> str:
    """Set ``KERAS_BACKEND`` to :data:`DEFAULT_BACKEND` unless the user chose one; return the backend."""
    return os.environ.setdefault("KERAS_BACKEND", DEFAULT_BACKEND)


@dataclass(frozen=True)
class Profile:
    """Sizes and lengths of a run, chosen in one place for every notebook and experiment.

    Attributes
    ----------
    name : str
    max_lakes : int or None
        How many lakes of a dataset to use (``None``: all). The split by lake is taken first,
        then each split is cut to its share, so every split keeps lakes.
    epochs : int
        Training epochs for the lakes models.
    patch_size : int
        The default patch size (the study's best: 16).
    patch_sizes : tuple of int
        The patch-size sweep (the study's Table 3).
    seeds : tuple of int
        Seeds for repeated runs (mean and spread in tables).
    batch_size : int
    buildings_tiles : int
        Number of generated building tiles.
    buildings_epochs : int
    """

    name: str
    max_lakes: int | None
    epochs: int
    patch_size: int = 16
    patch_sizes: tuple[int, ...] = (8, 16, 32, 64)
    seeds: tuple[int, ...] = (0,)
    batch_size: int = 32
    buildings_tiles: int = 16
    buildings_epochs: int = 10
    notes: str = field(default="", compare=False)


PROFILES: dict[str, Profile] = {
    "quick": Profile(
        "quick", max_lakes=60, epochs=1, patch_sizes=(8, 16), seeds=(0,), batch_size=32,
        buildings_tiles=2, buildings_epochs=1,
        notes="CI smoke run: a few lakes, 1 epoch. Numbers are not meaningful.",
    ),
    "class": Profile(
        "class", max_lakes=None, epochs=8, patch_sizes=(8, 16, 32, 64), seeds=(0, 1, 2),
        batch_size=32, buildings_tiles=8, buildings_epochs=8,
        notes="A laptop CPU: whole datasets, a few epochs, 3 seeds. Minutes per notebook.",
    ),
    "full": Profile(
        "full", max_lakes=None, epochs=40, patch_sizes=(8, 16, 32, 64), seeds=(0, 1, 2, 3, 4),
        batch_size=128, buildings_tiles=32, buildings_epochs=40,
        notes="A GPU kernel: longer training and more seeds.",
    ),
}


def get_profile(name: str | None = None, **overrides) -> Profile:
    """Return the run profile ``name`` (default: ``$GEONB_PROFILE``, else ``"class"``).

    Keyword arguments override single fields, e.g. ``get_profile("class", epochs=2)``.

    Examples
    --------
    >>> get_profile("quick").epochs
    1
    """
    if name is None:
        name = os.environ.get(PROFILE_ENV, DEFAULT_PROFILE) or DEFAULT_PROFILE
    key = str(name).strip().lower()
    if key not in PROFILES:
        raise InvalidParameterError(
            f"unknown profile {name!r} (from the argument or ${PROFILE_ENV}); "
            f"choose one of {sorted(PROFILES)}"
        )
    profile = PROFILES[key]
    return replace(profile, **overrides) if overrides else profile


@dataclass
class DeviceReport:
    """What this kernel will compute on: Keras backend, devices, GPU name and memory."""

    backend: str
    keras_version: str
    backend_version: str
    devices: list[str]
    gpus: list[dict]
    python: str = field(default_factory=platform.python_version)
    cpu_count: int = field(default_factory=lambda: os.cpu_count() or 1)

    @property
    def has_gpu(self) -> bool:
        return bool(self.gpus)

    def summary(self) -> str:
        """A few lines of plain text for a notebook or a log."""
        lines = [
            f"Keras {self.keras_version} on backend {self.backend} {self.backend_version}",
            f"Python {self.python}, {self.cpu_count} CPU cores",
        ]
        if self.gpus:
            for g in self.gpus:
                mem = g.get("memory_gib")
                mem_txt = f", {mem:.1f} GiB" if mem else ""
                lines.append(f"GPU: {g.get('name', 'unknown')}{mem_txt}")
        else:
            lines.append(
                "CPU only: no GPU is visible to this kernel. Training runs on the CPU: the `quick` and "
                "`class` profiles take minutes; the `full` profile is meant for a GPU kernel "
                "(see README, 'Using a GPU kernel')."
            )
        return "\n".join(lines)

    __str__ = summary

    def _repr_html_(self) -> str:
        from html import escape

        return "<pre>" + escape(self.summary()) + "</pre>"


def _gpus_torch() -> list[dict]:
    import torch

    gpus = []
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            p = torch.cuda.get_device_properties(i)
            gpus.append({"name": p.name, "memory_gib": p.total_memory / 2**30})
    return gpus


def _gpus_jax() -> list[dict]:
    import jax

    gpus = []
    for d in jax.devices():
        if d.platform == "gpu":
            mem = None
            try:
                stats = d.memory_stats() or {}
                mem = stats.get("bytes_limit", 0) / 2**30 or None
            except Exception:  # memory_stats is optional on some platforms
                mem = None
            gpus.append({"name": d.device_kind, "memory_gib": mem})
    return gpus


def _gpus_tensorflow() -> list[dict]:
    import tensorflow as tf

    gpus = []
    for d in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(d)
        gpus.append({"name": details.get("device_name", d.name), "memory_gib": None})
    return gpus


def device_report() -> DeviceReport:
    """Import Keras (with the configured backend) and report the devices it can use.

    This imports the deep-learning backend, which takes a few seconds.
    """
    set_default_backend()
    import keras

    backend = keras.backend.backend()
    finder = {"torch": _gpus_torch, "jax": _gpus_jax, "tensorflow": _gpus_tensorflow}.get(backend)
    gpus = finder() if finder else []
    mod = __import__(backend if backend != "torch" else "torch")
    devices = [f"GPU:{i} {g['name']}" for i, g in enumerate(gpus)] or ["CPU"]
    return DeviceReport(
        backend=backend,
        keras_version=keras.__version__,
        backend_version=getattr(mod, "__version__", "?"),
        devices=devices,
        gpus=gpus,
    )
