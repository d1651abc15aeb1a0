import hashlib

import numpy as np
import pytest
import rasterio
from affine import Affine

from geonb.errors import (
    BandMismatchError,
    ClassCodeError,
    GridMismatchError,
    InvalidParameterError,
    OutputExistsError,
    RasterReadError,
    ShapeMismatchError,
)
from geonb.scene import MODIS_FILL, Scene, atomic_path, read_scene, write_raster, write_scene

SINU = "+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m +no_defs"
T = Affine(463.3127, 0, 3_000_000, 0, -463.3127, 5_000_000)


def make_scene(rows=20, cols=30, bands=7, seed=0):
    rng = np.random.default_rng(seed)
    image = rng.uniform(0, 0.6, (rows, cols, bands)).astype(np.float32)
    labels = rng.integers(1, 3, (rows, cols)).astype(np.uint8)
    mask = np.zeros((rows, cols), bool)
    mask[3, :] = True  # a nodata stripe
    return Scene(image, labels, crs=SINU, transform=T, nodata_mask=mask, name="test lake")


def test_roundtrip_modis_int16(tmp_path):
    s = make_scene()
    write_scene(s, tmp_path / "img.tif", tmp_path / "lab.tif")
    with rasterio.open(tmp_path / "img.tif") as ds:
        assert ds.dtypes[0] == "int16" and ds.nodata == MODIS_FILL and ds.count == 7
        assert ds.descriptions[0] == "red"
        raw = ds.read(1)
        assert (raw[3] == MODIS_FILL).all()
    r = read_scene(tmp_path / "img.tif", tmp_path / "lab.tif")
    assert r.image.dtype == np.float32 and r.image.shape == (20, 30, 7)
    assert r.band_names == s.band_names
    np.testing.assert_allclose(r.image[~r.nodata_mask], s.image[~s.nodata_mask], atol=6e-5)
    assert r.nodata_mask[3].all() and r.nodata_mask.sum() == 30
    assert (r.image[3] == 0).all()
    np.testing.assert_array_equal(r.labels, s.labels)
    assert r.crs == s.crs and r.transform.almost_equals(T)
    assert r.bounds.left == pytest.approx(3_000_000) and r.bounds.top == pytest.approx(5_000_000)
    assert r.name == "img"


def test_window_read_reads_only_the_window(tmp_path):
    s = make_scene(300, 300)
    write_scene(s, tmp_path / "img.tif", tmp_path / "lab.tif")
    r = read_scene(tmp_path / "img.tif", tmp_path / "lab.tif", window=((10, 42), (100, 120)))
    assert r.shape == (32, 20)
    np.testing.assert_allclose(r.image, s.image[10:42, 100:120] * ~s.nodata_mask[10:42, 100:120, None],
                               atol=6e-5)
    np.testing.assert_array_equal(r.labels, s.labels[10:42, 100:120])
    assert r.transform.c == pytest.approx(T.c + 100 * T.a)
    assert r.transform.f == pytest.approx(T.f + 10 * T.e)


def test_band_subset_by_name(tmp_path):
    s = make_scene()
    write_scene(s, tmp_path / "img.tif")
    r = read_scene(tmp_path / "img.tif", bands=("red", "green", "blue"))
    assert r.band_names == ("red", "green", "blue")
    np.testing.assert_allclose(r.image[..., 1][~r.nodata_mask], s.image[..., 3][~s.nodata_mask], atol=6e-5)
    with pytest.raises(BandMismatchError, match="swir9"):
        read_scene(tmp_path / "img.tif", bands=("swir9",))
    assert s.select_bands(("nir",)).image.shape == (20, 30, 1)


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32", "int32"])
def test_any_dtype_and_band_count(tmp_path, dtype):
    arr = (np.arange(4 * 5 * 3).reshape(4, 5, 3) % 200).astype(dtype)
    write_raster(tmp_path / "x.tif", arr, crs="EPSG:4326", transform=Affine(0.1, 0, 10, 0, -0.1, 50))
    r = read_scene(tmp_path / "x.tif")
    assert r.band_names == ("band_1", "band_2", "band_3")
    np.testing.assert_array_equal(r.image, arr.astype(np.float32))


