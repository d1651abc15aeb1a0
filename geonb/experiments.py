"""The lakes study's experiments, on one split by lake, seeded, resumable.

One function per question of the study, each returning an :class:`ExperimentResults` with a tidy
table (one row per setting and seed), the per-lake scores, the training histories and the
predictions on the held-out test lakes (for the viewer and the map):

=========================  ===================================================================
:func:`patch_size_sweep`    Table 3: the FCN at patch sizes 8, 16, 32, 64
:func:`band_sweep`          Table 4: all 7 bands vs RGB vs the first k PCA components
:func:`model_comparison`    Tables 5 and 6: FCN vs U-Net vs per-pixel logistic regression vs
                            all-land, all trained on the same training lakes
:func:`domain_shift`        Figure 10's question: scores per scene condition (clear, turbid...)
:func:`unclassified_check`  Figure 8: a water/land model on the dataset with unclassified pixels
=========================  ===================================================================

How every cell (one model, one setting, one seed) is run
---------------------------------------------------------
1. Bands are chosen by name (or PCA components are fitted on the *training* pixels only).
2. Patches are cut from the training and validation lakes (the study's rule: lakes are split
   first, single-class patches pruned).
3. The model is trained (Keras models with :func:`geonb.training.train`; the baselines with
   ``.fit``) with a seed.
4. Every model is scored on the **whole** test scenes, predicted with
   :func:`geonb.prediction.predict_scene`, so all models and all patch sizes are scored on
   exactly the same pixels. (The study scored each patch size on its own pruned test patches,
   so its rows count different pixels; ours do not.)

Caching, sharing and running in parallel
----------------------------------------
A finished cell is cached (:mod:`geonb.experiment_cache`: a folder per cell, keyed by a hash of all its
settings; ``$GEONB_CACHE`` names a shared, read-only cache a teacher filled before class with
``python -m geonb experiments run``). Cells not in any cache run on a local Dask cluster, one worker process
per core, **each with one TensorFlow thread**: cells are independent, so processes use the cores better
than TensorFlow's threads do on these small models, and a model trained on one thread gets the same weights
on any machine with the same kind of CPU, however many cores it has (TensorFlow's multi-threaded kernels
add up in an order that depends on the thread count). ``workers=0`` runs them in this process instead.
Interrupting a sweep loses at most the cells that were running.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from geonb.bands import MODIS_BAND_NAMES, RGB, fit_pca
from geonb.errors import InvalidParameterError, ModelError, OutputExistsError
from geonb.evaluation import (
    Scores,
    compare_runs,
    lake_confusions,
    lake_table,
    study_table,
    sum_confusions,
    summarize_seeds,
    unclassified_breakdown,
)
from geonb.experiment_cache import (
    CACHE_ENV,
    CACHE_VERSION,
    KERAS_MODELS,
    CacheLocations,
    CellResult,
    CellSpec,
    StoredPrediction,
    cache_locations,
    cell_files,
    dataset_fingerprint,
    default_cache_dir,
    read_predictions,
    save_cell,
    write_cell,
    write_json,
    write_predictions,
)
from geonb.io import atomic_path
from geonb.labels import LAND, NODATA, WATER
from geonb.study import STUDY_TABLE3, STUDY_TABLE4, STUDY_TABLE5, STUDY_TABLE5_F1, STUDY_TABLE6

__all__ = [
    "CACHE_ENV",
    "CACHE_VERSION",
    "MODEL_NAMES",
    "STUDY_TABLE3",
    "STUDY_TABLE4",
    "STUDY_TABLE5",
    "STUDY_TABLE5_F1",
    "STUDY_TABLE6",
    "CellResult",
    "CellSpec",
    "ExperimentResults",
    "StoredPrediction",
    "band_sweep",
    "dataset_fingerprint",
    "default_cache_dir",
    "domain_shift",
    "model_comparison",
    "patch_size_sweep",
    "provenance",
    "run_cells",
    "run_study",
    "study_cells",
    "unclassified_check",
]

#: Models an experiment can train.
MODEL_NAMES: tuple[str, ...] = ("fcn", "unet", "logistic_regression", "all_land")


# -------------------------------------------------------------------------------------------
# Data access: scenes read once, bands chosen, PCA fitted on training pixels
# -------------------------------------------------------------------------------------------
class _SplitScenes:
    """Scenes of a dataset per split, read once and kept in memory, with an optional band transform.

    Quacks like a LakeDataset for :func:`geonb.patches.patch_dataset` (``split_ids``, ``scenes``).
    """

    def __init__(self, dataset, transform: Callable | None = None, cache: dict | None = None):
        self.dataset = dataset
        self.name = getattr(dataset, "name", "dataset")
        self._transform = transform
        self._cache = cache if cache is not None else {}

    def split_ids(self, split: str) -> list[str]:
        return list(self.dataset.split_ids(split))

    def scene(self, lake_id: str):
        if lake_id not in self._cache:
            self._cache[lake_id] = self.dataset.scene(lake_id)
        s = self._cache[lake_id]
        return self._transform(s) if self._transform else s

    def scenes(self, split: str | None = None):
        ids = self.split_ids(split) if split else [i for sp in ("train", "val", "test") for i in self.split_ids(sp)]
        for i in ids:
            yield self.scene(i)

    def with_transform(self, transform: Callable | None) -> _SplitScenes:
        return _SplitScenes(self.dataset, transform, self._cache)


def _band_transform(bands, data: _SplitScenes) -> tuple[Callable | None, str]:
    """A function Scene -> Scene choosing ``bands``, and a readable label of the band set."""
    if isinstance(bands, str):
        if not bands.startswith("pca") or not bands[3:].isdigit():
            raise InvalidParameterError(
                f"`bands` must be a sequence of band names or 'pca<k>' (e.g. 'pca3'), got {bands!r}")
        k = int(bands[3:])
        if not 1 <= k <= len(MODIS_BAND_NAMES):
            raise InvalidParameterError(f"'pca<k>' needs 1 <= k <= {len(MODIS_BAND_NAMES)}, got {bands!r}")
        pca = _fit_pca_on_train(data, k)
        names = tuple(f"pc{i + 1}" for i in range(k))

        def to_pca(scene):
            rows, cols, nb = scene.image.shape
            comp = pca.transform(scene.image.reshape(-1, nb)).astype(np.float32).reshape(rows, cols, k)
            comp[scene.nodata_mask] = 0.0
            return replace(scene, image=comp, band_names=names)

        return to_pca, bands
    names = tuple(bands)
    if not names:
        raise InvalidParameterError("`bands` is empty; give band names such as ('red', 'green', 'blue')")
    if names == tuple(MODIS_BAND_NAMES):
        return None, "all 7"
    return (lambda scene: scene.select_bands(names)), ("rgb" if names == tuple(RGB) else "+".join(names))


def _fit_pca_on_train(data: _SplitScenes, k: int):
    """PCA of the labelled, valid pixels of the training lakes (never val/test: that would leak)."""
    parts = []
    for s in data.scenes("train"):
        ok = ~s.nodata_mask if s.labels is None else (~s.nodata_mask & (s.labels != NODATA))
        parts.append(s.image[ok])
    return fit_pca(np.concatenate(parts), k, seed=0).model  # a sample of 200 000 pixels: plenty for 7 x 7


def _check_patch_size(data: _SplitScenes, patch_size) -> int:
    if not isinstance(patch_size, (int, np.integer)) or isinstance(patch_size, bool) or patch_size < 2:
        raise InvalidParameterError(f"`patch_size` must be an int >= 2, got {patch_size!r}")
    largest = max(min(s.shape) for s in data.scenes("train"))
    if patch_size > largest:
        raise InvalidParameterError(
            f"`patch_size`={patch_size} is larger than every training scene of {data.name!r} (the largest "
            f"fits {largest} x {largest}); choose a patch size <= {largest}, e.g. the study's 16"
        )
    return int(patch_size)


# -------------------------------------------------------------------------------------------
# Running one cell
# -------------------------------------------------------------------------------------------
def _build_model(spec: CellSpec, n_bands: int, train):
    from geonb import models

    if spec.model == "fcn":
        return models.build_lakes_fcn(spec.patch_size, n_bands, train.classes,
                                      normalization=models.input_statistics(train), seed=spec.seed,
                                      learning_rate=spec.learning_rate)
    if spec.model == "unet":
        return models.build_unet(spec.patch_size, n_bands, train.classes,
                                 normalization=models.input_statistics(train), seed=spec.seed,
                                 learning_rate=spec.learning_rate)
    if spec.model == "logistic_regression":
        return models.LogisticRegressionBaseline(max_pixels=spec.max_train_pixels, seed=spec.seed)
    if spec.model == "all_land":
        return models.AllLandBaseline(classes=train.classes)
    raise InvalidParameterError(f"`model` must be one of {MODEL_NAMES}, got {spec.model!r}")


def _history_dict(history) -> dict:
    h = getattr(history, "history", history)
    if not isinstance(h, Mapping):
        return {}
    return {str(k): [float(v) for v in vals] for k, vals in h.items()}


def _fit(model, spec: CellSpec, train, val) -> dict:
    """Train ``model``; return its history as ``{metric: [per-epoch values]}``."""
    if spec.model not in KERAS_MODELS:
        model.fit(train)
        return {}
    from geonb.training import train as train_model

    result = train_model(model, train, val, epochs=spec.epochs, batch_size=spec.batch_size, seed=spec.seed,
                         class_weight=spec.class_weight, learning_rate_schedule=spec.learning_rate_schedule, verbose=0)
    return _history_dict(getattr(result, "history", result))


def _predict(model, scene) -> StoredPrediction:
    from geonb.prediction import predict_scene

    p = predict_scene(model, scene, progress=False)
    classes = np.asarray(p.classes, dtype=np.uint8)
    return StoredPrediction(classes, np.asarray(p.probabilities, dtype=np.float32), p.class_codes, p.nodata_mask)


def _run_cell(spec: CellSpec, data: _SplitScenes, transform) -> CellResult:
    from geonb.patches import count_patches, patch_dataset

    t0 = time.perf_counter()
    tdata = data.with_transform(transform)
    train = patch_dataset(tdata, spec.patch_size, prune_single_class=spec.prune_single_class,
                          splits=("train",))["train"]
    try:  # validation lakes may all be smaller than a large patch: then train without validation
        val = patch_dataset(tdata, spec.patch_size, prune_single_class=spec.prune_single_class,
                            splits=("val",))["val"]
    except InvalidParameterError:
        val = None
    if val is None or len(val) == 0:
        warnings.warn(f"no validation patch of {spec.patch_size} x {spec.patch_size} px in {data.name!r}; "
                      "this cell trains without validation (no early stopping on held-out lakes)", stacklevel=2)
        val = None
    # Test scenes are predicted whole; their patches are only counted (for the study's table).
    n_test = count_patches((s.labels for s in data.scenes("test")), spec.patch_size,
                           prune_single_class=spec.prune_single_class).n_kept
    if len(train) == 0:
        raise InvalidParameterError(
            f"no training patch of {spec.patch_size} x {spec.patch_size} px is left in {data.name!r} after pruning; "
            "choose a smaller patch size")
    model = _build_model(spec, len(train.band_names), train)
    history = _fit(model, spec, train, val)
    t_train = time.perf_counter() - t0
    predictions = {lake: _predict(model, tdata.scene(lake)) for lake in tdata.split_ids("test")}
    truth = {lake: data.scene(lake) for lake in predictions}
    confs, props = lake_confusions({k: v.classes for k, v in predictions.items()}, truth)
    per_lake = lake_table(confs, props)
    total: Scores = sum_confusions(confs.values()).scores()
    row = {
        "model": spec.model, "patch_size": spec.patch_size,
        "bands": spec.bands if isinstance(spec.bands, str) else "+".join(spec.bands),
        "seed": spec.seed, "epochs": spec.epochs,
        "n_train_patches": len(train), "n_val_patches": 0 if val is None else len(val), "n_test_patches": n_test,
        "n_test_lakes": len(predictions),
        **total.as_row(),
        "land_share": total.confusion.share(LAND),
        "train_seconds": t_train, "total_seconds": time.perf_counter() - t0,
    }
    return CellResult(spec, row, per_lake, history, predictions, model, from_cache=False)


# Per worker process: the scenes of each dataset read once (keyed by its fingerprint) and its band transforms.
_WORKER_DATA: dict[str, tuple[_SplitScenes, dict]] = {}


def _cell_task(dataset, fingerprint: str, spec: CellSpec) -> dict[str, bytes]:
    """Run one cell on a Dask worker; return its files (:func:`geonb.experiment_cache.cell_files`)."""
    if fingerprint not in _WORKER_DATA:
        _WORKER_DATA.clear()  # one dataset at a time: scenes are kept in memory
        _WORKER_DATA[fingerprint] = (_SplitScenes(dataset), {})
    data, transforms = _WORKER_DATA[fingerprint]
    return cell_files(_run_cell_with(spec, data, transforms))


def _run_cell_with(spec: CellSpec, data: _SplitScenes, transforms: dict) -> CellResult:
    bkey = spec.bands if isinstance(spec.bands, str) else ",".join(spec.bands)
    if bkey not in transforms:
        transforms[bkey] = _band_transform(spec.bands, data)
    return _run_cell(spec, data, transforms[bkey][0])


def _cost(spec: CellSpec) -> float:
    """Rough relative cost of a cell, to start the longest first (Keras models, U-Net, small patches)."""
    return {"unet": 3.0, "fcn": 2.0}.get(spec.model, 0.1) + (0.5 if spec.patch_size <= 8 else 0.0)


def _check_workers(workers) -> int | None:
    if workers is None:
        return None
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 0:
        raise InvalidParameterError(
            f"`workers` must be None (one per core), 0 (run in this process) or an int >= 1, got {workers!r}")
    return int(workers)


def run_cells(cells: Sequence[tuple[str, CellSpec]], dataset, *, cache_dir: str | os.PathLike | None | bool = None,
              progress: bool = True, data: _SplitScenes | None = None, workers: int | None = None,
              client=None) -> list[tuple[str, CellResult]]:
    """Run (or load from the caches) each ``(label, CellSpec)``; return them with their results.

    Parameters
    ----------
    cells : sequence of (str, CellSpec)
        The label names the setting in tables (``"fcn"``, ``"16"``, ``"rgb"``).
    dataset : LakeDataset
    cache_dir : path, None or False
        The writable cache (default :func:`default_cache_dir`); ``False``: nothing is read or written and
        the cells run in this process. ``$GEONB_CACHE`` is read first, never written.
    progress : bool
        Show a progress bar over cells (each cached or computed cell moves it).
    workers : int, optional
        When a Keras cell is missing, the cells not in a cache run on a Dask cluster
        (:func:`geonb.distributed.get_client`: a local cluster of single-threaded worker processes, or
        ``$GEONB_DASK_SCHEDULER``), with this many local workers (default: one per core). ``0``: in this
        process, with its TensorFlow threads (the numbers then depend on the core count).
    client : distributed.Client or scheduler address, optional
        Run on this cluster instead.
    """
    cells = list(cells)
    if not cells:
        raise InvalidParameterError("`cells` is empty; give (label, CellSpec) pairs to run")
    bad = [c for c in cells if not (isinstance(c, tuple) and len(c) == 2 and isinstance(c[1], CellSpec))]
    if bad:
        raise InvalidParameterError(f"`cells` must hold (label, CellSpec) pairs, got {bad[0]!r}")
    workers = _check_workers(workers)
    locations = cache_locations(cache_dir)
    if workers == 0 or locations.write is None:  # Keras cells train here, with this process's thread count
        threads = _process_threads()
        cells = [(label, replace(spec, tf_threads=threads) if spec.model in KERAS_MODELS else spec)
                 for label, spec in cells]
    results: list[CellResult | None] = [locations.find(spec) for _, spec in cells]
    missing = [i for i, r in enumerate(results) if r is None]
    from tqdm.auto import tqdm

    bar = tqdm(total=len(cells), desc="experiment cells", unit="cell", disable=not progress)
    bar.update(len(cells) - len(missing))

    def done(i: int, result: CellResult) -> None:
        results[i] = result
        label, spec = cells[i]
        bar.set_postfix_str(f"{label} seed {spec.seed}: F1 {result.row['f1']:.3f}")
        bar.update(1)

    try:
        # Keras cells run on single-threaded workers (same numbers on any core count); baselines are quick
        in_process = workers == 0 or locations.write is None or not any(
            cells[i][1].model in KERAS_MODELS for i in missing)
        if missing and in_process:
            data = data or _SplitScenes(_check_dataset(dataset))
            transforms: dict = {}
            for i in missing:
                result = _run_cell_with(cells[i][1], data, transforms)
                if locations.write is not None:
                    model = result.model
                    result = _load_written(save_cell(locations.write / result.spec.key(), result), result.spec)
                    result.model = model  # kept in memory too
                done(i, result)
        elif missing:
            _run_on_cluster(cells, missing, _check_dataset(dataset), locations, done, workers, client)
    finally:
        bar.close()
    return [(label, r) for (label, _), r in zip(cells, results, strict=True)]


def _run_on_cluster(cells, missing, dataset, locations: CacheLocations, done, workers, client) -> None:
    """Submit the missing cells (longest first) to Dask; write each into the cache as it comes back."""
    import contextlib

    from geonb.distributed import SCHEDULER_ENV, client_for, get_client

    with contextlib.ExitStack() as stack:
        if client is None and not os.environ.get(SCHEDULER_ENV):
            client = get_client(None, n_workers=workers or None, threads_per_worker=1)
        else:
            client = stack.enter_context(client_for(client))
        threads = sorted(set(client.nthreads().values()))
        if any(t != 1 for t in threads):
            raise InvalidParameterError(
                f"the Dask cluster's workers have {threads} threads each; experiment cells train on single-threaded "
                "workers (two trainings in one process would share Keras' global seed, and the numbers would "
                "depend on the thread count): start workers with one thread each (threads_per_worker=1, "
                "`dask worker --nthreads 1`), or pass workers=0 to train in this process")
        _submit_cells(client, cells, missing, dataset, locations, done)


def _process_threads() -> int:
    """TensorFlow's intra-op threads in this process (geonb sizes them to the allowed cores unless set)."""
    from geonb.runtime import available_cores

    return int(os.environ.get("TF_NUM_INTRAOP_THREADS") or 0) or available_cores()


