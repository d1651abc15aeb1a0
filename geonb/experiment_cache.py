"""The experiments' cache: finished cells on disk, found again by the hash of their settings.

A *cell* is one model trained with one setting and one seed, and scored on the test lakes
(:mod:`geonb.experiments` runs them). A finished cell is a folder ``<cache>/<key>/`` where ``key`` hashes
**all** its settings (:class:`CellSpec`: dataset name and content fingerprint, the lake ids of each split,
model, patch size, bands, seed, epochs, batch size, learning rate, pruning, class weights, geonb's version and
:data:`CACHE_VERSION`). The settings are stored beside the results and compared on load: an entry whose stored
settings differ is never used. ``settings.json`` is written last, so a cell counts only once it is complete;
``made.json`` says when and where it was computed.

Where cells are looked for (:func:`cache_locations`)
-------------------------------------------------------
1. ``$GEONB_CACHE`` (:data:`CACHE_ENV`): a **shared, read-only** cache, e.g. the one a teacher filled before
   class with ``python -m geonb experiments run --cache /shared/geonb-cache`` on a JupyterHub. geonb only
   reads it: nothing a student runs ever writes there (a missing or outdated cell is computed into the
   student's own cache instead).
2. The writable cache: ``cache_dir=`` when given, else ``experiments/`` in geonb's build folder
   (``$GEONB_BUILD`` or ``build/``).

The key does not cover edits to geonb's code between releases: delete the folder after changing a model or
the training code, to start afresh.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from geonb.bands import MAX_SAMPLE_PIXELS
from geonb.errors import CatalogError, InvalidParameterError, ShapeMismatchError
from geonb.io import atomic_path
from geonb.labels import NODATA

__all__ = [
    "CACHE_ENV",
    "CACHE_VERSION",
    "CacheLocations",
    "CellResult",
    "CellSpec",
    "StoredPrediction",
    "cache_locations",
    "cell_files",
    "dataset_fingerprint",
    "default_cache_dir",
    "load_cell",
    "read_predictions",
    "save_cell",
    "shared_cache_dir",
    "write_cell",
    "write_json",
    "write_predictions",
]

#: Bump when the meaning of a cached cell changes (metrics, stored fields): old entries are ignored.
CACHE_VERSION = 3  # 2: predictions carry their class codes; 3: Keras cells trained on one TensorFlow thread
#: Environment variable naming a shared, read-only cache (a teacher's), read before the writable one.
CACHE_ENV = "GEONB_CACHE"
#: Models whose cells store the trained model (``model.keras``).
KERAS_MODELS = ("fcn", "unet")
SETTINGS_FILE = "settings.json"
MADE_FILE = "made.json"


def default_cache_dir() -> Path:
    """Where finished cells are cached: ``experiments/`` in geonb's build folder (``$GEONB_BUILD`` or ``build/``)."""
    from geonb.runtime import build_dir

    return build_dir("experiments")


