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