def test_write_is_byte_stable(tmp_path):
    s = make_scene()
    write_scene(s, tmp_path / "a.tif")
    write_scene(s, tmp_path / "b.tif")
    digest = [hashlib.sha256((tmp_path / n).read_bytes()).hexdigest() for n in ("a.tif", "b.tif")]
    assert digest[0] == digest[1]


def test_refuses_to_overwrite(tmp_path):
    s = make_scene()
    target = tmp_path / "img.tif"
    target.write_bytes(b"precious")
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        write_scene(s, target)
    assert target.read_bytes() == b"precious"
    with pytest.raises(FileExistsError):  # also the builtin
        write_scene(s, target)
    write_scene(s, target, overwrite=True)
    assert read_scene(target).shape == (20, 30)


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "out.tif") as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_missing_path_is_clear(tmp_path):
    with pytest.raises(RasterReadError, match="does not exist"):
        read_scene(tmp_path / "nope.tif")


def test_not_a_raster(tmp_path):
    p = tmp_path / "notes.tif"
    p.write_text("this is not a GeoTIFF")
    with pytest.raises(RasterReadError, match="cannot be opened as a raster"):
        read_scene(p)


def test_truncated_geotiff(tmp_path):
    s = make_scene(300, 300)
    write_scene(s, tmp_path / "img.tif")
    data = (tmp_path / "img.tif").read_bytes()
    (tmp_path / "cut.tif").write_bytes(data[: len(data) // 2])
    with pytest.raises(RasterReadError, match="truncated or corrupt|cannot be opened"):
        read_scene(tmp_path / "cut.tif")


def test_labels_on_other_grid(tmp_path):
    s = make_scene()
    write_scene(s, tmp_path / "img.tif")
    write_raster(tmp_path / "small.tif", np.ones((10, 30), np.uint8), crs=SINU, transform=T)
    with pytest.raises(GridMismatchError, match="grid"):
        read_scene(tmp_path / "img.tif", tmp_path / "small.tif")
    write_raster(tmp_path / "shifted.tif", np.ones((20, 30), np.uint8), crs=SINU,
                 transform=T @ Affine.translation(1, 0))
    with pytest.raises(GridMismatchError, match="transform"):
        read_scene(tmp_path / "img.tif", tmp_path / "shifted.tif")
    write_raster(tmp_path / "utm.tif", np.ones((20, 30), np.uint8), crs="EPSG:32633", transform=T)
    with pytest.raises(GridMismatchError, match="CRS"):
        read_scene(tmp_path / "img.tif", tmp_path / "utm.tif")


def test_zero_bands_and_bad_shapes():
    with pytest.raises(BandMismatchError, match="0 bands"):
        Scene(np.zeros((4, 4, 0), np.float32))
    with pytest.raises(ShapeMismatchError, match="labels"):
        Scene(np.zeros((4, 4, 7), np.float32), labels=np.zeros((4, 5), np.uint8))
    with pytest.raises(BandMismatchError, match="band_names"):
        Scene(np.zeros((4, 4, 2), np.float32), band_names=("red",))
    with pytest.raises(ShapeMismatchError):
        Scene(np.zeros((4,), np.float32))


def test_outputs_get_normal_permissions(tmp_path):
    import os
    import stat

    write_scene(make_scene(), tmp_path / "img.tif")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "img.tif").stat().st_mode) == 0o666 & ~umask


