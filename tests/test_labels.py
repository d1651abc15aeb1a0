import numpy as np
import pytest

from geonb.errors import ClassCodeError, InvalidParameterError
from geonb.labels import LAKE_CLASSES, LAND, NODATA, UNCLASSIFIED, WATER, check_class_codes, one_hot


def test_one_hot_channels_follow_classes():
    labels = np.array([[WATER, LAND], [UNCLASSIFIED, NODATA]], np.uint8)
    oh = one_hot(labels)
    assert oh.shape == (2, 2, 3) and oh.dtype == np.float32
    assert oh[0, 0].tolist() == [1, 0, 0]
    assert oh[0, 1].tolist() == [0, 1, 0]
    assert oh[1, 0].tolist() == [0, 0, 1]
    assert oh[1, 1].tolist() == [0, 0, 0]  # no label: no weight
    assert one_hot(labels[:1], classes=(LAND, WATER))[0, 0].tolist() == [0, 1]


def test_one_hot_rejects_unknown_codes():
    with pytest.raises(ClassCodeError, match=r"\[7\]"):
        one_hot(np.array([1, 7], np.uint8))
    with pytest.raises(ClassCodeError):
        one_hot(np.array([UNCLASSIFIED], np.uint8), classes=(WATER, LAND))
    with pytest.raises(InvalidParameterError):
        one_hot(np.array([1]), classes=(1, 1))


def test_check_class_codes():
    check_class_codes(np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="known codes"):
        check_class_codes(np.array([4]))
    assert LAKE_CLASSES == (WATER, LAND, UNCLASSIFIED)


# ---- labels in any coding: remap_labels (no silent casts) ------------------------------------------------
from geonb.errors import CRSError  # noqa: E402
from geonb.labels import as_crs, remap_labels  # noqa: E402


def test_remap_labels_maps_file_values_to_codes():
    values = np.array([[1, 0, -1], [1, 1, 0]], np.int16)
    out = remap_labels(values, {1: WATER, 0: LAND, -1: NODATA})
    assert out.dtype == np.uint8
    assert out.tolist() == [[WATER, LAND, NODATA], [WATER, WATER, LAND]]
    # the file's nodata value is no label without being named in the map
    assert remap_labels(values, {1: WATER, 0: LAND}, nodata=-1).tolist() == out.tolist()
    # float keys and integral float values match
    assert remap_labels(values.astype(np.float32), {1.0: WATER, 0: LAND, -1: NODATA}).tolist() == out.tolist()


@pytest.mark.parametrize("values, shown", [
    (np.array([1.0, 1.5, 2.0]), "1.5"),           # would have been cast to 1
    (np.array([0.9, 0.1], np.float32), "0.9"),   # a water fraction: would have been cast to 0
    (np.array([-1, 1, 2], np.int16), "-1"),      # would have been cast to 255
    (np.array([1, 300], np.int32), "300"),       # would have wrapped to 44
    (np.array([1.0, np.inf]), "inf"),
])
def test_remap_labels_refuses_values_that_are_not_codes(values, shown):
    with pytest.raises(ClassCodeError, match="not class codes") as info:
        remap_labels(values)
    msg = str(info.value)
    assert shown in msg and "label_map=" in msg and "label_map={-1: NODATA, 0: LAND, 1: WATER}" in msg


def test_remap_labels_refuses_a_boolean_mask_without_a_label_map():
    from geonb.scene import Scene

    mask = np.array([[True, False], [False, True]])
    with pytest.raises(ClassCodeError, match=r"boolean mask.*np\.where\(mask, WATER, LAND\)"):
        remap_labels(mask)
    # Scene takes its labels through remap_labels: True must not become WATER and False "no label"
    with pytest.raises(ClassCodeError, match=r"`labels` is a boolean mask"):
        Scene(np.zeros((2, 2, 3), np.float32), labels=mask)
    # said explicitly, it is fine
    assert remap_labels(mask, {1: WATER, 0: LAND}).tolist() == [[WATER, LAND], [LAND, WATER]]
    assert Scene(np.zeros((2, 2, 3), np.float32), labels=np.where(mask, WATER, LAND)).labels.tolist() == \
        [[WATER, LAND], [LAND, WATER]]


def test_remap_labels_integer_valued_floats_are_codes():
    assert remap_labels(np.array([[1.0, 2.0], [3.0, 0.0]], np.float64)).tolist() == [[1, 2], [3, 0]]


def test_remap_labels_values_missing_from_the_map_are_listed():
    with pytest.raises(ClassCodeError, match=r"values \[2, 5\] that `label_map`") as info:
        remap_labels(np.array([0, 1, 2, 5]), {0: LAND, 1: WATER})
    assert "{0: 2, 1: 1}" in str(info.value)


def test_remap_labels_nan_is_no_label_only_when_declared():
    values = np.array([1.0, np.nan, 2.0], np.float32)
    with pytest.raises(ClassCodeError, match="nan") as info:
        remap_labels(values)
    assert "nodata=np.nan" in str(info.value)
    assert remap_labels(values, nodata=np.nan).tolist() == [1, 0, 2]
    assert remap_labels(values, {1: WATER, 2: LAND, float("nan"): NODATA}).tolist() == [1, 0, 2]
    # a masked pixel (the file's mask band) is no label whatever it holds
    assert remap_labels(np.array([1.0, 0.5]), mask=np.array([False, True])).tolist() == [1, 0]


def test_remap_labels_bad_maps():
    with pytest.raises(InvalidParameterError, match="0..255"):
        remap_labels(np.array([1]), {1: 300})
    with pytest.raises(InvalidParameterError, match="not a number"):
        remap_labels(np.array([1]), {"water": WATER})
    with pytest.raises(InvalidParameterError, match="non-empty dict"):
        remap_labels(np.array([1]), {})
    with pytest.raises(ClassCodeError, match="numbers"):
        remap_labels(np.array(["a"]))


def test_as_crs_names_the_argument():
    assert as_crs("EPSG:32633").to_epsg() == 32633
    assert as_crs(None) is None
    with pytest.raises(CRSError, match=r"`crs` 'EPSG:99999'"):
        as_crs("EPSG:99999")
    with pytest.raises(CRSError, match="`dst_crs` is None"):
        as_crs(None, name="dst_crs", allow_none=False)


def test_footprint_names_are_still_importable_from_labels():
    """Vector footprints moved to geonb.footprints; every name stays importable from geonb.labels."""
    import geonb.footprints
    import geonb.labels

    for name in geonb.labels.FOOTPRINT_NAMES:
        assert getattr(geonb.labels, name) is getattr(geonb.footprints, name)
    from geonb.labels import Footprints, rasterize_labels, signed_distance  # noqa: F401

    with pytest.raises(AttributeError, match="no_such_name"):
        geonb.labels.no_such_name  # noqa: B018
