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

import contextlib
import numbers
import os
import platform
import sys
import tempfile
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from geonb.errors import DeviceError, InvalidParameterError

#: Backend used when the user has not set ``KERAS_BACKEND``: TensorFlow measured fastest on CPU.
DEFAULT_BACKEND = "tensorflow"
#: Backends whose GPU builds exist on the GPU machines (TensorFlow is not installed there).
GPU_BACKENDS = ("torch", "jax")
PROFILE_ENV = "GEONB_PROFILE"
DEFAULT_PROFILE = "class"


def build_dir(*parts: str) -> Path:
    """Folder for outputs the notebooks make (models, maps, tables): ``$GEONB_BUILD`` or ``build/``.

    ``build/`` is the checkout's (beside ``geonb/``) when geonb runs from a checkout, else ``./build``.
    The folder is created.
    """
    env = os.environ.get("GEONB_BUILD")
    if env:
        base = Path(env)
    else:
        checkout = Path(__file__).resolve().parents[1]
        base = checkout / "build" if (checkout / "pyproject.toml").exists() else Path.cwd() / "build"
    for part in parts:
        if not isinstance(part, str) or not part or Path(part).is_absolute() or ".." in Path(part).parts:
            raise InvalidParameterError(
                f"`parts` must be relative folder names inside the build folder, got {part!r} in {parts!r}; "
                "use plain names such as build_dir('models')"
            )
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def set_default_backend() -> str:
    """Set ``KERAS_BACKEND`` to :data:`DEFAULT_BACKEND` unless the user chose one; return the backend."""
    return os.environ.setdefault("KERAS_BACKEND", DEFAULT_BACKEND)


#: Start-up notes that TensorFlow's C++ code writes to the process's stderr when it is imported (oneDNN's
#: "custom operations are on", absl's "log messages before InitializeLog", the CPU-feature note). They are
#: not warnings about anything a user did, and they reach notebooks as red stderr boxes (ipykernel captures
#: file descriptor 2, and Dask workers inherit it); TF_CPP_MIN_LOG_LEVEL does not hide them.
STARTUP_NOISE = ("oneDNN custom operations are on", "All log messages before absl::InitializeLog()",
                 "This TensorFlow binary is optimized to use available CPU instructions",
                 "To enable the following instructions:", "Unable to register cuDNN factory",
                 "Unable to register cuFFT factory", "Unable to register cuBLAS factory",
                 "computation placer already registered", "could not find cuda drivers")