def test_write_scene_refuses_values_modis_int16_cannot_hold(tmp_path):
    s = make_scene()
    s.image[5, 5, 0] = 255.0  # e.g. an 8-bit image: int16 x 0.0001 would clip it to 3.2767
    with pytest.raises(InvalidParameterError, match="modis_int16=False"):
        write_scene(s, tmp_path / "img.tif")
    assert not (tmp_path / "img.tif").exists()
    write_scene(s, tmp_path / "img.tif", modis_int16=False)
    assert read_scene(tmp_path / "img.tif").image[5, 5, 0] == 255.0
    nan = make_scene()
    nan.image[6, 6, 2] = np.nan  # NaN outside the nodata mask
    with pytest.raises(InvalidParameterError, match="NaN"):
        write_scene(nan, tmp_path / "nan.tif")


def test_more_bad_inputs_are_clear_errors(tmp_path):
    s = make_scene()
    write_scene(s, tmp_path / "img.tif")
    with pytest.raises(InvalidParameterError, match="`scale`"):
        read_scene(tmp_path / "img.tif", scale="modis")
    for window in (((2, 1), (0, 3)), ((-1, 4), (0, 3)), ((0, 4), (3, 3))):
        with pytest.raises(InvalidParameterError, match="start < stop"):
            read_scene(tmp_path / "img.tif", window=window)
    with pytest.raises(InvalidParameterError, match="`band_names` names 2 bands"):
        write_raster(tmp_path / "b.tif", np.zeros((4, 4, 3), np.float32), band_names=("a", "b"))
    with pytest.raises(ClassCodeError, match="0-255"):
        Scene(np.zeros((2, 2, 1), np.float32), labels=np.full((2, 2), 300))


# =====================================================================================================
# Files made elsewhere: nodata, scales, windows, label codings. Expected values come from rasterio.
# =====================================================================================================
import warnings  # noqa: E402

from rasterio.windows import Window  # noqa: E402
from rasterio.windows import transform as window_transform  # noqa: E402

from geonb.errors import CRSError, GeonbWarning  # noqa: E402
from geonb.labels import LAND, NODATA, UNCLASSIFIED, WATER  # noqa: E402
from geonb.scene import read_image, read_labels  # noqa: E402

UTM = "EPSG:32633"
T_UTM = Affine(30, 0, 500_000, 0, -30, 6_000_000)


def _write(path, arr_bands_first, *, dtype, nodata=None, scales=None, offsets=None, crs=UTM, transform=T_UTM,
           descriptions=None):
    arr = np.asarray(arr_bands_first).astype(dtype)
    with rasterio.open(path, "w", driver="GTiff", width=arr.shape[2], height=arr.shape[1], count=arr.shape[0],
                       dtype=dtype, crs=crs, transform=transform, nodata=nodata) as ds:
        ds.write(arr)
        if scales is not None:
            ds.scales = scales
        if offsets is not None:
            ds.offsets = offsets
        for i, d in enumerate(descriptions or (), start=1):
            ds.set_band_description(i, d)
    return path


def test_nan_and_inf_are_nodata_even_without_a_tag(tmp_path):
    arr = np.full((2, 4, 5), 0.25, np.float32)
    arr[0, 1, 1] = np.nan
    arr[1, 2, 3] = np.inf
    arr[0, 3, 0] = -np.inf
    r = read_scene(_write(tmp_path / "f.tif", arr, dtype="float32"))  # no nodata tag
    assert r.nodata_mask.sum() == 3 and r.nodata_mask[1, 1] and r.nodata_mask[2, 3] and r.nodata_mask[3, 0]
    assert np.isfinite(r.image).all() and (r.image[r.nodata_mask] == 0).all()
    assert (r.image[~r.nodata_mask] == 0.25).all()


