"""A catalogue of bad inputs over geonb's public API ("trustworthy on data we did not make").

Every row is one bad input. The contract it checks: the call raises a :class:`geonb.errors.GeonbError`
of the expected class (which also subclasses the builtin it refines) whose message matches a fragment
naming the argument or the fix. A silent result, a raw dependency error or a geonb error with a
misleading message fails the row.

Rows marked ``output=True`` write files. For them the folder ``out`` is filled with pre-existing
files first; after the call every pre-existing file must have the same bytes and no other file
(``.part`` temporaries, half of a pair) may be left in the folder.

The table (:data:`CASES`) is plain data so that a survey script can import it and classify what each
row does on any version of geonb; :func:`make_fixtures` builds the inputs without pytest. Everything
geonb is imported inside the callables, so the table imports even where an API does not exist yet.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from geonb.errors import (
    BandMismatchError,
    CatalogError,
    ClassCodeError,
    CoverageError,
    CRSError,
    DatasetNotFoundError,
    DeviceError,
    GeoJSONError,
    GeonbError,
    GridMismatchError,
    InvalidParameterError,
    ModelError,
    NetworkError,
    OutputExistsError,
    RasterReadError,
    ShapeMismatchError,
)

SEED = 20261202
MODIS7 = ("red", "nir", "blue", "green", "nir2", "swir1", "swir2")


class CLIFailure(GeonbError):
    """The command line exited with a non-zero status and an ``error:`` line (test-local class)."""


# ---------------------------------------------------------------------------------------------
# Fixtures: tiny rasters, a tiny lakes dataset, one tiny Keras model (built lazily, once)
# ---------------------------------------------------------------------------------------------
class Fixtures:
    """Inputs shared by every row. Paths under ``root``; nothing here is changed by a row."""

    def __init__(self, root: Path) -> None:
        import rasterio
        from affine import Affine

        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(SEED)
        self.rows, self.cols = 40, 39
        self.transform = Affine(463.3, 0, 1_000_000.0, 0, -463.3, 2_000_000.0)
        self.crs = "+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m +no_defs"
        image = rng.integers(100, 4000, size=(7, self.rows, self.cols)).astype(np.int16)
        labels = rng.integers(1, 3, size=(self.rows, self.cols)).astype(np.uint8)
        labels[:20, :20] = 1
        labels[20:, 20:] = 2
        self.labels = labels
        self.image_f = np.moveaxis(image, 0, -1).astype(np.float32) * np.float32(1e-4)

        def tif(name, arr, dtype, nodata=None, transform=None, crs=None, desc=None):
            arr = np.asarray(arr)
            if arr.ndim == 2:
                arr = arr[None]
            path = root / name
            with rasterio.open(path, "w", driver="GTiff", height=arr.shape[1], width=arr.shape[2],
                               count=arr.shape[0], dtype=dtype, crs=crs or self.crs,
                               transform=transform or self.transform, nodata=nodata) as ds:
                ds.write(arr.astype(dtype))
                if desc:
                    for i, n in enumerate(desc, start=1):
                        ds.set_band_description(i, n)
            return path

        self.image = tif("image.tif", image, "int16", nodata=-28672, desc=MODIS7)
        self.image3 = tif("image3.tif", image[:3], "int16", nodata=-28672, desc=("red", "green", "blue"))
        self.labels_path = tif("labels.tif", labels, "uint8")
        self.labels7 = tif("labels7.tif", np.where(labels == 2, 7, labels), "uint8")
        self.labels_float = tif("labels_float.tif", labels.astype(np.float32) + 0.5, "float32")
        self.labels_neg = tif("labels_neg.tif", labels.astype(np.int16) - 2, "int16")
        self.labels_300 = tif("labels_300.tif", labels.astype(np.uint16) * 150, "uint16")
        self.labels_small = tif("labels_small.tif", labels[:30, :30], "uint8")
        self.labels_shifted = tif("labels_shifted.tif", labels, "uint8",
                                  transform=self.transform * Affine.translation(0.5, 0))
        self.labels_crs = tif("labels_crs.tif", labels, "uint8", crs="EPSG:32633")
        self.text_tif = root / "text.tif"
        self.text_tif.write_text("this is not a GeoTIFF\n")
        self.truncated = root / "truncated.tif"
        self.truncated.write_bytes(self.image.read_bytes()[:600])
        self.empty_tif = root / "empty.tif"
        self.empty_tif.write_bytes(b"")
        self.folder = root / "a_folder.tif"
        self.folder.mkdir()
        self.missing = root / "missing.tif"
        self.binary_geojson = root / "binary.geojson"
        self.binary_geojson.write_bytes(bytes(range(256)))
        self.text_geojson = root / "text.geojson"
        self.text_geojson.write_text("{not json")
        self.good_geojson = root / "good.geojson"
        self.good_geojson.write_text(json.dumps(self.feature_collection()))
        self.text_keras = root / "text.keras"
        self.text_keras.write_text("not a model")
        self._scene = None
        self._model = None
        self._plain = None
        self._dataset = None
        self._patches = None

    # --- objects built on first use ---------------------------------------------------------
    def feature_collection(self, klass="water", crs_name=None) -> dict:
        """A square over pixels 5..15 of the fixture grid, in lon/lat (RFC 7946)."""
        from rasterio.warp import transform as warp

        xs = [self.transform.c + c * 463.3 for c in (5, 15, 15, 5, 5)]
        ys = [self.transform.f - r * 463.3 for r in (5, 5, 15, 15, 5)]
        lon, lat = warp(self.crs, "EPSG:4326", xs, ys)
        fc = {"type": "FeatureCollection", "features": [{
            "type": "Feature", "properties": {"class": klass},
            "geometry": {"type": "Polygon", "coordinates": [[[a, b] for a, b in zip(lon, lat, strict=True)]]},
        }]}
        if crs_name:
            fc["crs"] = {"type": "name", "properties": {"name": crs_name}}
        return fc

    def lonlat_collection(self) -> dict:
        return {"type": "FeatureCollection", "features": [{
            "type": "Feature", "properties": {"class": "water"},
            "geometry": {"type": "Polygon",
                         "coordinates": [[[10.0, 50.0], [10.01, 50.0], [10.01, 50.01], [10.0, 50.01], [10.0, 50.0]]]},
        }]}

    @property
    def scene(self):
        if self._scene is None:
            from geonb.scene import read_scene

            self._scene = read_scene(self.image, self.labels_path, name="tiny")
        return self._scene

    def scene_with(self, **changes):
        from geonb.scene import Scene

        s = self.scene
        kw = dict(image=s.image.copy(), labels=None if s.labels is None else s.labels.copy(),
                  band_names=s.band_names, crs=s.crs, transform=s.transform, nodata_mask=s.nodata_mask.copy(),
                  name=s.name)
        kw.update(changes)
        return Scene(**kw)

    @property
    def dataset(self):
        if self._dataset is None:
            from geonb.datasets.lakes import LakeDataset
            from geonb.datasets.synthetic import write_dataset

            write_dataset(self.root / "lakes" / "tiny", "tiny", n=4, seed=1, progress=False, workers=1)
            self._dataset = LakeDataset("tiny", root=self.root / "lakes")
        return self._dataset

    def broken_dataset(self, how: str) -> Path:
        """A copy of the tiny dataset, broken one way; returns the root to pass as ``root=``."""
        ds = self.dataset
        root = self.root / f"broken-{how}"
        if root.exists():
            return root
        shutil.copytree(ds.path, root / "tiny")
        cat_path = root / "tiny" / "catalog.geojson"
        cat = json.loads(cat_path.read_text())
        first = cat["features"][0]["properties"]["id"]
        if how == "no-catalog":
            cat_path.unlink()
        elif how == "bad-json":
            cat_path.write_text("{ this is not json")
        elif how == "duplicate-id":
            cat["features"][1]["properties"]["id"] = first
            cat_path.write_text(json.dumps(cat))
        elif how == "bad-split":
            cat["features"][0]["properties"]["split"] = "training"
            cat_path.write_text(json.dumps(cat))
        elif how == "no-split":
            del cat["features"][0]["properties"]["split"]
            cat_path.write_text(json.dumps(cat))
        elif how == "missing-image":
            (root / "tiny" / "images" / f"{first}.tif").unlink()
        elif how == "text-image":
            (root / "tiny" / "images" / f"{first}.tif").write_text("not a raster")
        elif how == "code-7":
            import rasterio

            p = root / "tiny" / "labels" / f"{first}.tif"
            with rasterio.open(p) as src:
                prof, arr = src.profile, src.read()
            arr[arr == 2] = 7
            with rasterio.open(p, "w", **prof) as dst:
                dst.write(arr)
        elif how == "shifted-labels":
            import rasterio
            from affine import Affine

            p = root / "tiny" / "labels" / f"{first}.tif"
            with rasterio.open(p) as src:
                prof, arr = src.profile, src.read()
            prof["transform"] = prof["transform"] * Affine.translation(3, 0)
            with rasterio.open(p, "w", **prof) as dst:
                dst.write(arr)
        elif how == "float-labels":
            import rasterio

            p = root / "tiny" / "labels" / f"{first}.tif"
            with rasterio.open(p) as src:
                prof, arr = src.profile, src.read()
            prof.update(dtype="float32", nodata=None)
            with rasterio.open(p, "w", **prof) as dst:
                dst.write(arr.astype(np.float32) + np.float32(0.25))
        else:  # pragma: no cover - a typo in the table
            raise AssertionError(how)
        return root

    @property
    def first_id(self) -> str:
        return self.dataset.ids[0]

    @property
    def model(self):
        """A tiny lakes FCN (water/land), built once, never trained."""
        if self._model is None:
            from geonb.models import build_lakes_fcn

            self._model = build_lakes_fcn(patch_size=8, bands=7, classes=(1, 2))
        return self._model

    @property
    def model_path(self) -> Path:
        p = self.root / "tiny.keras"
        if not p.exists():
            from geonb.models import save_model

            save_model(self.model, p)
        return p

    @property
    def plain_model(self):
        """A Keras model that geonb did not build: its class codes are unknown."""
        if self._plain is None:
            from geonb.runtime import import_keras

            keras = import_keras()
            inp = keras.Input((None, None, 7))
            self._plain = keras.Model(inp, keras.layers.Conv2D(2, 1, activation="softmax")(inp))
        return self._plain

    @property
    def patches(self):
        if self._patches is None:
            from geonb.patches import extract_patches

            self._patches = extract_patches([self.scene], 8, classes=(1, 2))
        return self._patches

    def map(self):
        from geonb.maps import make_map

        return make_map((45.0, 10.0), offline=True)


def make_fixtures(root: str | os.PathLike) -> Fixtures:
    return Fixtures(Path(root))


def fill_output_folder(out: Path, fx: Fixtures) -> None:
    """Pre-existing files of an output row's folder (their bytes must survive a refused write)."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(fx.image, out / "old.tif")
    shutil.copy(fx.labels_path, out / "old_labels.tif")
    (out / "old.html").write_text("<html>old map</html>")
    (out / "old.csv").write_text("a,b\n1,2\n")
    (out / "old.geojson").write_text(json.dumps(fx.lonlat_collection()))
    (out / "old.keras").write_bytes(b"old model bytes")
    (out / "old.json").write_text('{"old": true}')
    (out / "sub").mkdir()
    (out / "sub" / "keep.txt").write_text("keep")


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Relative path -> bytes (None for folders) of everything under ``folder``."""
    return {str(p.relative_to(folder)): (None if p.is_dir() else p.read_bytes()) for p in sorted(folder.rglob("*"))}


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    id: str
    area: str
    call: Callable  # call(fx, out)
    error: type | tuple  # a geonb error class (or a tuple of acceptable ones)
    match: str
    output: bool = False


CASES: list[Case] = []


def case(id: str, area: str, error: type | tuple, match: str, call: Callable, *, output: bool = False) -> None:
    CASES.append(Case(id, area, call, error, match, output))


def _run_cli(argv: list[str]) -> None:
    """Run ``geonb.cli.main(argv)``; a non-zero exit with an ``error:`` line becomes :class:`CLIFailure`."""
    from geonb.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            rc = main(argv)
        except SystemExit as exc:  # argparse
            rc = exc.code if isinstance(exc.code, int) else 2
    text = err.getvalue()
    if rc and "error:" in text:
        raise CLIFailure(text)
    if rc:
        raise AssertionError(f"exit status {rc} without an error message: {text!r}")


def _subprocess_cli(argv: list[str], cwd: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "geonb", *argv], capture_output=True, text=True, cwd=cwd,
                          timeout=120, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    if proc.returncode and "error:" in proc.stderr and "Traceback" not in proc.stderr:
        raise CLIFailure(proc.stderr)
    if proc.returncode:
        raise RuntimeError(proc.stderr[-2000:])


# ----- imports used by the callables (lazy, so the table imports on any version) -----------
def _scene_mod():
    import geonb.scene as m
    return m


def _labels():
    import geonb.labels as m
    return m


def _patches():
    import geonb.patches as m
    return m


def _bands():
    import geonb.bands as m
    return m


def _ev():
    import geonb.evaluation as m
    return m


def _evb():
    import geonb.evaluation_buildings as m
    return m


def _models():
    import geonb.models as m
    return m


def _pred():
    import geonb.prediction as m
    return m


def _training():
    import geonb.training as m
    return m


def _exp():
    import geonb.experiments as m
    return m


def _maps():
    import geonb.maps as m
    return m


def _plots():
    import matplotlib

    matplotlib.use("Agg")
    import geonb.plots as m
    return m


def _widgets():
    import geonb.widgets as m
    return m


def _runtime():
    import geonb.runtime as m
    return m


def _lakes():
    import geonb.datasets.lakes as m
    return m


def _syn():
    import geonb.datasets.synthetic as m
    return m


def _sn():
    import geonb.datasets.spacenet as m
    return m


def _stac():
    import geonb.datasets.stac as m
    return m


def _places():
    import geonb.datasets.places as m
    return m


def _io():
    import geonb.io as m
    return m


def _close_figures(result=None):
    import matplotlib.pyplot as plt

    plt.close("all")
    return result


# =============================================================================================
# files: reading rasters and datasets
# =============================================================================================
A = "files"
case("read_image-missing", A, RasterReadError, "does not exist", lambda fx, out: _scene_mod().read_image(fx.missing))
case("read_image-folder", A, RasterReadError, "folder", lambda fx, out: _scene_mod().read_image(fx.folder))
case("read_image-text-file-named-tif", A, RasterReadError, "GeoTIFF",
     lambda fx, out: _scene_mod().read_image(fx.text_tif))
case("read_image-truncated", A, RasterReadError, "truncated|complete|corrupt",
     lambda fx, out: _scene_mod().read_image(fx.truncated))
case("read_image-empty-file", A, RasterReadError, "GeoTIFF|complete",
     lambda fx, out: _scene_mod().read_image(fx.empty_tif))
case("read_image-None", A, InvalidParameterError, "`image`", lambda fx, out: _scene_mod().read_image(None))
case("read_image-empty-string", A, InvalidParameterError, "`image`", lambda fx, out: _scene_mod().read_image(""))
case("read_image-unknown-band", A, BandMismatchError, "purple",
     lambda fx, out: _scene_mod().read_image(fx.image, bands=("purple",)))
case("read_image-no-bands", A, BandMismatchError, "`bands`",
     lambda fx, out: _scene_mod().read_image(fx.image, bands=()))
case("read_image-bands-as-string", A, BandMismatchError, "`bands`",
     lambda fx, out: _scene_mod().read_image(fx.image, bands="red"))
case("read_image-window-reversed", A, InvalidParameterError, "`window`",
     lambda fx, out: _scene_mod().read_image(fx.image, window=((5, 2), (0, 4))))
case("read_image-window-outside", A, InvalidParameterError, "`window`",
     lambda fx, out: _scene_mod().read_image(fx.image, window=((100, 110), (0, 4))))
case("read_image-window-partly-outside", A, InvalidParameterError, "`window`",
     lambda fx, out: _scene_mod().read_image(fx.image, window=((30, 60), (0, 4))))
case("read_image-window-negative", A, InvalidParameterError, "`window`",
     lambda fx, out: _scene_mod().read_image(fx.image, window=((-2, 3), (0, 4))))
case("read_image-window-float", A, InvalidParameterError, "`window`",
     lambda fx, out: _scene_mod().read_image(fx.image, window=((0.5, 3.7), (0, 4))))
case("read_image-window-three-numbers", A, InvalidParameterError, "`window`",
     lambda fx, out: _scene_mod().read_image(fx.image, window=(1, 2, 3)))
case("read_image-window-string", A, InvalidParameterError, "`window`",
     lambda fx, out: _scene_mod().read_image(fx.image, window="0:5,0:5"))
case("read_image-scale-string", A, InvalidParameterError, "`scale`",
     lambda fx, out: _scene_mod().read_image(fx.image, scale="modis"))
case("read_image-scale-bool", A, InvalidParameterError, "`scale`",
     lambda fx, out: _scene_mod().read_image(fx.image, scale=True))
case("read_image-scale-zero", A, InvalidParameterError, "`scale`",
     lambda fx, out: _scene_mod().read_image(fx.image, scale=0))
case("read_image-scale-nan", A, InvalidParameterError, "`scale`",
     lambda fx, out: _scene_mod().read_image(fx.image, scale=float("nan")))
case("read_labels-7-band-image", A, BandMismatchError, "1 band",
     lambda fx, out: _scene_mod().read_labels(fx.image))
case("read_labels-float-values", A, ClassCodeError, "label_map",
     lambda fx, out: _scene_mod().read_labels(fx.labels_float))
case("read_labels-negative-values", A, ClassCodeError, "label_map",
     lambda fx, out: _scene_mod().read_labels(fx.labels_neg))
case("read_labels-values-over-255", A, ClassCodeError, "label_map",
     lambda fx, out: _scene_mod().read_labels(fx.labels_300))
case("read_labels-missing", A, RasterReadError, "does not exist",
     lambda fx, out: _scene_mod().read_labels(fx.missing))
case("read_labels-text-file", A, RasterReadError, "GeoTIFF",
     lambda fx, out: _scene_mod().read_labels(fx.text_tif))
case("read_labels-folder", A, RasterReadError, "folder", lambda fx, out: _scene_mod().read_labels(fx.folder))
case("read_labels-window-reversed", A, InvalidParameterError, "`window`",
     lambda fx, out: _scene_mod().read_labels(fx.labels_path, window=((9, 3), (0, 4))))
case("read_labels-window-outside", A, InvalidParameterError, "`window`",
     lambda fx, out: _scene_mod().read_labels(fx.labels_path, window=((0, 4), (50, 60))))
case("read_labels-label_map-not-a-mapping", A, InvalidParameterError, "label_map",
     lambda fx, out: _scene_mod().read_labels(fx.labels_neg, label_map="water"))
case("read_labels-label_map-unknown-code", A, ClassCodeError, "label_map",
     lambda fx, out: _scene_mod().read_labels(fx.labels_neg, label_map={-1: 9, 0: 2}))
case("read_labels-label_map-misses-a-value", A, ClassCodeError, "label_map",
     lambda fx, out: _scene_mod().read_labels(fx.labels_neg, label_map={-1: 1}))
case("read_scene-labels-shifted-grid", A, GridMismatchError, "resample|align",
     lambda fx, out: _scene_mod().read_scene(fx.image, fx.labels_shifted))
case("read_scene-labels-smaller-grid", A, GridMismatchError, "resample",
     lambda fx, out: _scene_mod().read_scene(fx.image, fx.labels_small))
case("read_scene-labels-other-crs", A, GridMismatchError, "reproject",
     lambda fx, out: _scene_mod().read_scene(fx.image, fx.labels_crs))
case("read_scene-labels-is-the-image", A, BandMismatchError, "1 band",
     lambda fx, out: _scene_mod().read_scene(fx.image, fx.image))
case("read_scene-window-outside", A, InvalidParameterError, "`window`",
     lambda fx, out: _scene_mod().read_scene(fx.image, fx.labels_path, window=((0, 4), (45, 50))))
case("read_scene-image-missing", A, RasterReadError, "does not exist",
     lambda fx, out: _scene_mod().read_scene(fx.missing, fx.labels_path))
case("read_scene-labels-missing", A, RasterReadError, "does not exist",
     lambda fx, out: _scene_mod().read_scene(fx.image, fx.missing))
case("read_scene-unknown-band", A, BandMismatchError, "purple",
     lambda fx, out: _scene_mod().read_scene(fx.image, bands=("red", "purple")))
case("read_scene-float-labels", A, ClassCodeError, "label_map",
     lambda fx, out: _scene_mod().read_scene(fx.image, fx.labels_float))
case("LakeDataset-unknown-name", A, DatasetNotFoundError, "root=",
     lambda fx, out: _lakes().LakeDataset("no-such-lakes", root=fx.dataset.root))
case("LakeDataset-empty-name", A, InvalidParameterError, "`name`", lambda fx, out: _lakes().LakeDataset(""))
case("LakeDataset-None-name", A, InvalidParameterError, "`name`", lambda fx, out: _lakes().LakeDataset(None))
case("LakeDataset-name-with-slash", A, InvalidParameterError, "`name`",
     lambda fx, out: _lakes().LakeDataset("lakes/tiny"))
case("LakeDataset-root-is-a-file", A, DatasetNotFoundError, "root",
     lambda fx, out: _lakes().LakeDataset("tiny", root=fx.image))
case("LakeDataset-no-catalog", A, DatasetNotFoundError, "catalog",
     lambda fx, out: _lakes().LakeDataset("tiny", root=fx.broken_dataset("no-catalog")))
case("LakeDataset-catalog-not-json", A, CatalogError, "catalog",
     lambda fx, out: _lakes().LakeDataset("tiny", root=fx.broken_dataset("bad-json")))
case("LakeDataset-duplicate-id", A, CatalogError, "twice|duplicate",
     lambda fx, out: _lakes().LakeDataset("tiny", root=fx.broken_dataset("duplicate-id")))
case("LakeDataset-unknown-split", A, CatalogError, "training",
     lambda fx, out: _lakes().LakeDataset("tiny", root=fx.broken_dataset("bad-split")))
case("LakeDataset-missing-split-field", A, CatalogError, "split",
     lambda fx, out: _lakes().LakeDataset("tiny", root=fx.broken_dataset("no-split")))
case("LakeDataset-missing-image-file", A, DatasetNotFoundError, "images",
     lambda fx, out: _lakes().LakeDataset("tiny", root=fx.broken_dataset("missing-image")))
case("LakeDataset-text-image", A, RasterReadError, "GeoTIFF|raster",
     lambda fx, out: (lambda ds: ds.scene(ds.ids[0]))(
         _lakes().LakeDataset("tiny", root=fx.broken_dataset("text-image"))))
case("LakeDataset-labels-code-7", A, ClassCodeError, "7",
     lambda fx, out: (lambda ds: ds.scene(ds.ids[0]))(
         _lakes().LakeDataset("tiny", root=fx.broken_dataset("code-7"))))
case("LakeDataset-float-labels", A, ClassCodeError, "label_map",
     lambda fx, out: (lambda ds: ds.scene(ds.ids[0]))(
         _lakes().LakeDataset("tiny", root=fx.broken_dataset("float-labels"))))
case("LakeDataset-pixel_table-shifted-labels", A, GridMismatchError, "resample|align",
     lambda fx, out: _lakes().LakeDataset("tiny", root=fx.broken_dataset("shifted-labels")).pixel_table())
case("LakeDataset-scene-unknown-id", A, InvalidParameterError, "no-such-lake",
     lambda fx, out: fx.dataset.scene("no-such-lake"))
case("LakeDataset-scene-unknown-band", A, BandMismatchError, "purple",
     lambda fx, out: fx.dataset.scene(fx.first_id, bands=("purple",)))
case("LakeDataset-split_ids-unknown", A, InvalidParameterError, "split",
     lambda fx, out: fx.dataset.split_ids("training"))
case("LakeDataset-scenes-unknown-split", A, InvalidParameterError, "split",
     lambda fx, out: list(fx.dataset.scenes("training")))
case("LakeDataset-pixel_table-unknown-split", A, InvalidParameterError, "split",
     lambda fx, out: fx.dataset.pixel_table("training"))
case("LakeDataset-subset-zero", A, InvalidParameterError, "`max_lakes`", lambda fx, out: fx.dataset.subset(0))
case("LakeDataset-subset-negative", A, InvalidParameterError, "`max_lakes`", lambda fx, out: fx.dataset.subset(-3))
case("LakeDataset-subset-float", A, InvalidParameterError, "`max_lakes`", lambda fx, out: fx.dataset.subset(2.5))
case("LakeDataset-subset-bool", A, InvalidParameterError, "`max_lakes`", lambda fx, out: fx.dataset.subset(True))
case("read_footprints-missing", A, DatasetNotFoundError, "does not exist",
     lambda fx, out: _sn().read_footprints(fx.root / "nope.geojson"))
case("read_footprints-folder", A, DatasetNotFoundError, "folder",
     lambda fx, out: _sn().read_footprints(fx.folder))
case("read_footprints-binary", A, GeoJSONError, "UTF-8|GeoJSON",
     lambda fx, out: _sn().read_footprints(fx.binary_geojson))
case("read_footprints-not-json", A, GeoJSONError, "GeoJSON|JSON",
     lambda fx, out: _sn().read_footprints(fx.text_geojson))
case("read_footprints-unknown-crs", A, CRSError, "EPSG:99999|crs",
     lambda fx, out: _sn().read_footprints(fx.good_geojson, crs="EPSG:99999"))
case("SpaceNetDataset-missing-folder", A, DatasetNotFoundError, "generate|path",
     lambda fx, out: _sn().SpaceNetDataset(fx.root / "no-buildings"))
case("SpaceNetDataset-a-file", A, DatasetNotFoundError, "folder|path",
     lambda fx, out: _sn().SpaceNetDataset(fx.image))
case("SpaceNetDataset-empty-folder", A, DatasetNotFoundError, "geojson|buildings",
     lambda fx, out: _sn().SpaceNetDataset(out / "sub"))

# =============================================================================================
# arrays: Scene, bands, indices, statistics
# =============================================================================================
A = "arrays"


def _S(**kw):
    from geonb.scene import Scene

    return Scene(**kw)


case("Scene-bands-first", A, ShapeMismatchError, "moveaxis",
     lambda fx, out: _S(image=np.zeros((7, 40, 39), np.float32)))
case("Scene-1d-image", A, ShapeMismatchError, "`image`", lambda fx, out: _S(image=np.zeros(10, np.float32)))
case("Scene-4d-image", A, ShapeMismatchError, "`image`", lambda fx, out: _S(image=np.zeros((2, 4, 4, 7))))
case("Scene-empty-image", A, ShapeMismatchError, "`image`", lambda fx, out: _S(image=np.zeros((0, 0, 7))))
case("Scene-zero-bands", A, BandMismatchError, "`image`", lambda fx, out: _S(image=np.zeros((4, 4, 0))))
case("Scene-string-image", A, InvalidParameterError, "`image`",
     lambda fx, out: _S(image=np.full((4, 4, 7), "a")))
case("Scene-None-image", A, InvalidParameterError, "`image`", lambda fx, out: _S(image=None))
case("Scene-labels-wrong-shape", A, ShapeMismatchError, "`labels`",
     lambda fx, out: _S(image=np.zeros((4, 5, 7)), labels=np.ones((5, 4), np.uint8)))
case("Scene-labels-float-fraction", A, ClassCodeError, "`labels`",
     lambda fx, out: _S(image=np.zeros((4, 5, 7)), labels=np.full((4, 5), 1.5)))
case("Scene-labels-negative", A, ClassCodeError, "`labels`",
     lambda fx, out: _S(image=np.zeros((4, 5, 7)), labels=np.full((4, 5), -1)))
case("Scene-labels-over-255", A, ClassCodeError, "`labels`",
     lambda fx, out: _S(image=np.zeros((4, 5, 7)), labels=np.full((4, 5), 300)))
case("Scene-labels-nan", A, ClassCodeError, "`labels`",
     lambda fx, out: _S(image=np.zeros((4, 5, 7)), labels=np.full((4, 5), np.nan)))
case("Scene-labels-bool-mask", A, ClassCodeError, r"boolean mask.*np\.where\(mask, WATER, LAND\)",
     lambda fx, out: _S(image=np.zeros((4, 5, 7)), labels=np.ones((4, 5), bool)))
case("Scene-band_names-count", A, BandMismatchError, "`band_names`",
     lambda fx, out: _S(image=np.zeros((4, 5, 7)), band_names=("red", "green")))
case("Scene-band_names-duplicate", A, BandMismatchError, "`band_names`",
     lambda fx, out: _S(image=np.zeros((4, 5, 3)), band_names=("red", "red", "blue")))
case("Scene-nodata_mask-wrong-shape", A, ShapeMismatchError, "`nodata_mask`",
     lambda fx, out: _S(image=np.zeros((4, 5, 7)), nodata_mask=np.zeros((5, 4), bool)))
case("Scene-unknown-crs", A, CRSError, "crs", lambda fx, out: _S(image=np.zeros((4, 5, 7)), crs="EPSG:99999"))
case("Scene-garbage-crs", A, CRSError, "crs", lambda fx, out: _S(image=np.zeros((4, 5, 7)), crs="not a crs"))
case("Scene-transform-string", A, InvalidParameterError, "`transform`",
     lambda fx, out: _S(image=np.zeros((4, 5, 7)), transform="identity"))
case("Scene-transform-None", A, InvalidParameterError, "`transform`",
     lambda fx, out: _S(image=np.zeros((4, 5, 7)), transform=None))
case("Scene-select_bands-unknown", A, BandMismatchError, "purple",
     lambda fx, out: fx.scene.select_bands(("purple",)))
case("Scene-select_bands-string", A, BandMismatchError, "`bands`",
     lambda fx, out: fx.scene.select_bands("red"))
case("band_info-unknown", A, BandMismatchError, "purple", lambda fx, out: _bands().band_info("purple"))
case("band_indices-unknown", A, BandMismatchError, "purple",
     lambda fx, out: _bands().band_indices(("purple",), MODIS7))
case("select_bands-bands-first", A, BandMismatchError, "moveaxis|bands",
     lambda fx, out: _bands().select_bands(np.zeros((7, 40, 39)), MODIS7, ("red",)))
case("composite-two-bands", A, BandMismatchError, "3",
     lambda fx, out: _bands().composite(fx.scene, bands=("red", "green")))
case("composite-unknown-band", A, BandMismatchError, "purple",
     lambda fx, out: _bands().composite(fx.scene, bands=("purple", "green", "blue")))
case("composite-stretch-reversed", A, InvalidParameterError, "`stretch`",
     lambda fx, out: _bands().composite(fx.scene, stretch=(98, 2)))
case("composite-stretch-over-100", A, InvalidParameterError, "`stretch`",
     lambda fx, out: _bands().composite(fx.scene, stretch=(0, 200)))
case("composite-array-without-names", A, BandMismatchError, "band_names",
     lambda fx, out: _bands().composite(np.zeros((4, 4, 3))))
case("percentile_stretch-equal-bounds", A, InvalidParameterError, "`stretch`",
     lambda fx, out: _bands().percentile_stretch(np.ones((4, 4)), stretch=(50, 50)))
case("normalized_difference-shapes", A, ShapeMismatchError, "shape",
     lambda fx, out: _bands().normalized_difference(np.ones((3, 3)), np.ones((4, 4))))
case("ndwi-array-without-names", A, BandMismatchError, "band_names",
     lambda fx, out: _bands().ndwi(np.zeros((4, 4, 3))))
case("ndwi-band_names-wrong-count", A, BandMismatchError, "band names|`band_names`",
     lambda fx, out: _bands().ndwi(np.zeros((4, 4, 3)), band_names=MODIS7))
case("mndwi-without-swir", A, BandMismatchError, "swir",
     lambda fx, out: _bands().mndwi(np.zeros((4, 4, 3)), band_names=("red", "green", "blue")))
case("pixel_table-empty", A, BandMismatchError, "`scenes`", lambda fx, out: _bands().pixel_table([]))
case("pixel_table-unknown-band", A, BandMismatchError, "purple",
     lambda fx, out: _bands().pixel_table([fx.scene], bands=("purple",)))
case("band_statistics-unknown-split", A, InvalidParameterError, "split",
     lambda fx, out: _bands().band_statistics(fx.dataset, split="training"))
case("fit_pca-zero-components", A, InvalidParameterError, "`n_components`",
     lambda fx, out: _bands().fit_pca(_bands().pixel_table([fx.scene]), n_components=0))
case("fit_pca-too-many-components", A, InvalidParameterError, "`n_components`",
     lambda fx, out: _bands().fit_pca(_bands().pixel_table([fx.scene]), n_components=99))
case("fit_pca-float-components", A, InvalidParameterError, "`n_components`",
     lambda fx, out: _bands().fit_pca(_bands().pixel_table([fx.scene]), n_components=2.5))
case("normalize-wrong-band-count", A, BandMismatchError, "band",
     lambda fx, out: _bands().normalize(np.zeros((4, 4, 3)), _bands().band_statistics([fx.scene], split=None)))
case("class_spectra-unknown-class", A, ClassCodeError, "7",
     lambda fx, out: _bands().class_spectra(_bands().pixel_table([fx.scene]), classes=(7,)))

# =============================================================================================
# patches: windows, extraction, stitching
# =============================================================================================
A = "patches"
for _v, _name in ((0, "zero"), (-4, "negative"), (2.5, "float"), (True, "bool"), ("8", "string"), (None, "None")):
    case(f"count_windows-size-{_name}", A, InvalidParameterError, "`size`",
         lambda fx, out, v=_v: _patches().count_windows((10, 10), v))
for _v, _name in ((0, "zero"), (-1, "negative"), (1.5, "float"), (False, "bool")):
    case(f"grid_windows-stride-{_name}", A, InvalidParameterError, "`stride`",
         lambda fx, out, v=_v: _patches().grid_windows((10, 10), 4, v))
case("grid_windows-unknown-edge", A, InvalidParameterError, "`edge`",
     lambda fx, out: _patches().grid_windows((10, 10), 4, edge="wrap"))
case("grid_windows-shape-1d", A, ShapeMismatchError, "`shape`", lambda fx, out: _patches().grid_windows((10,), 4))
case("grid_windows-shape-negative", A, ShapeMismatchError, "`shape`",
     lambda fx, out: _patches().grid_windows((-5, 10), 4))
case("extract_patches-bands-first-ndarray", A, ShapeMismatchError, "moveaxis",
     lambda fx, out: _patches().extract_patches(np.zeros((7, 40, 39), np.float32), 8))
case("extract_patches-empty-list", A, InvalidParameterError, "`scenes`",
     lambda fx, out: _patches().extract_patches([], 8))
case("extract_patches-unknown-band", A, BandMismatchError, "purple",
     lambda fx, out: _patches().extract_patches([fx.scene], 8, bands=("purple",)))
case("extract_patches-unknown-class", A, ClassCodeError, "classes",
     lambda fx, out: _patches().extract_patches([fx.scene], 8, classes=(1, 7)))
case("extract_patches-no-classes", A, InvalidParameterError, "`classes`",
     lambda fx, out: _patches().extract_patches([fx.scene], 8, classes=()))
case("extract_patches-labels-code-7", A, ClassCodeError, "7",
     lambda fx, out: _patches().extract_patches([fx.scene_with(labels=np.where(fx.labels == 2, 7, fx.labels))], 8))
case("extract_patches-size-zero", A, InvalidParameterError, "`size`",
     lambda fx, out: _patches().extract_patches([fx.scene], 0))
case("stitch_patches-wrong-value-shape", A, ShapeMismatchError, "values|shape",
     lambda fx, out: _patches().stitch_patches(np.zeros((4, 5, 5)), np.array([[0, 0, 8, 8]] * 4), (16, 16)))
case("stitch_patches-count-mismatch", A, ShapeMismatchError, "windows",
     lambda fx, out: _patches().stitch_patches(np.zeros((3, 8, 8)), np.array([[0, 0, 8, 8]] * 4), (16, 16)))
case("stitch_patches-window-outside", A, ShapeMismatchError, "window|shape",
     lambda fx, out: _patches().stitch_patches(np.zeros((1, 8, 8)), np.array([[12, 12, 8, 8]]), (16, 16)))
case("stitch_patches-windows-wrong-columns", A, ShapeMismatchError, "windows",
     lambda fx, out: _patches().stitch_patches(np.zeros((1, 8, 8)), np.array([[0, 0, 8]]), (16, 16)))
case("count_patches-code-7", A, ClassCodeError, "7",
     lambda fx, out: _patches().count_patches([np.full((16, 16), 7, np.uint8)], 8))
case("count_patches-float-labels", A, ClassCodeError, "labels",
     lambda fx, out: _patches().count_patches([np.full((16, 16), 1.5)], 8))
case("count_patches-1d-labels", A, ShapeMismatchError, "labels",
     lambda fx, out: _patches().count_patches([np.ones(16, np.uint8)], 8))
case("count_patches-bare-array", A, ShapeMismatchError, "labels|list",
     lambda fx, out: _patches().count_patches(np.ones((16, 16), np.uint8), 8))
case("scene_windows-size-zero", A, InvalidParameterError, "`size`",
     lambda fx, out: _patches().scene_windows(fx.labels, 0))
case("patch_tradeoff-no-sizes", A, InvalidParameterError, "`sizes`",
     lambda fx, out: _patches().patch_tradeoff([fx.labels], []))
case("patch_tradeoff-stride-fraction-zero", A, InvalidParameterError, "`stride_fraction`",
     lambda fx, out: _patches().patch_tradeoff([fx.labels], [8], stride_fraction=0))
case("patch_tradeoff-stride-fraction-negative", A, InvalidParameterError, "`stride_fraction`",
     lambda fx, out: _patches().patch_tradeoff([fx.labels], [8], stride_fraction=-0.5))
case("PatchSet-subset-wrong-length-mask", A, ShapeMismatchError, "mask",
     lambda fx, out: fx.patches.subset(np.ones(len(fx.patches.images) + 3, bool)))
case("PatchSet-for_scene-unknown", A, InvalidParameterError, "no-such-lake",
     lambda fx, out: fx.patches.for_scene("no-such-lake"))
case("PatchSet-select_bands-unknown", A, BandMismatchError, "purple",
     lambda fx, out: fx.patches.select_bands(("purple",)))
case("PatchSet-stitch-wrong-shape", A, ShapeMismatchError, "values|shape",
     lambda fx, out: fx.patches.stitch(np.zeros((1, 8, 8)), "tiny"))
case("PatchSet-stitch-unknown-lake", A, InvalidParameterError, "no-such-lake",
     lambda fx, out: fx.patches.stitch(np.zeros(fx.patches.labels.shape), "no-such-lake"))
case("patch_dataset-unknown-split", A, InvalidParameterError, "split",
     lambda fx, out: _patches().patch_dataset(fx.dataset, 8, splits=("training",)))
case("window_class_counts-other-grid", A, ShapeMismatchError, "grid|shape",
     lambda fx, out: _patches().window_class_counts(fx.labels, _patches().grid_windows((80, 80), 8)))
case("single_class_windows-wrong-columns", A, ShapeMismatchError, "counts|classes",
     lambda fx, out: _patches().single_class_windows(np.ones((4, 2)), classes=(1, 2, 3)))

# =============================================================================================
# labels and vectors
# =============================================================================================
A = "labels"
case("check_class_codes-7", A, ClassCodeError, "7",
     lambda fx, out: _labels().check_class_codes(np.full((3, 3), 7, np.uint8)))
case("one_hot-code-7", A, ClassCodeError, "7", lambda fx, out: _labels().one_hot(np.full((3, 3), 7, np.uint8)))
case("one_hot-float-labels", A, ClassCodeError, "labels", lambda fx, out: _labels().one_hot(np.full((3, 3), 1.5)))
case("one_hot-duplicate-classes", A, InvalidParameterError, "`classes`",
     lambda fx, out: _labels().one_hot(np.ones((3, 3), np.uint8), classes=(1, 1)))
case("one_hot-no-classes", A, InvalidParameterError, "`classes`",
     lambda fx, out: _labels().one_hot(np.ones((3, 3), np.uint8), classes=()))
case("remap_labels-bool-mask", A, ClassCodeError, r"boolean mask.*np\.where\(mask, WATER, LAND\)",
     lambda fx, out: _labels().remap_labels(fx.labels == 1))
case("parse_footprints-not-json", A, GeoJSONError, "GeoJSON|JSON",
     lambda fx, out: _labels().parse_footprints("{not json"))
case("parse_footprints-empty-dict", A, GeoJSONError, "GeoJSON|type",
     lambda fx, out: _labels().parse_footprints({}))
case("parse_footprints-None", A, GeoJSONError, "GeoJSON", lambda fx, out: _labels().parse_footprints(None))
case("parse_footprints-number", A, GeoJSONError, "GeoJSON", lambda fx, out: _labels().parse_footprints(42))
case("parse_footprints-unknown-crs", A, CRSError, "crs|CRS",
     lambda fx, out: _labels().parse_footprints(fx.feature_collection(), crs="EPSG:99999"))
case("parse_footprints-unknown-crs-member", A, CRSError, "crs|CRS",
     lambda fx, out: _labels().parse_footprints(fx.feature_collection(crs_name="EPSG:99999")))
case("parse_footprints-nan-coordinate", A, GeoJSONError, "coordinate|finite|NaN",
     lambda fx, out: _labels().parse_footprints({"type": "Polygon", "coordinates": [
         [[0, 0], [1, float("nan")], [1, 1], [0, 0]]]}))
case("parse_footprints-open-ring", A, GeoJSONError, "ring|closed|Polygon|coordinates",
     lambda fx, out: _labels().parse_footprints({"type": "Polygon", "coordinates": [[[0, 0], [1, 0]]]}))


def _fp(fx):
    return _labels().parse_footprints(fx.feature_collection())


for _shape, _name in (((0, 10), "zero-rows"), ((-1, 10), "negative"), ((10.5, 10), "float"), ((10,), "1d"),
                      ((True, 10), "bool")):
    case(f"rasterize_footprints-shape-{_name}", A, InvalidParameterError, "`shape`",
         lambda fx, out, s=_shape: _labels().rasterize_footprints(_fp(fx), s, fx.transform, fx.crs))
case("rasterize_footprints-transform-string", A, InvalidParameterError, "`transform`",
     lambda fx, out: _labels().rasterize_footprints(_fp(fx), (40, 39), "identity", fx.crs))
case("rasterize_footprints-unknown-crs", A, CRSError, "crs|CRS",
     lambda fx, out: _labels().rasterize_footprints(_fp(fx), (40, 39), fx.transform, "EPSG:99999"))
case("rasterize_footprints-no-overlap", A, (CRSError, CoverageError), "overlap",
     lambda fx, out: _labels().rasterize_footprints(_fp(fx), (40, 39), fx.transform * fx.transform.translation(
         1000, 1000), fx.crs))
case("rasterize_footprints-border-negative", A, InvalidParameterError, "`border_px`",
     lambda fx, out: _labels().rasterize_footprints(_fp(fx), (40, 39), fx.transform, fx.crs, border_px=-1))
case("rasterize_footprints-border-float", A, InvalidParameterError, "`border_px`",
     lambda fx, out: _labels().rasterize_footprints(_fp(fx), (40, 39), fx.transform, fx.crs, border_px=1.5))
case("instance_raster-shape-zero", A, InvalidParameterError, "`shape`",
     lambda fx, out: _labels().instance_raster(_fp(fx), (0, 0), fx.transform, fx.crs))
case("signed_distance-3d-mask", A, ShapeMismatchError, "`mask`",
     lambda fx, out: _labels().signed_distance(np.zeros((4, 4, 2)), fx.transform, fx.crs))
case("signed_distance-clip-negative", A, InvalidParameterError, "`clip_m`",
     lambda fx, out: _labels().signed_distance(np.zeros((4, 4)), fx.transform, fx.crs, clip_m=-1))
case("signed_distance-no-crs", A, CRSError, "crs",
     lambda fx, out: _labels().signed_distance(np.zeros((4, 4)), fx.transform, None))
case("pixel_size_m-unknown-crs", A, CRSError, "crs|CRS",
     lambda fx, out: _labels().pixel_size_m(fx.transform, "EPSG:99999"))
case("mask_to_polygons-3d", A, ShapeMismatchError, "`mask`",
     lambda fx, out: _labels().mask_to_polygons(np.zeros((4, 4, 2), np.uint8), fx.transform, fx.crs))
case("mask_to_polygons-connectivity-5", A, InvalidParameterError, "`connectivity`",
     lambda fx, out: _labels().mask_to_polygons(np.zeros((4, 4), np.uint8), fx.transform, fx.crs, connectivity=5))
case("mask_to_polygons-min-area-negative", A, InvalidParameterError, "`min_area_m2`",
     lambda fx, out: _labels().mask_to_polygons(np.zeros((4, 4), np.uint8), fx.transform, fx.crs, min_area_m2=-1))
case("mask_to_polygons-float-mask", A, ClassCodeError, "mask",
     lambda fx, out: _labels().mask_to_polygons(np.full((4, 4), 0.5), fx.transform, fx.crs))
case("polygons_to_geojson-precision-negative", A, InvalidParameterError, "`precision`",
     lambda fx, out: _labels().polygons_to_geojson(_fp(fx), precision=-1))
case("polygons_to_geojson-strings", A, InvalidParameterError, "footprints.*geometry",
     lambda fx, out: _labels().polygons_to_geojson(["not a geometry"], crs=fx.crs))
case("footprints_to_pixels-transform-string", A, InvalidParameterError, "`transform`",
     lambda fx, out: _labels().footprints_to_pixels(_fp(fx), "identity"))
case("Footprints-to_crs-unknown", A, CRSError, "crs|CRS", lambda fx, out: _fp(fx).to_crs("EPSG:99999"))
case("grid_shape-three-numbers", A, ShapeMismatchError, "shape", lambda fx, out: _labels().grid_shape((1, 2, 3)))


def _rl(fx, **kw):
    args = dict(polygons=fx.feature_collection(), shape=(40, 39), transform=fx.transform, crs=fx.crs,
                field="class", label_map={"water": 1, "land": 2})
    args.update(kw)
    return _labels().rasterize_labels(args.pop("polygons"), args.pop("shape"), args.pop("transform"),
                                      args.pop("crs"), **args)


case("rasterize_labels-unknown-class-name", A, ClassCodeError, "label_map",
     lambda fx, out: _rl(fx, polygons=fx.feature_collection(klass="forest")))
case("rasterize_labels-missing-field", A, InvalidParameterError, "field",
     lambda fx, out: _rl(fx, field="klass"))
case("rasterize_labels-label_map-unknown-code", A, ClassCodeError, "label_map",
     lambda fx, out: _rl(fx, label_map={"water": 7}))
case("rasterize_labels-label_map-not-mapping", A, InvalidParameterError, "label_map",
     lambda fx, out: _rl(fx, label_map=["water"]))
case("rasterize_labels-unknown-crs", A, CRSError, "crs|CRS", lambda fx, out: _rl(fx, crs="EPSG:99999"))
case("rasterize_labels-shape-zero", A, InvalidParameterError, "`shape`", lambda fx, out: _rl(fx, shape=(0, 39)))

# =============================================================================================
# datasets: synthetic, STAC, places (the inputs, not the files)
# =============================================================================================
A = "datasets"


def _recipe(**kw):
    args = dict(rows=16, cols=16)
    args.update(kw)
    return _syn().SceneRecipe(**args)


case("make_scene-rows-2", A, InvalidParameterError, "rows", lambda fx, out: _syn().make_scene(_recipe(rows=2)))
case("make_scene-rows-float", A, InvalidParameterError, "rows",
     lambda fx, out: _syn().make_scene(_recipe(rows=16.5)))
case("make_scene-unknown-climate", A, InvalidParameterError, "climate",
     lambda fx, out: _syn().make_scene(_recipe(climate="lunar")))
case("make_scene-unknown-condition", A, InvalidParameterError, "condition",
     lambda fx, out: _syn().make_scene(_recipe(condition="foggy")))
case("make_scene-unknown-layout", A, InvalidParameterError, "layout",
     lambda fx, out: _syn().make_scene(_recipe(layout="ocean")))
case("make_scene-water-target-over-1", A, InvalidParameterError, "water_target",
     lambda fx, out: _syn().make_scene(_recipe(water_target=1.5)))
case("make_scene-water-target-nan", A, InvalidParameterError, "water_target",
     lambda fx, out: _syn().make_scene(_recipe(water_target=float("nan"))))
case("make_scene-unknown-crs", A, CRSError, "crs", lambda fx, out: _syn().make_scene(_recipe(), crs="EPSG:99999"))
case("make_scene-seed-string", A, InvalidParameterError, "`seed`",
     lambda fx, out: _syn().make_scene(_recipe(), seed="abc"))
case("make_scene-seed-negative", A, InvalidParameterError, "`seed`",
     lambda fx, out: _syn().make_scene(_recipe(), seed=-1))
case("make_scene-recipe-None", A, InvalidParameterError, "`recipe`", lambda fx, out: _syn().make_scene(None))
case("split_counts-negative", A, InvalidParameterError, "`n`", lambda fx, out: _syn().split_counts(-1))
case("split_counts-fractions-not-1", A, InvalidParameterError, "fractions",
     lambda fx, out: _syn().split_counts(10, {"train": 0.5, "val": 0.1, "test": 0.1}))
case("plan_dataset-zero", A, InvalidParameterError, "`n`", lambda fx, out: _syn().plan_dataset(0))
case("modis_transform-lon-200", A, InvalidParameterError, "lon",
     lambda fx, out: _syn().modis_transform(200.0, 10.0, 10, 10))
case("lonlat_to_sinusoidal-lat-100", A, InvalidParameterError, "lat",
     lambda fx, out: _syn().lonlat_to_sinusoidal(10.0, 100.0))
case("footprint_wgs84-zero-rows", A, InvalidParameterError, "rows",
     lambda fx, out: _syn().footprint_wgs84(_syn().modis_transform(10.0, 10.0, 10, 10), 0, 10))
case("smooth_field-zero-shape", A, InvalidParameterError, "`shape`",
     lambda fx, out: _syn().smooth_field(np.random.default_rng(0), (0, 5)))
case("check_bbox-three-numbers", A, InvalidParameterError, "`bbox`", lambda fx, out: _stac().check_bbox([1, 2, 3]))
case("check_bbox-nan", A, InvalidParameterError, "`bbox`",
     lambda fx, out: _stac().check_bbox([1, float("nan"), 3, 4]))
case("check_bbox-reversed", A, InvalidParameterError, "west < east",
     lambda fx, out: _stac().check_bbox([10, 50, 9, 51]))
case("check_bbox-lat-100", A, InvalidParameterError, "latitudes", lambda fx, out: _stac().check_bbox([10, 50, 11, 100]))
case("check_bbox-strings", A, InvalidParameterError, "`bbox`",
     lambda fx, out: _stac().check_bbox(["a", "b", "c", "d"]))
case("check_bbox-None", A, InvalidParameterError, "`bbox`", lambda fx, out: _stac().check_bbox(None))
case("parse_lakes-unknown-name", A, InvalidParameterError, "unknown lake",
     lambda fx, out: _stac().parse_lakes("Atlantis"))
case("parse_lakes-empty-list", A, InvalidParameterError, "`lakes`", lambda fx, out: _stac().parse_lakes([]))
case("parse_lakes-None", A, InvalidParameterError, "`lakes`", lambda fx, out: _stac().parse_lakes(None))
case("parse_lakes-bad-box", A, InvalidParameterError, "`bbox`",
     lambda fx, out: _stac().parse_lakes(("pond", (1, 2, 3))))
case("parse_lakes-duplicate", A, InvalidParameterError, "twice|duplicate",
     lambda fx, out: _stac().parse_lakes(["Lake Geneva", "Lake Geneva"]))
case("parse_lakes-bbox-with-many-lakes", A, InvalidParameterError, "`bbox`",
     lambda fx, out: _stac().parse_lakes(["Lake Geneva", "Lake Victoria"], bbox=(1, 2, 3, 4)))
case("classify_water_fraction-thresholds-reversed", A, InvalidParameterError, "water_min",
     lambda fx, out: _stac().classify_water_fraction(np.array([0.5]), water_min=0.2, land_max=0.8))
case("classify_water_fraction-over-1", A, InvalidParameterError, "fraction",
     lambda fx, out: _stac().classify_water_fraction(np.array([1.5, 0.2])))
case("split_for-fractions-over-1", A, InvalidParameterError, "fractions",
     lambda fx, out: _stac().split_for("x", {"train": 2.0, "val": 0.1, "test": 0.1}))
case("get_place-unknown", A, InvalidParameterError, "Atlantis", lambda fx, out: _places().get_place("Atlantis"))
case("get_place-None", A, InvalidParameterError, "name", lambda fx, out: _places().get_place(None))
case("slugify-None", A, InvalidParameterError, "`name`", lambda fx, out: _places().slugify(None))
case("places_table-strings", A, InvalidParameterError, "`places`",
     lambda fx, out: _places().places_table(("Lake Geneva",)))


def _fetch(out, **kw):
    args = dict(root=out / "lakes", progress=False, cache_dir=False, retries=0)
    args.update(kw)
    return _stac().fetch_lakes(args.pop("lakes", "Lake Geneva"), **args)


case("fetch_lakes-bad-start-date", A, InvalidParameterError, "`start`",
     lambda fx, out: _fetch(out, start="2020-13-01"), output=True)
case("fetch_lakes-start-after-end", A, InvalidParameterError, "start",
     lambda fx, out: _fetch(out, start="2021-01-01", end="2020-01-01"), output=True)
case("fetch_lakes-water_min-2", A, InvalidParameterError, "water_min",
     lambda fx, out: _fetch(out, water_min=2.0), output=True)
case("fetch_lakes-empty-dataset-name", A, InvalidParameterError, "`dataset`",
     lambda fx, out: _fetch(out, dataset=""), output=True)
case("fetch_lakes-max-chip-zero", A, InvalidParameterError, "`max_chip_px`",
     lambda fx, out: _fetch(out, max_chip_px=0), output=True)
case("fetch_lakes-retries-negative", A, InvalidParameterError, "`retries`",
     lambda fx, out: _fetch(out, retries=-1), output=True)
case("fetch_lakes-unknown-split", A, InvalidParameterError, "split",
     lambda fx, out: _fetch(out, split="training"), output=True)
case("fetch_lakes-unknown-platform", A, InvalidParameterError, "platforms",
     lambda fx, out: _fetch(out, platforms=("sentinel",)), output=True)
case("fetch_lakes-unknown-lake", A, InvalidParameterError, "unknown lake",
     lambda fx, out: _fetch(out, lakes="Atlantis"), output=True)
case("fetch_lakes-unreachable-server", A, NetworkError, "stac_url|reach",
     lambda fx, out: _fetch(out, stac_url="http://127.0.0.1:9/stac", signer=None, timeout_s=2.0), output=True)

# =============================================================================================
# evaluation
# =============================================================================================
A = "evaluation"
_T = np.array([[1, 1, 2], [2, 2, 1], [1, 2, 2]], np.uint8)
case("confusion-shape-mismatch", A, ShapeMismatchError, "shape",
     lambda fx, out: _ev().confusion(_T, np.ones((4, 4), np.uint8)))
case("confusion-bool-prediction", A, InvalidParameterError, "y_pred",
     lambda fx, out: _ev().confusion(_T, _T == 1))
case("confusion-probabilities-as-prediction", A, InvalidParameterError, "y_pred|argmax|class",
     lambda fx, out: _ev().confusion(_T, np.full((3, 3, 2), 0.5)))
case("confusion-truth-code-7", A, ClassCodeError, "7",
     lambda fx, out: _ev().confusion(np.where(_T == 2, 7, _T), _T))
case("confusion-prediction-code-7", A, ClassCodeError, "7",
     lambda fx, out: _ev().confusion(_T, np.where(_T == 2, 7, _T)))
case("confusion-prediction-float-fraction", A, InvalidParameterError, "y_pred",
     lambda fx, out: _ev().confusion(_T, _T + 0.5))
case("confusion-prediction-nan", A, InvalidParameterError, "y_pred",
     lambda fx, out: _ev().confusion(_T, np.full((3, 3), np.nan)))
case("confusion-positive-not-in-classes", A, InvalidParameterError, "`positive`",
     lambda fx, out: _ev().confusion(_T, _T, positive=3, classes=(1, 2)))
case("confusion-no-classes", A, InvalidParameterError, "`classes`",
     lambda fx, out: _ev().confusion(_T, _T, classes=()))
case("confusion-mask-wrong-shape", A, ShapeMismatchError, "`mask`",
     lambda fx, out: _ev().confusion(_T, _T, mask=np.zeros((2, 2), bool)))
case("scores-no-prediction", A, InvalidParameterError, "y_pred", lambda fx, out: _ev().scores(_T))
case("scores-names-unknown-code", A, ClassCodeError, "names",
     lambda fx, out: _ev().scores(_T, _T, names={7: "forest"}))
case("sum_confusions-empty", A, InvalidParameterError, "confusions", lambda fx, out: _ev().sum_confusions([]))
case("sum_confusions-different-classes", A, InvalidParameterError, "classes",
     lambda fx, out: _ev().sum_confusions([_ev().confusion(_T, _T, classes=(1, 2)),
                                           _ev().confusion(_T, _T, classes=(1, 2, 3))]))
case("per_lake_scores-no-predictions", A, InvalidParameterError, "predictions",
     lambda fx, out: _ev().per_lake_scores({}, fx.dataset))
case("per_lake_scores-unknown-lake", A, InvalidParameterError, "no-such-lake",
     lambda fx, out: _ev().per_lake_scores({"no-such-lake": _T}, fx.dataset))
case("per_lake_scores-wrong-grid", A, ShapeMismatchError, "shape|grid",
     lambda fx, out: _ev().per_lake_scores({fx.first_id: _T}, fx.dataset))
case("study_table-empty", A, InvalidParameterError, "`rows`", lambda fx, out: _ev().study_table({}))
case("unclassified_breakdown-wrong-shape", A, ShapeMismatchError, "must match|shape",
     lambda fx, out: _ev().unclassified_breakdown(np.ones((4, 4), np.uint8), _T))


def _codes_prediction(codes, classes=None):
    """A Prediction on the 3 x 3 grid of ``_T`` with channel codes ``codes`` (one-hot of ``classes``)."""
    classes = np.full(_T.shape, codes[-1], np.uint8) if classes is None else classes
    probs = (classes[..., None] == np.asarray(codes)).astype(np.float32)
    return _pred().Prediction(probs, classes, tuple(codes), np.zeros(_T.shape, bool))


case("scores-buildings-prediction-with-lakes-classes", A, ClassCodeError, r"class codes \(0, 1\).*classes=\(0, 1\)",
     lambda fx, out: _ev().scores(_T, _codes_prediction((0, 1), (_T == 1).astype(np.uint8))))
case("confusion-prediction-codes-not-scored", A, ClassCodeError, r"\[3\] are not among the scored `classes`",
     lambda fx, out: _ev().confusion(_T, _codes_prediction((1, 2, 3), _T), classes=(1, 2)))
case("unclassified_breakdown-buildings-prediction", A, ClassCodeError, r"`pred` carries class codes \(0, 1\)",
     lambda fx, out: _ev().unclassified_breakdown(_codes_prediction((0, 1), (_T == 1).astype(np.uint8)), _T))
case("unclassified_breakdown-prediction-without-absent-class", A, ClassCodeError, "no channel for `absent_class`",
     lambda fx, out: _ev().unclassified_breakdown(_T, _T, _codes_prediction((1, 2), _T)))


def _runs():
    import pandas as pd

    return pd.DataFrame({"label": ["a", "a", "b", "b"], "seed": [0, 1, 0, 1], "f1": [0.5, 0.6, 0.7, 0.8]})


case("summarize_seeds-unknown-by", A, InvalidParameterError, "model",
     lambda fx, out: _ev().summarize_seeds(_runs(), by="model"))
case("summarize_seeds-unknown-metric", A, InvalidParameterError, "kappa",
     lambda fx, out: _ev().summarize_seeds(_runs(), by="label", metrics=("kappa",)))
case("compare_runs-unknown-label", A, InvalidParameterError, "zzz",
     lambda fx, out: _ev().compare_runs(_runs(), by="label", a="a", b="zzz"))
case("compare_runs-unknown-metric", A, InvalidParameterError, "metric",
     lambda fx, out: _ev().compare_runs(_runs(), by="label", a="a", b="b", metric="kappa"))
case("building_scores-shape-mismatch", A, ShapeMismatchError, "shape",
     lambda fx, out: _evb().building_scores(np.zeros((4, 4), np.uint8), np.zeros((5, 5), np.uint8)))
case("building_scores-valid-wrong-shape", A, ShapeMismatchError, "`valid`",
     lambda fx, out: _evb().building_scores(np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.uint8),
                                            valid=np.ones((2, 2), bool)))
case("building_scores-code-5", A, ClassCodeError, "5",
     lambda fx, out: _evb().building_scores(np.full((4, 4), 5, np.uint8), np.zeros((4, 4), np.uint8)))
case("spacenet_f1-iou-over-1", A, InvalidParameterError, "`iou_threshold`",
     lambda fx, out: _evb().spacenet_f1([], [], iou_threshold=1.5))
case("spacenet_f1-iou-zero", A, InvalidParameterError, "`iou_threshold`",
     lambda fx, out: _evb().spacenet_f1([], [], iou_threshold=0))
case("spacenet_f1-strings", A, InvalidParameterError, "truth",
     lambda fx, out: _evb().spacenet_f1("abc", []))

# =============================================================================================
# models and baselines (and training, prediction in memory, experiments)
# =============================================================================================
A = "models"
for _v, _name in ((0, "zero"), (2.5, "float"), (True, "bool"), (-8, "negative")):
    case(f"build_lakes_fcn-patch_size-{_name}", A, (ModelError, InvalidParameterError), "patch_size",
         lambda fx, out, v=_v: _models().build_lakes_fcn(patch_size=v, bands=7, classes=(1, 2), compile=False))
for _v, _name in ((0, "zero"), (-1, "negative"), (2.5, "float"), ("7", "string")):
    case(f"build_lakes_fcn-bands-{_name}", A, InvalidParameterError, "`bands`",
         lambda fx, out, v=_v: _models().build_lakes_fcn(patch_size=8, bands=v, classes=(1, 2), compile=False))
case("build_lakes_fcn-classes-duplicate", A, ClassCodeError, "`classes`",
     lambda fx, out: _models().build_lakes_fcn(patch_size=8, classes=(1, 1), compile=False))
case("build_lakes_fcn-classes-names", A, ClassCodeError, "`classes`",
     lambda fx, out: _models().build_lakes_fcn(patch_size=8, classes=("water", "land"), compile=False))
case("build_lakes_fcn-classes-zero", A, ClassCodeError, "`classes`",
     lambda fx, out: _models().build_lakes_fcn(patch_size=8, classes=0, compile=False))
case("build_lakes_fcn-classes-over-255", A, ClassCodeError, "`classes`",
     lambda fx, out: _models().build_lakes_fcn(patch_size=8, classes=(1, 300), compile=False))
case("build_lakes_fcn-unknown-upsampling", A, InvalidParameterError, "`upsampling`",
     lambda fx, out: _models().build_lakes_fcn(patch_size=8, classes=(1, 2), upsampling="magic", compile=False))
case("build_lakes_fcn-learning-rate-negative", A, InvalidParameterError, "`learning_rate`",
     lambda fx, out: _models().build_lakes_fcn(patch_size=8, classes=(1, 2), learning_rate=-1))
case("build_lakes_fcn-normalization-wrong-bands", A, BandMismatchError, "normalization",
     lambda fx, out: _models().build_lakes_fcn(patch_size=8, classes=(1, 2), compile=False,
                                               normalization=(np.zeros(3), np.ones(3))))
case("build_lakes_fcn-normalization-zero-std", A, InvalidParameterError, "normalization",
     lambda fx, out: _models().build_lakes_fcn(patch_size=8, classes=(1, 2), compile=False,
                                               normalization=(np.zeros(7), np.zeros(7))))
case("build_unet-no-filters", A, InvalidParameterError, "`filters`",
     lambda fx, out: _models().build_unet(patch_size=16, classes=(1, 2), filters=(), compile=False))
case("build_unet-zero-filters", A, InvalidParameterError, "`filters`",
     lambda fx, out: _models().build_unet(patch_size=16, classes=(1, 2), filters=(0, 8), compile=False))
case("build_buildings_fcn-patch-zero", A, ModelError, "patch_size",
     lambda fx, out: _models().build_buildings_fcn(patch_size=0, compile=False))
case("check_patch_size-unknown-architecture", A, InvalidParameterError, "architecture",
     lambda fx, out: _models().check_patch_size("magic", 16))
case("check_patch_size-zero", A, ModelError, "patch_size", lambda fx, out: _models().check_patch_size("lakes_fcn", 0))
case("input_statistics-empty", A, InvalidParameterError, "images",
     lambda fx, out: _models().input_statistics(np.zeros((0, 8, 8, 7), np.float32)))
case("input_statistics-all-invalid", A, InvalidParameterError, "valid",
     lambda fx, out: _models().input_statistics(np.zeros((2, 8, 8, 7), np.float32), np.zeros((2, 8, 8), bool)))
case("compile_model-not-a-model", A, ModelError, "model", lambda fx, out: _models().compile_model("abc"))
case("model_io-not-a-model", A, ModelError, "model", lambda fx, out: _models().model_io("abc"))
case("describe_layers-patch-zero", A, ModelError, "patch_size",
     lambda fx, out: _models().describe_layers(fx.model, 0))
case("load_model-missing", A, ModelError, "does not exist|not found",
     lambda fx, out: _models().load_model(fx.root / "missing.keras"))
case("load_model-text-file", A, ModelError, "keras|model file",
     lambda fx, out: _models().load_model(fx.text_keras))
case("load_model-folder", A, ModelError, "folder", lambda fx, out: _models().load_model(fx.folder))
case("load_model-a-tif", A, ModelError, "keras", lambda fx, out: _models().load_model(fx.image))


def _keras_with_codes_entry(fx, codes) -> Path:
    """A plain-saved water/land model with a geonb.json entry naming ``codes`` (as if edited by hand)."""
    import zipfile

    p = fx.root / f"codes_{'_'.join(map(str, codes))}.keras"
    if not p.exists():
        fx.model.save(fx.root / "plain_for_codes.keras")
        shutil.copy(fx.root / "plain_for_codes.keras", p)
        with zipfile.ZipFile(p, "a") as zf:
            zf.writestr("geonb.json", json.dumps({"class_codes": list(codes)}))
    return p


case("load_model-file-codes-wrong-count", A, ClassCodeError, r"geonb.json entry of .* lists 3 class codes",
     lambda fx, out: _models().load_model(_keras_with_codes_entry(fx, (1, 2, 3))))
case("LogisticRegressionBaseline-predict-before-fit", A, ModelError, "fit",
     lambda fx, out: _models().LogisticRegressionBaseline().predict_proba(np.zeros((1, 8, 8, 7), np.float32)))
case("AllLandBaseline-predict-before-fit", A, ModelError, "fit",
     lambda fx, out: _models().AllLandBaseline().predict_proba(np.zeros((1, 8, 8, 7), np.float32)))
case("LogisticRegressionBaseline-fit-empty", A, InvalidParameterError, "data|empty|2 classes",
     lambda fx, out: _models().LogisticRegressionBaseline().fit(fx.patches.subset(np.zeros(
         len(fx.patches.images), bool))))
case("LogisticRegressionBaseline-fit-labels-with-255", A, ClassCodeError, r"code 255.*nodata",
     lambda fx, out: _models().LogisticRegressionBaseline().fit(
         (fx.patches.images, np.where(np.arange(fx.patches.labels.size).reshape(fx.patches.labels.shape) % 7 == 0,
                                      255, fx.patches.labels).astype(np.uint8))))
case("AllLandBaseline-fit-labels-with-255", A, ClassCodeError, r"code 255.*nodata",
     lambda fx, out: _models().AllLandBaseline().fit(
         (fx.patches.images, np.where(fx.patches.labels == 1, 255, fx.patches.labels).astype(np.uint8))))
case("LogisticRegressionBaseline-wrong-bands", A, BandMismatchError, "band",
     lambda fx, out: _models().LogisticRegressionBaseline().fit(fx.patches).predict_proba(
         np.zeros((1, 8, 8, 3), np.float32)))
case("LogisticRegressionBaseline-bands-first", A, (ShapeMismatchError, BandMismatchError), "moveaxis|shape",
     lambda fx, out: _models().LogisticRegressionBaseline().fit(fx.patches).predict_proba(
         np.zeros((7, 40, 39), np.float32)))
case("predict_array-bands-first", A, (ShapeMismatchError, BandMismatchError), "moveaxis",
     lambda fx, out: _pred().predict_array(fx.model, np.zeros((7, 40, 39), np.float32)))
case("predict_array-three-bands", A, BandMismatchError, "band",
     lambda fx, out: _pred().predict_array(fx.model, np.zeros((40, 39, 3), np.float32)))
case("predict_array-2d-image", A, InvalidParameterError, "image",
     lambda fx, out: _pred().predict_array(fx.model, np.zeros((40, 39), np.float32)))
case("predict_array-empty-image", A, InvalidParameterError, "image",
     lambda fx, out: _pred().predict_array(fx.model, np.zeros((0, 0, 7), np.float32)))
case("predict_array-overlap-1.5", A, InvalidParameterError, "`overlap`",
     lambda fx, out: _pred().predict_array(fx.model, fx.image_f, overlap=1.5))
case("predict_array-patch-zero", A, InvalidParameterError, "`patch_size`",
     lambda fx, out: _pred().predict_array(fx.model, fx.image_f, patch_size=0))
case("predict_array-batch-zero", A, InvalidParameterError, "`batch_size`",
     lambda fx, out: _pred().predict_array(fx.model, fx.image_f, batch_size=0))
case("predict_array-mask-wrong-shape", A, ShapeMismatchError, "`nodata_mask`",
     lambda fx, out: _pred().predict_array(fx.model, fx.image_f, nodata_mask=np.zeros((3, 3), bool)))
case("predict_array-not-a-model", A, ModelError, "model",
     lambda fx, out: _pred().predict_array("abc", fx.image_f))
case("predict_scene-classes-wrong-count", A, ClassCodeError, "`classes`",
     lambda fx, out: _pred().predict_scene(fx.model, fx.scene, classes=(1, 2, 3), progress=False))
case("predict_scene-model-without-codes", A, ModelError, "classes=",
     lambda fx, out: _pred().predict_scene(fx.plain_model, fx.scene, progress=False))
case("predict_scene-not-a-scene", A, InvalidParameterError, "`scene`",
     lambda fx, out: _pred().predict_scene(fx.model, "scene.tif", progress=False))
case("predict_scene-patch-size-word", A, InvalidParameterError, "`patch_size`",
     lambda fx, out: _pred().predict_scene(fx.model, fx.scene, patch_size="big", progress=False))
case("predict_scene-wrong-bands", A, BandMismatchError, "band",
     lambda fx, out: _pred().predict_scene(fx.model, fx.scene.select_bands(("red", "green", "blue")),
                                           progress=False))
case("context_radius-not-a-model", A, ModelError, "model", lambda fx, out: _pred().context_radius("abc"))
case("Prediction-class-not-a-code", A, ClassCodeError, r"values \[7\].*class codes \(1, 2\)",
     lambda fx, out: _pred().Prediction(np.zeros((2, 2, 2), np.float32), np.full((2, 2), 7, np.uint8), (1, 2),
                                        np.zeros((2, 2), bool)))
case("Prediction-probabilities-as-classes", A, InvalidParameterError, "integer class map",
     lambda fx, out: _pred().Prediction(np.zeros((2, 2, 2), np.float32), np.full((2, 2), 0.5), (1, 2),
                                        np.zeros((2, 2), bool)))
case("class_map_nodata-0-and-255-are-codes", A, ClassCodeError, "both 0 and 255",
     lambda fx, out: _pred().class_map_nodata(tuple(range(256))))


def _train(fx, patches=None, **kw):
    args = dict(epochs=1, batch_size=4, verbose=0)
    args.update(kw)
    return _training().train(fx.model, fx.patches if patches is None else patches, **args)


for _k, _v, _name in (("epochs", 0, "epochs-zero"), ("epochs", -1, "epochs-negative"),
                      ("epochs", 1.5, "epochs-float"), ("batch_size", 0, "batch-zero"),
                      ("batch_size", True, "batch-bool"), ("learning_rate_schedule", "step", "schedule-unknown")):
    case(f"train-{_name}", A, InvalidParameterError, f"`{_k}`", lambda fx, out, k=_k, v=_v: _train(fx, **{k: v}))
case("train-class_weight-unknown-word", A, InvalidParameterError, "`class_weight`",
     lambda fx, out: _train(fx, class_weight="magic"))
case("train-class_weight-unknown-code", A, ClassCodeError, "class_weight",
     lambda fx, out: _train(fx, class_weight={7: 1.0}))
case("train-class_weight-negative", A, InvalidParameterError, "class_weight",
     lambda fx, out: _train(fx, class_weight={1: -1.0, 2: 1.0}))
case("train-classes-wrong-count", A, ClassCodeError, "`classes`", lambda fx, out: _train(fx, classes=(1, 2, 3)))
case("train-wrong-band-count", A, BandMismatchError, "band",
     lambda fx, out: _train(fx, patches=fx.patches.select_bands(("red", "green", "blue"))))
case("train-not-patches", A, InvalidParameterError, "train_patches",
     lambda fx, out: _train(fx, patches=np.zeros((4, 8, 8, 7))))
case("train-unknown-verbose", A, InvalidParameterError, "`verbose`", lambda fx, out: _train(fx, verbose="loud"))
case("train-not-a-model", A, ModelError, "model",
     lambda fx, out: _training().train("abc", fx.patches, epochs=1, verbose=0))
case("compute_class_weights-unknown-word", A, InvalidParameterError, "class_weight",
     lambda fx, out: _training().compute_class_weights(np.ones((2, 4, 4, 2), np.float32), "magic", (1, 2)))
case("as_training_arrays-not-patches", A, InvalidParameterError, "train_patches",
     lambda fx, out: _training().as_training_arrays("abc", fx.model))
case("default_classes-zero", A, ModelError, "classes=", lambda fx, out: _training().default_classes(0))
case("train-one-hot-tuple-without-classes", A, ClassCodeError, r"one-hot targets.*pass classes=",
     lambda fx, out: _train(fx, patches=(fx.patches.images, fx.patches.targets)))
case("train-one-hot-tuple-classes-disagree", A, ClassCodeError, r"`classes`=\(2, 1\) disagrees",
     lambda fx, out: _train(fx, patches=(fx.patches.images, fx.patches.targets), classes=(2, 1)))
case("train-one-hot-val-tuple-without-classes", A, ClassCodeError, r"`val_patches` is a tuple",
     lambda fx, out: _training().train(fx.model, fx.patches, (fx.patches.images, fx.patches.targets), epochs=1,
                                       batch_size=4, verbose=0))
case("StoredPrediction-class-0-without-nodata-mask", A, InvalidParameterError, r"`nodata_mask` is required",
     lambda fx, out: _exp().StoredPrediction(np.zeros((2, 2), np.uint8), np.zeros((2, 2, 2), np.float32), (0, 1)))
case("patch_size_sweep-size-zero", A, InvalidParameterError, "patch_size",
     lambda fx, out: _exp().patch_size_sweep(fx.dataset, [0], cache_dir=False, progress=False))
case("patch_size_sweep-no-sizes", A, InvalidParameterError, "patch_sizes",
     lambda fx, out: _exp().patch_size_sweep(fx.dataset, [], cache_dir=False, progress=False))
case("patch_size_sweep-unknown-model", A, InvalidParameterError, "`model`",
     lambda fx, out: _exp().patch_size_sweep(fx.dataset, [8], model="magic", cache_dir=False, progress=False))
case("patch_size_sweep-unknown-band", A, BandMismatchError, "purple",
     lambda fx, out: _exp().patch_size_sweep(fx.dataset, [8], bands=("purple",), cache_dir=False, progress=False))
case("patch_size_sweep-no-seeds", A, InvalidParameterError, "`seeds`",
     lambda fx, out: _exp().patch_size_sweep(fx.dataset, [8], seeds=[], cache_dir=False, progress=False))
case("patch_size_sweep-epochs-zero", A, InvalidParameterError, "`epochs`",
     lambda fx, out: _exp().patch_size_sweep(fx.dataset, [8], epochs=0, cache_dir=False, progress=False))
case("patch_size_sweep-not-a-dataset", A, InvalidParameterError, "`dataset`",
     lambda fx, out: _exp().patch_size_sweep("lakes-synthetic-typo", [8], cache_dir=False, progress=False))
case("band_sweep-empty", A, InvalidParameterError, "band_sets",
     lambda fx, out: _exp().band_sweep(fx.dataset, {}, cache_dir=False, progress=False))
case("band_sweep-unknown-band", A, BandMismatchError, "purple",
     lambda fx, out: _exp().band_sweep(fx.dataset, {"x": ("purple",)}, cache_dir=False, progress=False))
case("model_comparison-unknown-model", A, InvalidParameterError, "magic",
     lambda fx, out: _exp().model_comparison(fx.dataset, ("magic",), cache_dir=False, progress=False))
case("ExperimentResults-load-missing", A, DatasetNotFoundError, "does not exist|not found",
     lambda fx, out: _exp().ExperimentResults.load(fx.root / "no-results"))
case("ExperimentResults-load-text-file", A, InvalidParameterError, "results|save",
     lambda fx, out: _exp().ExperimentResults.load(fx.text_keras))
case("domain_shift-not-results", A, InvalidParameterError, "`results`",
     lambda fx, out: _exp().domain_shift("abc", fx.dataset))
case("unclassified_check-not-a-model", A, ModelError, "model",
     lambda fx, out: _exp().unclassified_check("abc", fx.dataset, progress=False))
case("run_cells-empty", A, InvalidParameterError, "`cells`",
     lambda fx, out: _exp().run_cells([], fx.dataset, progress=False))

# =============================================================================================
# outputs: every refused write leaves the folder exactly as it was
# =============================================================================================
A = "outputs"


def _wr(out, name="new.tif", array=None, **kw):
    arr = np.ones((4, 5, 2), np.float32) if array is None else array
    return _scene_mod().write_raster(out / name, arr, **kw)


case("write_raster-existing", A, OutputExistsError, "overwrite=True", lambda fx, out: _wr(out, "old.tif"), output=True)
case("write_raster-folder", A, InvalidParameterError, "folder", lambda fx, out: _wr(out, "sub"), output=True)
case("write_raster-empty-path", A, InvalidParameterError, "`path`",
     lambda fx, out: _scene_mod().write_raster("", np.ones((4, 5))), output=True)
case("write_raster-bands-first", A, ShapeMismatchError, "moveaxis",
     lambda fx, out: _wr(out, array=np.ones((7, 40, 39), np.float32), band_names=MODIS7), output=True)
case("write_raster-empty-array", A, ShapeMismatchError, "`array`",
     lambda fx, out: _wr(out, array=np.ones((0, 5))), output=True)
case("write_raster-strings", A, InvalidParameterError, "`array`",
     lambda fx, out: _wr(out, array=np.full((4, 5), "a")), output=True)
case("write_raster-None", A, ShapeMismatchError, "`array`",
     lambda fx, out: _scene_mod().write_raster(out / "new.tif", None), output=True)
case("write_raster-unknown-crs", A, CRSError, "crs", lambda fx, out: _wr(out, crs="EPSG:99999"), output=True)
case("write_raster-transform-string", A, InvalidParameterError, "`transform`",
     lambda fx, out: _wr(out, transform="identity"), output=True)
case("write_raster-nodata-string", A, InvalidParameterError, "`nodata`",
     lambda fx, out: _wr(out, nodata="none"), output=True)
case("write_raster-nodata-out-of-dtype", A, InvalidParameterError, "`nodata`",
     lambda fx, out: _wr(out, array=np.ones((4, 5), np.uint8), nodata=300), output=True)
case("write_raster-unknown-compress", A, InvalidParameterError, "`compress`",
     lambda fx, out: _wr(out, compress="magic"), output=True)
case("write_raster-band_names-count", A, InvalidParameterError, "`band_names`",
     lambda fx, out: _wr(out, band_names=("a", "b", "c")), output=True)
case("write_raster-scale-string", A, InvalidParameterError, "`scale`",
     lambda fx, out: _wr(out, scale="modis"), output=True)
case("write_scene-same-path-twice", A, InvalidParameterError, "same file",
     lambda fx, out: _scene_mod().write_scene(fx.scene, out / "a.tif", out / "a.tif"), output=True)
case("write_scene-same-path-twice-overwrite", A, InvalidParameterError, "same file",
     lambda fx, out: _scene_mod().write_scene(fx.scene, out / "old.tif", out / "./old.tif", overwrite=True),
     output=True)
case("write_scene-labels-exist", A, OutputExistsError, "overwrite=True",
     lambda fx, out: _scene_mod().write_scene(fx.scene, out / "new.tif", out / "old_labels.tif"), output=True)
case("write_scene-image-exists", A, OutputExistsError, "overwrite=True",
     lambda fx, out: _scene_mod().write_scene(fx.scene, out / "old.tif", out / "new_labels.tif"), output=True)
case("write_scene-no-labels", A, InvalidParameterError, "labels_path",
     lambda fx, out: _scene_mod().write_scene(fx.scene_with(labels=None), out / "a.tif", out / "b.tif"),
     output=True)
case("write_scene-values-out-of-range", A, InvalidParameterError, "modis_int16=False",
     lambda fx, out: _scene_mod().write_scene(fx.scene_with(image=fx.image_f * 1000), out / "a.tif"), output=True)
case("write_scene-not-a-scene", A, InvalidParameterError, "`scene`",
     lambda fx, out: _scene_mod().write_scene(fx.image_f, out / "a.tif"), output=True)
case("write_scene-image-path-folder", A, InvalidParameterError, "folder",
     lambda fx, out: _scene_mod().write_scene(fx.scene, out / "sub", out / "b.tif"), output=True)
case("write_scene-unwritable-crs", A, CRSError, "crs",
     lambda fx, out: _scene_mod().write_scene(_with_bad_crs(fx), out / "a.tif", out / "b.tif"), output=True)


def _with_bad_crs(fx):
    s = fx.scene_with()
    object.__setattr__(s, "crs", "EPSG:99999")
    return s


case("save_map-existing", A, OutputExistsError, "overwrite=True",
     lambda fx, out: _maps().save_map(fx.map(), out / "old.html"), output=True)
case("save_map-png-suffix", A, InvalidParameterError, ".html",
     lambda fx, out: _maps().save_map(fx.map(), out / "map.png"), output=True)
case("save_map-folder", A, InvalidParameterError, "folder",
     lambda fx, out: (out / "dir.html").mkdir() or _maps().save_map(fx.map(), out / "dir.html"), output=False)
case("save_map-not-a-map", A, InvalidParameterError, "`m`",
     lambda fx, out: _maps().save_map("abc", out / "map.html"), output=True)
case("save_map-None-map", A, InvalidParameterError, "`m`",
     lambda fx, out: _maps().save_map(None, out / "map.html"), output=True)
case("save_map-None-path", A, InvalidParameterError, "`path`",
     lambda fx, out: _maps().save_map(fx.map(), None), output=True)


def _tbl():
    import pandas as pd

    return pd.DataFrame({"a": [1, 2], "b": [3.0, 4.0]})


case("write_table-existing", A, OutputExistsError, "overwrite=True",
     lambda fx, out: _ev().write_table(_tbl(), out / "old.csv"), output=True)
case("write_table-not-a-table", A, InvalidParameterError, "`table`",
     lambda fx, out: _ev().write_table([[1, 2]], out / "t.csv"), output=True)
case("write_table-folder", A, InvalidParameterError, "folder",
     lambda fx, out: _ev().write_table(_tbl(), out / "sub"), output=True)
case("write_table-unknown-suffix", A, InvalidParameterError, "suffix|\\.csv",
     lambda fx, out: _ev().write_table(_tbl(), out / "t.xyz"), output=True)
case("write_footprints-existing", A, OutputExistsError, "overwrite=True",
     lambda fx, out: _sn().write_footprints(out / "old.geojson", _fp(fx)), output=True)
case("write_footprints-folder", A, InvalidParameterError, "folder",
     lambda fx, out: _sn().write_footprints(out / "sub", _fp(fx)), output=True)
case("write_footprints-not-geometries", A, InvalidParameterError, "footprints.*geometry",
     lambda fx, out: _sn().write_footprints(out / "new.geojson", ["abc"], crs=fx.crs), output=True)
case("write_footprints-precision-negative", A, InvalidParameterError, "`precision`",
     lambda fx, out: _sn().write_footprints(out / "new.geojson", _fp(fx), precision=-1), output=True)
case("save_model-existing", A, OutputExistsError, "overwrite=True",
     lambda fx, out: _models().save_model(fx.model, out / "old.keras"), output=True)
case("save_model-h5-suffix", A, InvalidParameterError, ".keras",
     lambda fx, out: _models().save_model(fx.model, out / "model.h5"), output=True)
case("save_model-not-a-model", A, ModelError, "model",
     lambda fx, out: _models().save_model("abc", out / "m.keras"), output=True)
case("save_model-folder", A, InvalidParameterError, "folder",
     lambda fx, out: (out / "d.keras").mkdir() or _models().save_model(fx.model, out / "d.keras"), output=False)


def _pr(fx, out, out_name="pred.tif", image=None, model=None, **kw):
    return _pred().predict_raster(fx.model if model is None else model, fx.image if image is None else image,
                                  out / out_name, progress=False, **kw)


case("predict_raster-out-is-the-image", A, InvalidParameterError, "same file|image_path",
     lambda fx, out: _pred().predict_raster(fx.model, out / "old.tif", out / "old.tif", overwrite=True,
                                            progress=False), output=True)
case("predict_raster-probabilities-same-file", A, InvalidParameterError, "same file",
     lambda fx, out: _pr(fx, out, "p.tif", probabilities=out / "p.tif"), output=True)
case("predict_raster-existing-out", A, OutputExistsError, "overwrite=True",
     lambda fx, out: _pr(fx, out, "old.tif"), output=True)
case("predict_raster-existing-probabilities", A, OutputExistsError, "overwrite=True",
     lambda fx, out: _pr(fx, out, "new.tif", probabilities=out / "old_labels.tif"), output=True)
case("predict_raster-missing-image", A, RasterReadError, "does not exist",
     lambda fx, out: _pr(fx, out, image=fx.missing), output=True)
case("predict_raster-text-image", A, RasterReadError, "GeoTIFF", lambda fx, out: _pr(fx, out, image=fx.text_tif),
     output=True)
case("predict_raster-block-zero", A, InvalidParameterError, "`block`", lambda fx, out: _pr(fx, out, block=0),
     output=True)
case("predict_raster-unknown-band", A, BandMismatchError, "purple",
     lambda fx, out: _pr(fx, out, bands=("purple",)), output=True)
case("predict_raster-three-band-image", A, BandMismatchError, "band", lambda fx, out: _pr(fx, out, image=fx.image3),
     output=True)
case("predict_raster-out-folder", A, InvalidParameterError, "folder", lambda fx, out: _pr(fx, out, "sub"),
     output=True)
case("predict_raster-classes-wrong-count", A, ClassCodeError, "`classes`",
     lambda fx, out: _pr(fx, out, classes=(1, 2, 3)), output=True)
case("predict_raster-model-without-codes", A, ModelError, "classes=",
     lambda fx, out: _pr(fx, out, model=fx.plain_model), output=True)
case("predict_raster-probabilities-folder", A, InvalidParameterError, "folder",
     lambda fx, out: _pr(fx, out, probabilities=out / "sub"), output=True)
case("predict_raster-scale-word", A, InvalidParameterError, "`scale`",
     lambda fx, out: _pr(fx, out, scale="big"), output=True)
case("predict_raster-nodata-word", A, InvalidParameterError, "`nodata`",
     lambda fx, out: _pr(fx, out, nodata="none"), output=True)
case("train-checkpoint-dir-is-a-file", A, InvalidParameterError, "checkpoint_dir",
     lambda fx, out: _train(fx, checkpoint_dir=out / "old.json"), output=True)
case("ExperimentResults-save-existing", A, (OutputExistsError, InvalidParameterError), "overwrite=True|folder",
     lambda fx, out: _exp().ExperimentResults("x", "label", _tbl()).save(out / "old.json"), output=True)
case("generate_lakes-zero-lakes", A, InvalidParameterError, "`n_lakes`",
     lambda fx, out: _syn().generate_lakes(out / "lakes", n_lakes=0, n_lakes_unclassified=3, progress=False),
     output=True)
case("generate_lakes-negative-lakes", A, InvalidParameterError, "`n_lakes`",
     lambda fx, out: _syn().generate_lakes(out / "lakes", n_lakes=-1, n_lakes_unclassified=3, progress=False),
     output=True)
case("generate_lakes-float-lakes", A, InvalidParameterError, "`n_lakes`",
     lambda fx, out: _syn().generate_lakes(out / "lakes", n_lakes=2.5, n_lakes_unclassified=3, progress=False),
     output=True)
case("generate_lakes-workers-zero", A, InvalidParameterError, "`workers`",
     lambda fx, out: _syn().generate_lakes(out / "lakes", n_lakes=3, n_lakes_unclassified=3, progress=False,
                                           workers=0), output=True)
case("generate_lakes-root-is-a-file", A, InvalidParameterError, "`root`",
     lambda fx, out: _syn().generate_lakes(out / "old.json", n_lakes=3, n_lakes_unclassified=3, progress=False),
     output=True)
case("generate_lakes-seed-string", A, InvalidParameterError, "`seed`",
     lambda fx, out: _syn().generate_lakes(out / "lakes", seed="abc", n_lakes=3, n_lakes_unclassified=3,
                                           progress=False), output=True)
case("write_dataset-zero", A, InvalidParameterError, "`n`",
     lambda fx, out: _syn().write_dataset(out / "ds", "ds", 0, progress=False), output=True)
case("generate_buildings-zero-tiles", A, InvalidParameterError, "`n_tiles`",
     lambda fx, out: _sn().generate_buildings(out, n_tiles=0), output=True)
case("generate_buildings-tile-px-zero", A, InvalidParameterError, "`tile_px`",
     lambda fx, out: _sn().generate_buildings(out, n_tiles=1, tile_px=0), output=True)
case("generate_buildings-pixel-negative", A, InvalidParameterError, "`pixel_m`",
     lambda fx, out: _sn().generate_buildings(out, n_tiles=1, pixel_m=-0.3), output=True)
case("generate_buildings-lat-100", A, InvalidParameterError, "`lat`",
     lambda fx, out: _sn().generate_buildings(out, n_tiles=1, lat=100.0), output=True)
case("generate_buildings-name-with-slash", A, InvalidParameterError, "`name`",
     lambda fx, out: _sn().generate_buildings(out, n_tiles=1, name="../escape"), output=True)
case("install_kernels-unknown-backend", A, InvalidParameterError, "gpu_backend",
     lambda fx, out: _runtime().install_kernels(user=False, prefix=str(out), gpu_backend="tf"), output=True)

# =============================================================================================
# cli: python -m geonb ...
# =============================================================================================
A = "cli"
case("cli-no-command", A, CLIFailure, "required", lambda fx, out: _run_cli([]))
case("cli-unknown-command", A, CLIFailure, "invalid choice", lambda fx, out: _run_cli(["train-all"]))
case("cli-train-without-arguments", A, CLIFailure, "required: image, --labels, --out",
     lambda fx, out: _run_cli(["train"]))
case("cli-info-extra-argument", A, CLIFailure, "unrecognized", lambda fx, out: _run_cli(["info", "--gpu"]))
case("cli-generate-seed-word", A, CLIFailure, "--seed", lambda fx, out: _run_cli(
    ["data", "generate", "--root", str(out / "d"), "--seed", "abc"]), output=True)
case("cli-generate-seed-negative", A, CLIFailure, "seed", lambda fx, out: _run_cli(
    ["data", "generate", "--root", str(out / "d"), "--seed", "-1"]), output=True)
case("cli-generate-root-is-a-file", A, CLIFailure, "--root", lambda fx, out: _run_cli(
    ["data", "generate", "--root", str(out / "old.json")]), output=True)
case("cli-fetch-unknown-lake", A, CLIFailure, "unknown lake", lambda fx, out: _run_cli(
    ["data", "fetch", "Atlantis", "--root", str(out / "lakes"), "--quiet"]), output=True)
case("cli-fetch-bbox-three-numbers", A, CLIFailure, "--bbox", lambda fx, out: _run_cli(
    ["data", "fetch", "pond", "--bbox", "1", "2", "3", "--root", str(out / "lakes")]), output=True)
case("cli-fetch-bbox-reversed", A, CLIFailure, "west < east", lambda fx, out: _run_cli(
    ["data", "fetch", "pond", "--bbox", "10", "50", "9", "51", "--root", str(out / "lakes"), "--quiet"]),
    output=True)
case("cli-fetch-bad-date", A, CLIFailure, "start", lambda fx, out: _run_cli(
    ["data", "fetch", "Lake Geneva", "--start", "2020-13-01", "--root", str(out / "lakes"), "--quiet"]),
    output=True)
case("cli-fetch-water-min-2", A, CLIFailure, "water_min|water-min", lambda fx, out: _run_cli(
    ["data", "fetch", "Lake Geneva", "--water-min", "2", "--root", str(out / "lakes"), "--quiet"]), output=True)
case("cli-fetch-water-min-word", A, CLIFailure, "--water-min", lambda fx, out: _run_cli(
    ["data", "fetch", "Lake Geneva", "--water-min", "most", "--root", str(out / "lakes")]), output=True)
case("cli-kernels-unknown-backend", A, CLIFailure, "--gpu-backend",
     lambda fx, out: _run_cli(["kernels", "install", "--gpu-backend", "tf"]))
case("cli-subprocess-unknown-command", A, CLIFailure, "invalid choice",
     lambda fx, out: _subprocess_cli(["train-all"], out), output=True)
case("cli-subprocess-generate-root-file", A, CLIFailure, "--root",
     lambda fx, out: _subprocess_cli(["data", "generate", "--root", str(out / "old.csv")], out), output=True)

# =============================================================================================
# maps
# =============================================================================================
A = "maps"
case("make_map-lat-100", A, InvalidParameterError, "bounds_or_center",
     lambda fx, out: _maps().make_map((100.0, 10.0), offline=True))
case("make_map-one-number", A, InvalidParameterError, "bounds_or_center",
     lambda fx, out: _maps().make_map((10.0,), offline=True))
case("make_map-nan", A, InvalidParameterError, "bounds_or_center",
     lambda fx, out: _maps().make_map((float("nan"), 10.0), offline=True))
case("make_map-bounds-reversed", A, InvalidParameterError, "bounds_or_center",
     lambda fx, out: _maps().make_map((10.0, 50.0, 5.0, 60.0), offline=True))
case("make_map-place-name", A, InvalidParameterError, "bounds_or_center",
     lambda fx, out: _maps().make_map("Paris", offline=True))
case("make_map-scene-without-crs", A, CRSError, "crs", lambda fx, out: _maps().make_map(
    fx.scene_with(crs=None), offline=True))
case("make_map-zoom-negative", A, InvalidParameterError, "`zoom_start`",
     lambda fx, out: _maps().make_map((45.0, 10.0), offline=True, zoom_start=-1))
case("make_map-zoom-30", A, InvalidParameterError, "`zoom_start`",
     lambda fx, out: _maps().make_map((45.0, 10.0), offline=True, zoom_start=30))
case("make_map-zoom-float", A, InvalidParameterError, "`zoom_start`",
     lambda fx, out: _maps().make_map((45.0, 10.0), offline=True, zoom_start=2.5))
case("make_map-height-negative", A, InvalidParameterError, "`height`",
     lambda fx, out: _maps().make_map((45.0, 10.0), offline=True, height=-5))
case("add_legend-entry-one-item", A, InvalidParameterError, "`entries`",
     lambda fx, out: _maps().add_legend(fx.map(), "t", [("water",)]))
case("add_legend-bad-colour", A, InvalidParameterError, "colou?r",
     lambda fx, out: _maps().add_legend(fx.map(), "t", [("water", "not-a-colour")]))
case("add_legend-unknown-position", A, InvalidParameterError, "`position`",
     lambda fx, out: _maps().add_legend(fx.map(), "t", [("water", "blue")], position="middle"))
case("add_legend-not-a-map", A, InvalidParameterError, "`m`",
     lambda fx, out: _maps().add_legend("abc", "t", [("water", "blue")]))
case("f1_color-over-1", A, InvalidParameterError, "`f1`", lambda fx, out: _maps().f1_color(1.5))
case("f1_color-negative", A, InvalidParameterError, "`f1`", lambda fx, out: _maps().f1_color(-0.1))
case("f1_color-string", A, InvalidParameterError, "`f1`", lambda fx, out: _maps().f1_color("high"))
case("add_lake_footprints-missing-file", A, DatasetNotFoundError, "does not exist",
     lambda fx, out: _maps().add_lake_footprints(fx.map(), fx.root / "nope.geojson"))
case("add_lake_footprints-not-json", A, GeoJSONError, "GeoJSON|JSON",
     lambda fx, out: _maps().add_lake_footprints(fx.map(), fx.text_geojson))
case("add_lake_footprints-unknown-color_by", A, InvalidParameterError, "`color_by`",
     lambda fx, out: _maps().add_lake_footprints(fx.map(), fx.dataset, color_by="size"))
case("add_lake_footprints-f1-without-scores", A, InvalidParameterError, "scores",
     lambda fx, out: _maps().add_lake_footprints(fx.map(), fx.dataset, color_by="f1"))
case("add_lake_footprints-unknown-ids", A, InvalidParameterError, "`ids`",
     lambda fx, out: _maps().add_lake_footprints(fx.map(), fx.dataset, ids=["no-such-lake"]))
case("add_lake_footprints-ids-string", A, InvalidParameterError, "`ids`",
     lambda fx, out: _maps().add_lake_footprints(fx.map(), fx.dataset, ids=fx.first_id))
case("add_lake_footprints-opacity-2", A, InvalidParameterError, "`fill_opacity`",
     lambda fx, out: _maps().add_lake_footprints(fx.map(), fx.dataset, fill_opacity=2))
case("add_lake_footprints-number", A, InvalidParameterError, "dataset_or_catalog",
     lambda fx, out: _maps().add_lake_footprints(fx.map(), 42))
case("add_lake_footprints-table-without-lat", A, InvalidParameterError, "lat",
     lambda fx, out: _maps().add_lake_footprints(fx.map(), _tbl()))
case("add_lake_footprints-scores-unknown-lake", A, InvalidParameterError, "scores",
     lambda fx, out: _maps().add_lake_footprints(fx.map(), fx.dataset, color_by="f1", scores={"no-such-lake": 0.5}))
case("add_lake_footprints-scores-f1-over-1", A, InvalidParameterError, "f1",
     lambda fx, out: _maps().add_lake_footprints(fx.map(), fx.dataset, color_by="f1", scores={fx.first_id: 5.0}))
case("scene_bounds_wgs84-no-crs", A, CRSError, "crs", lambda fx, out: _maps().scene_bounds_wgs84(
    fx.scene_with(crs=None)))
case("scene_bounds_wgs84-not-a-scene", A, InvalidParameterError, "`scene`",
     lambda fx, out: _maps().scene_bounds_wgs84("abc"))
case("raster_to_wgs84-rgba-wrong-shape", A, ShapeMismatchError, "`rgba`",
     lambda fx, out: _maps().raster_to_wgs84(fx.scene, np.zeros((4, 4, 4), np.uint8)))
case("raster_to_wgs84-max-size-1", A, InvalidParameterError, "`max_size_px`",
     lambda fx, out: _maps().raster_to_wgs84(fx.scene, np.zeros((40, 39, 4), np.uint8), max_size_px=1))
case("raster_to_wgs84-max-size-word", A, InvalidParameterError, "`max_size_px`",
     lambda fx, out: _maps().raster_to_wgs84(fx.scene, np.zeros((40, 39, 4), np.uint8), max_size_px="big"))
case("add_scene_layer-unknown-composite", A, InvalidParameterError, "composite",
     lambda fx, out: _maps().add_scene_layer(fx.map(), fx.scene, composite="magic"))
case("add_scene_layer-two-bands", A, BandMismatchError, "3",
     lambda fx, out: _maps().add_scene_layer(fx.map(), fx.scene, composite=("red", "green")))
case("add_scene_layer-unknown-band", A, BandMismatchError, "purple",
     lambda fx, out: _maps().add_scene_layer(fx.map(), fx.scene, composite=("purple", "green", "blue")))
case("add_scene_layer-opacity-1.5", A, InvalidParameterError, "`opacity`",
     lambda fx, out: _maps().add_scene_layer(fx.map(), fx.scene, opacity=1.5))
case("add_scene_layer-opacity-word", A, InvalidParameterError, "`opacity`",
     lambda fx, out: _maps().add_scene_layer(fx.map(), fx.scene, opacity="half"))
case("add_scene_layer-no-crs", A, CRSError, "crs",
     lambda fx, out: _maps().add_scene_layer(fx.map(), fx.scene_with(crs=None)))
case("add_scene_layer-not-a-map", A, InvalidParameterError, "`m`",
     lambda fx, out: _maps().add_scene_layer("abc", fx.scene))
case("add_scene_layer-palette-zero", A, InvalidParameterError, "`palette_colors`",
     lambda fx, out: _maps().add_scene_layer(fx.map(), fx.scene, palette_colors=0))
case("add_label_layer-no-labels", A, InvalidParameterError, "labels=",
     lambda fx, out: _maps().add_label_layer(fx.map(), fx.scene_with(labels=None)))
case("add_label_layer-wrong-shape", A, ShapeMismatchError, "shape",
     lambda fx, out: _maps().add_label_layer(fx.map(), fx.scene, labels=np.ones((4, 4), np.uint8)))
case("add_label_layer-code-7", A, ClassCodeError, "7",
     lambda fx, out: _maps().add_label_layer(fx.map(), fx.scene, labels=np.full((40, 39), 7, np.uint8)))
case("add_label_layer-unknown-class", A, ClassCodeError, "`classes`",
     lambda fx, out: _maps().add_label_layer(fx.map(), fx.scene, classes=(7,)))
case("add_prediction_layer-wrong-shape", A, ShapeMismatchError, "another scene|grid",
     lambda fx, out: _maps().add_prediction_layer(fx.map(), fx.scene, np.ones((4, 4), np.uint8)))
case("add_prediction_layer-probabilities", A, ShapeMismatchError, "argmax|Prediction",
     lambda fx, out: _maps().add_prediction_layer(fx.map(), fx.scene, np.full((40, 39, 2), 0.5, np.float32)))
case("add_prediction_layer-float-codes", A, ClassCodeError, "prediction",
     lambda fx, out: _maps().add_prediction_layer(fx.map(), fx.scene, np.full((40, 39), 1.5)))
case("add_prediction_layer-bool", A, InvalidParameterError, "prediction",
     lambda fx, out: _maps().add_prediction_layer(fx.map(), fx.scene, np.ones((40, 39), bool)))
case("add_prediction_layer-None", A, InvalidParameterError, "prediction",
     lambda fx, out: _maps().add_prediction_layer(fx.map(), fx.scene, None))
case("add_prediction_layer-code-7", A, ClassCodeError, "7",
     lambda fx, out: _maps().add_prediction_layer(fx.map(), fx.scene, np.full((40, 39), 7, np.uint8)))
case("add_error_layer-no-labels", A, InvalidParameterError, "labels",
     lambda fx, out: _maps().add_error_layer(fx.map(), fx.scene_with(labels=None), fx.labels))
case("add_error_layer-wrong-shape", A, ShapeMismatchError, "shape",
     lambda fx, out: _maps().add_error_layer(fx.map(), fx.scene, np.ones((4, 4), np.uint8)))
case("add_error_layer-probabilities", A, ShapeMismatchError, "argmax|Prediction",
     lambda fx, out: _maps().add_error_layer(fx.map(), fx.scene, np.full((40, 39, 2), 0.5, np.float32)))
case("add_class_legend-unknown-class", A, ClassCodeError, "`classes`",
     lambda fx, out: _maps().add_class_legend(fx.map(), classes=(7,)))
case("add_lake_layers-unknown-kind", A, InvalidParameterError, "kinds",
     lambda fx, out: _maps().add_lake_layers(fx.map(), [fx.scene], kinds=("image", "magic")))
case("add_lake_layers-unknown-show", A, InvalidParameterError, "`show`",
     lambda fx, out: _maps().add_lake_layers(fx.map(), [fx.scene], kinds=("image",), show=("magic",)))
case("add_lake_layers-no-scenes", A, InvalidParameterError, "`scenes`",
     lambda fx, out: _maps().add_lake_layers(fx.map(), []))
case("add_lake_layers-predictions-for-other-lakes", A, InvalidParameterError, "predictions",
     lambda fx, out: _maps().add_lake_layers(fx.map(), [fx.scene], {"other-lake": fx.labels}))
case("add_lake_layers-prediction-kind-without-predictions", A, InvalidParameterError, "predictions",
     lambda fx, out: _maps().add_lake_layers(fx.map(), [fx.scene], kinds=("prediction",)))
case("add_side_by_side-strings", A, InvalidParameterError, "layer",
     lambda fx, out: _maps().add_side_by_side(fx.map(), "left", "right"))
case("add_side_by_side-start-2", A, InvalidParameterError, "`start`",
     lambda fx, out: (lambda m: _maps().add_side_by_side(
         m, _maps().add_scene_layer(m, fx.scene), _maps().add_label_layer(m, fx.scene), start=2))(fx.map()))
case("add_footprints_layer-not-geojson", A, GeoJSONError, "GeoJSON|JSON",
     lambda fx, out: _maps().add_footprints_layer(fx.map(), "{not json"))
case("add_footprints_layer-unknown-crs", A, CRSError, "crs|CRS",
     lambda fx, out: _maps().add_footprints_layer(fx.map(), fx.feature_collection(), crs="EPSG:99999"))

# =============================================================================================
# plots and widgets (output rooms that draw)
# =============================================================================================
A = "plots"
case("plot_labels-3d", A, ShapeMismatchError, "`labels`",
     lambda fx, out: _close_figures(_plots().plot_labels(np.ones((4, 4, 2), np.uint8))))
case("plot_labels-code-7", A, ClassCodeError, "7",
     lambda fx, out: _close_figures(_plots().plot_labels(np.full((4, 4), 7, np.uint8))))
case("plot_rgb-bands-first", A, ShapeMismatchError, "moveaxis",
     lambda fx, out: _close_figures(_plots().plot_rgb(np.zeros((3, 10, 12)))))
case("plot_rgb-two-channels", A, ShapeMismatchError, "`rgb`",
     lambda fx, out: _close_figures(_plots().plot_rgb(np.zeros((10, 12, 2)))))
case("plot_confusion-not-a-confusion", A, InvalidParameterError, "`confusion`",
     lambda fx, out: _close_figures(_plots().plot_confusion("abc")))
case("plot_confusion-unknown-normalize", A, InvalidParameterError, "`normalize`",
     lambda fx, out: _close_figures(_plots().plot_confusion(_ev().confusion(_T, _T), normalize="rows")))
case("plot_windows-windows-wrong-columns", A, ShapeMismatchError, "`windows`",
     lambda fx, out: _close_figures(_plots().plot_windows(np.zeros((16, 16, 3)), np.zeros((2, 3), int))))
case("plot_windows-keep-wrong-length", A, ShapeMismatchError, "`keep`",
     lambda fx, out: _close_figures(_plots().plot_windows(np.zeros((16, 16, 3)), np.array([[0, 0, 8, 8]]),
                                                          keep=np.ones(3, bool))))
case("plot_errors-shape-mismatch", A, ShapeMismatchError, "shape",
     lambda fx, out: _close_figures(_plots().plot_errors(_T, np.ones((4, 4), np.uint8))))
case("error_codes-shape-mismatch", A, ShapeMismatchError, "shape",
     lambda fx, out: _plots().error_codes(_T, np.ones((4, 4), np.uint8)))
case("error_codes-probabilities", A, ShapeMismatchError, "argmax|Prediction",
     lambda fx, out: _plots().error_codes(_T, np.full((3, 3, 2), 0.5)))
case("water_score-not-a-prediction", A, InvalidParameterError, "`prediction`",
     lambda fx, out: _plots().water_score("abc"))
case("classes_at_threshold-threshold-1.5", A, InvalidParameterError, "`threshold`",
     lambda fx, out: _plots().classes_at_threshold(_pred().Prediction(
         np.full((3, 3, 2), 0.5, np.float32), _T, (1, 2), np.zeros((3, 3), bool)), threshold=1.5))
case("plot_probability-3d", A, ShapeMismatchError, "`probability`",
     lambda fx, out: _close_figures(_plots().plot_probability(np.zeros((4, 4, 2)))))
case("plot_probability-over-1", A, InvalidParameterError, "`probability`",
     lambda fx, out: _close_figures(_plots().plot_probability(np.full((4, 4), 3.0))))
case("plot_side_by_side-wrong-shape", A, ShapeMismatchError, "shape",
     lambda fx, out: _close_figures(_plots().plot_side_by_side(fx.scene, np.ones((4, 4), np.uint8))))
case("plot_prediction-wrong-shape", A, ShapeMismatchError, "shape",
     lambda fx, out: _close_figures(_plots().plot_prediction(fx.scene, np.ones((4, 4), np.uint8))))
case("plot_index-3d", A, ShapeMismatchError, "`values`",
     lambda fx, out: _close_figures(_plots().plot_index(np.zeros((4, 4, 2)))))
case("plot_history-string", A, InvalidParameterError, "`history`",
     lambda fx, out: _close_figures(_plots().plot_history("abc")))
case("plot_history-unknown-metric", A, InvalidParameterError, "metric",
     lambda fx, out: _close_figures(_plots().plot_history({"loss": [1.0, 0.5]}, metrics=("iou",))))
case("plot_loss_curves-unknown-metric", A, InvalidParameterError, "`metric`",
     lambda fx, out: _close_figures(_plots().plot_loss_curves({"a": {"loss": [1.0, 0.5]}}, metric="iou")))
case("plot_experiment_scores-unknown-metric", A, InvalidParameterError, "`metric`",
     lambda fx, out: _close_figures(_plots().plot_experiment_scores(_runs(), metric="kappa")))
case("plot_experiment_scores-unknown-by", A, InvalidParameterError, "`by`",
     lambda fx, out: _close_figures(_plots().plot_experiment_scores(_runs(), by="model")))
case("plot_band_histograms-unknown-band", A, BandMismatchError, "purple",
     lambda fx, out: _close_figures(_plots().plot_band_histograms(_bands().pixel_table([fx.scene]),
                                                                  bands=("purple",))))
case("plot_class_balance-string", A, InvalidParameterError, "`summary`",
     lambda fx, out: _close_figures(_plots().plot_class_balance("abc")))
case("plot_building_mask-code-5", A, ClassCodeError, "5",
     lambda fx, out: _close_figures(_plots().plot_building_mask(np.full((4, 4), 5, np.uint8))))
case("plot_distance-3d", A, ShapeMismatchError, "`distance`",
     lambda fx, out: _close_figures(_plots().plot_distance(np.zeros((4, 4, 2)))))
case("plot_pca_loadings-zero-components", A, InvalidParameterError, "`n_components`",
     lambda fx, out: _close_figures(_plots().plot_pca_loadings(_pca(fx), n_components=0)))
case("plot_pca_variance-threshold-2", A, InvalidParameterError, "`threshold`",
     lambda fx, out: _close_figures(_plots().plot_pca_variance(_pca(fx), threshold=2)))
case("plot_footprints-transform-string", A, InvalidParameterError, "`transform`",
     lambda fx, out: _close_figures(_plots().plot_footprints(np.zeros((40, 39, 3)), _fp(fx), "identity")))
case("plot_scene_overview-not-a-scene", A, InvalidParameterError, "`scene`",
     lambda fx, out: _close_figures(_plots().plot_scene_overview("abc")))
case("class_legend-unknown-class", A, ClassCodeError, "`classes`",
     lambda fx, out: _close_figures(_plots().class_legend(_plots()._get_ax(None), classes=(7,))))

A = "widgets"
case("patch_size_explorer-no-scenes", A, InvalidParameterError, "`scenes`",
     lambda fx, out: _close_figures(_widgets().patch_size_explorer(scenes=[])))
case("patch_size_explorer-size-zero", A, InvalidParameterError, "`size`",
     lambda fx, out: _close_figures(_widgets().patch_size_explorer(scenes=[fx.scene], size=0)))
case("patch_size_explorer-size-float", A, InvalidParameterError, "`size`",
     lambda fx, out: _close_figures(_widgets().patch_size_explorer(scenes=[fx.scene], size=8.5)))
case("patch_size_explorer-nothing", A, InvalidParameterError, "dataset|scenes",
     lambda fx, out: _close_figures(_widgets().patch_size_explorer()))
case("patch_size_explorer-unknown-lake", A, InvalidParameterError, "`lake`",
     lambda fx, out: _close_figures(_widgets().patch_size_explorer(scenes=[fx.scene], lake="no-such-lake")))
case("patch_size_explorer-unknown-split", A, InvalidParameterError, "split",
     lambda fx, out: _close_figures(_widgets().patch_size_explorer(fx.dataset, split="training")))
case("patch_size_explorer-scene-without-labels", A, InvalidParameterError, "labels",
     lambda fx, out: _close_figures(_widgets().patch_size_explorer(scenes=[fx.scene_with(labels=None)])))
case("prediction_viewer-predictions-list", A, InvalidParameterError, "`predictions`",
     lambda fx, out: _close_figures(_widgets().prediction_viewer({"tiny": fx.scene}, [fx.labels])))
case("prediction_viewer-class-map-not-prediction", A, InvalidParameterError, "Prediction",
     lambda fx, out: _close_figures(_widgets().prediction_viewer({"tiny": fx.scene},
                                                                 {"fcn": {"tiny": np.ones((4, 4), np.uint8)}})))
case("prediction_viewer-no-scenes", A, InvalidParameterError, "`scenes`",
     lambda fx, out: _close_figures(_widgets().prediction_viewer({}, {"fcn": {"tiny": _tiny_prediction(fx)}})))
case("prediction_viewer-other-lakes", A, InvalidParameterError, "`scenes`",
     lambda fx, out: _close_figures(_widgets().prediction_viewer({"tiny": fx.scene},
                                                                 {"fcn": {"other-lake": _tiny_prediction(fx)}})))
case("prediction_viewer-probabilities", A, InvalidParameterError, "Prediction",
     lambda fx, out: _close_figures(_widgets().prediction_viewer({"tiny": fx.scene},
                                                                 {"fcn": {"tiny": np.full((40, 39, 2), 0.5)}})))
case("prediction_viewer-unknown-model", A, InvalidParameterError, "`model`",
     lambda fx, out: _close_figures(_widgets().prediction_viewer({"tiny": fx.scene},
                                                                 {"fcn": {"tiny": _tiny_prediction(fx)}},
                                                                 model="unet")))


def _pca(fx):
    return _bands().fit_pca(_bands().pixel_table([fx.scene]))


def _tiny_prediction(fx):
    probs = np.stack([fx.labels == 1, fx.labels == 2], axis=-1).astype(np.float32)
    return _pred().Prediction(probs, fx.labels.copy(), (1, 2), np.zeros(fx.labels.shape, bool), name="tiny")


A = "own raster"


def _wf():
    import geonb.workflow as m

    return m


def _cls():
    import geonb.classes as m

    return m


def _exp_mod():
    import geonb.export as m

    return m


def _polys(fx, props=None, shift=0.0):
    """Two small squares (one water, one land) inside the tiny scene, in its CRS, as a GeoJSON dict."""
    t = fx.transform
    feats = []
    for k, (r, c, name) in enumerate(((5, 5, "water"), (30, 30, "land"))):
        x0, y0 = t * (c, r)
        x1, y1 = t * (c + 4, r + 4)
        x0, x1 = x0 + shift, x1 + shift
        ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
        feats.append({"type": "Feature", "properties": (props or {}).get(k, {"class": name}),
                      "geometry": {"type": "Polygon", "coordinates": [ring]}})
    return {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": fx.crs}}, "features": feats}


case("ClassScheme-duplicate-codes", A, ClassCodeError, "distinct",
     lambda fx, out: _cls().ClassScheme((1, 1), ("a", "b"), ("#000000", "#ffffff")))
case("ClassScheme-colour-word", A, InvalidParameterError, "rrggbb",
     lambda fx, out: _cls().ClassScheme((1, 2), ("a", "b"), ("blue", "#ffffff")))
case("ClassScheme-names-string", A, InvalidParameterError, "sequence of class names",
     lambda fx, out: _cls().ClassScheme.from_names("water"))
case("ClassScheme-unknown-name", A, ClassCodeError, "not in this scheme",
     lambda fx, out: _cls().LAKES.code("forest"))
case("split_polygons-fractions-over-1", A, InvalidParameterError, "summing to 1",
     lambda fx, out: _labels().split_polygons(_polys(fx), fractions={"train": 0.8, "test": 0.5}))
case("split_polygons-missing-field", A, GeoJSONError, "no 'kind' property",
     lambda fx, out: _labels().split_polygons(_polys(fx), field="kind"))
case("split_polygons-seed-word", A, InvalidParameterError, "`seed`",
     lambda fx, out: _labels().split_polygons(_polys(fx), seed="abc"))
case("label_scene-not-a-scene", A, InvalidParameterError, "`scene`",
     lambda fx, out: _wf().label_scene(fx.image_f, _polys(fx)))
case("label_scene-polygons-elsewhere", A, CRSError, "overlap",
     lambda fx, out: _wf().label_scene(fx.scene, _polys(fx, shift=5e6)))
case("label_scene-field-missing", A, InvalidParameterError, "field",
     lambda fx, out: _wf().label_scene(fx.scene, _polys(fx), field="kind"))
case("label_scene-class-not-in-scheme", A, InvalidParameterError, "not in `scheme`",
     lambda fx, out: _wf().label_scene(fx.scene, _polys(fx), scheme=_cls().ClassScheme.from_names(["water"])))
case("label_scene-no-crs", A, InvalidParameterError, "no CRS",
     lambda fx, out: _wf().label_scene(fx.scene_with(crs=None), _polys(fx)))
case("add_indices-unknown", A, InvalidParameterError, "known indices",
     lambda fx, out: _wf().add_indices(fx.scene, ("ndvi",)))
case("add_indices-twice", A, InvalidParameterError, "already has a band",
     lambda fx, out: _wf().add_indices(_wf().add_indices(fx.scene, ("ndwi",)), ("ndwi",)))
case("train_on_scene-unknown-model", A, InvalidParameterError, "`model`",
     lambda fx, out: _wf().train_on_scene(_wf().label_scene(fx.scene, _polys(fx)), model="random_forest"))
case("train_on_scene-not-labelled", A, InvalidParameterError, "LabelledScene",
     lambda fx, out: _wf().train_on_scene(fx.scene))
case("compare_on_scene-no-seeds", A, InvalidParameterError, "`seeds`",
     lambda fx, out: _wf().compare_on_scene(fx.scene, _polys(fx), seeds=(), progress=False))
case("compare_on_scene-unknown-model", A, InvalidParameterError, "`models`",
     lambda fx, out: _wf().compare_on_scene(fx.scene, _polys(fx), models=("svm",), progress=False))
case("export-existing-class-map", A, OutputExistsError, "overwrite=True",
     lambda fx, out: _exp_mod().export_prediction(_tiny_prediction(fx), fx.scene, {"classes": out / "old.tif"}),
     output=True)
case("export-same-path-twice", A, InvalidParameterError, "same file",
     lambda fx, out: _exp_mod().export_prediction(_tiny_prediction(fx), fx.scene,
                                                 {"classes": out / "a.tif", "probabilities": out / "a.tif"}),
     output=True)
case("cli-train-out-not-keras", A, CLIFailure, ".keras",
     lambda fx, out: _run_cli(["train", str(fx.image), "--labels", str(fx.root / "none.geojson"),
                               "--out", str(out / "model.h5")]), output=True)
case("cli-train-existing-model", A, CLIFailure, "overwrite",
     lambda fx, out: _run_cli(["train", str(fx.image), "--labels", str(fx.root / "none.geojson"),
                               "--out", str(out / "old.keras")]), output=True)
case("cli-predict-missing-model", A, CLIFailure, "does not exist",
     lambda fx, out: _run_cli(["predict", str(out / "none.keras"), str(fx.image), "--out", str(out / "c.tif")]),
     output=True)
case("cli-predict-same-outputs", A, CLIFailure, "same file",
     lambda fx, out: _run_cli(["predict", str(out / "none.keras"), str(fx.image), "--out", str(out / "c.tif"),
                               "--polygons", str(out / "c.tif")]), output=True)


A = "runtime"


def _with_env(name, value, fn):
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        return fn()
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def _report(gpus=()):
    return _runtime().DeviceReport("torch", "3", "2", ["cpu"], list(gpus))


case("get_profile-unknown", A, InvalidParameterError, "quick", lambda fx, out: _runtime().get_profile("turbo"))
case("get_profile-env-unknown", A, InvalidParameterError, "GEONB_PROFILE",
     lambda fx, out: _with_env("GEONB_PROFILE", "turbo", lambda: _runtime().get_profile()))
case("get_profile-unknown-override", A, InvalidParameterError, "nonsense",
     lambda fx, out: _runtime().get_profile("quick", nonsense=1))
case("get_profile-epochs-zero", A, InvalidParameterError, "`epochs`",
     lambda fx, out: _runtime().get_profile("quick", epochs=0))
case("get_profile-batch-size-negative", A, InvalidParameterError, "`batch_size`",
     lambda fx, out: _runtime().get_profile("quick", batch_size=-1))
case("get_profile-max-lakes-zero", A, InvalidParameterError, "`max_lakes`",
     lambda fx, out: _runtime().get_profile("quick", max_lakes=0))
case("get_profile-epochs-string", A, InvalidParameterError, "`epochs`",
     lambda fx, out: _runtime().get_profile("quick", epochs="2"))
case("get_profile-patch-sizes-empty", A, InvalidParameterError, "`patch_sizes`",
     lambda fx, out: _runtime().get_profile("quick", patch_sizes=()))
case("get_profile-learning-rate-zero", A, InvalidParameterError, "`learning_rate`",
     lambda fx, out: _runtime().get_profile("quick", learning_rate=0))
case("get_profile-schedule-unknown", A, InvalidParameterError, "`learning_rate_schedule`",
     lambda fx, out: _runtime().get_profile("quick", learning_rate_schedule="step"))
case("kernel_specs-unknown-backend", A, InvalidParameterError, "gpu_backend",
     lambda fx, out: _runtime().kernel_specs(gpu_backend="tf"))
case("pick_batch_size-patch-zero", A, InvalidParameterError, "`patch_size`",
     lambda fx, out: _runtime().pick_batch_size(_report(), _runtime().get_profile("quick"), patch_size=0))
case("use_mixed_precision-enable-string", A, InvalidParameterError, "`enable`",
     lambda fx, out: _runtime().use_mixed_precision(_report(), enable="yes"))
case("require_gpu-strict-without-gpu", A, DeviceError, "strict",
     lambda fx, out: _runtime().require_gpu(strict=True, report=_report()))
case("build_dir-escapes", A, InvalidParameterError, "parts",
     lambda fx, out: _runtime().build_dir("..", "..", "etc"))
case("versions-string", A, InvalidParameterError, "`packages`", lambda fx, out: _runtime().versions("numpy"))


# ---------------------------------------------------------------------------------------------
# The test
# ---------------------------------------------------------------------------------------------
assert len({c.id for c in CASES}) == len(CASES), "duplicate case ids"


@pytest.fixture(scope="session")
def fx(tmp_path_factory) -> Fixtures:
    return make_fixtures(tmp_path_factory.mktemp("bad_inputs"))


def test_catalogue_size():
    assert len(CASES) >= 250
    for c in CASES:
        assert all(issubclass(e, GeonbError) for e in (c.error if isinstance(c.error, tuple) else (c.error,)))


@pytest.mark.parametrize("case", CASES, ids=[f"{c.area}:{c.id}" for c in CASES])
def test_bad_input(case: Case, fx: Fixtures, tmp_path: Path) -> None:
    out = tmp_path / "out"
    fill_output_folder(out, fx)
    before = snapshot(out)
    with pytest.raises(case.error, match=case.match) as info:
        case.call(fx, out)
    # the geonb error also is the builtin it refines (except the test-local CLI wrapper)
    if case.error is not CLIFailure:
        assert isinstance(info.value, (ValueError, OSError, RuntimeError, ConnectionError, TypeError)), info.value
    if case.output:
        after = snapshot(out)
        stray = sorted(set(after) - set(before))
        assert not stray, f"stray files left after a refused write: {stray}"
        changed = sorted(k for k in before if after.get(k, b"<missing>") != before[k])
        assert not changed, f"pre-existing files changed or removed: {changed}"
