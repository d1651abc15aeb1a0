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
