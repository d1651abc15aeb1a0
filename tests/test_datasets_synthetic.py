"""Tests of the synthetic lakes generator: physics of the spectra, determinism, layout on disk."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import rasterio
import shapely.geometry

from geonb.bands import band_indices
from geonb.datasets.synthetic import (
    CONDITIONS,
    MODIS_GRID_ORIGIN,
    MODIS_PIXEL_M,
    SPECTRA,
    SceneRecipe,
    assign_splits,
    generate_lakes,
    make_scene,
    modis_transform,
    plan_dataset,
    smooth_field,
    split_counts,
)
from geonb.errors import InvalidParameterError, OutputExistsError
from geonb.labels import LAND, NODATA, UNCLASSIFIED, WATER
from geonb.scene import MODIS_FILL, read_scene

BANDS = ("red", "nir", "blue", "green", "nir2", "swir1", "swir2")


def _spec(name, bands):
    return np.array(SPECTRA[name])[band_indices(bands, BANDS)]


# --- spectra: the physics the study's questions rest on ---------------------------------------
def test_water_is_dark_in_nir_and_swir_for_every_water_type():
    for water in ("clear_water", "turbid_water", "algal_water"):
        for land in ("conifer_forest", "broadleaf_forest", "cropland", "wetland", "bare_soil", "sand", "urban"):
            assert _spec(water, ("swir1",))[0] < 0.5 * _spec(land, ("swir1",))[0], (water, land)


def test_turbid_water_resembles_soil_in_visible_but_not_in_swir():
    rgb = ("red", "green", "blue")
    vis = np.abs(_spec("turbid_water", rgb) - _spec("bare_soil", rgb)).max()
    swir = np.abs(_spec("turbid_water", ("swir1", "swir2")) - _spec("bare_soil", ("swir1", "swir2"))).min()
    assert vis < 0.04 < 0.2 < swir


def test_dark_forest_resembles_water_in_rgb_but_not_in_nir():
    rgb = ("red", "green", "blue")
    assert np.abs(_spec("conifer_forest", rgb) - _spec("clear_water", rgb)).max() < 0.03
    assert _spec("conifer_forest", ("nir",))[0] > 10 * _spec("clear_water", ("nir",))[0]


def test_snow_is_bright_in_visible_and_dark_in_swir_unlike_cloud():
    assert _spec("snow", ("green",))[0] > 0.6 and _spec("snow", ("swir1",))[0] < 0.15
    assert _spec("cloud", ("swir1",))[0] > 3 * _spec("snow", ("swir1",))[0]


# --- random fields and single scenes ----------------------------------------------------------
def test_smooth_field_is_standardised_and_deterministic():
    a = smooth_field(np.random.default_rng(3), (17, 40))
    b = smooth_field(np.random.default_rng(3), (17, 40))
    assert a.shape == (17, 40)
    np.testing.assert_array_equal(a, b)
    assert abs(a.mean()) < 1e-9 and abs(a.std() - 1) < 1e-9
    # Smooth: neighbours are strongly correlated.
    assert np.corrcoef(a[:, :-1].ravel(), a[:, 1:].ravel())[0, 1] > 0.8


def test_make_scene_shapes_codes_and_determinism():
    r = SceneRecipe(30, 45, climate="boreal", condition="clear", layout="lake", water_target=0.15)
    s1 = make_scene(r, seed=5)
    s2 = make_scene(r, seed=5)
    s3 = make_scene(r, seed=6)
    assert s1.image.shape == (30, 45, 7) and s1.image.dtype == np.float32
    assert s1.labels.shape == (30, 45) and s1.labels.dtype == np.uint8
    assert set(np.unique(s1.labels)) <= {NODATA, WATER, LAND}
    np.testing.assert_array_equal(s1.image, s2.image)
    assert not np.array_equal(s1.image, s3.image)
    assert 0.0 < s1.properties["water_fraction"] < 0.5


def test_clear_scene_water_separable_in_swir_not_by_brightness_alone():
    r = SceneRecipe(60, 60, climate="boreal", condition="clear", layout="lake", water_target=0.2)
    s = make_scene(r, seed=1)
    swir = s.image[..., band_indices(("swir1",), s.band_names)[0]]
    water, land = s.labels == WATER, s.labels == LAND
    assert swir[water].mean() < 0.03 < 0.06 < swir[land].mean()


def test_mixed_pixels_at_shores_are_intermediate():
    r = SceneRecipe(60, 60, climate="temperate", condition="clear", layout="lake", water_target=0.25)
    s = make_scene(r, seed=2)
    nir = s.image[..., 1]
    water = s.labels == WATER
    interior = water & np.roll(water, 1, 0) & np.roll(water, -1, 0) & np.roll(water, 1, 1) & np.roll(water, -1, 1)
    shore = water & ~interior
    # Shore water pixels hold some land signal: brighter in NIR than open water.
    assert nir[shore].mean() > nir[interior].mean() + 0.01


def test_unclassified_only_when_asked_and_where_classifiers_disagree():
    base = dict(rows=50, cols=50, climate="continental", layout="lake", water_target=0.2)
    plain = make_scene(SceneRecipe(**base, condition="frozen"), seed=0)
    assert UNCLASSIFIED not in plain.labels
    frozen = make_scene(SceneRecipe(**base, condition="frozen", unclassified=True), seed=0)
    # Lake ice: every pixel that is water in the plain labels is unclassified.
    assert np.all(frozen.labels[plain.labels == WATER] == UNCLASSIFIED)
    clear = make_scene(SceneRecipe(**base, condition="clear", unclassified=True), seed=0)
    unc = clear.labels == UNCLASSIFIED
    assert 0 < unc.sum() < 0.3 * unc.size
    # Mixed shore pixels: unclassified pixels lie at the shore (next to a water pixel), not at random.
    near_water = np.zeros_like(unc)
    w = make_scene(SceneRecipe(**base, condition="clear"), seed=0).labels == WATER
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            near_water |= np.roll(np.roll(w, dr, 0), dc, 1)
    assert w.any() and near_water[unc].mean() > 0.9


def test_cloudy_scene_has_bright_cloud_and_dark_shadow():
    r = SceneRecipe(64, 64, climate="tropical", condition="cloudy", layout="lake", water_target=0.05)
    s = make_scene(r, seed=4)
    assert s.properties["cloud_fraction"] > 0.05
    green = s.image[..., 3]
    assert green.max() > 0.4  # thick cloud


def test_low_sun_scene_is_dark_and_noisy():
    r = SceneRecipe(40, 40, climate="boreal", condition="low-sun", layout="lake")
    dark = make_scene(r, seed=0).image
    bright = make_scene(SceneRecipe(40, 40, climate="boreal", condition="clear", layout="lake"), seed=0).image
    assert np.median(dark[..., 1]) < 0.5 * np.median(bright[..., 1])


@pytest.mark.parametrize("bad, match", [
    (dict(rows=2), "at least 4 x 4"),
    (dict(climate="martian"), "`climate` must be one of"),
    (dict(condition="foggy"), "`condition` must be one of"),
    (dict(layout="ocean"), "`layout` must be one of"),
    (dict(water_target=1.5), "`water_target` must be in"),
])
def test_make_scene_rejects_bad_recipes(bad, match):
    args = dict(rows=20, cols=20) | bad
    with pytest.raises(InvalidParameterError, match=match):
        make_scene(SceneRecipe(**args))


# --- catalog-level choices --------------------------------------------------------------------
def test_split_counts_match_the_study_proportions():
    assert split_counts(915) == {"train": 704, "val": 110, "test": 101}  # study: 701/109/105
    assert split_counts(3) == {"train": 1, "val": 1, "test": 1}
    assert sum(split_counts(61).values()) == 61


def test_assign_splits_exact_counts_and_every_condition_in_test():
    strata = [CONDITIONS[i % len(CONDITIONS)] for i in range(200)]
    splits = assign_splits(strata, np.random.default_rng(0))
    counts = {s: splits.count(s) for s in ("train", "val", "test")}
    assert counts == split_counts(200)
    assert {c for c, s in zip(strata, splits, strict=True) if s == "test"} == set(CONDITIONS)


def test_plan_sizes_and_places_like_the_study():
    plan = plan_dataset(400, seed=0)
    rows = np.array([p.recipe.rows for p in plan])
    cols = np.array([p.recipe.cols for p in plan])
    assert rows.min() >= 12 and cols.min() >= 12 and rows.max() <= 132 and cols.max() <= 132
    assert 1000 < (rows * cols).mean() < 3500  # the study: 1.85 M pixels in 956 images
    assert len({p.place.slug for p in plan}) > 60
    assert len({p.id for p in plan}) == 400


def test_modis_transform_is_on_the_modis_grid():
    t = modis_transform(33.0, -1.0, 40, 50)
    assert t.a == pytest.approx(MODIS_PIXEL_M) and t.e == pytest.approx(-MODIS_PIXEL_M)
    k = (t.c - MODIS_GRID_ORIGIN[0]) / MODIS_PIXEL_M
    assert abs(k - round(k)) < 1e-6
    k = (MODIS_GRID_ORIGIN[1] - t.f) / MODIS_PIXEL_M
    assert abs(k - round(k)) < 1e-6


# --- writing ------------------------------------------------------------------------------------
def _hashes(root):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_generate_layout_catalog_and_geotiffs(tiny_lakes_root):
    root = tiny_lakes_root
    for name, n in (("lakes-synthetic", 12), ("lakes-synthetic-unclassified", 4)):
        cat = json.loads((root / name / "catalog.geojson").read_text())
        assert cat["type"] == "FeatureCollection" and len(cat["features"]) == n
        for f in cat["features"]:
            p = f["properties"]
            for key in ("id", "name", "split", "lat", "lon", "rows", "cols", "water_fraction", "condition",
                        "climate", "continent", "dataset", "source", "seed"):
                assert key in p, key
            assert p["source"] == "synthetic" and p["dataset"] == name
            assert p["synthetic"] is True  # stand-in data says so (titles: "synthetic scene near <name>")
            # The footprint (WGS84) contains the scene centre.
            poly = shapely.geometry.shape(f["geometry"])
            assert poly.contains(shapely.geometry.Point(p["lon"], p["lat"]))
            img = root / name / "images" / f"{p['id']}.tif"
            with rasterio.open(img) as ds:
                assert ds.count == 7 and ds.dtypes[0] == "int16" and ds.nodata == MODIS_FILL
                assert ds.crs.to_dict().get("proj") == "sinu"
                assert ds.descriptions[0] == "red" and ds.scales[0] == pytest.approx(1e-4)
                assert (ds.height, ds.width) == (p["rows"], p["cols"])
                assert ds.res[0] == pytest.approx(MODIS_PIXEL_M)
            s = read_scene(img, root / name / "labels" / f"{p['id']}.tif")
            assert 0.0 <= np.nanmax(s.image) < 1.7
            assert np.all(s.labels[s.nodata_mask] == NODATA)
        has_unc = any(f["properties"]["unclassified_fraction"] > 0 for f in cat["features"])
        assert has_unc == name.endswith("unclassified")


def test_same_seed_gives_byte_identical_files_whatever_the_workers(tmp_path):
    generate_lakes(tmp_path / "b", seed=0, n_lakes=16, n_lakes_unclassified=3, progress=False, workers=2)
    generate_lakes(tmp_path / "c", seed=0, n_lakes=16, n_lakes_unclassified=3, progress=False, workers=1)
    hashes = _hashes(tmp_path / "b")
    assert len(hashes) == 2 + 2 * (16 + 3)  # 2 catalogs, an image and a label file per lake
    assert hashes == _hashes(tmp_path / "c")


def test_generate_refuses_to_overwrite_then_replaces(tmp_path):
    generate_lakes(tmp_path, n_lakes=3, n_lakes_unclassified=3, progress=False)
    before = _hashes(tmp_path)
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        generate_lakes(tmp_path, n_lakes=3, n_lakes_unclassified=3, progress=False)
    assert _hashes(tmp_path) == before
    generate_lakes(tmp_path, seed=2, n_lakes=4, n_lakes_unclassified=3, progress=False, overwrite=True)
    assert len(list((tmp_path / "lakes-synthetic" / "images").iterdir())) == 4
    # No temporary folders left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lakes-synthetic", "lakes-synthetic-unclassified"]


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_lakes=2), "`n_lakes` must be an integer >= 3"),
    (dict(n_lakes_unclassified=1.5), "`n_lakes_unclassified` must be an integer"),
    (dict(seed=-1), "`seed` must be a non-negative integer"),
    (dict(workers=0), "`workers` must be a positive integer"),
])
def test_generate_rejects_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        generate_lakes(tmp_path, progress=False, **({"n_lakes": 3, "n_lakes_unclassified": 3} | kwargs))


def test_seeds_and_sizes_that_numpy_would_refuse_or_truncate_are_clear_errors():
    r = SceneRecipe(16, 16)
    for seed in ("abc", -1, 1.5, True, [1, -2]):
        with pytest.raises(InvalidParameterError, match="`seed`"):
            make_scene(r, seed=seed)
    # the seeds that were accepted still draw the same scene
    np.testing.assert_array_equal(make_scene(r, seed=[3, 4]).image, make_scene(r, seed=[3, 4]).image)
    with pytest.raises(InvalidParameterError, match="whole numbers"):
        make_scene(SceneRecipe(16.5, 16))
    with pytest.raises(InvalidParameterError, match="`recipe`"):
        make_scene(None)
    with pytest.raises(InvalidParameterError, match="add up to 0.7"):
        split_counts(10, {"train": 0.5, "val": 0.1, "test": 0.1})
    with pytest.raises(InvalidParameterError, match="`lat`"):
        modis_transform(10.0, 100.0, 10, 10)
    with pytest.raises(InvalidParameterError, match="`shape`"):
        smooth_field(np.random.default_rng(0), (0, 5))
    assert split_counts(0) == {"train": 0, "val": 0, "test": 0}


def test_a_made_scene_is_marked_synthetic_and_titled_so():
    s = make_scene(SceneRecipe(12, 16), seed=0, name="Lake Onega")
    assert s.properties["source"] == "synthetic"
    assert s.name == "Lake Onega" and s.title == "synthetic scene near Lake Onega"
    assert make_scene(SceneRecipe(12, 16), seed=0).title == "synthetic lake"  # the default name says it already
    real = make_scene(SceneRecipe(12, 16), seed=0, name="Lake Onega", properties={"source": "MODIS"})
    assert real.title == "Lake Onega"


def test_lonlat_to_sinusoidal_matches_the_sphere_formula():
    """PROJ (rasterio.warp.transform) gives the MODIS sinusoidal formula on its sphere, to a micrometre."""
    from geonb.datasets.synthetic import lonlat_to_sinusoidal

    radius = 6371007.181  # the MODIS sphere (MODIS_SINUSOIDAL's +R)
    for lon in np.linspace(-180.0, 180.0, 37):
        for lat in np.linspace(-90.0, 90.0, 19):
            phi = np.radians(lat)
            x, y = lonlat_to_sinusoidal(float(lon), float(lat))
            assert abs(x - radius * np.radians(lon) * np.cos(phi)) < 1e-6, (lon, lat)
            assert abs(y - radius * phi) < 1e-6, (lon, lat)