def test_declared_nodata_and_the_nodata_override(tmp_path):
    arr = np.full((3, 4, 5), 10, np.uint8)
    arr[:, 0, 0] = 255           # the declared nodata in every band
    arr[2, 1, 1] = 255           # in one band only: the pixel is still invalid (any band)
    arr[:, 2, 2] = 0
    p = _write(tmp_path / "u8.tif", arr, dtype="uint8", nodata=255)
    with rasterio.open(p) as ds:
        expected = (ds.read_masks() == 0).any(axis=0)
    img, mask, meta = read_image(p)
    np.testing.assert_array_equal(mask, expected)
    assert mask.sum() == 2 and meta["nodata"] == 255
    img, mask, _ = read_image(p, nodata=0)   # the override replaces the tag
    assert mask.sum() == 1 and mask[2, 2] and img[0, 0, 0] == 255
    img, mask, _ = read_image(p, nodata=None)  # no nodata at all
    assert mask.sum() == 0
    with pytest.raises(InvalidParameterError, match="`nodata`"):
        read_image(p, nodata="none")


def test_scales_and_offsets_are_applied_per_band(tmp_path):
    raw = np.stack([np.full((4, 5), v, np.int16) for v in (100, 200, 300)])
    p = _write(tmp_path / "s.tif", raw, dtype="int16", scales=(0.0001, 0.01, 1.0), offsets=(0.0, -1.0, 5.0))
    with rasterio.open(p) as ds:
        expected = ds.read().astype(np.float64) * np.array(ds.scales)[:, None, None] \
            + np.array(ds.offsets)[:, None, None]
    img, mask, meta = read_image(p)
    np.testing.assert_allclose(np.moveaxis(img, -1, 0), expected, rtol=1e-6)
    assert img[0, 0].tolist() == pytest.approx([0.01, 1.0, 305.0])  # band 1's scale is not applied to all
    assert meta["scale_rule"] == "tags"
    img, _, _ = read_image(p, scale=None)
    assert img[0, 0].tolist() == [100, 200, 300]
    img, _, _ = read_image(p, scale=(1, 2, 3))
    assert img[0, 0].tolist() == [100, 400, 900]
    with pytest.raises(InvalidParameterError, match="`scale`"):
        read_image(p, scale=(1, 2))


def test_untagged_int16_with_the_modis_fill_is_masked_with_a_warning(tmp_path):
    raw = np.full((7, 4, 5), 1234, np.int16)
    raw[:, 0, :] = -28672
    p = _write(tmp_path / "m.tif", raw, dtype="int16")  # no nodata, no scale tags
    with pytest.warns(GeonbWarning, match="-28672") as rec:
        img, mask, meta = read_image(p)
    msg = str(rec[0].message)
    assert "scale=0.0001" in msg and "nodata=None" in msg and "5 pixels" in msg
    assert mask.sum() == 5 and mask[0].all()
    assert img[1, 1, 0] == 1234.0 and meta["scale_rule"] == "none"  # not scaled: no tag says so
    with pytest.warns(GeonbWarning):
        img, _, _ = read_image(p, scale=0.0001)
    assert img[1, 1, 0] == pytest.approx(0.1234)
    with warnings.catch_warnings():
        warnings.simplefilter("error", GeonbWarning)
        _, mask, _ = read_image(p, nodata=None)  # the user says: no fill value, keep the numbers
    assert mask.sum() == 0
    # an untagged int16 window without the fill value reads quietly and is not scaled either
    with warnings.catch_warnings():
        warnings.simplefilter("error", GeonbWarning)
        img, mask, _ = read_image(p, window=((1, 4), (0, 5)))
    assert mask.sum() == 0 and img[0, 0, 0] == 1234.0
    # tagged MODIS int16 (nodata -28672, no scale tag) is scaled as before
    _write(tmp_path / "t.tif", raw, dtype="int16", nodata=-28672)
    img, mask, meta = read_image(tmp_path / "t.tif")
    assert meta["scale_rule"] == "modis" and img[1, 1, 0] == pytest.approx(0.1234) and mask.sum() == 5


