"""Scale out on Dask (``dask.distributed``): many rasters as tasks, one huge raster in chunks, patches at scale.

Downstream of :mod:`geonb.prediction`, whose single-process functions stay the reference: every result here
equals theirs (tested).

* :func:`predict_rasters` -- one task per raster. The model is shipped to each worker **once** (a
  :class:`distributed.WorkerPlugin` holding the model's ``.keras`` bytes; a worker loads it on its first task
  and keeps it, keyed by the model's fingerprint), each task runs :func:`geonb.prediction.predict_raster` on
  one raster and writes ``<stem>_classes.tif``, a Cloud-Optimized GeoTIFF with a colour table, atomically.
  One row per scene: status, error, pixels and km² per class, seconds, worker. A failing scene is reported
  and does not stop the others. A re-run skips scenes whose output carries the same fingerprint (model
  weights + settings + geonb version), so a killed run resumes.
* :func:`predict_raster_chunked` -- one raster cut into chunks with halos (the same blocks and halo rule
  as :func:`~geonb.prediction.predict_raster`, see :func:`~geonb.prediction.raster_blocks`), predicted on
  the workers, written block by block into one GeoTIFF by this process as results arrive. At most a few
  chunks are in flight at any time, so memory is bounded by the chunk size, not the raster size.
* :func:`patch_dataset_distributed` -- :func:`geonb.patches.patch_dataset` with one task per scene.
* :func:`get_client` -- a client: a scheduler address, ``GEONB_DASK_SCHEDULER``, or a local cluster
  sized to this machine.

Workers need ``geonb`` installed (the task functions live here; no notebook code is shipped), and the
files must be reachable at the same paths from every worker (a shared file system, or a local cluster).

Dask is imported inside the functions, so ``import geonb`` stays light.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import inspect
import json
import os
import re
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from geonb.errors import (
    CatalogError,
    DatasetNotFoundError,
    GeonbError,
    InvalidParameterError,
    ModelError,
    OutputExistsError,
)
from geonb.labels import LAKE_CLASSES

#: Environment variable holding a scheduler address (``tcp://host:8786``) that :func:`get_client` uses.
SCHEDULER_ENV = "GEONB_DASK_SCHEDULER"
#: Suffix of the class maps :func:`predict_rasters` writes: ``<input stem>_classes.tif``.
OUTPUT_SUFFIX = "_classes.tif"
#: Tag of an output holding the fingerprint of the model and settings that wrote it.
FINGERPRINT_TAG = "GEONB_FINGERPRINT"
#: Tag of an output holding its per-scene statistics (JSON), read back when a scene is skipped.
STATS_TAG = "GEONB_SCENE_STATS"
#: Models kept loaded per worker process (a notebook compares two models; more would cost memory).
MODEL_CACHE_SIZE = 2

_PREDICT_RASTER_ARGS = ("block", "patch_size", "overlap", "batch_size", "bands", "classes", "class_names", "scale",
                        "nodata", "sensor", "band_ids", "product", "skip_nodata")

# ---- worker-side state (one copy per worker process) ---------------------------------------------
_MODEL_BYTES: dict[str, bytes] = {}  # fingerprint -> .keras bytes, set by _ModelPlugin.setup
_MODELS: OrderedDict[str, object] = OrderedDict()  # fingerprint -> loaded model (LRU)
_MODEL_LOADS: dict[str, int] = {}  # fingerprint -> times loaded in this process (tests read it)
_MODEL_LOCK = threading.Lock()
_LOCAL: dict[str, object] = {}  # the local cluster and client get_client made, reused


# -------------------------------------------------------------------------------------------
# Clients
# -------------------------------------------------------------------------------------------
def local_cluster_settings(n_workers: int | None = None, threads_per_worker: int = 1) -> dict:
    """Keyword arguments of the ``LocalCluster`` that :func:`get_client` starts.

    One worker *process* per allowed core (:func:`geonb.runtime.available_cores`) with one thread each,
    and TensorFlow's intra-op pool, OpenMP and BLAS limited to that thread in every worker
    (``TF_NUM_INTRAOP_THREADS``, ``OMP_NUM_THREADS``, ...). Why: prediction tasks are independent rasters,
    so processes scale almost linearly and also run GDAL's decompression and compression (inside
    ``predict_raster``'s reader and writer threads) in parallel; TensorFlow's default intra-op pool
    would instead size itself to every core in *each* worker, and N workers x N threads oversubscribe the
    cores (measured slower on the 2-core CI machine). Memory is split evenly (``memory_limit="auto"``).
    """
    from geonb.runtime import available_cores

    for name, v in (("threads_per_worker", threads_per_worker), ("n_workers", n_workers)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1):
            raise InvalidParameterError(f"`{name}` must be an int >= 1, got {v!r}")
    cores = available_cores()
    n = int(n_workers) if n_workers is not None else max(1, cores // int(threads_per_worker))
    t = str(int(threads_per_worker))
    env = {"TF_NUM_INTRAOP_THREADS": t, "TF_NUM_INTEROP_THREADS": t, "OMP_NUM_THREADS": t,
           "MKL_NUM_THREADS": t, "OPENBLAS_NUM_THREADS": t, "TF_CPP_MIN_LOG_LEVEL": "2",
           "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "tensorflow")}
    return {"n_workers": n, "threads_per_worker": int(threads_per_worker), "processes": True, "env": env,
            "dashboard_address": ":0"}


def get_client(client=None, *, n_workers: int | None = None, threads_per_worker: int = 1):
    """A ``distributed.Client`` to run geonb's tasks on.

    Parameters
    ----------
    client : None, str or distributed.Client
        ``None``: the scheduler in ``$GEONB_DASK_SCHEDULER`` if set, else a local cluster on this machine
        (started once, then reused; :func:`local_cluster_settings` says how it is sized and why).
        A ``"tcp://host:port"`` address: connect to that scheduler, using its cluster unchanged.
        A ``Client``: used as it is.
    n_workers, threads_per_worker : int
        Only for the local cluster.

    Examples
    --------
    >>> client = get_client()                      # doctest: +SKIP
    >>> client = get_client("tcp://10.0.0.5:8786")  # doctest: +SKIP
    """
    from distributed import Client

    if isinstance(client, Client):
        return client
    if client is None and os.environ.get(SCHEDULER_ENV):
        client = os.environ[SCHEDULER_ENV]
    if isinstance(client, str):
        if not client.strip():
            raise InvalidParameterError(
                f"`client` must be a scheduler address such as 'tcp://host:8786', got {client!r}")
        try:
            return Client(client, timeout="20s")
        except OSError as exc:
            raise InvalidParameterError(
                f"cannot reach the Dask scheduler {client!r} ({exc}); check the address (and "
                f"${SCHEDULER_ENV}), or pass client=None for a local cluster"
            ) from exc
    if client is not None:
        raise InvalidParameterError(
            f"`client` must be None, a scheduler address ('tcp://...') or a distributed.Client, got "
            f"{type(client).__name__}")
    cached = _LOCAL.get("client")
    settings = local_cluster_settings(n_workers, threads_per_worker)
    if cached is not None and cached.status == "running":
        if _LOCAL.get("size") == (settings["n_workers"], settings["threads_per_worker"]):
            return cached
        close_local_cluster()  # another size was asked for: start that one
    from distributed import LocalCluster

    cluster = LocalCluster(**settings)
    if not _LOCAL.get("atexit"):  # workers stopped before the interpreter's logging is torn down
        atexit.register(close_local_cluster)
        _LOCAL["atexit"] = True
    _LOCAL.update(cluster=cluster, client=Client(cluster), size=(settings["n_workers"], settings["threads_per_worker"]))
    return _LOCAL["client"]


def close_local_cluster() -> bool:
    """Close the local cluster :func:`get_client` started (its worker processes hold memory); True if one was."""
    client, cluster = _LOCAL.pop("client", None), _LOCAL.pop("cluster", None)
    _LOCAL.pop("size", None)
    for thing in (client, cluster):
        if thing is not None:
            with contextlib.suppress(Exception):
                thing.close()
    return client is not None


@contextlib.contextmanager
def client_for(client):
    """:func:`get_client` as a context manager: a connection opened here to a scheduler address is closed at the
    end (the local cluster is kept for the next call; a given Client is the caller's)."""
    owned = isinstance(client, str) or (client is None and bool(os.environ.get(SCHEDULER_ENV)))
    c = get_client(client)
    try:
        yield c
    finally:
        if owned:
            c.close()


# -------------------------------------------------------------------------------------------
# The model on the workers
# -------------------------------------------------------------------------------------------
def model_fingerprint(model) -> str:
    """SHA-256 of what decides a Keras model's predictions: architecture, weights, class codes, recorded info.

    Not the ``.keras`` file's bytes: those change with every save (a timestamp, the optimizer's state) while
    the predictions do not; a model saved and loaded again has the same fingerprint.
    """
    from geonb.models import class_codes, is_keras_model, model_info

    if not is_keras_model(model):
        raise ModelError(
            f"distributed prediction needs a Keras model (it is shipped to the workers as a .keras file), got "
            f"{type(model).__name__}")
    h = hashlib.sha256()
    h.update(json.dumps(model.get_config(), sort_keys=True, default=str).encode())
    h.update(json.dumps({"codes": list(class_codes(model)), "info": model_info(model)}, sort_keys=True,
                        default=str).encode())
    for w in model.weights:
        a = np.ascontiguousarray(np.asarray(w))
        h.update(f"{w.path}:{a.dtype}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def model_bytes(model) -> bytes:
    """The model as ``.keras`` file bytes, with geonb's class codes and info (what :func:`geonb.models.load_model`
    reads)."""
    from geonb.models import write_keras_file

    with tempfile.TemporaryDirectory(prefix="geonb-model-") as d:
        path = Path(d) / "model.keras"
        write_keras_file(model, path)
        return path.read_bytes()


def _plugin_class():
    from distributed.diagnostics.plugin import WorkerPlugin

    class ModelPlugin(WorkerPlugin):
        """Gives every worker (also one started later, e.g. after a crash) the model's bytes, once."""

        idempotent = True

        def __init__(self, fingerprint: str, data: bytes):
            self.fingerprint, self.data = fingerprint, data

        # This class is pickled by value (it is made inside a function, so that Dask is imported lazily):
        # its methods must reach the worker's real module, not a pickled copy of its globals.
        def setup(self, worker):
            from geonb import distributed

            distributed._MODEL_BYTES[self.fingerprint] = self.data

        # No teardown: another batch on a shared cluster may use the same model (same fingerprint); its
        # bytes stay on the worker (a few MB) and the loaded model stays cached (LRU).

    return ModelPlugin


@contextlib.contextmanager
def _model_on_workers(client, model):
    """Register the model with every worker for the duration of a batch; yield its fingerprint."""
    fp = model_fingerprint(model)
    name = f"geonb-model-{fp[:16]}-{uuid.uuid4().hex[:8]}"  # per batch: two batches never remove each other's
    client.register_plugin(_plugin_class()(fp, model_bytes(model)), name=name)
    try:
        yield fp
    finally:
        with contextlib.suppress(Exception):  # the cluster may be gone; nothing to clean then
            client.unregister_worker_plugin(name)


def worker_model(fingerprint: str):
    """The model with ``fingerprint`` in this worker process, loaded at most once (thread-safe)."""
    with _MODEL_LOCK:
        if fingerprint in _MODELS:
            _MODELS.move_to_end(fingerprint)
            return _MODELS[fingerprint]
        data = _MODEL_BYTES.get(fingerprint)
        if data is None:
            raise ModelError(f"model {fingerprint[:12]} was not shipped to this worker; run through predict_rasters")
        from geonb.models import load_model

        # On a cluster geonb did not start (dask-jobqueue, Kubernetes), size TensorFlow's pools to this worker's
        # threads before TensorFlow starts, so N workers on one node do not each use every core.
        with contextlib.suppress(Exception):
            from distributed import get_worker

            n = str(get_worker().state.nthreads)
            os.environ.setdefault("TF_NUM_INTRAOP_THREADS", n)
            os.environ.setdefault("TF_NUM_INTEROP_THREADS", n)  # per task thread: no queueing on one
        with tempfile.TemporaryDirectory(prefix="geonb-model-") as d:
            path = Path(d) / "model.keras"
            path.write_bytes(data)
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # Keras: optimizer variables not restored
                model = load_model(path)
        # one call under the lock builds Keras' predict function, so threads sharing the model never race to
        # build it
        from geonb.models import model_io

        model.predict_on_batch(np.zeros((1, 16, 16, model_io(model)[0]), np.float32))
        _MODELS[fingerprint] = model
        _MODEL_LOADS[fingerprint] = _MODEL_LOADS.get(fingerprint, 0) + 1
        while len(_MODELS) > MODEL_CACHE_SIZE:
            _MODELS.popitem(last=False)
        return model


def model_loads() -> dict[str, int]:
    """Times each model was loaded in this process (call on the workers: ``client.run(model_loads)``)."""
    return dict(_MODEL_LOADS)


# -------------------------------------------------------------------------------------------
# Checks before any work
# -------------------------------------------------------------------------------------------
def _resolve_model(model):
    if isinstance(model, (str, os.PathLike)):
        from geonb.models import load_model

        return load_model(model)
    return model


def _check_inputs(inputs) -> list[Path]:
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    try:
        paths = [Path(p) for p in inputs]
    except TypeError as exc:
        raise InvalidParameterError(f"`inputs` must be a list of raster paths, got {inputs!r}") from exc
    if not paths:
        raise InvalidParameterError("`inputs` is empty: give at least one raster path (nothing was done)")
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise DatasetNotFoundError(
            f"{len(missing)} of {len(paths)} `inputs` are not files: {missing[:5]}; check the paths "
            "(nothing was done)")
    seen: dict[str, int] = {}
    for i, p in enumerate(paths):
        key = os.path.realpath(p)
        if key in seen:
            raise InvalidParameterError(
                f"`inputs` names one file twice: [{seen[key]}] {str(paths[seen[key]])!r} and [{i}] {str(p)!r}; "
                "give each raster once (nothing was done)")
        seen[key] = i
    return paths


def _check_out_dir(out_dir) -> Path:
    if out_dir is None or str(out_dir) == "":
        raise InvalidParameterError(f"`out_dir` must be a folder path, got {out_dir!r}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"`out_dir` {str(out)!r} is a file; give a folder (it is created when missing)")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".geonb-write-test-", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InvalidParameterError(
            f"`out_dir` {str(out)!r} is not writable ({exc.strerror or exc}); choose a folder you can write to "
            "(nothing was done)") from exc
    return out


def _output_paths(paths: list[Path], out: Path) -> list[Path]:
    outputs = [out / f"{p.stem}{OUTPUT_SUFFIX}" for p in paths]
    seen: dict[str, int] = {}
    inputs = {os.path.realpath(p): i for i, p in enumerate(paths)}
    for i, o in enumerate(outputs):
        if o.name in seen:
            j = seen[o.name]
            raise InvalidParameterError(
                f"`inputs` [{j}] {str(paths[j])!r} and [{i}] {str(paths[i])!r} have the same name, so both would "
                f"write {str(o)!r}; rename one, or predict them into different folders (nothing was done)")
        seen[o.name] = i
        if os.path.realpath(o) in inputs:
            raise InvalidParameterError(
                f"the output of `inputs` [{i}] would be {str(o)!r}, which is itself an input; choose another "
                "`out_dir` (nothing was done)")
    return outputs


def _settings(predict_kwargs: dict) -> dict:
    unknown = sorted(set(predict_kwargs) - set(_PREDICT_RASTER_ARGS))
    if unknown:
        raise InvalidParameterError(
            f"unknown prediction setting(s) {unknown}; predict_rasters passes on {list(_PREDICT_RASTER_ARGS)} "
            "to geonb.prediction.predict_raster")
    sig = inspect.signature(__import__("geonb.prediction", fromlist=["predict_raster"]).predict_raster)
    settings = {k: sig.parameters[k].default for k in _PREDICT_RASTER_ARGS}
    settings.update(predict_kwargs)
    for k in ("bands", "classes", "band_ids"):
        if settings[k] is not None and not isinstance(settings[k], str):
            settings[k] = list(settings[k])
    if settings["class_names"] is not None:
        settings["class_names"] = {int(c): str(n) for c, n in dict(settings["class_names"]).items()}
    return settings


def scene_fingerprint(run_fp: str, image_path) -> str:
    """The run's fingerprint joined with the input's identity (resolved path, size, modification time), so an
    output is only ever reused for the same input file, unchanged, predicted the same way."""
    p = Path(image_path)
    st = p.stat()
    ident = f"{run_fp}|{os.path.realpath(p)}|{st.st_size}|{st.st_mtime_ns}"
    return hashlib.sha256(ident.encode()).hexdigest()


def run_fingerprint(model_fp: str, settings: dict) -> str:
    """Fingerprint of an output: the model's, the prediction settings and geonb's version."""
    import geonb

    blob = json.dumps({"model": model_fp, "settings": settings, "geonb": geonb.__version__}, sort_keys=True,
                      default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _scheme_of(model, settings: dict):
    from geonb.classes import ClassScheme, scheme_for_codes
    from geonb.models import model_info
    from geonb.training import resolve_codes

    codes = resolve_codes(model, settings.get("classes"))
    info = model_info(model)
    scheme = ClassScheme.from_dict(info["scheme"]) if "scheme" in info else scheme_for_codes(codes)
    if settings.get("class_names"):
        names = tuple(settings["class_names"].get(c, scheme.name(c)) for c in scheme.codes)
        scheme = ClassScheme(scheme.codes, names, scheme.colors)
    return scheme, codes


def _column(name: str) -> str:
    return re.sub(r"[^0-9a-zA-Z]+", "_", str(name)).strip("_").lower() or "class"


def _read_existing(path: Path) -> tuple[str | None, dict | None]:
    """Fingerprint and statistics stored in an existing output (``(None, None)`` if it is not one of ours)."""
    import rasterio

    try:
        with rasterio.open(path) as ds:
            tags = ds.tags()
        stats = json.loads(tags[STATS_TAG]) if STATS_TAG in tags else None
        return tags.get(FINGERPRINT_TAG), stats
    except (rasterio.errors.RasterioIOError, ValueError, OSError):
        return None, None


# -------------------------------------------------------------------------------------------
# One raster per task
# -------------------------------------------------------------------------------------------
def _worker_address() -> str | None:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return None


def _class_stats(path: Path, scheme, fill: int) -> dict:
    """Pixels and km² per class of a class map, read in strips (memory: a strip, not the raster)."""
    import rasterio
    from rasterio.windows import Window

    from geonb.export import pixel_areas_m2

    pixels = {c: 0 for c in scheme.codes}
    area = {c: 0.0 for c in scheme.codes}
    nodata = 0
    with rasterio.open(path) as ds:
        step = max(1, (1 << 22) // max(1, ds.width))
        for r in range(0, ds.height, step):
            win = Window(0, r, ds.width, min(step, ds.height - r))
            cls = ds.read(1, window=win)
            px_area = pixel_areas_m2(ds.window_transform(win), ds.crs, cls.shape)
            for c in scheme.codes:
                sel = cls == c
                pixels[c] += int(sel.sum())
                area[c] += float(px_area[sel].sum())
            nodata += int((cls == fill).sum()) if fill not in scheme.codes else 0
    out = {f"{_column(scheme.name(c))}_px": pixels[c] for c in scheme.codes}
    out["nodata_px"] = nodata
    out.update({f"{_column(scheme.name(c))}_km2": area[c] / 1e6 for c in scheme.codes})
    return out


def _to_cog(src_path: Path, dst_path: Path, scheme, fill: int, tags: dict) -> None:
    """Copy predict_raster's tiled GeoTIFF into a COG with a colour table and the class names (streamed)."""
    import rasterio
    import rasterio.shutil

    from geonb.export import COG_BLOCKSIZE

    table = scheme.rgba_table()
    table.setdefault(int(fill), (0, 0, 0, 0))
    with rasterio.open(src_path, "r+") as ds:
        ds.write_colormap(1, table)
        ds.update_tags(**{f"CLASS_{c}": n for c, n in zip(scheme.codes, scheme.names, strict=True)},
                       CLASS_CODES=",".join(map(str, scheme.codes)), CLASS_SCHEME=json.dumps(scheme.to_dict()),
                       GEONB_PRODUCT="class map", **tags)
    with rasterio.open(src_path) as src:
        rasterio.shutil.copy(src, str(dst_path), driver="COG", COMPRESS="DEFLATE", PREDICTOR="2",
                             BLOCKSIZE=str(COG_BLOCKSIZE), OVERVIEWS="AUTO", OVERVIEW_RESAMPLING="MODE",
                             BIGTIFF="IF_SAFER")


def _predict_one(model_fp: str, run_fp: str, image_path: str, out_path: str, settings: dict, scheme_dict: dict,
                 overwrite: bool) -> dict:
    """Task: predict one raster into its COG; never raises for a bad scene (the row says what went wrong)."""
    from geonb.classes import ClassScheme
    from geonb.io import atomic_paths
    from geonb.prediction import class_map_nodata, predict_raster

    t0 = time.perf_counter()
    row = {"input": image_path, "output": out_path, "status": "done", "error": None}
    try:
        if not overwrite and os.path.lexists(out_path):
            # written by this very run already: a task re-run after its worker died, its result lost
            fp, stats = _read_existing(Path(out_path))
            if fp == run_fp:
                row.update(stats or {})
                row.update(seconds=round(time.perf_counter() - t0, 3), worker=_worker_address())
                return row
        model = worker_model(model_fp)
        scheme = ClassScheme.from_dict(scheme_dict)
        fill = class_map_nodata(scheme.codes)
        with tempfile.TemporaryDirectory(prefix="geonb-scene-") as d, \
                atomic_paths([out_path], overwrite, names=["output"]) as (tmp_out,):
            tmp = Path(d) / "classes.tif"
            predict_raster(model, image_path, tmp, progress=False, **settings)
            stats = _class_stats(tmp, scheme, fill)
            _to_cog(tmp, tmp_out, scheme, fill, {FINGERPRINT_TAG: run_fp, STATS_TAG: json.dumps(stats),
                                                 "GEONB_INPUT": Path(image_path).name,
                                                 "software": "geonb.distributed.predict_rasters"})
        row.update(stats)
    except GeonbError as exc:
        row.update(status="failed", error=f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # noqa: BLE001 - any failure of one scene is reported in its row, not raised
        row.update(status="failed", error=f"{type(exc).__name__} while predicting {image_path!r}: {exc}")
    row.update(seconds=round(time.perf_counter() - t0, 3), worker=_worker_address())
    return row


def predict_rasters(model, inputs, out_dir, *, client=None, overwrite: bool = False, progress: bool = True,
                    **predict_kwargs):
    """Predict many rasters on a Dask cluster, one task per raster; a Cloud-Optimized GeoTIFF and a row each.

    Parameters
    ----------
    model : keras.Model or path-like
        A geonb Keras model (its class codes known) or a ``.keras`` file. Shipped to each worker once.
    inputs : sequence of path-like
        GeoTIFFs, distinct, readable at these paths from every worker.
    out_dir : path-like
        Folder for ``<stem>_classes.tif`` (created when missing): uint8 class codes on the input's grid,
        a COG (DEFLATE, 256-px tiles, overviews by mode) with the scheme's colour table, class names in
        tags (``CLASS_1=water``...), and the fingerprint of the model and settings (``GEONB_FINGERPRINT``).
        Each file is written atomically: a scene is complete or absent.
    client : None, str or distributed.Client
        See :func:`get_client`.
    overwrite : bool
        Re-predict and replace existing outputs. Without it, an output with this run's fingerprint is
        skipped (status ``"skipped"``: a killed run resumes) and one made by another model or other
        settings is reported as an :class:`~geonb.errors.OutputExistsError` for that scene.
    progress : bool
        A progress bar (tqdm: a widget in a notebook, text in a terminal) over finished scenes.
    **predict_kwargs
        Passed to :func:`geonb.prediction.predict_raster`: ``block``, ``patch_size``, ``overlap``,
        ``batch_size``, ``bands``, ``classes``, ``class_names``, ``scale``, ``nodata``, ``sensor``,
        ``band_ids``, ``product``, ``skip_nodata``. Part of the fingerprint.

    Returns
    -------
    pandas.DataFrame
        One row per input, in input order: ``input``, ``output``, ``status`` (``"done"``, ``"skipped"``,
        ``"failed"``), ``error`` (the geonb message, else None), ``<class>_px`` per class and
        ``nodata_px``, ``<class>_km2`` per class (e.g. ``water_km2``: sums of the pixels' ground areas in
        the scene's CRS, :func:`geonb.export.pixel_areas_m2`, exact for geographic CRSs), ``seconds``
        (task time) and ``worker`` (its address). ``df.attrs`` holds ``fingerprint`` and ``wall_seconds``.

    Raises
    ------
    InvalidParameterError, DatasetNotFoundError, ModelError
        Before any work starts: no inputs, a file missing, one file twice, two inputs with one output
        name, ``out_dir`` not writable, unknown settings, a model that cannot be shipped.

    Examples
    --------
    >>> table = predict_rasters(model, sorted(Path("tiles").glob("*.tif")), "water_maps")   # doctest: +SKIP
    >>> table[["input", "status", "water_km2", "seconds"]]                                  # doctest: +SKIP
    """
    import pandas as pd

    t_start = time.perf_counter()
    paths = _check_inputs(inputs)
    out = _check_out_dir(out_dir)
    outputs = _output_paths(paths, out)
    settings = _settings(predict_kwargs)
    model = _resolve_model(model)
    model_fp = model_fingerprint(model)
    run_fp = run_fingerprint(model_fp, settings)
    scheme, _ = _scheme_of(model, settings)

    rows: dict[int, dict] = {}
    todo: list[int] = []
    scene_fps = [scene_fingerprint(run_fp, p) for p in paths]
    for i, (p, o) in enumerate(zip(paths, outputs, strict=True)):
        if overwrite or not os.path.lexists(o):
            todo.append(i)
            continue
        fp, stats = _read_existing(o)
        base = {"input": str(p), "output": str(o), "seconds": 0.0, "worker": None}
        if fp == scene_fps[i]:
            rows[i] = {**base, "status": "skipped", "error": None, **(stats or {})}
        else:
            what = "was written from another input, model or settings" if fp else "was not written by geonb"
            rows[i] = {**base, "status": "failed", "error": "OutputExistsError: " + str(OutputExistsError(
                f"{str(o)!r} exists and {what}; pass overwrite=True to replace it, or choose another `out_dir`"))}
    if todo:
        from distributed import as_completed
        from tqdm.auto import tqdm

        token = uuid.uuid4().hex[:8]
        with client_for(client) as client, _model_on_workers(client, model) as fp:
            futures = {}
            for i in todo:
                f = client.submit(_predict_one, fp, scene_fps[i], str(paths[i]), str(outputs[i]), settings,
                                  scheme.to_dict(), overwrite, key=f"geonb-predict-{token}-{i}-{paths[i].stem}",
                                  pure=False)
                futures[f.key] = (i, f)
            with tqdm(total=len(todo), desc="rasters", disable=not progress) as bar:
                for f in as_completed([f for _, f in futures.values()]):
                    i = futures[f.key][0]
                    try:
                        rows[i] = f.result()
                    except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: the scene failed, the batch goes on
                        rows[i] = {"input": str(paths[i]), "output": str(outputs[i]), "status": "failed",
                                   "error": f"{type(exc).__name__}: the task failed on the cluster ({exc}); "
                                            "run predict_rasters again to retry this scene",
                                   "seconds": None, "worker": None}
                    f.release()
                    bar.update(1)
        _remove_stale_temporaries([outputs[i] for i in todo])
    columns = ["input", "output", "status", "error"]
    stat_cols = [f"{_column(n)}_px" for n in scheme.names] + ["nodata_px"] + [f"{_column(n)}_km2"
                                                                              for n in scheme.names]
    table = pd.DataFrame([rows[i] for i in range(len(paths))])
    table = table.reindex(columns=columns + stat_cols + ["seconds", "worker"])
    table.attrs.update(fingerprint=run_fp, wall_seconds=time.perf_counter() - t_start)
    return table


def _remove_stale_temporaries(outputs: list[Path]) -> None:
    """Remove ``.<name>.*.part.tif`` files that a worker killed while writing left beside these outputs.

    Only called when every task of the batch has ended, so none of them is still being written.
    """
    for o in outputs:
        for stale in o.parent.glob(f".{o.name}.*.part{o.suffix}"):
            with contextlib.suppress(OSError):
                stale.unlink()


# -------------------------------------------------------------------------------------------
# One raster in chunks
# -------------------------------------------------------------------------------------------
def _read_kw(scale, nodata, sensor, band_ids, product) -> dict:
    # as predict_raster: the sensor arguments are passed only when set
    kw = {"scale": scale, "nodata": nodata}
    if not (isinstance(sensor, str) and sensor == "auto"):
        kw["sensor"] = sensor
    kw.update({k: v for k, v in (("band_ids", band_ids), ("product", product)) if v is not None})
    return kw


def _predict_chunk(model_fp: str, image_path: str, core, window, plan, codes, bands, read_kw: dict, overlap,
                   batch_size, skip_nodata: bool, probabilities: bool):
    """Task: read one chunk's window, predict its core; return uint8 classes (+ float32 probabilities)."""
    import warnings

    from geonb.prediction import predict_block
    from geonb.scene import read_image

    model = worker_model(model_fp)
    r0, r1, c0, c1 = window
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # read_image's notes are the same for every chunk
        image, mask = read_image(image_path, window=((r0, r1), (c0, c1)), bands=bands, **read_kw)[:2]
    pred, done = predict_block(model, image, mask, core, window, plan, codes=codes, overlap=overlap,
                               batch_size=batch_size, skip_nodata=skip_nodata)
    probs = None
    if probabilities:
        probs = np.moveaxis(pred.probabilities, -1, 0)
        probs[:, pred.nodata_mask] = np.nan
    return core, pred.classes, probs, done


def predict_raster_chunked(model, image_path, out_path, *, client=None, chunk: int = 512,
                           patch_size: int | None = None, overlap: float | None = None, batch_size: int | None = None,
                           bands: Sequence[str] | None = None, classes: Sequence[int] | None = None,
                           probabilities=False, overwrite: bool = False, class_names=None, progress: bool = True,
                           scale="auto", nodata="auto", sensor="auto", band_ids=None, product=None,
                           skip_nodata: bool = True, max_in_flight: int | None = None):
    """Predict one raster (larger than a machine's memory, if need be) in chunks on a Dask cluster.

    The result is the file :func:`geonb.prediction.predict_raster` writes with ``block=chunk`` -- same
    blocks, same halo (the model's measured context), same per-block engine -- and, for size-free models,
    the same valid pixels with any other ``block`` (tested). Each worker task reads its own window
    (chunk plus halo) with :func:`geonb.scene.read_image`; results come back as they finish and this
    process writes them into one tiled, DEFLATE GeoTIFF (the same layout and tags as ``predict_raster``),
    atomically. At most ``max_in_flight`` chunks are submitted and not yet written, so memory stays bounded
    by the chunk size on the workers and here, not by the raster size.

    Parameters
    ----------
    chunk : int
        Chunk side in pixels (a multiple of 256 keeps writes tile-aligned); default 512, predict_raster's
        default ``block``. A worker's memory is the model's activations for one chunk plus its halo, which
        grow with the chunk's area: measured peak RSS of a TensorFlow-CPU process predicting one lakes-FCN
        chunk (128 channels; TensorFlow and the model alone take about 0.7 GB): 1.0 GB at 512, 2.3 GB at
        1024, 7.2 GB at 2048. Choose the chunk from the workers' memory, not from the raster's size.
    max_in_flight : int, optional
        Chunks submitted but not yet written (default: twice the cluster's threads).
    client
        See :func:`get_client`.
    Others
        As :func:`geonb.prediction.predict_raster`.

    Returns
    -------
    geonb.prediction.RasterPrediction
    """

    from geonb.io import open_raster
    from geonb.labels import LAKE_CLASS_NAMES
    from geonb.models import model_io
    from geonb.prediction import (
        class_map_nodata,
        raster_block_plan,
        raster_blocks,
        raster_output_paths,
        raster_output_profile,
    )
    from geonb.training import resolve_codes

    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 16:
        raise InvalidParameterError(f"`chunk` must be an int >= 16 pixels, got {chunk!r}")
    if max_in_flight is not None and (isinstance(max_in_flight, bool) or not isinstance(max_in_flight, int)
                                      or max_in_flight < 1):
        raise InvalidParameterError(f"`max_in_flight` must be an int >= 1 or None, got {max_in_flight!r}")
    out_path, prob_path = raster_output_paths(image_path, out_path, probabilities, overwrite)
    model = _resolve_model(model)
    _, n_out, _ = model_io(model)
    codes = resolve_codes(model, classes)
    fill = class_map_nodata(codes)
    with open_raster(image_path, "image") as src:
        rows, cols, crs, transform = src.height, src.width, src.crs, src.transform
    plan = raster_block_plan(model, patch_size)
    blocks = raster_blocks((rows, cols), int(chunk), plan[1])
    profile = raster_output_profile(rows, cols, crs, transform)
    if class_names is None:
        class_names = LAKE_CLASS_NAMES if set(codes) <= set(LAKE_CLASSES) else {}
    names = [str(class_names.get(c, f"class {c}")) for c in codes]
    read_kw = _read_kw(scale, nodata, sensor, band_ids, product)
    bands = None if bands is None else list(bands)

    with client_for(client) as client:
        return _chunked(client, model, image_path, blocks, plan, codes, bands, read_kw, overlap, batch_size,
                        skip_nodata, max_in_flight, out_path, prob_path, overwrite, profile, names, fill, n_out,
                        progress, (rows, cols))


def _chunked(client, model, image_path, blocks, plan, codes, bands, read_kw, overlap, batch_size, skip_nodata,
             max_in_flight, out_path, prob_path, overwrite, profile, names, fill, n_out, progress, shape):
    """predict_raster_chunked after its checks: submit, gather as completed, write."""
    import rasterio
    from distributed import as_completed
    from tqdm.auto import tqdm

    from geonb.io import atomic_paths
    from geonb.prediction import RasterPrediction

    if max_in_flight is None:
        max_in_flight = 2 * max(1, sum(client.nthreads().values()))
    outputs = [out_path] + ([prob_path] if prob_path is not None else [])
    token = uuid.uuid4().hex[:8]
    stats = {"blocks_skipped": 0, "pixels_predicted": 0}
    with _model_on_workers(client, model) as fp, \
            atomic_paths(outputs, overwrite, names=["out_path", "probabilities"][:len(outputs)]) as temps:
        with rasterio.open(temps[0], "w", count=1, dtype="uint8", nodata=fill, **profile) as dst, \
                contextlib.ExitStack() as stack:
            pdst = None
            if prob_path is not None:
                pdst = stack.enter_context(rasterio.open(temps[1], "w", count=n_out, dtype="float32",
                                                         nodata=float("nan"), **profile))
                for i, n in enumerate(names, start=1):
                    pdst.set_band_description(i, f"probability of {n}")
            dst.set_band_description(1, "class")
            dst.update_tags(classes=",".join(f"{c}={n}" for c, n in zip(codes, names, strict=True)),
                            software="geonb.distributed.predict_raster_chunked")

            def submit(k):
                core, window = blocks[k]
                return client.submit(_predict_chunk, fp, str(image_path), core, window, plan, codes, bands, read_kw,
                                     overlap, batch_size, skip_nodata, pdst is not None,
                                     key=f"geonb-chunk-{token}-{k}", pure=False)

            nxt = min(max_in_flight, len(blocks))
            pending = as_completed([submit(k) for k in range(nxt)])
            with tqdm(total=len(blocks), desc="chunks", disable=not progress) as bar:
                for f in pending:
                    (r, c, h, w), cls, probs, done = f.result()
                    f.release()
                    if nxt < len(blocks):
                        pending.add(submit(nxt))
                        nxt += 1
                    win = rasterio.windows.Window(c, r, w, h)
                    dst.write(cls, 1, window=win)
                    if pdst is not None:
                        pdst.write(probs, window=win)
                    stats["pixels_predicted"] += int(done)
                    stats["blocks_skipped"] += int(done == 0)
                    bar.update(1)
    return RasterPrediction(out_path, prob_path, shape, len(blocks), **stats)


# -------------------------------------------------------------------------------------------
# Patches of many scenes
# -------------------------------------------------------------------------------------------
def _scene_patches(dataset, lake_id: str, size: int, stride, edge: str, prune_single_class: bool, bands, classes):
    """Task: the patches of one lake, or ``("too_small", id, shape)`` when it gives no window."""
    from geonb.patches import count_windows, extract_patches

    scene = dataset.scene(lake_id)
    if count_windows(scene.shape, size, stride if stride is not None else size, edge) == 0:
        return ("too_small", scene.properties.get("id") or scene.name, tuple(int(v) for v in scene.shape),
                tuple(bands) if bands is not None else tuple(scene.band_names), scene.labels is not None)
    return extract_patches(scene, size, stride, edge, prune_single_class, bands, classes)


def _concat_patchsets(parts: list, size: int, stride: int, edge: str, classes: tuple[int, ...]):
    from geonb.patches import PatchSet

    sets = [p for p in parts if not isinstance(p, tuple)]
    band_names = None
    has_labels = None
    for p in parts:
        names, labelled, sid = ((p[3], p[4], p[1]) if isinstance(p, tuple)
                                else (p.band_names, p.labels is not None, next(iter(p.scene_shapes))))
        if band_names is None:
            band_names, has_labels = tuple(names), labelled
        elif tuple(names) != band_names:
            raise InvalidParameterError(
                f"scene {sid!r} has bands {tuple(names)}, earlier scenes {band_names}; pass `bands=` to pick common "
                "bands")
        elif labelled != has_labels:
            raise InvalidParameterError(f"scene {sid!r} {'has no' if has_labels else 'has'} labels unlike earlier "
                                        "scenes; give scenes that all have labels, or none")
    if not sets:
        short = max(min(p[2]) for p in parts)
        raise InvalidParameterError(
            f"`size`={size} is larger than every scene (the largest scene's short side is {short} px); "
            f"choose size <= {short}")
    pruned: dict[int, int] = {}
    shapes: dict[str, tuple[int, int]] = {}
    too_small: list[str] = []
    dropped = 0
    for p in parts:
        if isinstance(p, tuple):
            too_small.append(p[1])
            shapes[p[1]] = p[2]
            dropped += p[2][0] * p[2][1]
            continue
        for c, n in p.pruned.items():
            pruned[c] = pruned.get(c, 0) + n
        shapes.update(p.scene_shapes)
        dropped += p.dropped_pixels
    return PatchSet(
        images=np.concatenate([p.images for p in sets]),
        labels=np.concatenate([p.labels for p in sets]) if has_labels else None,
        nodata=np.concatenate([p.nodata for p in sets]),
        lake_ids=np.concatenate([p.lake_ids for p in sets]),
        windows=np.concatenate([p.windows for p in sets]),
        band_names=band_names, size=size, stride=stride, edge=edge, classes=classes, pruned=pruned,
        dropped_pixels=dropped, too_small=too_small, scene_shapes=shapes)


def patch_dataset_distributed(dataset, size: int, stride: int | None = None, edge: str = "drop",
                              prune_single_class: bool = False, bands: Sequence[str] | None = None,
                              classes: Sequence[int] = LAKE_CLASSES, splits: Sequence[str] = ("train", "val", "test"),
                              *, client=None) -> dict:
    """:func:`geonb.patches.patch_dataset` with one Dask task per lake, gathered once and concatenated.

    Equal to ``patch_dataset(dataset, ...)`` (arrays, ids, windows, counts; tested). Each worker reads its
    lakes from the dataset's files (they must be reachable from the workers); all patches come back to this
    process, so memory here is the same as ``patch_dataset``'s.

    Returns
    -------
    dict[str, PatchSet]
    """
    from geonb.patches import check_classes, check_edge, check_size, check_stride

    size = check_size(size)
    stride_v = check_stride(stride, size)
    edge = check_edge(edge)
    classes = check_classes(classes)
    if isinstance(splits, str):
        splits = (splits,)
    if isinstance(bands, str):
        bands = (bands,)
    ids: dict[str, list[str]] = {}
    seen: dict[str, str] = {}
    for split in splits:
        ids[split] = dataset.split_ids(split)
        if not ids[split]:
            raise InvalidParameterError(f"split {split!r} of dataset {getattr(dataset, 'name', '?')!r} has no lakes")
        for lake in ids[split]:
            if lake in seen:
                raise CatalogError(f"lake {lake!r} is in splits {seen[lake]!r} and {split!r}; fix the catalog")
            seen[lake] = split
    with client_for(client) as client:
        [ds_future] = client.scatter([dataset], broadcast=True, hash=False)
        token = uuid.uuid4().hex[:8]
        futures = {split: [client.submit(_scene_patches, ds_future, lake, size, stride_v, edge, prune_single_class,
                                         None if bands is None else tuple(bands), classes,
                                         key=f"geonb-patches-{token}-{lake}", pure=False) for lake in lake_ids]
                   for split, lake_ids in ids.items()}
        gathered = client.gather(futures)  # one gather for every scene
        ds_future.release()
    return {split: _concat_patchsets(parts, size, stride_v, edge, classes) for split, parts in gathered.items()}


__all__ = [
    "FINGERPRINT_TAG",
    "OUTPUT_SUFFIX",
    "SCHEDULER_ENV",
    "get_client",
    "local_cluster_settings",
    "model_bytes",
    "close_local_cluster",
    "model_fingerprint",
    "model_loads",
    "patch_dataset_distributed",
    "predict_raster_chunked",
    "predict_rasters",
    "run_fingerprint",
    "worker_model",
]
