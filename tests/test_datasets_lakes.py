"""Tests of LakeDataset: listing, scenes, splits, subsets, pixel tables, and bad datasets on disk."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from geonb.datasets import LakeDataset, available_datasets, data_root
from geonb.errors import CatalogError, DatasetNotFoundError, InvalidParameterError
from geonb.labels import NODATA, UNCLASSIFIED
from geonb.scene import Scene


@pytest.fixture
def ds(tiny_lakes_root):
    return LakeDataset("lakes-synthetic", root=tiny_lakes_root)


@pytest.fixture
def copy_root(tiny_lakes_root, tmp_path):
    """A private copy of the tiny datasets, for tests that damage them."""
    shutil.copytree(tiny_lakes_root, tmp_path / "lakes")
    return tmp_path / "lakes"


def test_listing(ds, tiny_lakes_root):
    assert len(ds) == 12 and ds.name == "lakes-synthetic"
    assert ds.path == tiny_lakes_root / "lakes-synthetic"
    assert ds.lakes.index.name == "id" and list(ds.lakes.index) == ds.ids
    for col in ("name", "split", "lat", "lon", "rows", "cols", "water_fraction", "condition", "climate"):
        assert col in ds.lakes.columns
    assert set(ds.lakes["split"]) == {"train", "val", "test"}
    assert sorted(ds.split_ids("train") + ds.split_ids("val") + ds.split_ids("test")) == sorted(ds.ids)
    assert "12 lakes" in repr(ds) and "train 9" in repr(ds)
    assert available_datasets(tiny_lakes_root) == ["lakes-synthetic", "lakes-synthetic-unclassified"]


def test_scene_has_labels_grid_and_catalog_properties(ds):
    lake_id = ds.split_ids("test")[0]
    s = ds.scene(lake_id)
    assert isinstance(s, Scene)
    row = ds.lakes.loc[lake_id]
    assert s.shape == (row["rows"], row["cols"]) and s.labels.shape == s.shape
    assert s.band_names == ("red", "nir", "blue", "green", "nir2", "swir1", "swir2")
    assert s.properties["id"] == lake_id and s.properties["split"] == "test"
    assert s.properties["condition"] == row["condition"]
    assert s.properties["footprint_wgs84"]["type"] == "Polygon"
    assert s.name == row["name"]
    assert s.crs.to_dict()["proj"] == "sinu"
    assert ds.scene(lake_id, bands=("red", "green", "blue")).n_bands == 3


def test_scenes_iterates_a_split(ds):
    val = list(ds.scenes("val"))
    assert [s.properties["id"] for s in val] == ds.split_ids("val")
    assert len(list(ds.scenes())) == len(ds)


def test_pixel_table_has_labelled_valid_pixels_only(ds):
    table = ds.pixel_table("train")
    assert list(table.columns) == ["lake_id", "red", "nir", "blue", "green", "nir2", "swir1", "swir2", "label"]
    assert table["red"].dtype == np.float32 and table["label"].dtype == np.uint8
    assert NODATA not in set(table["label"])
    assert set(table["lake_id"]) <= set(ds.split_ids("train"))
    summary = ds.summary()
    assert summary.loc["train", "pixels"] == len(table)
    assert summary.loc["total", "lakes"] == len(ds)
    assert summary.loc["total", "pixels"] == summary.loc[["train", "val", "test"], "pixels"].sum()
    # Image nodata never reaches the table, even where a label would exist.
    for lake_id in ds.split_ids("train"):
        s = ds.scene(lake_id)
        n_valid = int(((s.labels != NODATA) & ~s.nodata_mask).sum())
        assert (table["lake_id"] == lake_id).sum() == n_valid


def test_unclassified_dataset(tiny_lakes_root):
    ds3 = LakeDataset("lakes-synthetic-unclassified", root=tiny_lakes_root)
    assert len(ds3) == 4
    assert ds3.summary().loc["total", "unclassified"] > 0
    assert UNCLASSIFIED in set(ds3.pixel_table()["label"])


def test_subset_keeps_every_split_and_is_seeded(ds):
    sub = ds.subset(5, seed=1)
    assert len(sub) == 5
    assert set(sub.lakes["split"]) == {"train", "val", "test"}
    assert sub.ids == ds.subset(5, seed=1).ids
    assert set(sub.ids) <= set(ds.ids)
    assert sub.ids == [i for i in ds.ids if i in set(sub.ids)]  # catalog order kept
    assert ds.subset(None) is ds and len(ds.subset(100)) == len(ds)
    s = sub.scene(sub.ids[0])
    assert s.labels is not None
    with pytest.raises(InvalidParameterError, match="`max_lakes` must be at least 3"):
        ds.subset(2)
    with pytest.raises(InvalidParameterError, match="`max_lakes` must be an integer"):
        ds.subset(4.5)


def test_bad_split_and_unknown_lake(ds):
    with pytest.raises(InvalidParameterError, match="`split` must be one of"):
        ds.split_ids("training")
    with pytest.raises(InvalidParameterError, match="`split` must be one of"):
        ds.pixel_table("validation")
    with pytest.raises(InvalidParameterError, match="lake 'atlantis-001' is not in dataset"):
        ds.scene("atlantis-001")


# --- bad datasets on disk -----------------------------------------------------------------------
def test_dataset_not_generated_tells_to_run_make_data(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="make data") as info:
        LakeDataset("lakes-synthetic", root=tmp_path / "nowhere")
    assert "python -m geonb data generate" in str(info.value)
    assert isinstance(info.value, FileNotFoundError)


def test_unknown_dataset_name_lists_the_available_ones(tiny_lakes_root):
    with pytest.raises(DatasetNotFoundError, match="'lakes-modis' not found") as info:
        LakeDataset("lakes-modis", root=tiny_lakes_root)
    assert "lakes-synthetic-unclassified" in str(info.value)


def test_bad_name_argument(tiny_lakes_root):
    with pytest.raises(InvalidParameterError, match="`name` must be a dataset folder name"):
        LakeDataset("", root=tiny_lakes_root)


def test_missing_label_file_names_the_file(copy_root):
    ds = LakeDataset("lakes-synthetic", root=copy_root)
    victim = ds.ids[3]
    (copy_root / "lakes-synthetic" / "labels" / f"{victim}.tif").unlink()
    with pytest.raises(DatasetNotFoundError, match=f"label file of lake '{victim}' is missing") as info:
        LakeDataset("lakes-synthetic", root=copy_root)
    assert f"labels/{victim}.tif" in str(info.value) and "--overwrite" in str(info.value)


def test_missing_image_file_names_the_file(copy_root):
    victim = LakeDataset("lakes-synthetic", root=copy_root).ids[0]
    (copy_root / "lakes-synthetic" / "images" / f"{victim}.tif").unlink()
    with pytest.raises(DatasetNotFoundError, match=f"image file of lake '{victim}' is missing"):
        LakeDataset("lakes-synthetic", root=copy_root)


def test_catalog_naming_a_lake_twice(copy_root):
    path = copy_root / "lakes-synthetic" / "catalog.geojson"
    cat = json.loads(path.read_text())
    twin = cat["features"][0]["properties"]["id"]
    cat["features"][5]["properties"]["id"] = twin
    path.write_text(json.dumps(cat))
    with pytest.raises(CatalogError, match=f"names the lake '{twin}' twice"):
        LakeDataset("lakes-synthetic", root=copy_root)


def test_catalog_that_is_not_json_or_not_a_collection(copy_root):
    path = copy_root / "lakes-synthetic" / "catalog.geojson"
    path.write_text("{not json")
    with pytest.raises(CatalogError, match="not valid JSON"):
        LakeDataset("lakes-synthetic", root=copy_root)
    path.write_text(json.dumps({"type": "Feature"}))
    with pytest.raises(CatalogError, match="FeatureCollection"):
        LakeDataset("lakes-synthetic", root=copy_root)
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{"properties": {"id": "a"}}]}))
    with pytest.raises(CatalogError, match="lacks the property 'split'"):
        LakeDataset("lakes-synthetic", root=copy_root)
    path.write_text(json.dumps({"type": "FeatureCollection",
                                "features": [{"properties": {"id": "a", "split": "dev"}}]}))
    with pytest.raises(CatalogError, match="split 'dev'"):
        LakeDataset("lakes-synthetic", root=copy_root)


def test_missing_catalog(copy_root):
    (copy_root / "lakes-synthetic" / "catalog.geojson").unlink()
    with pytest.raises(DatasetNotFoundError, match="catalog.geojson' is missing"):
        LakeDataset("lakes-synthetic", root=copy_root)
    assert available_datasets(copy_root) == ["lakes-synthetic-unclassified"]


def test_data_root_follows_geonb_data(monkeypatch, copy_root):
    monkeypatch.setenv("GEONB_DATA", str(copy_root.parent))
    assert data_root() == copy_root.parent
    assert len(LakeDataset("lakes-synthetic")) == 12  # default root: $GEONB_DATA/lakes
    monkeypatch.delenv("GEONB_DATA")
    assert data_root().name == "data" and (data_root().parent / "geonb").is_dir()


# ---- label files that do not match their dataset: errors, never skipped or misaligned ----------------------
def _rewrite_labels(root, lake_id, array=None, transform_shift_px=(0, 0)):
    import rasterio
    from affine import Affine

    from geonb.scene import write_raster

    path = root / "lakes-synthetic" / "labels" / f"{lake_id}.tif"
    with rasterio.open(path) as src:
        labels, crs, transform = src.read(1), src.crs, src.transform
    if array is not None:
        labels = array(labels)
    transform = transform @ Affine.translation(*transform_shift_px)
    write_raster(path, labels, crs=crs, transform=transform, overwrite=True)
    return path


def test_unknown_code_is_an_error_not_uncounted(copy_root):
    from geonb.errors import ClassCodeError

    victim = LakeDataset("lakes-synthetic", root=copy_root).ids[0]

    def put_seven(lab):
        lab = lab.copy()
        lab[0, 0] = 7
        return lab

    _rewrite_labels(copy_root, victim, put_seven)
    ds = LakeDataset("lakes-synthetic", root=copy_root)
    for call in (ds.summary, lambda: ds.pixel_table(), lambda: ds.scene(victim)):
        with pytest.raises(ClassCodeError, match=r"\[7\]") as info:
            call()
        assert victim in str(info.value) and "labels" in str(info.value)


def test_pixel_table_refuses_labels_on_a_shifted_grid(copy_root):
    from geonb.errors import GridMismatchError

    victim = LakeDataset("lakes-synthetic", root=copy_root).ids[0]
    _rewrite_labels(copy_root, victim, transform_shift_px=(1, 0))  # same shape, one pixel to the east
    ds = LakeDataset("lakes-synthetic", root=copy_root)
    with pytest.raises(GridMismatchError, match="transform") as info:
        ds.pixel_table()
    assert victim in str(info.value)
    with pytest.raises(GridMismatchError, match="transform"):
        ds.scene(victim)


def test_summary_counts_match_the_label_files(ds):
    import rasterio

    table = ds.summary()
    water = land = 0
    for lake_id in ds.ids:
        with rasterio.open(ds.labels_path(lake_id)) as src:
            lab = src.read(1)
        water += int((lab == 1).sum())
        land += int((lab == 2).sum())
    assert table.loc["total", "water"] == water and table.loc["total", "land"] == land


# ---- titles say what is synthetic (issue 17) ---------------------------------------------------------
def test_stand_in_lakes_are_titled_synthetic_scene_near_their_place(ds):
    lake_id = ds.ids[0]
    name = ds.lakes.loc[lake_id, "name"]
    assert ds.lakes["title"].tolist() == [f"synthetic scene near {n}" for n in ds.lakes["name"]]
    assert ds.title(lake_id) == f"synthetic scene near {name}"
    s = ds.scene(lake_id)
    assert s.name == name and s.title == f"synthetic scene near {name}"
    assert ds.subset(4).lakes["title"].str.startswith("synthetic scene near ").all()
    assert ds.geometry(lake_id)["type"] == "Polygon"
    with pytest.raises(InvalidParameterError, match="not in dataset"):
        ds.title("no-such-lake")


def test_real_lakes_keep_their_name(copy_root):
    """Chips written by geonb.datasets.stac (real MODIS + JRC labels) are never called synthetic."""
    from geonb.datasets.stac import SOURCE

    path = copy_root / "lakes-synthetic" / "catalog.geojson"
    cat = json.loads(path.read_text())
    for f in cat["features"]:
        f["properties"]["source"] = SOURCE
        f["properties"].pop("synthetic", None)
    path.write_text(json.dumps(cat))
    real = LakeDataset("lakes-synthetic", root=copy_root)
    assert (real.lakes["title"] == real.lakes["name"]).all()
    lake_id = real.ids[0]
    assert real.scene(lake_id).title == real.lakes.loc[lake_id, "name"]


def test_per_lake_tables_carry_the_title(ds):
    from geonb.evaluation import per_lake_scores

    lake_id = ds.split_ids("test")[0]
    table = per_lake_scores({lake_id: ds.scene(lake_id).labels}, ds)
    assert table.loc[lake_id, "title"] == f"synthetic scene near {ds.lakes.loc[lake_id, 'name']}"


def test_labels_reads_label_rasters_of_a_split_or_ids(ds):
    test_ids = ds.split_ids("test")
    labels = ds.labels("test")
    assert len(labels) == len(test_ids)
    for lake_id, lab in zip(test_ids, labels, strict=True):
        assert lab.dtype == np.uint8 and np.array_equal(lab, ds.scene(lake_id).labels)
    assert [a.shape for a in ds.labels(ids=test_ids[::-1])] == [a.shape for a in labels[::-1]]
    with pytest.raises(InvalidParameterError, match="not both"):
        ds.labels("test", ids=test_ids)
    with pytest.raises(InvalidParameterError, match="not in dataset"):
        ds.labels(ids=["no-such-lake"])