@pytest.mark.parametrize("window", [Window(-5, -5, 10, 10), Window(25, 15, 10, 10), Window(0, 0, 31, 20)])
def test_windows_partly_outside_are_errors_not_shifted(tmp_path, window):
    write_scene(make_scene(), tmp_path / "img.tif", tmp_path / "lab.tif")
    with pytest.raises(InvalidParameterError, match="partly outside") as info:
        read_scene(tmp_path / "img.tif", tmp_path / "lab.tif", window=window)
    assert "20 rows x 30 cols" in str(info.value)


def test_windows_entirely_outside_empty_or_fractional_are_errors(tmp_path):
    write_scene(make_scene(), tmp_path / "img.tif")
    with pytest.raises(InvalidParameterError, match="entirely outside"):
        read_scene(tmp_path / "img.tif", window=Window(100, 100, 5, 5))
    with pytest.raises(InvalidParameterError, match="empty"):
        read_scene(tmp_path / "img.tif", window=Window(0, 0, 0, 5))
    with pytest.raises(InvalidParameterError, match="round_offsets"):
        read_scene(tmp_path / "img.tif", window=Window(0.5, 0, 5, 5))
    with pytest.raises(InvalidParameterError, match="integers"):
        read_scene(tmp_path / "img.tif", window=((0, 4.5), (0, 3)))


def test_window_pixels_and_transform_match_rasterio(tmp_path):
    s = make_scene()
    write_scene(s, tmp_path / "img.tif", tmp_path / "lab.tif")
    win = Window(col_off=7, row_off=4, width=10, height=9)
    r = read_scene(tmp_path / "img.tif", tmp_path / "lab.tif", window=win)
    with rasterio.open(tmp_path / "img.tif") as ds:
        assert r.transform == window_transform(win, ds.transform)
        raw = ds.read(1, window=win)
    assert r.shape == (9, 10)
    np.testing.assert_array_equal(r.labels, s.labels[4:13, 7:17])
    np.testing.assert_allclose(r.image[..., 0][~r.nodata_mask], raw[raw != MODIS_FILL] * 1e-4, rtol=1e-5)
    # a Window with integral float offsets (from_bounds) is fine
    with rasterio.open(tmp_path / "img.tif") as ds:
        wb = rasterio.windows.from_bounds(*rasterio.windows.bounds(win, ds.transform), transform=ds.transform)
    assert read_scene(tmp_path / "img.tif", window=wb).transform.almost_equals(r.transform)


def test_read_labels_in_another_coding_through_a_label_map(tmp_path):
    codes = np.array([[1, 0, -1, 1], [0, 0, 1, -1], [1, 1, 1, 1]], np.int16)
    p = _write(tmp_path / "l.tif", codes[None], dtype="int16")
    write_raster(tmp_path / "img.tif", np.zeros((3, 4, 2), np.float32), crs=UTM, transform=T_UTM)
    with pytest.raises(ClassCodeError, match=r"\[-1\]") as info:
        read_labels(p)  # would have become 255
    assert "label_map=" in str(info.value) and "l.tif" in str(info.value)
    labels, _ = read_labels(p, label_map={1: WATER, 0: LAND, -1: NODATA})
    expected = np.select([codes == 1, codes == 0], [WATER, LAND], NODATA)
    np.testing.assert_array_equal(labels, expected)
    s = read_scene(tmp_path / "img.tif", p, label_map={1: WATER, 0: LAND, -1: NODATA})
    np.testing.assert_array_equal(s.labels, expected)
    with pytest.raises(ClassCodeError, match=r"values \[-1\] that `label_map`"):
        read_labels(p, label_map={1: WATER, 0: LAND})
    # the file's declared nodata maps to 0 without being named
    p2 = _write(tmp_path / "l2.tif", codes[None], dtype="int16", nodata=-1)
    np.testing.assert_array_equal(read_labels(p2, label_map={1: WATER, 0: LAND})[0], expected)
    with pytest.raises(InvalidParameterError, match="without `labels_path`"):
        read_scene(tmp_path / "img.tif", label_map={1: WATER})


