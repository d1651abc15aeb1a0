"""The lakes datasets on disk: list lakes, read a :class:`~geonb.scene.Scene`, split by lake, pixel tables.

Layout (``ARCHITECTURE.md``)::

    <root>/<dataset>/
      catalog.geojson     one Feature per lake: id, name, split, footprint polygon (WGS84), size...
      images/<id>.tif     7 bands, int16 MODIS scaling (x 0.0001), nodata -28672
      labels/<id>.tif     uint8 class codes on the same grid

The synthetic datasets are written by :func:`geonb.datasets.synthetic.generate_lakes`
(``make data`` or ``python -m geonb data generate``); real MODIS chips use the same layout.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from geonb.bands import MODIS_BAND_NAMES
from geonb.errors import CatalogError, ClassCodeError, DatasetNotFoundError, InvalidParameterError
from geonb.labels import LAKE_CLASS_NAMES, LAKE_CLASSES, NODATA
from geonb.scene import Scene, check_same_grid, read_image, read_labels, read_scene, scene_title

SPLITS: tuple[str, ...] = ("train", "val", "test")
#: Columns of :attr:`LakeDataset.lakes` (besides the index ``id``); missing ones are filled with NA.
LAKE_COLUMNS: tuple[str, ...] = ("name", "split", "lat", "lon", "rows", "cols", "water_fraction", "condition",
                                 "climate")
_GENERATE_HINT = "run `make data` or `python -m geonb data generate` to generate the sample datasets"


def _default_root() -> Path:
    from geonb.datasets import data_root

    return data_root() / "lakes"


def available_datasets(root: str | os.PathLike | None = None) -> list[str]:
    """Names of the datasets (folders holding a ``catalog.geojson``) under ``root``.

    ``root`` defaults to ``data_root() / "lakes"``; a missing folder gives an empty list.
    """
    root = Path(root) if root is not None else _default_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / "catalog.geojson").is_file())


class LakeDataset:
    """A lakes dataset on disk: a catalog of lakes, one image and one label GeoTIFF per lake.

    Opening checks the whole dataset once (catalog, unique ids, every file present) so that
    problems show up now, with a message saying how to fix them, not in the middle of training.
    Pixels are read only when asked for (:meth:`scene`, :meth:`scenes`, :meth:`pixel_table`).

    Parameters
    ----------
    name : str
        Dataset folder name, e.g. ``"lakes-synthetic"`` (water/land) or
        ``"lakes-synthetic-unclassified"`` (with UNCLASSIFIED).
    root : path-like, optional
        Folder holding the datasets; default ``data_root() / "lakes"``.

    Attributes
    ----------
    name : str
    path : pathlib.Path
    lakes : pandas.DataFrame
        One row per lake, index ``id``; columns ``name``, ``title`` (what figures and maps show:
        "synthetic scene near <name>" for a stand-in lake, see :func:`geonb.scene.scene_title`),
        ``split``, ``lat``, ``lon``, ``rows``, ``cols``, ``water_fraction``, ``condition``, ``climate``
        and any further catalog fields.

    Raises
    ------
    DatasetNotFoundError
        The dataset folder, its catalog, or a lake's image or label file is missing.
    CatalogError
        The catalog is not valid GeoJSON, lacks a field, names a lake twice or has an unknown split.

    Examples
    --------
    >>> ds = LakeDataset("lakes-synthetic")          # doctest: +SKIP
    >>> ds.scene(ds.split_ids("train")[0]).shape     # doctest: +SKIP
    (48, 61)
    """

    def __init__(self, name: str = "lakes-synthetic", root: str | os.PathLike | None = None, *,
                 _lakes: pd.DataFrame | None = None, _features: dict | None = None) -> None:
        if not isinstance(name, str) or not name or os.sep in name:
            raise InvalidParameterError(
                f"`name` must be a dataset folder name such as 'lakes-synthetic', got {name!r}"
            )
        self.name = name
        self.root = Path(root) if root is not None else _default_root()
        self.path = self.root / name
        if _lakes is not None:
            self.lakes = _lakes
            self._features = _features or {}
            return
        self._check_folder()
        self.lakes, self._features = self._read_catalog()
        self._check_files()

    # --- validation --------------------------------------------------------------------------
    def _check_folder(self) -> None:
        if not self.path.is_dir():
            found = available_datasets(self.root)
            where = f"datasets found in {str(self.root)!r}: {found}" if found else \
                f"no datasets found in {str(self.root)!r}"
            raise DatasetNotFoundError(
                f"lakes dataset {self.name!r} not found at {str(self.path)!r} ({where}); {_GENERATE_HINT}, "
                "or pass `root=` / set $GEONB_DATA to the folder that holds it"
            )
        if not (self.path / "catalog.geojson").is_file():
            raise DatasetNotFoundError(
                f"{str(self.path / 'catalog.geojson')!r} is missing, so {self.name!r} is not a complete "
                f"dataset; {_GENERATE_HINT} (with --overwrite to replace the incomplete folder)"
            )

    def _read_catalog(self) -> tuple[pd.DataFrame, dict]:
        cat_path = self.path / "catalog.geojson"
        try:
            doc = json.loads(cat_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CatalogError(
                f"catalog {str(cat_path)!r} is not valid JSON ({exc}); regenerate the dataset "
                "(`python -m geonb data generate --overwrite`)"
            ) from exc
        if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or \
                not isinstance(doc.get("features"), list):
            raise CatalogError(
                f"catalog {str(cat_path)!r} must be a GeoJSON FeatureCollection with a 'features' list"
            )
        rows, features, seen = [], {}, set()
        for k, feat in enumerate(doc["features"]):
            props = (feat or {}).get("properties") if isinstance(feat, dict) else None
            if not isinstance(props, dict):
                raise CatalogError(f"catalog {str(cat_path)!r}: feature #{k} has no 'properties' object")
            for field in ("id", "split"):
                if field not in props:
                    raise CatalogError(
                        f"catalog {str(cat_path)!r}: feature #{k} lacks the property {field!r}; "
                        "every lake needs an 'id' and a 'split' (train/val/test)"
                    )
            lake_id = str(props["id"])
            if lake_id in seen:
                raise CatalogError(
                    f"catalog {str(cat_path)!r} names the lake {lake_id!r} twice; lake ids must be unique "
                    "(each id is a file name under images/ and labels/). Remove or rename the duplicate."
                )
            seen.add(lake_id)
            if props["split"] not in SPLITS:
                raise CatalogError(
                    f"catalog {str(cat_path)!r}: lake {lake_id!r} has split {props['split']!r}; "
                    f"use one of {list(SPLITS)}"
                )
            row = dict(props)
            row["id"] = lake_id
            rows.append(row)
            features[lake_id] = feat
        if not rows:
            raise CatalogError(f"catalog {str(cat_path)!r} lists no lakes; {_GENERATE_HINT}")
        lakes = pd.DataFrame(rows).set_index("id")
        for col in LAKE_COLUMNS:
            if col not in lakes.columns:
                lakes[col] = pd.NA
        if lakes["name"].isna().any():
            lakes["name"] = lakes["name"].fillna(pd.Series(lakes.index, index=lakes.index))
        front = [c for c in LAKE_COLUMNS]
        lakes = lakes[front + [c for c in lakes.columns if c not in front]]
        if "title" not in lakes.columns:  # what figures, viewers, maps and tables show (synthetic: said so)
            titles = [scene_title(name, row) for name, row in zip(lakes["name"], rows, strict=True)]
            lakes.insert(lakes.columns.get_loc("name") + 1, "title", titles)
        return lakes, features

    def _check_files(self) -> None:
        for lake_id in self.lakes.index:
            for kind in ("images", "labels"):
                f = self.path / kind / f"{lake_id}.tif"
                if not f.is_file():
                    what = "image" if kind == "images" else "label"
                    raise DatasetNotFoundError(
                        f"the {what} file of lake {lake_id!r} is missing: {str(f)!r}. The dataset "
                        f"{self.name!r} is incomplete; regenerate it (`python -m geonb data generate "
                        "--overwrite`) or remove the lake from catalog.geojson"
                    )

    # --- listing -----------------------------------------------------------------------------
    @property
    def ids(self) -> list[str]:
        """Lake ids in catalog order."""
        return list(self.lakes.index)

    def __len__(self) -> int:
        return len(self.lakes)

    def __contains__(self, lake_id: object) -> bool:
        return lake_id in self.lakes.index

    def __repr__(self) -> str:
        counts = self.lakes["split"].value_counts()
        per = ", ".join(f"{s} {int(counts.get(s, 0))}" for s in SPLITS)
        return f"LakeDataset({self.name!r}, {len(self)} lakes: {per}; path={str(self.path)!r})"

    def _check_split(self, split: str | None) -> None:
        if split is not None and split not in SPLITS:
            raise InvalidParameterError(f"`split` must be one of {list(SPLITS)} or None, got {split!r}")

    def split_ids(self, split: str) -> list[str]:
        """Ids of the lakes in ``split`` (``"train"``, ``"val"`` or ``"test"``), in catalog order."""
        if split is None:
            raise InvalidParameterError(f"`split` must be one of {list(SPLITS)}, got None")
        self._check_split(split)
        return list(self.lakes.index[self.lakes["split"] == split])

    # --- reading -----------------------------------------------------------------------------
    def image_path(self, lake_id: str) -> Path:
        """Path of the image GeoTIFF of ``lake_id``."""
        self._check_id(lake_id)
        return self.path / "images" / f"{lake_id}.tif"

    def labels_path(self, lake_id: str) -> Path:
        """Path of the label GeoTIFF of ``lake_id``."""
        self._check_id(lake_id)
        return self.path / "labels" / f"{lake_id}.tif"

    def _check_id(self, lake_id: str) -> None:
        if lake_id not in self.lakes.index:
            raise InvalidParameterError(
                f"lake {lake_id!r} is not in dataset {self.name!r}; use one of `ds.ids` "
                f"(e.g. {self.ids[:3]})"
            )

    def title(self, lake_id: str) -> str:
        """The title shown for ``lake_id``: its name, or "synthetic scene near <name>" for a stand-in lake."""
        self._check_id(lake_id)
        if "title" in self.lakes.columns and isinstance(self.lakes.loc[lake_id, "title"], str):
            return self.lakes.loc[lake_id, "title"]
        row = self.lakes.loc[lake_id]
        return scene_title(row["name"] if isinstance(row["name"], str) else lake_id, row.to_dict())

    def geometry(self, lake_id: str) -> dict | None:
        """The lake's footprint from the catalog: a GeoJSON geometry in WGS84 (None when it has none)."""
        self._check_id(lake_id)
        return (self._features.get(lake_id) or {}).get("geometry")

    def scene(self, lake_id: str, *, bands: Sequence[str] | None = None) -> Scene:
        """Read lake ``lake_id`` as a :class:`Scene` with labels.

        ``Scene.properties`` holds the catalog row (``id``, ``split``, ``condition``...) and
        ``footprint_wgs84`` (a GeoJSON polygon) when the catalog has one.
        """
        self._check_id(lake_id)
        row = self.lakes.loc[lake_id]
        props = {k: _plain(v) for k, v in row.items()}
        props["id"] = lake_id
        props["dataset"] = props.get("dataset") if props.get("dataset") is not None else self.name
        geom = self.geometry(lake_id)
        if geom is not None:
            props["footprint_wgs84"] = geom
        name = row["name"] if isinstance(row["name"], str) else lake_id
        scene = read_scene(self.image_path(lake_id), self.labels_path(lake_id), bands=bands, name=name,
                           properties=props)
        self._check_codes(lake_id, scene.labels)
        return scene

    def labels(self, split: str | None = None, *, ids: Sequence[str] | None = None,
               workers: int = 4) -> list[np.ndarray]:
        """Label rasters ``(rows, cols)`` uint8 of ``split`` (all lakes if None) or of ``ids``, in that order.

        Reads the label files only (no image), with a few threads (rasterio releases the GIL); codes
        other than the lake classes are a :class:`ClassCodeError`, as in :meth:`scene`.
        """
        from concurrent.futures import ThreadPoolExecutor

        if ids is None:
            self._check_split(split)
            ids = self.ids if split is None else self.split_ids(split)
        elif split is not None:
            raise InvalidParameterError(f"give `split` or `ids`, not both (got split={split!r} and ids)")
        ids = [str(i) for i in ids]
        for lake_id in ids:
            self._check_id(lake_id)

        def read(lake_id: str) -> np.ndarray:
            labels, _ = read_labels(self.labels_path(lake_id))
            self._check_codes(lake_id, labels)
            return labels

        with ThreadPoolExecutor(max_workers=max(1, int(workers))) as pool:
            return list(pool.map(read, ids))

    def _check_codes(self, lake_id: str, labels: np.ndarray) -> None:
        """A lake label file holds lake codes only; anything else (a 7, a 255) is an error, never skipped."""
        allowed = (NODATA, *LAKE_CLASSES)
        present = np.unique(labels)
        bad = sorted(set(present.tolist()) - set(allowed))
        if bad:
            raise ClassCodeError(
                f"lake {lake_id!r}: labels {str(self.labels_path(lake_id))!r} hold class codes {bad} that are not "
                f"lake classes {list(allowed)} (no label=0, water=1, land=2, unclassified=3); recode the file "
                "(geonb.labels.remap_labels with a `label_map`) or regenerate the dataset"
            )

    def __getitem__(self, lake_id: str) -> Scene:
        return self.scene(lake_id)

    def scenes(self, split: str | None = None, *, bands: Sequence[str] | None = None) -> Iterator[Scene]:
        """Iterate over the scenes of ``split`` (all lakes if None), reading one at a time."""
        self._check_split(split)
        ids = self.ids if split is None else self.split_ids(split)
        for lake_id in ids:
            yield self.scene(lake_id, bands=bands)

    def __iter__(self) -> Iterator[Scene]:
        return self.scenes()

    def subset(self, max_lakes: int | None, seed: int = 0) -> LakeDataset:
        """A dataset with at most ``max_lakes`` lakes, keeping the split proportions.

        Each split keeps its share (largest remainder) and at least one lake, chosen at random
        with ``seed``; catalog order is kept. ``None`` (or a number >= ``len(self)``) keeps all.

        Examples
        --------
        >>> ds.subset(60).lakes["split"].value_counts().to_dict()   # doctest: +SKIP
        {'train': 46, 'val': 7, 'test': 7}
        """
        if max_lakes is None:
            return self
        if isinstance(max_lakes, bool) or not isinstance(max_lakes, (int, np.integer)):
            raise InvalidParameterError(f"`max_lakes` must be an integer or None, got {max_lakes!r}")
        present = [s for s in SPLITS if (self.lakes["split"] == s).any()]
        if max_lakes < len(present):
            raise InvalidParameterError(
                f"`max_lakes` must be at least {len(present)} (one lake per split {present}), got {max_lakes}"
            )
        if max_lakes >= len(self):
            return self
        from geonb.datasets.synthetic import split_counts

        sizes = {s: int((self.lakes["split"] == s).sum()) for s in present}
        counts = split_counts(int(max_lakes), {s: sizes[s] / len(self) for s in present})
        rng = np.random.default_rng(seed)
        keep: set[str] = set()
        for s in present:
            ids = self.split_ids(s)
            n = min(counts[s], len(ids))
            keep.update(ids[i] for i in rng.choice(len(ids), size=n, replace=False))
        lakes = self.lakes[self.lakes.index.isin(keep)].copy()
        return LakeDataset(self.name, self.root, _lakes=lakes,
                           _features={k: v for k, v in self._features.items() if k in keep})

    def pixel_table(self, split: str | None = None) -> pd.DataFrame:
        """One row per labelled, valid pixel: ``lake_id``, the 7 band reflectances, ``label``.

        Pixels with class 0 (no label) or nodata in the image are left out. A label file on another
        grid (shape, transform or CRS) than its image is a :class:`GridMismatchError`; codes other than
        0-3 are a :class:`ClassCodeError`. Reads every image of
        the split: about 2 million rows (about 70 MB) for the whole water/land dataset, 10-30 s.

        Returns
        -------
        pandas.DataFrame
            Columns ``lake_id`` (categorical of lake ids), ``red``, ``nir``, ``blue``, ``green``, ``nir2``, ``swir1``,
            ``swir2`` (float32), ``label`` (uint8).
        """
        self._check_split(split)
        ids = self.ids if split is None else self.split_ids(split)
        parts_x, parts_y, counts = [], [], []
        band_names: tuple[str, ...] = MODIS_BAND_NAMES
        for lake_id in ids:
            image, labels, nodata, band_names = self._read_arrays(lake_id)
            keep = (labels != NODATA) & ~nodata
            parts_x.append(image[keep])
            parts_y.append(labels[keep])
            counts.append(int(keep.sum()))
        if parts_x:
            x = np.concatenate(parts_x).astype(np.float32, copy=False)
            y = np.concatenate(parts_y).astype(np.uint8, copy=False)
        else:
            x = np.zeros((0, len(band_names)), np.float32)
            y = np.zeros(0, np.uint8)
        codes = np.repeat(np.arange(len(ids), dtype=np.int32), counts)
        table = pd.DataFrame(x, columns=list(band_names))
        table.insert(0, "lake_id", pd.Categorical.from_codes(codes, categories=pd.Index(ids, dtype=object)))
        table["label"] = y
        return table

    def _read_arrays(self, lake_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
        """Image (rows, cols, bands) float32, labels, nodata mask and band names, with two file opens."""
        image, nodata, meta = read_image(self.image_path(lake_id))
        labels, lmeta = read_labels(self.labels_path(lake_id))
        check_same_grid(nodata.shape, meta["transform"], meta["crs"], labels.shape, lmeta["transform"],
                        lmeta["crs"], what=f"lake {lake_id!r}: labels {str(self.labels_path(lake_id))!r}")
        self._check_codes(lake_id, labels)
        return image, labels, nodata, tuple(meta["band_names"])

    def summary(self) -> pd.DataFrame:
        """Lakes and labelled pixels per split and class (reads the label files only).

        Returns
        -------
        pandas.DataFrame
            Index: ``train``, ``val``, ``test``, ``total``. Columns: ``lakes``, ``pixels``
            (labelled), ``water``, ``land``, ``unclassified`` (pixel counts) and ``water_share``.

        Raises
        ------
        ClassCodeError
            A label file holds a code that is not a lake class (it would otherwise go uncounted).
        """
        class_cols = [LAKE_CLASS_NAMES[c] for c in LAKE_CLASSES]
        counts = {s: dict.fromkeys(["lakes", "pixels", *class_cols], 0) for s in SPLITS}
        for lake_id, split in self.lakes["split"].items():
            labels, _ = read_labels(self.labels_path(lake_id))
            self._check_codes(lake_id, labels)
            hist = np.bincount(labels.ravel(), minlength=max(LAKE_CLASSES) + 1)
            c = counts[split]
            c["lakes"] += 1
            for code, col in zip(LAKE_CLASSES, class_cols, strict=True):
                c[col] += int(hist[code])
                c["pixels"] += int(hist[code])
        table = pd.DataFrame.from_dict(counts, orient="index")
        table.loc["total"] = table.sum()
        table["water_share"] = (table["water"] / table["pixels"].where(table["pixels"] > 0)).round(4)
        return table


def _plain(value):
    """Catalog values as plain Python (NumPy scalars and NA become int/float/None)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


__all__ = ["LAKE_COLUMNS", "SPLITS", "LakeDataset", "available_datasets"]