# -------------------------------------------------------------------------------------------
# Settings of one cell, and its key
# -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CellSpec:
    """Every setting of one trained-and-scored model; its hash is the cache key.

    Attributes
    ----------
    dataset : str
        Dataset name.
    data_fingerprint : str
        Hash of the dataset's lake ids per split and catalog content (see :func:`dataset_fingerprint`).
    model : str
        One of :data:`MODEL_NAMES`.
    patch_size : int
    bands : tuple of str, or str
        Band names, or ``"pca<k>"`` for the first k principal components of all bands.
    seed : int
    epochs, batch_size : int
    learning_rate : float
        The Keras models' (peak) learning rate.
    learning_rate_schedule : None or "cosine"
        See :func:`geonb.training.train`. ``None`` (a fixed rate) leaves the key as it was before
        schedules existed, so older caches keep serving.
    prune_single_class : bool
        The study's pruning of single-class training patches.
    max_train_pixels : int
        Pixels drawn for the logistic regression.
    class_weight : str or None
        Loss weights of the Keras models (:func:`geonb.training.train`): ``None`` as the study
        (every labelled pixel weighs the same), or ``"balanced"``.
    tf_threads : int
        TensorFlow's intra-op threads the model trains with: 1 on geonb's single-threaded workers (the same
        numbers on any core count); a cell trained in a process with more threads gets another key, because
        its numbers depend on that count.
    """

    dataset: str
    data_fingerprint: str
    model: str
    patch_size: int
    bands: tuple[str, ...] | str
    seed: int
    epochs: int
    batch_size: int
    learning_rate: float = 1e-3
    prune_single_class: bool = True
    max_train_pixels: int = MAX_SAMPLE_PIXELS
    class_weight: str | None = None
    tf_threads: int = 1
    learning_rate_schedule: str | None = None

    def settings(self) -> dict:
        """The settings as a JSON-able dict (with the cache version)."""
        bands = self.bands if isinstance(self.bands, str) else list(self.bands)
        from geonb import __version__

        return {
            "cache_version": CACHE_VERSION, "geonb_version": __version__, "dataset": self.dataset,
            "data_fingerprint": self.data_fingerprint,
            "model": self.model, "patch_size": int(self.patch_size), "bands": bands, "seed": int(self.seed),
            "epochs": int(self.epochs), "batch_size": int(self.batch_size),
            "learning_rate": float(self.learning_rate), "prune_single_class": bool(self.prune_single_class),
            "max_train_pixels": int(self.max_train_pixels), "class_weight": self.class_weight,
            "tf_threads": int(self.tf_threads),
        } | ({} if self.learning_rate_schedule is None else {"learning_rate_schedule": self.learning_rate_schedule})

    def key(self) -> str:
        """SHA-256 (first 20 hex digits) of the canonical JSON of :meth:`settings`."""
        text = json.dumps(self.settings(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:20]


def dataset_fingerprint(dataset) -> str:
    """A hash of the lake ids of each split, the catalog file's bytes and every image and label file's bytes.

    Two datasets with the same name but other lakes, another split, regenerated data or an edited file get
    different fingerprints, so their cached cells are never mixed; a copy of the same files (a student's own
    ``make data``) gets the same one, so a teacher's cache serves it.
    """
    h = hashlib.sha256()
    h.update(str(getattr(dataset, "name", "")).encode())
    for split in ("train", "val", "test"):
        h.update(f"|{split}:".encode())
        h.update(",".join(sorted(map(str, dataset.split_ids(split)))).encode())
    path = getattr(dataset, "path", None)
    if path is not None:
        catalog = Path(path) / "catalog.geojson"
        if catalog.is_file():
            h.update(catalog.read_bytes())
        ids = sorted({str(i) for split in ("train", "val", "test") for i in dataset.split_ids(split)})
        for folder in ("images", "labels"):
            for lake_id in ids:
                h.update(_file_digest(Path(path) / folder / f"{lake_id}.tif"))
    return h.hexdigest()[:20]


_DIGESTS: dict[tuple[str, int, int], bytes] = {}


def _file_digest(path: Path) -> bytes:
    """SHA-256 of a file's bytes (b"" when absent), remembered per (path, size, mtime) in this process."""
    try:
        st = path.stat()
    except OSError:
        return b""
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _DIGESTS:
        _DIGESTS[key] = hashlib.sha256(path.read_bytes()).digest()
    return _DIGESTS[key]


# -------------------------------------------------------------------------------------------
# Stored predictions and results
# -------------------------------------------------------------------------------------------
@dataclass
class StoredPrediction:
    """A prediction of one scene as cached: the class map and class probabilities.

    Attributes
    ----------
    classes : ndarray of uint8, shape (rows, cols)
        Class codes; where the image has no data, 0 (or 255 when 0 is one of ``class_codes``, see
        :func:`geonb.prediction.class_map_nodata`).
    probabilities : ndarray of float32, shape (rows, cols, k)
        One channel per class code in ``class_codes`` (stored as float16 on disk).
    class_codes : tuple of int
        The class code of each probability channel (the model's; stored in the cache with it).
    nodata_mask : ndarray of bool, shape (rows, cols), optional
        True where the image had no data. Default: the pixels with class 0, which is only allowed
        when 0 is not a class code; with a class code 0 (buildings' background) the mask is required
        (class 0 is then a real class, not "no data").
    """

    classes: np.ndarray
    probabilities: np.ndarray
    class_codes: tuple[int, ...]
    nodata_mask: np.ndarray | None = None

    def __post_init__(self) -> None:
        from geonb.models import check_class_codes_arg

        self.class_codes = check_class_codes_arg(self.class_codes, name="class_codes")
        if np.shape(self.probabilities)[-1:] != (len(self.class_codes),):
            raise ShapeMismatchError(
                f"`probabilities` has {np.shape(self.probabilities)[-1:]} channels but there are "
                f"{len(self.class_codes)} class codes {self.class_codes}; give one code per channel"
            )
        if self.nodata_mask is None:
            if NODATA in self.class_codes:
                raise InvalidParameterError(
                    f"`nodata_mask` is required: 0 is one of the class codes {self.class_codes}, so class 0 is a "
                    "real class, not 'no data'; pass the prediction's nodata_mask (Prediction.nodata_mask)"
                )
            self.nodata_mask = np.asarray(self.classes) == NODATA



@dataclass
class CellResult:
    """One finished cell: its settings, tidy row, per-lake scores, history and predictions.

    ``source`` says where it came from: ``"computed"`` (in this run), ``"local cache"`` or
    ``"shared cache"`` (``$GEONB_CACHE``); ``made`` when it was computed (UTC, ISO 8601) and ``cell_dir``
    the folder it was read from (None when it lives in memory only).
    """

    spec: CellSpec
    row: dict
    per_lake: pd.DataFrame
    history: dict
    predictions: dict[str, StoredPrediction]
    model: object | None = None
    from_cache: bool = False
    source: str = "computed"
    made: str | None = None
    cell_dir: Path | None = None


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON-able: {type(o).__name__}")


def _json_bytes(obj) -> bytes:
    # key order kept: a table row read back from the cache has the columns of a fresh one
    return json.dumps(obj, indent=1, default=_json_default).encode()


def _predictions_bytes(predictions: Mapping[str, StoredPrediction]) -> bytes:
    arrays = {}
    for i, (lake_id, p) in enumerate(predictions.items()):
        arrays[f"id_{i}"] = np.array(lake_id)
        arrays[f"classes_{i}"] = np.asarray(p.classes, dtype=np.uint8)
        arrays[f"proba_{i}"] = np.asarray(p.probabilities, dtype=np.float16)
        arrays[f"codes_{i}"] = np.asarray(p.class_codes, dtype=np.int64)
        arrays[f"nodata_{i}"] = np.asarray(p.nodata_mask, dtype=bool)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


class _StaleCache(CatalogError):
    """A cached file from an older geonb that lacks what this version needs (e.g. class codes)."""


def read_predictions(path: str | os.PathLike) -> dict[str, StoredPrediction]:
    out = {}
    with np.load(path, allow_pickle=False) as z:
        n = sum(1 for k in z.files if k.startswith("id_"))
        for i in range(n):
            if f"codes_{i}" not in z.files:
                raise _StaleCache(
                    f"{str(path)!r} holds predictions without their class codes (written by an older geonb); "
                    "run the experiments again to recompute it"
                )
            out[str(z[f"id_{i}"])] = StoredPrediction(z[f"classes_{i}"], z[f"proba_{i}"].astype(np.float32),
                                                      tuple(int(c) for c in z[f"codes_{i}"]), z[f"nodata_{i}"])
    return out



def write_predictions(path: str | os.PathLike, predictions: Mapping[str, StoredPrediction]) -> Path:
    """Write predictions (lake id -> :class:`StoredPrediction`) to one ``.npz`` file, atomically."""
    with atomic_path(path, overwrite=True) as tmp:
        tmp.write_bytes(_predictions_bytes(predictions))
    return Path(path)


def write_json(path: str | os.PathLike, obj) -> Path:
    """Write ``obj`` (NumPy scalars and arrays allowed) as JSON to ``path``, atomically."""
    from geonb.io import write_json_atomic

    return write_json_atomic(path, obj, overwrite=True, default=_json_default)


def _model_bytes(model) -> bytes:
    from geonb.models import save_model

    with tempfile.TemporaryDirectory(prefix="geonb-cell-") as tmp:
        path = save_model(model, Path(tmp) / "model.keras", overwrite=True)
        return Path(path).read_bytes()


def cell_files(result: CellResult) -> dict[str, bytes]:
    """The files of a finished cell, name -> bytes, ``settings.json`` last (what :func:`write_cell` writes).

    Bytes, so that a cell computed on a Dask worker travels back to the client whole and is written
    there: workers need not share the client's cache folder (they do need the dataset at the same path).
    """
    from geonb import __version__

    files = {
        "predictions.npz": _predictions_bytes(result.predictions),
        "history.json": _json_bytes(result.history),
        "per_lake.csv": result.per_lake.to_csv().encode(),
        "row.json": _json_bytes(result.row),
    }
    if result.model is not None and result.spec.model in KERAS_MODELS:
        files["model.keras"] = _model_bytes(result.model)
    threads = os.environ.get("TF_NUM_INTRAOP_THREADS")
    files[MADE_FILE] = _json_bytes({
        "made": datetime.now(timezone.utc).isoformat(timespec="seconds"), "host": platform.node(),
        "geonb": __version__, "tensorflow_intra_op_threads": int(threads) if threads else None,
        "seconds": result.row.get("total_seconds"),
    })
    files[SETTINGS_FILE] = _json_bytes(result.spec.settings())  # last: the cell counts once this exists
    return files


def write_cell(cell_dir: str | os.PathLike, files: Mapping[str, bytes]) -> Path:
    """Write a cell's files (from :func:`cell_files`) into ``cell_dir``, each atomically, in order."""
    cell_dir = Path(cell_dir)
    cell_dir.mkdir(parents=True, exist_ok=True)
    names = [n for n in files if n != SETTINGS_FILE] + [SETTINGS_FILE]
    for name in names:
        with atomic_path(cell_dir / name, overwrite=True) as tmp:
            tmp.write_bytes(files[name])
    return cell_dir


def save_cell(cell_dir: str | os.PathLike, result: CellResult) -> Path:
    """Write ``result`` into ``cell_dir`` (``settings.json`` last)."""
    return write_cell(cell_dir, cell_files(result))


def load_cell(cell_dir: str | os.PathLike, spec: CellSpec, *, source: str = "local cache") -> CellResult | None:
    """The cached cell for ``spec`` in ``cell_dir``, or None when absent, unfinished, damaged or from other
    settings."""
    cell_dir = Path(cell_dir)
    settings_file = cell_dir / SETTINGS_FILE
    if not settings_file.is_file():
        return None
    try:
        stored = json.loads(settings_file.read_text())
    except (OSError, ValueError):
        return None
    if stored != spec.settings():
        warnings.warn(
            f"the cached cell in {str(cell_dir)!r} was computed with other settings than those asked for; "
            "it is not used and will be recomputed",
            stacklevel=3,
        )
        return None
    try:
        row = json.loads((cell_dir / "row.json").read_text())
        history = json.loads((cell_dir / "history.json").read_text())
        per_lake = pd.read_csv(cell_dir / "per_lake.csv", index_col="lake_id", dtype={"lake_id": str})
        predictions = read_predictions(cell_dir / "predictions.npz")
    except (OSError, ValueError, KeyError) as exc:
        warnings.warn(f"the cached cell in {str(cell_dir)!r} is damaged ({exc}); recomputing it", stacklevel=3)
        return None
    try:
        made = json.loads((cell_dir / MADE_FILE).read_text()).get("made")
    except (OSError, ValueError):  # a cell from before made.json: its settings file's time
        made = datetime.fromtimestamp(settings_file.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")
    return CellResult(spec, row, per_lake, history, predictions, None, from_cache=source != "computed",
                      source=source, made=made, cell_dir=cell_dir)


def shared_cache_dir() -> Path | None:
    """The shared, read-only cache named by ``$GEONB_CACHE``, or None when it is not set.

    Raises
    ------
    InvalidParameterError
        ``$GEONB_CACHE`` names something that is not a folder.
    """
    value = os.environ.get(CACHE_ENV, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise InvalidParameterError(
            f"${CACHE_ENV}={value!r} is not a folder; point it at the cache a teacher filled with "
            f"`python -m geonb experiments run --cache DIR`, or unset it to compute every result here"
        )
    return path


@dataclass(frozen=True)
class CacheLocations:
    """Where cells are read (``read_only`` first, then ``write``) and where new ones are written."""

    write: Path | None
    read_only: tuple[Path, ...] = ()

    def find(self, spec: CellSpec) -> CellResult | None:
        """The finished cell for ``spec`` from the first location that holds it, or None."""
        places = [(d, "shared cache") for d in self.read_only]
        if self.write is not None:
            places.append((self.write, "local cache"))
        for root, source in places:
            result = load_cell(root / spec.key(), spec, source=source)
            if result is not None:
                return result
        return None


def cache_locations(cache_dir: str | os.PathLike | None | bool = None) -> CacheLocations:
    """Where :func:`geonb.experiments.run_cells` looks for and writes cells.

    ``cache_dir``: ``False`` (nothing read or written), ``None`` (geonb's build folder) or a folder; the
    shared cache of ``$GEONB_CACHE`` is read first unless ``cache_dir`` is ``False`` or that same folder
    (then it is the writable one: how a teacher fills it).
    """
    if cache_dir is False:
        return CacheLocations(None, ())
    if cache_dir is True or (cache_dir is not None and not isinstance(cache_dir, (str, os.PathLike))):
        raise InvalidParameterError(
            f"`cache_dir` must be a folder, None (geonb's build folder) or False (no cache), got {cache_dir!r}")
    write = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    shared = shared_cache_dir()
    read_only = ()
    if shared is not None and shared.resolve() != write.resolve():
        read_only = (shared,)
    return CacheLocations(write, read_only)