def test_read_labels_refuses_fractions_and_undeclared_nan(tmp_path):
    frac = np.array([[[0.9, 0.1], [1.0, 0.5]]], np.float32)   # water fractions
    with pytest.raises(ClassCodeError, match=r"0\.9"):
        read_labels(_write(tmp_path / "frac.tif", frac, dtype="float32"))
    ints = np.array([[[1.0, 2.0], [3.0, np.nan]]], np.float32)
    with pytest.raises(ClassCodeError, match="nan"):
        read_labels(_write(tmp_path / "nan.tif", ints, dtype="float32"))
    labels, _ = read_labels(_write(tmp_path / "nan_tag.tif", ints, dtype="float32", nodata=np.nan))
    assert labels.tolist() == [[WATER, LAND], [UNCLASSIFIED, NODATA]]
    assert read_labels(tmp_path / "nan.tif", nodata=np.nan)[0].tolist() == labels.tolist()


def test_scene_refuses_inputs_that_would_be_misread():
    with pytest.raises(ShapeMismatchError, match=r"np.moveaxis\(image, 0, -1\)"):
        Scene(np.zeros((7, 40, 39), np.float32))   # rasterio's (bands, rows, cols)
    with pytest.raises(ShapeMismatchError, match="moveaxis"):
        Scene(np.zeros((3, 900, 900), np.uint8))
    assert Scene(np.zeros((16, 16, 224), np.float32)).n_bands == 224  # a hyperspectral patch is fine
    assert Scene(np.zeros((40, 39, 7), np.float32)).n_bands == 7
    with pytest.raises(ClassCodeError, match=r"\[1\.5\]"):
        Scene(np.zeros((2, 2, 1), np.float32), labels=np.array([[1.5, 1.0], [2.0, 0.0]]))
    with pytest.raises(ClassCodeError, match=r"\[-1\]"):
        Scene(np.zeros((2, 2, 1), np.float32), labels=np.array([[-1, 1], [2, 0]]))
    assert Scene(np.zeros((2, 2, 1)), labels=np.array([[1.0, 2.0], [3.0, 0.0]])).labels.dtype == np.uint8
    with pytest.raises(InvalidParameterError, match="numbers"):
        Scene(np.array([["a", "b"]]))
    with pytest.raises(ShapeMismatchError, match="rows, cols >= 1"):
        Scene(np.zeros((0, 5, 3), np.float32))
    with pytest.raises(InvalidParameterError, match="`nodata_mask` must be bool"):
        Scene(np.zeros((2, 2, 1)), nodata_mask=np.full((2, 2), 0.5))
    assert Scene(np.zeros((2, 2, 1)), nodata_mask=np.array([[0, 1], [0, 0]])).nodata_mask.sum() == 1
    with pytest.raises(CRSError, match="`crs` 'EPSG:99999'"):
        Scene(np.zeros((2, 2, 1)), crs="EPSG:99999")
    with pytest.raises(InvalidParameterError, match="`transform`"):
        Scene(np.zeros((2, 2, 1)), transform=(1, 0, 0, 0, -1, 0))
    with pytest.raises(BandMismatchError, match="repeats"):
        Scene(np.zeros((2, 2, 2)), band_names=("red", "red"))


def test_scene_masks_nan_pixels():
    img = np.full((3, 3, 2), 0.5, np.float32)
    img[1, 1, 0] = np.nan
    s = Scene(img)
    assert s.nodata_mask.sum() == 1 and s.nodata_mask[1, 1] and s.image[1, 1].tolist() == [0, 0]
    assert np.isnan(img[1, 1, 0])  # the caller's array is not changed