def _submit_cells(client, cells, missing, dataset, locations: CacheLocations, done) -> None:
    from distributed import as_completed

    fingerprint = dataset_fingerprint(dataset)
    [data_future] = client.scatter([dataset], broadcast=True, hash=False)
    order = sorted(missing, key=lambda i: -_cost(cells[i][1]))
    # Dask runs independent tasks of one client in no set order: the priority keeps the longest first
    futures = {client.submit(_cell_task, data_future, fingerprint, cells[i][1], pure=False,
                             priority=len(order) - rank,
                             key=f"geonb-cell-{cells[i][0]}-{cells[i][1].seed}-{cells[i][1].key()}"): i
               for rank, i in enumerate(order)}
    try:
        for fut in as_completed(futures):
            i = futures[fut]
            spec = cells[i][1]
            cell_dir = write_cell(locations.write / spec.key(), fut.result())
            result = _load_written(cell_dir, spec)
            done(i, result)
    except BaseException:
        client.cancel(list(futures))
        raise


def _load_written(cell_dir: Path, spec: CellSpec) -> CellResult:
    from geonb.experiment_cache import load_cell

    result = load_cell(cell_dir, spec, source="computed")
    if result is None:  # written a moment ago: only a concurrent writer could have removed it
        raise ModelError(f"the cell just written to {str(cell_dir)!r} cannot be read back; rerun the experiment")
    return result


