"""Errors raised by geonb.

Every error is a :class:`GeonbError` and also the builtin exception it refines, so a user's
``except ValueError`` (or ``FileNotFoundError``...) keeps working. Messages name the argument,
the value seen and how to fix it.
"""

from __future__ import annotations


class GeonbError(Exception):
    """Base class of every error geonb raises on purpose."""


class InvalidParameterError(GeonbError, ValueError):
    """An argument has a value geonb cannot use (wrong range, unknown name...)."""


class ShapeMismatchError(GeonbError, ValueError):
    """Arrays that must share a shape or grid do not."""


class BandMismatchError(GeonbError, ValueError):
    """Band names or band counts do not match what is expected."""


class ClassCodeError(GeonbError, ValueError):
    """A label raster holds class codes outside the known set."""


class GridMismatchError(GeonbError, ValueError):
    """Two rasters that must share a grid (shape, transform, CRS) do not."""


class CRSError(GeonbError, ValueError):
    """A coordinate reference system is missing or cannot be used."""


class RasterReadError(GeonbError, OSError):
    """A file exists but cannot be read as a raster (not a raster, truncated, corrupt)."""


class RasterWriteError(GeonbError, OSError):
    """A raster could not be written (disk full, no permission, the file system failed mid-write)."""


class DatasetNotFoundError(GeonbError, FileNotFoundError):
    """A dataset folder, catalog or file is missing."""


class CatalogError(GeonbError, ValueError):
    """A dataset catalog is malformed (duplicate ids, missing fields...)."""


class OutputExistsError(GeonbError, FileExistsError):
    """An output file exists and ``overwrite=True`` was not given."""


class ModelError(GeonbError, ValueError):
    """A model does not fit the data or cannot be built/loaded as asked."""


class DeviceError(GeonbError, RuntimeError):
    """A requested device (GPU) or backend is not available."""


class NetworkError(GeonbError, ConnectionError):
    """A remote service (STAC API, data server) cannot be reached."""


class GeoJSONError(GeonbError, ValueError):
    """A GeoJSON text or object does not parse, or holds geometry geonb cannot use."""


class CoverageError(GeonbError, ValueError):
    """Remote data does not cover a requested place or time (no acquisitions, no label tiles)."""


__all__ = [
    "BandMismatchError",
    "CRSError",
    "CatalogError",
    "ClassCodeError",
    "CoverageError",
    "DatasetNotFoundError",
    "DeviceError",
    "OutputExistsError",
    "GeoJSONError",
    "GeonbError",
    "GridMismatchError",
    "InvalidParameterError",
    "ModelError",
    "NetworkError",
    "RasterReadError",
    "RasterWriteError",
    "ShapeMismatchError",
]


class GeonbWarning(UserWarning):
    """geonb made an assumption about the data (e.g. an undeclared fill value) and says how to override it."""


__all__ += ["GeonbWarning"]