def test_band_names_from_the_file_and_no_modis_guess(tmp_path):
    raw = np.ones((7, 3, 4), np.uint8)
    r = read_scene(_write(tmp_path / "l7.tif", raw, dtype="uint8"))  # 7 untagged uint8 bands: not MODIS
    assert r.band_names == tuple(f"band_{i}" for i in range(1, 8))
    layers = tuple(f"sur_refl_b0{i}" for i in range(1, 8))
    r = read_scene(_write(tmp_path / "m.tif", raw, dtype="int16", nodata=-28672, descriptions=layers))
    assert r.band_names == ("red", "nir", "blue", "green", "nir2", "swir1", "swir2")


# ---- real files nobody here made (../shared/realdata) ---------------------------------------------------
REAL_SCENES = {
    # folder/file: (rows, cols, band names, expected scale per band)
    # Landsat-5 (its MTL file says so) and Sentinel-2 (B8A, B11, B12) get geonb's shared band names
    "landsat5-tucurui/LT05_224063_19880814_B1-7.tif":
        (310, 287, ("blue", "green", "red", "nir", "swir1", "thermal", "swir2"), 1.0),
    "landsat7-olinda/L7_ETMs.tif": (352, 349, tuple(f"band_{i}" for i in range(1, 7)), 1.0),
    "modis-mod09a1-h18v04/MOD09A1.A2017193.h18v04_sur_refl_b01-b07.tif":
        (73, 66, ("red", "nir", "blue", "green", "nir2", "swir1", "swir2"), 0.0001),
    "sentinel2-obidos/S2_obidos_B1-B12_reflectance.tif":
        (237, 247, ("coastal", "blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir", "nir_narrow",
                    "watervapour", "swir1", "swir2"), 1.0),
    "spacenet-atlanta-nadir10/SN4_Atlanta_nadir10_sample_RGB.tif": (900, 900, ("red", "green", "blue"), 1.0),
}


@pytest.mark.parametrize("name", sorted(REAL_SCENES))
def test_real_scenes_read_as_rasterio_reads_them(realdata, name):
    rows, cols, band_names, scale = REAL_SCENES[name]
    path = realdata / name
    with warnings.catch_warnings():
        warnings.simplefilter("error", GeonbWarning)  # nothing about these files needs guessing
        s = read_scene(path)
    with rasterio.open(path) as ds:
        raw = ds.read().astype(np.float64)
        invalid = (ds.read_masks() == 0).any(axis=0)
        if raw.dtype.kind == "f":
            invalid |= ~np.isfinite(raw).all(axis=0)
        expected = raw * np.array(ds.scales)[:, None, None] + np.array(ds.offsets)[:, None, None]
        transform, crs, file_scales = ds.transform, ds.crs, ds.scales
    assert s.shape == (rows, cols) and s.band_names == band_names
    assert s.transform == transform and s.crs == crs
    assert set(file_scales) == {scale}
    np.testing.assert_array_equal(s.nodata_mask, invalid)
    np.testing.assert_allclose(np.moveaxis(s.image, -1, 0)[:, ~invalid], expected[:, ~invalid], rtol=1e-6)
    assert s.image.dtype == np.float32 and np.isfinite(s.image).all()


def test_real_landsat7_untagged_255_is_a_value_not_nodata(realdata):
    path = realdata / "landsat7-olinda" / "L7_ETMs.tif"
    s = read_scene(path)
    assert (s.image == 255).any() and not s.nodata_mask.any()  # 255 is bright, not missing: no tag says so
    # ... unless the user says it is nodata
    s255 = read_scene(path, nodata=255)
    with rasterio.open(path) as ds:
        assert np.array_equal(s255.nodata_mask, (ds.read() == 255).any(axis=0))
    assert s255.nodata_mask.any()