@contextlib.contextmanager
def quiet_native_startup():
    """Hold back what native code writes to file descriptor 2 inside the block; re-write every line except
    the known start-up notes (:data:`STARTUP_NOISE`), so real warnings and errors still show."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable fd 2 (some embedded interpreters): nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            kept = [line for line in held.read().decode(errors="replace").splitlines()
                    if line.strip() and not any(n in line for n in STARTUP_NOISE)]
            if kept:
                print("\n".join(kept), file=sys.stderr)


def import_keras():
    """Import Keras on the configured backend, or say clearly which backend package is missing.

    Without this, a kernel set to a backend that is not installed (e.g. the *geonb (GPU)* kernel's
    ``torch`` on a machine without PyTorch) fails deep inside Keras with a bare ``ModuleNotFoundError``.
    """
    import importlib.util

    backend = set_default_backend()
    module = {"tensorflow": "tensorflow", "torch": "torch", "jax": "jax", "numpy": "numpy"}.get(backend)
    if module is None:
        raise DeviceError(
            f"KERAS_BACKEND={backend!r} is not a Keras backend geonb knows; use 'tensorflow', 'torch' or 'jax'"
        )
    if importlib.util.find_spec(module) is None:
        raise DeviceError(
            f"this kernel asks Keras for the {backend!r} backend (KERAS_BACKEND), but the {module!r} package is not "
            f"installed here; install it (e.g. `pip install {module}`, with CUDA for a GPU), or switch to the "
            "'geonb' kernel, which uses TensorFlow on the CPU"
        )
    if "keras" in sys.modules:
        import keras
    else:
        with quiet_native_startup():
            import keras

    if backend == "tensorflow":
        # geonb predicts tiles of several sizes on purpose (scene edges, whole small scenes); TensorFlow's
        # "triggered tf.function retracing" notes about that are noise in a notebook, so its Python logger
        # shows errors only. Keras' own warnings are unaffected.
        import logging

        logging.getLogger("tensorflow").setLevel(logging.ERROR)
        _match_tensorflow_threads()
    return keras


#: Environment variables with which a user (or a cluster) sets TensorFlow's thread counts (geonb then leaves
#: them alone). OMP_NUM_THREADS is not one: Dask's nannies set it to 1 for BLAS, not for TensorFlow.
THREAD_ENV = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def available_cores() -> int:
    """Cores this process may run on: its CPU affinity (``taskset``, a batch scheduler, a container), which
    can be fewer than the machine's ``os.cpu_count()``."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def _match_tensorflow_threads() -> dict:
    """Size TensorFlow's thread pools to the cores this process may use, unless the user set them.

    Set explicitly rather than left to TensorFlow's own detection (0): one intra-op thread per core this
    process may use (its CPU affinity, which batch schedulers set), and 2 inter-op threads (prediction runs
    one op graph at a time, while geonb's reader and writer threads do the I/O). TensorFlow's own default
    follows the affinity on Linux, but not a container's CPU quota; with the counts fixed here a run uses
    the same pools wherever it runs. Returns what was set (empty when ``TF_NUM_*`` settings stand or
    TensorFlow had already started).
    """
    if any(os.environ.get(v) for v in THREAD_ENV):
        return {}
    import tensorflow as tf

    cores = available_cores()
    try:
        if tf.config.threading.get_intra_op_parallelism_threads() == 0:
            tf.config.threading.set_intra_op_parallelism_threads(cores)
        if tf.config.threading.get_inter_op_parallelism_threads() == 0:
            tf.config.threading.set_inter_op_parallelism_threads(min(2, cores))
    except RuntimeError:  # TensorFlow already ran an op: its pools are fixed for this process
        return {}
    return {"intra_op": cores, "inter_op": min(2, cores)}


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
    learning_rate : float
        The lakes models' learning rate (the peak of the schedule, if any).
    learning_rate_schedule : None or "cosine"
        ``"cosine"``: the rate falls from ``learning_rate`` to 0 along a half cosine over the run
        (:func:`geonb.training.train`), so a few epochs get most of what many at a fixed rate get.
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
    learning_rate: float = 1e-3
    learning_rate_schedule: str | None = None
    buildings_tiles: int = 16
    buildings_epochs: int = 10
    notes: str = field(default="", compare=False)

    @property
    def sweep_seeds(self) -> tuple[int, ...]:
        """Seeds of notebook 05's patch-size and band sweeps: all in ``full``, else the first (the model
        comparison's spread over every seed is the yardstick for them)."""
        return self.seeds if self.name == "full" else self.seeds[:1]


