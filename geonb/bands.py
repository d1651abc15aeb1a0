"""MODIS bands: the band table, band subsets by name, composites, indices, statistics and PCA.

The band table is the one place that knows which MODIS band is which.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geonb.errors import BandMismatchError


@dataclass(frozen=True)
class Band:
    """One MODIS land band: its number, geonb name, and wavelength range in nanometres."""

    number: int
    name: str
    long_name: str
    wavelength_nm: tuple[int, int]

    @property
    def center_nm(self) -> float:
        """Centre wavelength in nanometres."""
        return (self.wavelength_nm[0] + self.wavelength_nm[1]) / 2


#: The 7 MODIS land bands (MOD09 surface reflectance), in file order (band 1 first).
MODIS_BANDS: tuple[Band, ...] = (
    Band(1, "red", "Red", (620, 670)),
    Band(2, "nir", "Near infrared (858 nm)", (841, 876)),
    Band(3, "blue", "Blue", (459, 479)),
    Band(4, "green", "Green", (545, 565)),
    Band(5, "nir2", "Near infrared (1240 nm)", (1230, 1250)),
    Band(6, "swir1", "Shortwave infrared (1640 nm)", (1628, 1652)),
    Band(7, "swir2", "Shortwave infrared (2130 nm)", (2105, 2155)),
)

#: Band names in MODIS file order.
MODIS_BAND_NAMES: tuple[str, ...] = tuple(b.name for b in MODIS_BANDS)
#: The RGB subset the study compared against all 7 bands.
RGB: tuple[str, ...] = ("red", "green", "blue")
ALL_BANDS: tuple[str, ...] = MODIS_BAND_NAMES


def band_info(name: str) -> Band:
    """Return the :class:`Band` called ``name`` (``"red"``, ``"swir1"``...)."""
    for b in MODIS_BANDS:
        if b.name == name:
            return b
    raise BandMismatchError(
        f"unknown band name {name!r}; MODIS bands are {list(MODIS_BAND_NAMES)}"
    )


def band_indices(wanted: tuple[str, ...] | list[str], available: tuple[str, ...] | list[str]) -> list[int]:
    """Positions of the bands ``wanted`` within ``available``, by name.

    Examples
    --------
    >>> band_indices(("red", "green", "blue"), MODIS_BAND_NAMES)
    [0, 3, 2]
    """
    if isinstance(wanted, str):
        wanted = (wanted,)
    available = list(available)
    missing = [w for w in wanted if w not in available]
    if missing:
        raise BandMismatchError(
            f"band(s) {missing} are not in this image; available bands are {available}. "
            "Choose bands by these names, e.g. bands=('red', 'green', 'blue')."
        )
    if len(set(wanted)) != len(wanted):
        raise BandMismatchError(f"`bands` lists a band twice: {list(wanted)}")
    return [available.index(w) for w in wanted]


def select_bands(image: np.ndarray, available: tuple[str, ...] | list[str],
                 wanted: tuple[str, ...] | list[str]) -> np.ndarray:
    """Return the bands ``wanted`` of an image ``(rows, cols, bands)`` (or patches ``(n, r, c, bands)``)."""
    image = np.asarray(image)
    if image.shape[-1] != len(available):
        raise BandMismatchError(
            f"`image` has {image.shape[-1]} bands on its last axis but {len(available)} band names "
            f"were given ({list(available)})"
        )
    return image[..., band_indices(wanted, available)]
