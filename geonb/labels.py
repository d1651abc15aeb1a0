"""Class codes and label rasters.

Lakes: ``WATER = 1``, ``LAND = 2``, ``UNCLASSIFIED = 3``; ``NODATA = 0`` means "no label".
Buildings: ``BACKGROUND = 0``, ``BUILDING = 1``, ``BORDER = 2``.
No other module writes bare 1/2/3 for classes: import these names.
"""

from __future__ import annotations

import numpy as np

from geonb.errors import ClassCodeError, InvalidParameterError

# Lakes track -------------------------------------------------------------------------------
NODATA = 0
WATER = 1
LAND = 2
UNCLASSIFIED = 3

#: Class codes a lake label raster may hold (besides ``NODATA``), in one-hot channel order.
LAKE_CLASSES: tuple[int, ...] = (WATER, LAND, UNCLASSIFIED)
LAKE_CLASS_NAMES: dict[int, str] = {
    NODATA: "no data",
    WATER: "water",
    LAND: "land",
    UNCLASSIFIED: "unclassified",
}

# Buildings track ---------------------------------------------------------------------------
BACKGROUND = 0
BUILDING = 1
BORDER = 2
BUILDING_CLASSES: tuple[int, ...] = (BACKGROUND, BUILDING, BORDER)
BUILDING_CLASS_NAMES: dict[int, str] = {BACKGROUND: "background", BUILDING: "building", BORDER: "border"}


def check_class_codes(labels: np.ndarray, allowed: tuple[int, ...] = (NODATA, *LAKE_CLASSES), *,
                      name: str = "labels") -> None:
    """Raise :class:`ClassCodeError` if ``labels`` holds a code outside ``allowed``.

    Parameters
    ----------
    labels : ndarray of int, any shape
    allowed : tuple of int
        Codes that may appear.
    name : str
        Argument name used in the message.
    """
    present = np.unique(labels)
    bad = sorted(set(present.tolist()) - set(allowed))
    if bad:
        raise ClassCodeError(
            f"`{name}` holds class codes {bad} that are not among the known codes {list(allowed)}; "
            "recode the labels (water=1, land=2, unclassified=3, no label=0) or pass the codes you use "
            "as `classes=`."
        )


def one_hot(labels: np.ndarray, classes: tuple[int, ...] = LAKE_CLASSES) -> np.ndarray:
    """Encode class codes as one-hot vectors on a new last axis.

    Pixels whose code is ``NODATA`` (0) and not listed in ``classes`` get an all-zero vector,
    so they carry no weight in a categorical cross-entropy.

    Parameters
    ----------
    labels : ndarray of uint8, shape (..., )
        Class codes.
    classes : tuple of int
        Codes in channel order.

    Returns
    -------
    ndarray of float32, shape (..., len(classes))

    Examples
    --------
    >>> one_hot(np.array([[1, 2], [3, 0]], dtype=np.uint8)).shape
    (2, 2, 3)
    >>> one_hot(np.array([0, 1], dtype=np.uint8))[0].tolist()
    [0.0, 0.0, 0.0]
    """
    classes = tuple(int(c) for c in classes)
    if len(classes) == 0 or len(set(classes)) != len(classes):
        raise InvalidParameterError(f"`classes` must be distinct class codes, got {classes}")
    labels = np.asarray(labels)
    allowed = classes if NODATA in classes else (NODATA, *classes)
    check_class_codes(labels, allowed)
    lookup = np.full(max(max(allowed), int(labels.max(initial=0))) + 1, -1, dtype=np.int64)
    for i, c in enumerate(classes):
        lookup[c] = i
    idx = lookup[labels.astype(np.int64)]
    out = np.zeros(labels.shape + (len(classes),), dtype=np.float32)
    valid = idx >= 0
    out[valid, idx[valid]] = 1.0
    return out