def test_real_modis_landwater_flag_through_a_label_map(realdata):
    folder = realdata / "modis-mod09a1-h18v04"
    image = folder / "MOD09A1.A2017193.h18v04_sur_refl_b01-b07.tif"
    flag = folder / "MOD09A1.A2017193.h18v04_state_landwater_flag.tif"
    label_map = {1: LAND, 2: UNCLASSIFIED}  # MOD09 state bits 3-5: 1 land, 2 shoreline
    s = read_scene(image, flag, label_map=label_map)
    with rasterio.open(flag) as ds:
        raw = ds.read(1)
        assert ds.nodata == 255
    assert s.labels.dtype == np.uint8
    assert (s.labels == LAND).sum() == (raw == 1).sum() > 0
    assert (s.labels == UNCLASSIFIED).sum() == (raw == 2).sum() > 0
    assert (s.labels == NODATA).sum() == (raw == 255).sum()
    with pytest.raises(ClassCodeError, match=r"\[2\]"):
        read_scene(image, flag, label_map={1: LAND})
    # a window of the real scene: pixels and transform as rasterio gives them
    win = Window(10, 20, 30, 25)
    w = read_scene(image, flag, window=win, label_map=label_map)
    with rasterio.open(image) as ds:
        assert w.transform == window_transform(win, ds.transform)
        np.testing.assert_allclose(w.image[..., 0], ds.read(1, window=win) * 0.0001, rtol=1e-6)
    np.testing.assert_array_equal(w.labels, s.labels[20:45, 10:40])
    with pytest.raises(InvalidParameterError, match="66 cols"):
        read_scene(image, flag, window=Window(-5, -5, 10, 10), label_map=label_map)


def test_labels_on_another_grid_are_reported_before_the_window(tmp_path):
    write_scene(make_scene(), tmp_path / "img.tif")
    write_raster(tmp_path / "small.tif", np.full((10, 30), 7, np.uint8), crs=SINU, transform=T)
    with pytest.raises(GridMismatchError, match="grid"):  # not "window outside" nor "codes"
        read_scene(tmp_path / "img.tif", tmp_path / "small.tif", window=((12, 18), (0, 5)))


# ---- arguments checked before anything is read or written --------------------------------------------
def test_read_labels_label_map_codes_are_geonb_codes_unless_named(tmp_path):
    p = tmp_path / "l.tif"
    write_raster(p, np.array([[-1, 0], [0, -1]], np.int16), crs="EPSG:32633", transform=Affine(1, 0, 0, 0, -1, 0))
    with pytest.raises(ClassCodeError, match=r"\{-1: 9\}.*classes="):
        read_labels(p, label_map={-1: 9, 0: LAND})
    labels, _ = read_labels(p, label_map={-1: 9, 0: LAND}, classes=(LAND, 9))
    assert labels.tolist() == [[9, 2], [2, 9]]
    with pytest.raises(InvalidParameterError, match="`classes`"):
        read_labels(p, classes=(1, 2))


def test_write_raster_refuses_bad_arguments_before_creating_a_file(tmp_path):
    arr = np.ones((4, 5), np.uint8)
    with pytest.raises(InvalidParameterError, match="`nodata` 300 cannot be stored in the array's dtype uint8"):
        write_raster(tmp_path / "a.tif", arr, nodata=300)
    with pytest.raises(InvalidParameterError, match="`compress`.*'magic'"):
        write_raster(tmp_path / "a.tif", arr, compress="magic")
    with pytest.raises(InvalidParameterError, match="`path` is empty"):
        write_raster("", arr)
    assert list(tmp_path.iterdir()) == []
    # what is allowed still writes, and reads back the same
    write_raster(tmp_path / "a.tif", arr, nodata=255, compress="LZW", crs="EPSG:32633")
    with rasterio.open(tmp_path / "a.tif") as ds:
        assert ds.nodata == 255 and ds.compression.value == "LZW" and (ds.read(1) == 1).all()


def test_bands_as_a_bare_string_is_refused_with_the_tuple_to_write(tmp_path):
    s = Scene(np.zeros((4, 5, 3), np.float32), band_names=("red", "green", "blue"))
    with pytest.raises(BandMismatchError, match=r"bands=\('red',\)"):
        s.select_bands("red")
    assert s.select_bands(("red",)).band_names == ("red",)