PROFILES: dict[str, Profile] = {
    "quick": Profile(
        "quick", max_lakes=60, epochs=1, patch_sizes=(8, 16), seeds=(0,), batch_size=32,
        buildings_tiles=2, buildings_epochs=1,
        notes="CI smoke run: a few lakes, 1 epoch. Numbers are not meaningful.",
    ),
    "class": Profile(
        "class", max_lakes=None, epochs=4, patch_sizes=(8, 16, 32, 64), seeds=(0, 1, 2),
        batch_size=32, learning_rate=2e-3, learning_rate_schedule="cosine", buildings_tiles=8, buildings_epochs=5,
        notes="A laptop CPU: whole datasets, 4 epochs on a cosine schedule, 3 seeds. Minutes per notebook.",
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
    if not overrides:
        return profile
    known = {f.name for f in fields(Profile)} - {"name", "notes"}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise InvalidParameterError(
            f"get_profile() has no setting(s) {unknown}; the settings you can override are {sorted(known)}"
        )
    for key_, value in overrides.items():
        _check_profile_value(key_, value)
    return replace(profile, **overrides)


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _check_profile_value(name: str, value) -> None:
    """Validate one overridden :class:`Profile` field (positive ints, non-empty tuples of them)."""
    if name == "max_lakes" and value is None:
        return
    if name == "learning_rate":
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < 1:
            raise InvalidParameterError(f"`learning_rate` must be a number in (0, 1), e.g. 1e-3, got {value!r}")
        return
    if name == "learning_rate_schedule":
        if value not in (None, "cosine"):
            raise InvalidParameterError(
                f"`learning_rate_schedule` must be None (a fixed rate) or 'cosine', got {value!r}")
        return
    if name in ("patch_sizes", "seeds"):
        ok = isinstance(value, (tuple, list)) and len(value) > 0 and all(_is_int(v) for v in value)
        ok = ok and all(v >= (0 if name == "seeds" else 1) for v in value)
        if not ok:
            raise InvalidParameterError(
                f"`{name}` must be a non-empty tuple of {'non-negative' if name == 'seeds' else 'positive'} "
                f"integers, got {value!r}"
            )
        return
    if not _is_int(value) or value < 1:
        hint = " (or None for all lakes)" if name == "max_lakes" else ""
        raise InvalidParameterError(f"`{name}` must be a positive integer{hint}, got {value!r}")


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
    keras = import_keras()
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


#: Packages whose versions the setup notebook reports.
STACK = ("geonb", "numpy", "rasterio", "matplotlib", "folium", "ipywidgets", "jupyterlab", "keras",
         "tensorflow", "torch", "jax", "scikit-learn", "scipy", "shapely", "pandas")


def versions(packages: tuple[str, ...] = STACK) -> dict[str, str]:
    """Installed versions of ``packages`` (``"not installed"`` where absent), without importing them.

    Examples
    --------
    >>> versions(("numpy",))["numpy"] != "not installed"
    True
    """
    from importlib.metadata import PackageNotFoundError, version

    if isinstance(packages, str) or not all(isinstance(p, str) for p in packages):
        raise InvalidParameterError(
            f"`packages` must be a tuple of distribution names, e.g. ('numpy',), got {packages!r}"
        )
    alias = {"tensorflow": ("tensorflow", "tensorflow-cpu")}
    out = {}
    for name in packages:
        found = "not installed"
        for dist in alias.get(name, (name,)):
            try:
                found = version(dist)
                break
            except PackageNotFoundError:
                continue
        out[name] = found
    return out


# -------------------------------------------------------------------------------------------
# Jupyter kernels and the GPU (models/training part)
# -------------------------------------------------------------------------------------------
#: Environment variable a kernel sets to ask for the GPU (``gpu``) or the CPU (``cpu``).
DEVICE_ENV = "GEONB_DEVICE"


def kernel_specs(gpu_backend: str = "torch", python: str | None = None) -> dict[str, dict]:
    """The ``kernel.json`` contents of the ``geonb`` (CPU) and ``geonb-gpu`` kernels.

    The GPU kernel chooses its backend, profile and device through the kernelspec's ``env``, so
    a notebook needs no edits to move from a laptop CPU to a GPU machine.

    Examples
    --------
    >>> kernel_specs(python="/usr/bin/python3")["geonb-gpu"]["env"]["KERAS_BACKEND"]
    'torch'
    """
    import sys

    if gpu_backend not in GPU_BACKENDS:
        raise InvalidParameterError(
            f"`gpu_backend` must be one of {GPU_BACKENDS} (TensorFlow has no GPU build on the GPU machines), "
            f"got {gpu_backend!r}"
        )
    exe = python or sys.executable
    argv = [exe, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    return {
        "geonb": {"argv": argv, "display_name": "geonb (Python 3)", "language": "python",
                  "env": {"KERAS_BACKEND": DEFAULT_BACKEND, DEVICE_ENV: "cpu"},
                  "metadata": {"debugger": True}},
        "geonb-gpu": {"argv": argv, "display_name": "geonb (GPU)", "language": "python",
                      "env": {"KERAS_BACKEND": gpu_backend, PROFILE_ENV: "full", DEVICE_ENV: "gpu"},
                      "metadata": {"debugger": True}},
    }


def install_kernels(*, user: bool = True, prefix: str | None = None, gpu_backend: str = "torch",
                    python: str | None = None) -> dict[str, str]:
    """Register the Jupyter kernels ``geonb`` (CPU) and ``geonb-gpu`` ("geonb (GPU)").

    ``python -m geonb kernels install`` (``make kernels``) calls this. Both kernels run this
    environment's Python; the GPU kernel sets ``KERAS_BACKEND`` to ``gpu_backend``,
    ``GEONB_PROFILE=full`` and ``GEONB_DEVICE=gpu``. Re-running replaces the two kernelspecs.

    Parameters
    ----------
    user : bool
        Install for the current user (``~/.local/share/jupyter/kernels``); else system-wide.
    prefix : str, optional
        Install under ``prefix/share/jupyter/kernels`` (e.g. ``sys.prefix`` for a venv).
    gpu_backend : {"torch", "jax"}
    python : str, optional
        Interpreter the kernels run (default: this one).

    Returns
    -------
    dict of kernel name to the folder it was installed in
    """
    import json
    import tempfile
    import warnings

    from jupyter_client.kernelspec import KernelSpecManager

    specs = kernel_specs(gpu_backend, python)
    ksm = KernelSpecManager()
    out = {}
    for name, spec in specs.items():
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "kernel.json").write_text(json.dumps(spec, indent=1))
            out[name] = ksm.install_kernel_spec(d, kernel_name=name, user=user and prefix is None,
                                                prefix=prefix)
        # Jupyter looks in the user's folder first: a kernel of the same name there hides this one
        found = ksm.find_kernel_specs().get(name)
        dirs = [Path(d).resolve() for d in ksm.kernel_dirs]
        here = Path(out[name]).resolve().parent
        if found and here in dirs and Path(found).resolve().parent in dirs[:dirs.index(here)]:
            warnings.warn(
                f"the Jupyter kernel {name!r} at {found} hides the one just installed at {out[name]} (Jupyter "
                f"searches that folder first), so notebooks would run its interpreter; if it is stale, remove it with "
                f"`jupyter kernelspec remove {name}` and install again", stacklevel=2)
    return out


def require_gpu(strict: bool = False, report: DeviceReport | None = None) -> bool:
    """Check the GPU when this kernel asked for one (``GEONB_DEVICE=gpu``); return whether one is used.

    With no GPU visible: a clear warning (training falls back to the CPU), or, with
    ``strict=True``, a :class:`~geonb.errors.DeviceError`. Without ``GEONB_DEVICE=gpu`` (and not
    strict) nothing is required and the return value just says whether a GPU is there.
    """
    import warnings

    wanted = os.environ.get(DEVICE_ENV, "").strip().lower() == "gpu"
    report = report or device_report()
    if report.has_gpu:
        return True
    if strict:
        raise DeviceError(
            f"a GPU was required but none is visible to backend {report.backend!r}; run on a machine "
            "with a GPU and a CUDA build of torch or jax, or call require_gpu(strict=False) to use the CPU"
        )
    if wanted:
        warnings.warn(
            f"this is the GPU kernel ({DEVICE_ENV}=gpu) but backend {report.backend!r} sees no GPU: "
            "training runs on the CPU and the 'full' profile will be slow. Use the 'geonb' kernel with "
            "GEONB_PROFILE=class, or check the CUDA install (python -m geonb info).",
            UserWarning, stacklevel=2,
        )
    return False


def pick_batch_size(report: DeviceReport | None = None, profile: Profile | None = None,
                    patch_size: int = 16) -> int:
    """A training batch size suited to the device: the profile's on CPU, larger patches-per-batch on GPU.

    On a GPU, small batches leave it idle: aim at ~256 K pixels per batch (1024 patches of 16 x 16,
    capped at 1024); on a CPU the profile's size (the study's 16-32) trains as fast per epoch.
    """
    profile = profile or get_profile()
    if not _is_int(patch_size) or patch_size < 1:
        raise InvalidParameterError(f"`patch_size` must be a positive integer, got {patch_size!r}")
    if report is not None and report.has_gpu:
        return int(min(1024, max(profile.batch_size, (256 * 1024) // max(1, patch_size * patch_size))))
    return int(profile.batch_size)


def use_mixed_precision(report: DeviceReport | None = None, enable: bool | None = None) -> str:
    """Set Keras' global dtype policy: ``mixed_float16`` on a GPU, ``float32`` on a CPU; return it.

    Mixed precision halves activation memory and uses tensor cores on a GPU; on a CPU it is
    slower, so it is never chosen there. Call it *before* building a model. ``enable`` forces it
    on or off (``True`` without a GPU still gives ``float32``, with a warning).
    """
    import warnings

    if enable is not None and not (isinstance(enable, bool) or type(enable).__name__ == "bool_"):
        raise InvalidParameterError(f"`enable` must be True, False or None (automatic), got {enable!r}")
    keras = import_keras()
    has_gpu = bool(report is not None and report.has_gpu)
    want = has_gpu if enable is None else bool(enable)
    if want and not has_gpu:
        warnings.warn("mixed precision needs a GPU; keeping float32 on the CPU", UserWarning, stacklevel=2)
        want = False
    policy = "mixed_float16" if want else "float32"
    keras.mixed_precision.set_global_policy(policy)
    return policy