# -------------------------------------------------------------------------------------------
# Results of an experiment
# -------------------------------------------------------------------------------------------
@dataclass
class ExperimentResults:
    """What an experiment returns.

    Attributes
    ----------
    name : str
        ``"patch_size_sweep"``, ``"band_sweep"``, ``"model_comparison"``...
    varied : str
        The table column that names the setting compared (``"patch_size"``, ``"bands"``, ``"model"``).
    table : pandas.DataFrame
        Tidy: one row per (setting, seed) with ``label``, the settings, patch counts, TP/FN/FP/TN,
        precision, recall, F1, IoU, accuracy, land share and seconds.
    predictions : dict of label to dict of lake id to StoredPrediction
        Predictions of the test lakes by the first seed's model of each setting:
        ``results.predictions["fcn"]["lake_id"].classes``.
    histories : dict of label to dict of seed to history
        Training curves (``{"loss": [...], "val_loss": [...]}``); empty for the baselines.
    per_lake : dict of label to DataFrame
        Per-lake scores (first seed) for maps and for :func:`domain_shift`.
    settings : dict
        The experiment's arguments.
    models : dict of label to model
        Trained models of the first seed, in memory only (absent for cells read from the cache,
        except Keras models, which are reloaded on demand by :meth:`model`).
    provenance : pandas.DataFrame
        Where each cell came from (computed now, the local cache or the shared ``$GEONB_CACHE``) and
        when it was made: see :func:`provenance`.
    """

    name: str
    varied: str
    table: pd.DataFrame
    predictions: dict[str, dict[str, StoredPrediction]] = field(default_factory=dict)
    histories: dict[str, dict[int, dict]] = field(default_factory=dict)
    per_lake: dict[str, pd.DataFrame] = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    models: dict[str, object] = field(default_factory=dict, repr=False)
    cell_dirs: dict[str, Path] = field(default_factory=dict, repr=False)
    provenance: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    @property
    def labels(self) -> list[str]:
        return list(dict.fromkeys(self.table["label"]))

    def summary(self, metrics: Sequence[str] = ("f1", "iou", "accuracy")) -> pd.DataFrame:
        """Mean and spread over seeds per setting (see :func:`geonb.evaluation.summarize_seeds`)."""
        return summarize_seeds(self.table, "label", metrics)

    def compare(self, a: str, b: str, metric: str = "f1"):
        """Does setting ``a`` differ from ``b`` by more than the seed spread? (:func:`compare_runs`)."""
        return compare_runs(self.table, "label", a, b, metric)

    def confusion(self, label: str, seed: int | None = None):
        """The water-vs-land confusion (summed over the test lakes) of setting ``label`` (default: first seed).

        Predictions of a class other than water count as "not water" (land column).
        """
        from geonb.evaluation import Confusion

        t = self.table[self.table["label"] == label]
        if t.empty:
            raise InvalidParameterError(f"no setting {label!r}; labels: {self.labels}")
        if seed is not None:
            t = t[t["seed"] == seed]
            if t.empty:
                raise InvalidParameterError(f"setting {label!r} has no run with seed {seed}")
        r = t.iloc[0]
        m = np.array([[r.tp, r.fn], [r.fp, r.tn]], dtype=np.int64)
        return Confusion(m, (WATER, LAND), WATER)

    def study_table(self, seed: int | None = None) -> pd.DataFrame:
        """The study's layout (TN, FN, TP, FP, F1, Land %, Accuracy %) for one seed (default: the first).

        Standard definitions with water positive (see :func:`geonb.evaluation.study_table`).
        Pixel counts are over the whole test scenes.
        """
        seed = int(self.table["seed"].iloc[0]) if seed is None else seed
        t = self.table[self.table["seed"] == seed]
        if t.empty:
            raise InvalidParameterError(f"no run with seed {seed}; seeds run: {sorted(self.table['seed'].unique())}")
        rows, extra = {}, {}
        for _, r in t.iterrows():
            rows[r.label] = self.confusion(r.label, seed)
            extra[r.label] = {"N train": int(r.n_train_patches), "N test": int(r.n_test_patches)}
        return study_table(rows, index_name=self.varied, extra=extra)

    def model(self, label: str):
        """The trained model of setting ``label`` (first seed); Keras models are reloaded from the cache."""
        if label in self.models:
            return self.models[label]
        path = self.cell_dirs.get(label)
        if path is not None and (path / "model.keras").is_file():
            from geonb.models import load_model

            self.models[label] = load_model(path / "model.keras")
            return self.models[label]
        raise InvalidParameterError(
            f"no trained model for {label!r} is available (baselines are not cached; rerun the experiment "
            f"with cache_dir=False to keep them in memory); labels: {self.labels}")

    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the results (tables, histories, predictions; not the models) to a folder."""
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise InvalidParameterError(
                f"`path` {str(path)!r} is a file; results are saved to a folder: give a folder path "
                "(nothing was written)"
            )
        if path.exists() and not overwrite and any(path.iterdir()):
            raise OutputExistsError(f"{str(path)!r} exists and is not empty; pass overwrite=True or another path")
        path.mkdir(parents=True, exist_ok=True)
        with atomic_path(path / "table.csv", overwrite=True) as tmp:
            self.table.to_csv(tmp, index=False)
        meta = {"name": self.name, "varied": self.varied, "settings": self.settings,
                "labels": self.labels, "histories": {k: {str(s): h for s, h in v.items()}
                                                     for k, v in self.histories.items()},
                "cell_dirs": {k: str(v) for k, v in self.cell_dirs.items()}}
        for i, label in enumerate(self.labels):
            if label in self.predictions:
                write_predictions(path / f"predictions_{i}.npz", self.predictions[label])
            if label in self.per_lake:
                with atomic_path(path / f"per_lake_{i}.csv", overwrite=True) as tmp:
                    self.per_lake[label].to_csv(tmp)
        write_json(path / "results.json", meta)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> ExperimentResults:
        """Read results written by :meth:`save`."""
        path = Path(path)
        if path.is_file():
            raise InvalidParameterError(
                f"`path` {str(path)!r} is a file; give the folder that ExperimentResults.save(folder) wrote"
            )
        meta_file = path / "results.json"
        if not meta_file.is_file():
            from geonb.errors import DatasetNotFoundError

            raise DatasetNotFoundError(f"{str(meta_file)!r} does not exist; save results with .save(path) first")
        meta = json.loads(meta_file.read_text())
        table = pd.read_csv(path / "table.csv", dtype={"label": str})
        preds, per_lake = {}, {}
        for i, label in enumerate(meta["labels"]):
            if (path / f"predictions_{i}.npz").is_file():
                preds[label] = read_predictions(path / f"predictions_{i}.npz")
            if (path / f"per_lake_{i}.csv").is_file():
                per_lake[label] = pd.read_csv(path / f"per_lake_{i}.csv", index_col="lake_id", dtype={"lake_id": str})
        histories = {k: {int(s): h for s, h in v.items()} for k, v in meta["histories"].items()}
        return cls(meta["name"], meta["varied"], table, preds, histories, per_lake, meta["settings"],
                   cell_dirs={k: Path(v) for k, v in meta.get("cell_dirs", {}).items()})

    def _repr_html_(self) -> str:
        cols = [c for c in ("label", "seed", "n_train_patches", "f1", "iou", "accuracy", "train_seconds")
                if c in self.table.columns]
        return f"<p><b>{self.name}</b> ({len(self.table)} runs)</p>" + self.table[cols].round(4).to_html(index=False)


#: Column order of :attr:`ExperimentResults.table` (further columns follow).
TABLE_COLUMNS = ("label", "model", "patch_size", "bands", "seed", "epochs", "learning_rate", "learning_rate_schedule",
                 "n_train_patches", "n_val_patches",
                 "n_test_patches", "n_test_lakes", "n_pixels", "tp", "fn", "fp", "tn", "precision", "recall", "f1",
                 "iou", "accuracy", "majority_share", "land_share")


def _collect(name: str, varied: str, results: list[tuple[str, CellResult]], settings: dict) -> ExperimentResults:
    rows, preds, hists, per_lake, models, dirs = [], {}, {}, {}, {}, {}
    for label, res in results:
        # how it trained, from the cell's key (so cells cached before these columns existed have them too)
        rows.append({"label": label, **res.row, "learning_rate": res.spec.learning_rate,
                     "learning_rate_schedule": res.spec.learning_rate_schedule or "fixed"})
        hists.setdefault(label, {})[res.spec.seed] = res.history
        if label not in preds:  # first seed of each setting
            preds[label] = res.predictions
            per_lake[label] = res.per_lake
            if res.model is not None:
                models[label] = res.model
            if res.cell_dir is not None:
                dirs[label] = Path(res.cell_dir)
    table = pd.DataFrame(rows)
    first = [c for c in TABLE_COLUMNS if c in table.columns]
    table = table[first + [c for c in table.columns if c not in first and not c.endswith("seconds")]
                  + [c for c in table.columns if c not in first and c.endswith("seconds")]]
    return ExperimentResults(name, varied, table, preds, hists, per_lake, settings, models, dirs,
                             provenance(results))


# -------------------------------------------------------------------------------------------
# The experiments
# -------------------------------------------------------------------------------------------
def _check_dataset(dataset):
    if not (hasattr(dataset, "split_ids") and hasattr(dataset, "scene")):
        hint = (f"; open it first: geonb.datasets.LakeDataset({dataset!r})" if isinstance(dataset, (str, os.PathLike))
                else "")
        raise InvalidParameterError(
            f"`dataset` must be a LakeDataset (with splits and scenes), got {type(dataset).__name__} {dataset!r}{hint}"
        )
    return dataset


def _common(dataset, seeds, epochs, batch_size, profile):
    from geonb.runtime import get_profile

    _check_dataset(dataset)

    prof = profile if profile is not None and not isinstance(profile, str) else get_profile(profile)
    seeds = tuple(prof.seeds if seeds is None else seeds)
    if not seeds or not all(isinstance(s, (int, np.integer)) for s in seeds):
        raise InvalidParameterError(f"`seeds` must be a non-empty sequence of ints, got {seeds!r}")
    epochs = prof.epochs if epochs is None else epochs
    batch_size = prof.batch_size if batch_size is None else batch_size
    for name, v in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise InvalidParameterError(f"`{name}` must be an int >= 1, got {v!r}")
    for split in ("train", "val", "test"):
        if not dataset.split_ids(split):
            raise InvalidParameterError(
                f"dataset {getattr(dataset, 'name', '?')!r} has no {split!r} lakes; experiments need all three splits")
    # the profile's learning rate and schedule go with its epochs, also when `epochs` is given
    return seeds, {"epochs": int(epochs), "batch_size": int(batch_size), "learning_rate": float(prof.learning_rate),
                   "learning_rate_schedule": prof.learning_rate_schedule}


def _settings(**kw) -> dict:
    out = {}
    for k, v in kw.items():
        if isinstance(v, Path):
            v = str(v)
        elif isinstance(v, tuple):
            v = list(v)
        out[k] = v
    return out


def _resolve_cache(cache_dir):
    if cache_dir is False:
        return False
    return Path(cache_dir) if cache_dir is not None else default_cache_dir()


def _patch_cells(name, fp, sizes, model, bands, seeds, train: dict) -> list[tuple[str, CellSpec]]:
    return [(str(s), CellSpec(name, fp, model, s, bands, seed, **train)) for s in sizes for seed in seeds]


def _band_cells(name, fp, band_sets, size, model, seeds, train: dict) -> list[tuple[str, CellSpec]]:
    cells = []
    for label, b in band_sets.items():
        b = b if isinstance(b, str) else tuple(b)
        cells += [(label, CellSpec(name, fp, model, size, b, seed, **train)) for seed in seeds]
    return cells


def _model_cells(name, fp, models, size, bands, seeds, train: dict) -> list[tuple[str, CellSpec]]:
    cells = []
    for m in models:
        # baselines have no randomness worth repeating except the LR's pixel draw; all_land none at all
        m_seeds = seeds[:1] if m == "all_land" else seeds
        cells += [(m, CellSpec(name, fp, m, size, bands, seed, **train)) for seed in m_seeds]
    return cells


def study_cells(dataset, profile=None) -> list[tuple[str, CellSpec]]:
    """Every cell notebook 05 runs with ``profile``: the patch-size and band sweeps (on the profile's
    ``sweep_seeds``) and the model comparison (on all its seeds), each cell once.

    The same cells, with the same keys, as :func:`patch_size_sweep`, :func:`band_sweep` and
    :func:`model_comparison` called with their defaults and ``seeds=profile.sweep_seeds`` for the sweeps.
    """
    from geonb.runtime import get_profile

    prof = profile if profile is not None and not isinstance(profile, str) else get_profile(profile)
    seeds, train = _common(dataset, None, None, None, prof)
    sweep_seeds = tuple(prof.sweep_seeds)
    fp = dataset_fingerprint(dataset)
    bands = tuple(MODIS_BAND_NAMES)
    cells = (_patch_cells(dataset.name, fp, tuple(prof.patch_sizes), "fcn", bands, sweep_seeds, train)
             + _band_cells(dataset.name, fp, DEFAULT_BAND_SETS, prof.patch_size, "fcn", sweep_seeds, train)
             + _model_cells(dataset.name, fp, MODEL_NAMES, prof.patch_size, bands, seeds, train))
    unique: dict[str, tuple[str, CellSpec]] = {}
    for label, spec in cells:
        unique.setdefault(spec.key(), (label, spec))
    return list(unique.values())


def run_study(dataset, profile=None, *, cache_dir: str | os.PathLike | None = None, workers: int | None = None,
              client=None, progress: bool = True) -> pd.DataFrame:
    """Run (or find in the caches) every cell of notebook 05 at once, in parallel; return :func:`provenance`.

    What a teacher runs before class (``python -m geonb experiments run``) to fill a cache that students'
    kernels read through ``$GEONB_CACHE``; and the first experiment cell of notebook 05, so that its cells
    run side by side on all cores instead of one sweep after another. The experiment functions then read
    every cell from the cache.
    """
    if cache_dir is False:
        raise InvalidParameterError("`cache_dir=False` would throw the study's cells away; give a folder or None")
    cells = study_cells(dataset, profile)
    return provenance(run_cells(cells, dataset, cache_dir=cache_dir, workers=workers, client=client,
                                progress=progress))


def provenance(results) -> pd.DataFrame:
    """Where each cell's numbers came from: one row per cell with its label, model, patch size, bands,
    seed, F1, ``source`` (``computed``, ``local cache`` or ``shared cache``), when it was ``made`` (UTC)
    and the seconds it took to compute.

    ``results``: what :func:`run_cells` returns, or an :class:`ExperimentResults` (or several in a list).
    """
    if isinstance(results, ExperimentResults):
        results = [results]
    if results and all(isinstance(r, ExperimentResults) for r in results):
        return pd.concat([r.provenance for r in results], ignore_index=True)
    rows = []
    for label, res in results:
        spec = res.spec
        rows.append({"label": label, "model": spec.model, "patch_size": spec.patch_size,
                     "bands": spec.bands if isinstance(spec.bands, str) else "+".join(spec.bands),
                     "seed": spec.seed, "f1": res.row.get("f1"), "source": res.source, "made": res.made,
                     "seconds": res.row.get("total_seconds")})
    return pd.DataFrame(rows)


def patch_size_sweep(dataset, patch_sizes: Iterable[int] | None = None, *, model: str = "fcn",
                     bands: Sequence[str] | str = MODIS_BAND_NAMES, seeds: Sequence[int] | None = None,
                     epochs: int | None = None, batch_size: int | None = None, profile=None,
                     cache_dir: str | os.PathLike | None | bool = None, progress: bool = True,
                     workers: int | None = None, client=None) -> ExperimentResults:
    """The study's Table 3: one model at several patch sizes, same lakes, scored on whole test scenes.

    Parameters
    ----------
    dataset : LakeDataset
        Its train/val/test split by lake is used as is.
    patch_sizes : iterable of int, optional
        Default: the profile's (``8, 16, 32, 64`` in ``class``).
    model : str
        One of :data:`MODEL_NAMES` (the study: ``"fcn"``).
    bands : sequence of str or "pca<k>"
    seeds : sequence of int, optional
        Default: the profile's seeds. With several, :meth:`ExperimentResults.summary` gives mean ± std.
    epochs, batch_size : int, optional
        Default: the profile's.
    profile : str or Profile, optional
        Default ``$GEONB_PROFILE``.
    cache_dir : path, None or False
        Where finished cells are cached (default :func:`default_cache_dir`; False: no cache).
        ``$GEONB_CACHE`` (a teacher's shared cache) is read first and never written.
    progress : bool
    workers, client
        Where cells not in a cache run: see :func:`run_cells` (default: a local Dask cluster, one
        single-threaded worker per core).

    Returns
    -------
    ExperimentResults
        Labels are the patch sizes as strings (``"16"``); ``varied`` is ``"patch_size"``.

    Raises
    ------
    InvalidParameterError
        A patch size larger than every training scene, or one that leaves no training patch.
    """
    from geonb.runtime import get_profile

    prof = profile if profile is not None and not isinstance(profile, str) else get_profile(profile)
    sizes = tuple(prof.patch_sizes if patch_sizes is None else patch_sizes)
    if not sizes:
        raise InvalidParameterError("`patch_sizes` is empty; give at least one patch size, e.g. (8, 16, 32, 64)")
    seeds, train = _common(dataset, seeds, epochs, batch_size, prof)
    data = _SplitScenes(dataset)
    sizes = tuple(_check_patch_size(data, s) for s in sizes)
    if model in KERAS_MODELS:
        from geonb.models import check_patch_size

        for s in sizes:
            check_patch_size("lakes_fcn" if model == "fcn" else "unet", s)
    fp = dataset_fingerprint(dataset)
    bands = bands if isinstance(bands, str) else tuple(bands)
    cells = _patch_cells(dataset.name, fp, sizes, model, bands, seeds, train)
    cache = _resolve_cache(cache_dir)
    results = run_cells(cells, dataset, cache_dir=cache, progress=progress, data=data, workers=workers,
                        client=client)
    return _collect("patch_size_sweep", "patch_size", results, _settings(
        dataset=dataset.name, patch_sizes=sizes, model=model, bands=bands, seeds=seeds, **train,
        cache_dir=cache if cache else None))


#: The band sets of :func:`band_sweep` by default: the study's two and the PCA question it raised.
DEFAULT_BAND_SETS: dict[str, tuple[str, ...] | str] = {"all 7": MODIS_BAND_NAMES, "rgb": RGB, "pca3": "pca3"}


def band_sweep(dataset, band_sets: Mapping[str, Sequence[str] | str] | None = None, *, patch_size: int | None = None,
               model: str = "fcn", seeds: Sequence[int] | None = None, epochs: int | None = None,
               batch_size: int | None = None, profile=None, cache_dir: str | os.PathLike | None | bool = None,
               progress: bool = True, workers: int | None = None, client=None) -> ExperimentResults:
    """The study's Table 4 and its open PCA question: the same model on different bands.

    Parameters
    ----------
    band_sets : dict of label to band names or "pca<k>", optional
        Default :data:`DEFAULT_BAND_SETS`: all 7 bands, RGB, the first 3 PCA components (fitted
        on the training lakes' pixels only).
    patch_size : int, optional
        Default: the profile's (16).
    Other parameters as in :func:`patch_size_sweep`.

    Returns
    -------
    ExperimentResults
        Labels are the keys of ``band_sets``; ``varied`` is ``"bands"``.
    """
    from geonb.runtime import get_profile

    prof = profile if profile is not None and not isinstance(profile, str) else get_profile(profile)
    band_sets = dict(DEFAULT_BAND_SETS if band_sets is None else band_sets)
    if not band_sets:
        raise InvalidParameterError("`band_sets` is empty; give e.g. {'rgb': ('red', 'green', 'blue')}")
    seeds, train = _common(dataset, seeds, epochs, batch_size, prof)
    data = _SplitScenes(dataset)
    size = _check_patch_size(data, prof.patch_size if patch_size is None else patch_size)
    fp = dataset_fingerprint(dataset)
    cells = _band_cells(dataset.name, fp, band_sets, size, model, seeds, train)
    cache = _resolve_cache(cache_dir)
    results = run_cells(cells, dataset, cache_dir=cache, progress=progress, data=data, workers=workers,
                        client=client)
    return _collect("band_sweep", "bands", results, _settings(
        dataset=dataset.name, band_sets={k: (v if isinstance(v, str) else list(v)) for k, v in band_sets.items()},
        patch_size=size, model=model, seeds=seeds, **train,
        cache_dir=cache if cache else None))


def model_comparison(dataset, models: Sequence[str] = MODEL_NAMES, *, patch_size: int | None = None,
                     bands: Sequence[str] | str = MODIS_BAND_NAMES, seeds: Sequence[int] | None = None,
                     epochs: int | None = None, batch_size: int | None = None, profile=None,
                     cache_dir: str | os.PathLike | None | bool = None, progress: bool = True,
                     workers: int | None = None, client=None) -> ExperimentResults:
    """The study's Tables 5 and 6 on one split: FCN, U-Net, per-pixel logistic regression, all-land.

    Every model learns from the same training lakes (the logistic regression from the pixels of
    the same training patches; the study could only give it a random pixel split) and is scored
    on the same whole test scenes.

    Returns
    -------
    ExperimentResults
        Labels are the model names; ``varied`` is ``"model"``.
    """
    from geonb.runtime import get_profile

    prof = profile if profile is not None and not isinstance(profile, str) else get_profile(profile)
    models = tuple(models)
    bad = [m for m in models if m not in MODEL_NAMES]
    if bad or not models:
        raise InvalidParameterError(f"`models` must be names among {MODEL_NAMES}, got {models!r}")
    seeds, train = _common(dataset, seeds, epochs, batch_size, prof)
    data = _SplitScenes(dataset)
    size = _check_patch_size(data, prof.patch_size if patch_size is None else patch_size)
    fp = dataset_fingerprint(dataset)
    bands = bands if isinstance(bands, str) else tuple(bands)
    cells = _model_cells(dataset.name, fp, models, size, bands, seeds, train)
    cache = _resolve_cache(cache_dir)
    results = run_cells(cells, dataset, cache_dir=cache, progress=progress, data=data, workers=workers,
                        client=client)
    return _collect("model_comparison", "model", results, _settings(
        dataset=dataset.name, models=models, patch_size=size, bands=bands, seeds=seeds, **train,
        cache_dir=cache if cache else None))


def domain_shift(results: ExperimentResults, dataset, *, labels: Sequence[str] | None = None,
                 by: str = "condition") -> pd.DataFrame:
    """Scores per scene condition (clear, turbid, frozen, cloudy, low-sun) of each model's test predictions.

    Pixels of all test lakes with the same condition are pooled (summed confusion matrices).

    Parameters
    ----------
    results : ExperimentResults
        E.g. from :func:`model_comparison`; its first-seed predictions are scored.
    dataset : LakeDataset
        The dataset the results were computed on (labels and the ``condition`` column).
    labels : sequence of str, optional
        Which settings to score (default all).
    by : str
        Catalog column to group lakes by.

    Returns
    -------
    pandas.DataFrame
        Tidy: columns ``label``, ``condition``, ``n_lakes``, ``n_pixels``, ``water_share``, ``f1``,
        ``precision``, ``recall``, ``iou``, ``accuracy``.
    """
    if not isinstance(results, ExperimentResults):
        raise InvalidParameterError(
            f"`results` must be ExperimentResults (e.g. from model_comparison), got {type(results).__name__}"
        )
    _check_dataset(dataset)
    labels = list(results.predictions) if labels is None else list(labels)
    missing = [lb for lb in labels if lb not in results.predictions]
    if missing:
        raise InvalidParameterError(
            f"`labels` {missing} are not in the results; choose among {list(results.predictions)}")
    lakes = dataset.lakes
    if by not in lakes.columns:
        raise InvalidParameterError(f"`by`={by!r} is not a catalog column; choose among {list(lakes.columns)}")
    data = _SplitScenes(dataset)
    rows = []
    for label in labels:
        preds = {k: v.classes for k, v in results.predictions[label].items()}
        truth = {k: data.scene(k) for k in preds}
        confs, _ = lake_confusions(preds, truth)
        groups = lakes.loc[list(preds), by]
        for value, ids in groups.groupby(groups).groups.items():
            total = sum_confusions(confs[i] for i in ids)
            s = total.scores()
            rows.append({"label": label, by: value, "n_lakes": len(ids), "n_pixels": total.n_pixels,
                         "water_share": total.share(WATER), "f1": s.f1, "precision": s.precision,
                         "recall": s.recall, "iou": s.iou, "accuracy": s.accuracy})
    return pd.DataFrame(rows)


def unclassified_check(model, dataset, *, split: str | None = None, bands: Sequence[str] | None = None,
                       max_lakes: int | None = None, progress: bool = True):
    """The study's Figure 8: predict a dataset with unclassified pixels with a water/land model.

    Parameters
    ----------
    model : Keras model or baseline
        Trained on the water/land dataset (3 output classes, as the study).
    dataset : LakeDataset
        The dataset with ``UNCLASSIFIED`` labels.
    split : str, optional
        Which split's lakes (default: all lakes; none of them were used in training, which was on
        the other dataset).
    bands : sequence of str, optional
        The bands the model takes, when not all 7.
    max_lakes : int, optional
        Predict only the first ``max_lakes`` lakes (quick runs).

    Returns
    -------
    breakdown : geonb.evaluation.UnclassifiedBreakdown
    predictions : dict of lake id to StoredPrediction
    """
    data = _SplitScenes(dataset)
    ids = data.split_ids(split) if split else [i for sp in ("train", "val", "test") for i in data.split_ids(sp)]
    if max_lakes is not None:
        ids = ids[:max_lakes]
    if not ids:
        raise InvalidParameterError(f"dataset {data.name!r} has no lakes in split {split!r}")
    from tqdm.auto import tqdm

    preds, labels = {}, {}
    for lake in tqdm(ids, desc="predicting", unit="lake", disable=not progress):
        scene = data.scene(lake)
        labels[lake] = scene.labels
        preds[lake] = _predict(model, scene.select_bands(tuple(bands)) if bands else scene)
    codes = {v.class_codes for v in preds.values()}
    if len(codes) != 1:
        raise ModelError(f"the predictions carry different class codes {sorted(codes)}; predict with one model")
    breakdown = unclassified_breakdown({k: v.classes for k, v in preds.items()}, labels,
                                       {k: v.probabilities for k, v in preds.items()}, classes=codes.pop(),
                                       mask={k: v.nodata_mask for k, v in preds.items()})
    return breakdown, preds
