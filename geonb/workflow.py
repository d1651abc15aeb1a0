"""Your own raster, end to end: a scene + training polygons → split by polygon → train → score → predict.

The steps a researcher takes with their own Landsat or Sentinel-2 scene and polygons drawn in QGIS,
each a short call built on the rest of geonb:

1. :func:`label_scene` — rasterize the polygons onto the scene's grid (any CRS), one class scheme
   (names → codes → colours) for every later plot, map and file, and a **split by polygon** (seeded,
   stratified by class): no polygon is in training and testing, the study's split-by-lake rule.
2. :func:`add_indices` — optional spectral indices (NDWI, MNDWI) as extra input channels.
3. :func:`train_on_scene` — patches that keep every window holding a labelled pixel (sparse labels),
   the 8 flips/rotations (D4) as augmentation, early stopping on the validation polygons; the FCN,
   the U-Net or per-pixel logistic regression.
4. :func:`score_on_scene` — per-class F1 on the held-out polygons; :func:`compare_on_scene` repeats
   1–4 over seeds and models (is spatial context a boon on *this* scene?).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from geonb.bands import MAX_SAMPLE_PIXELS
from geonb.classes import ClassScheme
from geonb.errors import InvalidParameterError, ModelError
from geonb.labels import Footprints, load_polygons, rasterize_labels, split_polygons
from geonb.scene import Scene

#: Models :func:`train_on_scene` builds.
SCENE_MODELS = ("fcn", "unet", "logistic_regression")
#: Spectral indices :func:`add_indices` computes.
INDICES = ("ndwi", "mndwi")
#: Default share of polygons per split.
DEFAULT_FRACTIONS = {"train": 0.6, "val": 0.2, "test": 0.2}


@dataclass
class LabelledScene:
    """A scene with training polygons rasterized per split.

    Attributes
    ----------
    scene : Scene
        The image (labels not set: see :meth:`scene_for`).
    scheme : ClassScheme
        Class names → codes → colours (codes in the models' output channel order).
    labels : dict of str to ndarray uint8 (rows, cols)
        Per split, the class codes of that split's polygons; 0 elsewhere and under the image's nodata.
    polygons : dict of str to Footprints
        Per split, the polygons (in the scene's CRS).
    field : str
        The polygons' class property.
    seed : int
        Seed of the split.
    """

    scene: Scene
    scheme: ClassScheme
    labels: dict[str, np.ndarray]
    polygons: dict[str, Footprints]
    field: str = "class"
    seed: int = 0

    def scene_for(self, split: str) -> Scene:
        """The scene with the labels of one split (``"train"``, ``"val"``, ``"test"``)."""
        if split not in self.labels:
            raise InvalidParameterError(f"`split` must be one of {list(self.labels)}, got {split!r}")
        return replace(self.scene, labels=self.labels[split], name=f"{self.scene.name} ({split})")

    def counts(self) -> pd.DataFrame:
        """Polygons and labelled pixels per class and split (the check a researcher does first)."""
        rows = []
        for split, lab in self.labels.items():
            fp = self.polygons[split]
            for code, name in zip(self.scheme.codes, self.scheme.names, strict=True):
                rows.append({"split": split, "class": name, "code": code,
                             "polygons": sum(str(p[self.field]) == name for p in fp.properties),
                             "pixels": int((lab == code).sum())})
        return pd.DataFrame(rows).pivot_table(index=["class", "code"], columns="split",
                                              values=["polygons", "pixels"], aggfunc="sum")

    def with_scene(self, scene: Scene) -> LabelledScene:
        """The same labels on a scene with other bands (e.g. :func:`add_indices`); the grid must match."""
        if scene.shape != self.scene.shape or scene.transform != self.scene.transform:
            raise InvalidParameterError("`scene` is not on the labelled scene's grid (shape and transform differ)")
        return replace(self, scene=scene)


def scheme_from_polygons(polygons: Footprints, field: str = "class") -> ClassScheme:
    """A class scheme for the class names found in ``field``: ``water`` first (code 1, as the lakes'
    WATER), then the others in alphabetical order, numbered 1, 2, 3..."""
    names = sorted({str(p[field]) for p in polygons.properties if p.get(field) is not None})
    if not names:
        found = sorted({k for p in polygons.properties for k in p})
        raise InvalidParameterError(
            f"`field` {field!r} is not a property of the polygons (their properties: {found}), so there are no "
            "classes; pass the property that holds the class name as field="
        )
    names.sort(key=lambda n: (n.lower() != "water", n))
    return ClassScheme.from_names(names)


def label_scene(scene: Scene, polygons, *, field: str = "class", scheme: ClassScheme | None = None,
                fractions: dict | None = None, seed: int = 0, all_touched: bool = False) -> LabelledScene:
    """Rasterize training polygons onto ``scene``'s grid, split **by polygon** into train/val/test.

    Parameters
    ----------
    scene : Scene
    polygons : Footprints, GeoJSON dict/text or path
        Any CRS (reprojected to the scene's; GeoJSON without a ``crs`` member is lon/lat). Must
        overlap the scene (else a clear error).
    field : str
        The property holding each polygon's class name (or code).
    scheme : ClassScheme, optional
        Names → codes → colours. Default :func:`scheme_from_polygons` (water first).
    fractions : dict, optional
        Share of each class's polygons per split (default 60/20/20 %).
    seed : int
        Seed of the split (:func:`geonb.labels.split_polygons`).
    all_touched : bool
        Label every pixel a polygon touches (default: pixels whose centre is inside).

    Returns
    -------
    LabelledScene
    """
    if not isinstance(scene, Scene):
        raise InvalidParameterError(f"`scene` must be a geonb Scene (geonb.scene.read_scene), got {type(scene)}")
    if scene.crs is None:
        raise InvalidParameterError("`scene` has no CRS, so polygons cannot be placed on it; read a georeferenced "
                                    "raster with geonb.scene.read_scene")
    fp = load_polygons(polygons, crs=scene.crs)
    if any(p.get(field) is not None for p in fp.properties):
        # class values are names from here on (a class field of integers 5, 9 becomes "5", "9")
        fp = replace(fp, properties=[{**p, field: str(p[field])} if p.get(field) is not None else dict(p)
                                     for p in fp.properties])
    scheme = scheme if scheme is not None else scheme_from_polygons(fp, field)
    if not isinstance(scheme, ClassScheme):
        raise InvalidParameterError(f"`scheme` must be a geonb.classes.ClassScheme, got {type(scheme).__name__}")
    found = {str(p.get(field)) for p in fp.properties}
    unknown = sorted(found - set(scheme.names))
    if unknown:
        raise InvalidParameterError(
            f"the polygons' {field!r} classes {unknown} are not in `scheme` {list(scheme.names)}; add them, or "
            "leave scheme=None to make one from the polygons"
        )
    if len(found & set(scheme.names)) < 2:
        raise InvalidParameterError(
            f"the polygons hold {len(found)} class ({sorted(found)}); a segmentation model needs at least 2 — "
            "draw polygons of the other classes too (e.g. land around the water)"
        )
    # the whole set must overlap the scene, and polygons of different classes must not overlap (a clear
    # error otherwise), before splitting
    rasterize_labels(fp, scene.shape, scene.transform, scene.crs, field=field, label_map=scheme.label_map,
                     classes=scheme.codes, overlap="error", all_touched=all_touched)
    parts = split_polygons(fp, field=field, fractions=fractions or DEFAULT_FRACTIONS, seed=seed)
    labels = {}
    for split, part in parts.items():
        if len(part):
            lab = rasterize_labels(part, scene.shape, scene.transform, scene.crs, field=field,
                                   label_map=scheme.label_map, classes=scheme.codes, overlap="last",
                                   all_touched=all_touched, require_overlap=False)
        else:
            lab = np.zeros(scene.shape, np.uint8)
        lab[scene.nodata_mask] = 0
        labels[split] = lab
    # Nested or touching polygons that fell into different splits label the same pixels twice: such a
    # pixel is kept for training only, never scored (no test pixel was seen in training).
    held_out = [s for s in labels if s != "train"]
    if "train" in labels:
        shared_total = 0
        for split in held_out:
            shared = (labels[split] > 0) & (labels["train"] > 0)
            shared_total += int(shared.sum())
            labels[split][shared] = 0
        if len(held_out) > 1:
            for i, a in enumerate(held_out):
                for b in held_out[i + 1:]:
                    shared = (labels[a] > 0) & (labels[b] > 0)
                    shared_total += int(shared.sum())
                    labels[b][shared] = 0
        if shared_total:
            warnings.warn(f"{shared_total} pixels are labelled by polygons of two splits (nested or touching "
                          "polygons); they were taken out of the held-out splits so that no scored pixel was "
                          "trained on", stacklevel=2)
    for split in ("train", "test"):
        if split in labels:
            absent = [n for c, n in zip(scheme.codes, scheme.names, strict=True) if not (labels[split] == c).any()]
            if absent:
                warnings.warn(f"the {split!r} polygons hold no pixel of class(es) {absent} (too few polygons of "
                              "those classes to split); their scores will be undefined", stacklevel=2)
    return LabelledScene(scene, scheme, labels, parts, field, int(seed))


def add_indices(scene: Scene, indices: Sequence[str] = ("ndwi", "mndwi")) -> Scene:
    """``scene`` with spectral indices appended as extra bands (named ``"ndwi"``, ``"mndwi"``).

    NDWI needs the bands ``green`` and ``nir``, MNDWI ``green`` and ``swir1`` (by name, on any sensor;
    see :mod:`geonb.bands`). Pixels where an index is undefined (``green + nir == 0``, nodata) hold 0.
    """
    from geonb import bands

    if isinstance(indices, str):
        indices = (indices,)
    unknown = [i for i in indices if i not in INDICES]
    if unknown:
        raise InvalidParameterError(f"`indices` holds {unknown}; known indices are {list(INDICES)}")
    extra = []
    for name in indices:
        if name in scene.band_names:
            raise InvalidParameterError(f"the scene already has a band {name!r}")
        values = getattr(bands, name)(scene)
        extra.append(np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32))
    if not extra:
        return scene
    image = np.concatenate([scene.image, np.stack(extra, axis=-1)], axis=-1)
    image[scene.nodata_mask] = 0.0
    return replace(scene, image=image, band_names=tuple(scene.band_names) + tuple(indices))


@dataclass
class SceneModel:
    """A model trained on one labelled scene.

    Attributes
    ----------
    model : keras.Model or baseline
        Carries its class codes; Keras models also the scheme and input bands (saved with them).
    kind : str
        ``"fcn"``, ``"unet"`` or ``"logistic_regression"``.
    scheme : ClassScheme
    band_names : tuple of str
        Input bands, in order.
    history : dict
        Per-epoch losses (Keras models).
    seconds : float
        Training wall time.
    n_patches : dict
        Patches per split.
    """

    model: object
    kind: str
    scheme: ClassScheme
    band_names: tuple[str, ...]
    history: dict = field(default_factory=dict)
    seconds: float = 0.0
    n_patches: dict = field(default_factory=dict)
    epochs_run: int = 0


def _patches(labelled: LabelledScene, split: str, size: int, stride: int):
    from geonb.patches import extract_patches

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a scene smaller than a patch is padded, not dropped
        return extract_patches(labelled.scene_for(split), size, stride, edge="pad", classes=labelled.scheme.codes,
                               min_labelled=1)


def train_on_scene(labelled: LabelledScene, *, model: str = "fcn", patch_size: int = 8, stride: int | None = None,
                   epochs: int = 60, batch_size: int = 32, seed: int = 0, augment: str | None = "d4",
                   early_stopping: int | None = 20, stop_on: str = "accuracy", class_weight="balanced",
                   learning_rate: float = 3e-4, verbose: str | int = 0) -> SceneModel:
    """Train one model on the training polygons of a :class:`LabelledScene`.

    Parameters
    ----------
    labelled : LabelledScene
    model : {"fcn", "unet", "logistic_regression"}
        The study's FCN (spatial context of 13 px), a U-Net, or per-pixel logistic regression.
    patch_size, stride : int
        Windows cut around the labelled pixels (default stride: half a patch); windows without a
        labelled pixel are left out (sparse labels).
    epochs, batch_size, learning_rate : training settings (Keras models)
        Defaults measured on the real Landsat-5 and Sentinel-2 scenes (``benchmarks/bench_own_raster.py``):
        a learning rate of 3e-4 (1e-3 overfits a few polygons within a few epochs), at most 60 epochs,
        8 x 8 patches (16 x 16 did worse on the held-out polygons of both scenes).
    seed : int
        Seeds the weights, the batches and the augmentation.
    augment : "d4" or None
        The 8 flips/rotations, on by default (see :func:`geonb.training.train`).
    early_stopping : int or None
        Patience in epochs on the validation polygons (the best weights are kept).
    stop_on : {"accuracy", "loss"}
        What early stopping watches on the validation polygons: their class-weighted pixel accuracy
        (default: with a handful of validation polygons the loss stops far too early) or their loss.
    class_weight : "balanced", None or dict
        As in :func:`geonb.training.train`.

    Returns
    -------
    SceneModel
    """
    from geonb import models
    from geonb.training import train

    if model not in SCENE_MODELS:
        raise InvalidParameterError(f"`model` must be one of {list(SCENE_MODELS)}, got {model!r}")
    if not isinstance(labelled, LabelledScene):
        raise InvalidParameterError(f"`labelled` must be a LabelledScene (label_scene(...)), got {type(labelled)}")
    stride = stride if stride is not None else max(1, patch_size // 2)
    t0 = time.perf_counter()
    tr = _patches(labelled, "train", patch_size, stride)
    if len(tr) == 0:
        raise InvalidParameterError("no training patch holds a labelled pixel; check the training polygons")
    va = None
    if "val" in labelled.labels and (labelled.labels["val"] > 0).any():
        va = _patches(labelled, "val", patch_size, stride)
    codes = labelled.scheme.codes
    bands = len(labelled.scene.band_names)
    history, epochs_run = {}, 0
    if model == "logistic_regression":
        net = models.LogisticRegressionBaseline(max_pixels=MAX_SAMPLE_PIXELS, seed=seed).fit(tr)
    else:
        build = models.build_lakes_fcn if model == "fcn" else models.build_unet
        net = build(patch_size, bands=bands, classes=codes, normalization=models.input_statistics(tr), seed=seed,
                    learning_rate=learning_rate)
        result = train(net, tr, va if va is not None and len(va) else None, epochs=epochs, batch_size=batch_size,
                       class_weight=class_weight, early_stopping=early_stopping, seed=seed, augment=augment,
                       stop_on=stop_on, verbose=verbose)
        history, epochs_run = result.history, result.epochs_run
        props = labelled.scene.properties
        models.set_model_info(net, scheme=labelled.scheme.to_dict(), input_bands=list(labelled.scene.band_names),
                              patch_size=int(patch_size), kind=model,
                              indices=[b for b in labelled.scene.band_names if b in INDICES],
                              sensor=props.get("sensor") or "none", units=props.get("units"),
                              scale_rule=props.get("scale_rule"), product=props.get("product"))
    return SceneModel(net, model, labelled.scheme, tuple(labelled.scene.band_names), history,
                      time.perf_counter() - t0, {"train": len(tr), "val": 0 if va is None else len(va)}, epochs_run)


def score_on_scene(model, labelled: LabelledScene, split: str = "test", *, prediction=None):
    """Scores of ``model`` on one split's polygons (default the held-out test polygons).

    The whole scene is predicted (:func:`geonb.prediction.predict_scene`) and scored where that split's
    polygons are; every class of the scheme is a row (F1 is NaN with a note where a class is absent).

    Returns
    -------
    geonb.evaluation.Scores
    """
    from geonb.evaluation import scores
    from geonb.prediction import predict_scene

    net = model.model if isinstance(model, SceneModel) else model
    if prediction is None:
        prediction = predict_scene(net, labelled.scene, progress=False)
    scheme = labelled.scheme
    positive = scheme.code("water") if "water" in scheme.names else scheme.codes[0]
    classes = scheme.codes if len(scheme.codes) >= 2 else (*scheme.codes, 0)
    return scores(labelled.labels[split], prediction, classes=classes, positive=positive, exclude=(),
                  names=scheme.names_by_code)


def compare_on_scene(scene: Scene, polygons, *, field: str = "class", models: Sequence[str] = SCENE_MODELS,
                     seeds: Sequence[int] = (0, 1, 2), patch_size: int = 8, epochs: int = 60,
                     indices: Sequence[str] = (), augment: str | None = "d4", progress: bool = True,
                     **train_kwargs) -> pd.DataFrame:
    """Per-class F1 on held-out polygons for several models and seeds (each seed: a new polygon split).

    Returns
    -------
    pandas.DataFrame
        Tidy: ``model``, ``seed``, ``class``, ``f1``, ``precision``, ``recall``, ``support`` (test pixels),
        ``train_seconds``, ``epochs``.
    """
    if isinstance(models, str):
        models = (models,)
    bad = [m for m in models if m not in SCENE_MODELS]
    if bad:
        raise InvalidParameterError(f"`models` holds {bad}; choose from {list(SCENE_MODELS)}")
    if not seeds:
        raise InvalidParameterError("`seeds` is empty; give at least one seed")
    base = add_indices(scene, indices) if indices else scene
    rows = []
    jobs = [(s, m) for s in seeds for m in models]
    from tqdm.auto import tqdm

    bar = tqdm(total=len(jobs), desc="models x seeds", unit="fit", disable=not progress)
    labelled = None
    for seed, name in jobs:
        if labelled is None or labelled.seed != seed:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                labelled = label_scene(base, polygons, field=field, seed=seed)
        try:
            fitted = train_on_scene(labelled, model=name, patch_size=patch_size, epochs=epochs, seed=seed,
                                    augment=augment, **train_kwargs)
        except ModelError:
            raise
        sc = score_on_scene(fitted, labelled)
        table = sc.per_class
        for cname, row in table.iterrows():
            rows.append({"model": name, "seed": seed, "class": cname, "f1": row["f1"],
                         "precision": row["precision"], "recall": row["recall"], "support": int(row["support"]),
                         "train_seconds": fitted.seconds, "epochs": fitted.epochs_run})
        bar.update(1)
    bar.close()
    return pd.DataFrame(rows)


def summarize_comparison(table: pd.DataFrame) -> pd.DataFrame:
    """Mean ± sd of F1 per model and class over seeds (rows: class, columns: model)."""
    g = table.groupby(["class", "model"])["f1"]
    out = g.mean().unstack("model").round(3).astype(str) + " ± " + g.std(ddof=0).unstack("model").round(3).astype(str)
    return out


__all__ = [
    "DEFAULT_FRACTIONS",
    "INDICES",
    "LabelledScene",
    "SCENE_MODELS",
    "SceneModel",
    "add_indices",
    "compare_on_scene",
    "label_scene",
    "scheme_from_polygons",
    "score_on_scene",
    "summarize_comparison",
    "train_on_scene",
]
