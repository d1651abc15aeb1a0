"""Real lakes without a login: MODIS MOD09A1 chips with JRC Global Surface Water labels, via STAC.

:func:`fetch_lakes` searches a STAC API (by default Microsoft's Planetary Computer, which needs no
account: assets are signed anonymously by the ``planetary-computer`` package) and writes each lake
into the geonb lakes layout, so every notebook works on real lakes by changing the dataset name::

    data/lakes/<dataset>/catalog.geojson, images/<id>.tif, labels/<id>.tif

For each lake it

1. searches ``modis-09A1-061`` (MODIS Terra surface reflectance, 8-day composites, 500 m) over the
   lake's bounding box and date range;
2. reads the ``sur_refl_state_500m`` QA band in the lake's window for every 8-day composite and
   keeps the clearest one (most pixels flagged clear, no cloud shadow, no internal cloud);
3. reads the window of the 7 reflectance bands ``sur_refl_b01`` ... ``sur_refl_b07`` from the
   cloud-optimised GeoTIFFs (byte-range requests over HTTP; the tiles are never downloaded whole),
   mosaicking neighbouring MODIS tiles when a lake straddles a tile edge;
4. reads the JRC Global Surface Water ``occurrence`` layer (``jrc-gsw``, 30 m) around the lake,
   marks 30 m pixels as water where water was seen in at least ``occurrence_min`` percent of the
   observations, and averages that 0/1 mask onto the MODIS grid (``rasterio.warp.reproject`` with
   ``Resampling.average``) to get the water fraction of each 500 m pixel;
5. labels each 500 m pixel ``WATER`` where the fraction is ``>= water_min``, ``LAND`` where it is
   ``<= land_max`` and ``UNCLASSIFIED`` in between: mixed shoreline pixels, where two sources
   would disagree, the meaning the study's third class had.

Asset keys, scale factors and nodata values come from the collections' ``item_assets`` and the
items' ``raster:bands`` metadata where the API provides them; the documented MODIS and JRC
values below are the fall-backs.

Every chip is cached under ``<root>/../cache/stac/<key>/`` with a key that hashes the request
(lake, box, dates, thresholds, collections, API), so re-running a notebook reads the cache and
needs no network at all. Files are written atomically; a chip that fails leaves no files and no
catalog entry.

The network is reached only inside :func:`fetch_lakes`; tests use a local STAC stub
(``tests/stac_server.py``) and ``signer=None``.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import math
import os
import shutil
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from geonb.bands import MODIS_BAND_NAMES
from geonb.errors import (
    BandMismatchError,
    CatalogError,
    CoverageError,
    DatasetNotFoundError,
    GridMismatchError,
    InvalidParameterError,
    NetworkError,
    OutputExistsError,
    RasterReadError,
)
from geonb.io import write_json_atomic
from geonb.labels import LAND, NODATA, UNCLASSIFIED, WATER

# -------------------------------------------------------------------------------------------
# Documented defaults
# -------------------------------------------------------------------------------------------
#: Microsoft Planetary Computer STAC API: anonymous access, assets signed by ``planetary-computer``.
DEFAULT_STAC_URL = "https://planetarycomputer.microsoft.com/api/stac/v1"
#: MODIS Terra surface reflectance, 8-day L3 global 500 m, version 6.1.
MODIS_COLLECTION = "modis-09A1-061"
#: JRC Global Surface Water (Pekel et al. 2016), 30 m, 1984-2021.
JRC_COLLECTION = "jrc-gsw"
#: geonb band name -> MOD09A1 asset key (checked against the collection's ``item_assets``).
MODIS_BAND_ASSETS: dict[str, str] = {name: f"sur_refl_b{i:02d}" for i, name in enumerate(MODIS_BAND_NAMES, 1)}
#: The 500 m state QA asset used to pick the clearest composite.
MODIS_STATE_ASSET = "sur_refl_state_500m"
#: The JRC layer used for labels: percent of valid observations in which water was seen.
JRC_OCCURRENCE_ASSET = "occurrence"
#: Fall-backs when neither ``raster:bands`` metadata nor the file say otherwise (MOD09 user guide,
#: JRC GSW data users guide).
MODIS_DEFAULT_SCALE = 0.0001
MODIS_DEFAULT_FILL = -28672
MODIS_STATE_DEFAULT_FILL = 65535
JRC_DEFAULT_NODATA = 255
#: A 30 m pixel is water when water was seen in at least this percent of observations (JRC occurrence).
OCCURRENCE_MIN = 50.0
#: A 500 m pixel is WATER when at least this fraction of its 30 m pixels is water ...
WATER_MIN = 0.8
#: ... LAND when at most this fraction is water, and UNCLASSIFIED in between.
LAND_MAX = 0.2
#: Default date range: a northern summer (ice-free for most lakes, 12 composites to choose from).
DEFAULT_START = "2020-06-01"
DEFAULT_END = "2020-08-31"
#: Chip side for a built-in lake: 1.6 x sqrt(area), kept within these bounds (km).
CHIP_SIDE_KM = (15.0, 200.0)
#: Largest chip accepted, in MODIS pixels per side.
MAX_CHIP_PX = 512
#: Largest label read per side, in label pixels; larger windows are read decimated (from overviews).
MAX_LABEL_PX = 4096
#: Share of lakes per split when lakes are assigned to splits by a stable hash of their id.
SPLIT_FRACTIONS = {"train": 0.7, "val": 0.15, "test": 0.15}

LICENCE_NOTES = {
    "modis": ("MOD09A1 v6.1 (Vermote, NASA LP DAAC, doi:10.5067/MODIS/MOD09A1.061): no restrictions on "
              "subsequent use, sale or redistribution."),
    "jrc": ("JRC Global Surface Water (Pekel et al. 2016, Nature 540:418-422; EC JRC/Google): free to use "
            "with attribution; cite the source."),
}
SOURCE = "MODIS MOD09A1 v6.1 + JRC Global Surface Water occurrence (STAC)"

_OFFLINE_HINT = "the stand-in dataset `lakes-synthetic` works offline"


# -------------------------------------------------------------------------------------------
# Lakes to fetch
# -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LakeRequest:
    """One lake to fetch: a name, an id for files, and a WGS84 box ``(west, south, east, north)``."""

    name: str
    id: str
    bbox: tuple[float, float, float, float]
    climate: str = "unknown"

    @property
    def lat(self) -> float:
        return (self.bbox[1] + self.bbox[3]) / 2

    @property
    def lon(self) -> float:
        return (self.bbox[0] + self.bbox[2]) / 2


def check_bbox(bbox: Sequence[float], name: str = "bbox") -> tuple[float, float, float, float]:
    """Validate a WGS84 box ``(west, south, east, north)`` in degrees and return it as floats.

    Examples
    --------
    >>> check_bbox([32.5, -1.5, 33.5, -0.5])
    (32.5, -1.5, 33.5, -0.5)
    """
    try:
        west, south, east, north = (float(v) for v in bbox)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"`{name}` must be 4 numbers (west, south, east, north) in degrees, got {bbox!r}"
        ) from exc
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise InvalidParameterError(f"`{name}` holds a non-finite number: {bbox!r}")
    if not (-90 <= south <= 90 and -90 <= north <= 90):
        raise InvalidParameterError(
            f"`{name}` latitudes must lie in [-90, 90], got south={south}, north={north}; "
            "give (west, south, east, north) in degrees (longitude first)"
        )
    if not (-180 <= west <= 180 and -180 <= east <= 180):
        raise InvalidParameterError(
            f"`{name}` longitudes must lie in [-180, 180], got west={west}, east={east}"
        )
    if west >= east or south >= north:
        raise InvalidParameterError(
            f"`{name}` must have west < east and south < north, got {bbox!r}; "
            "the order is (west, south, east, north) (boxes across the antimeridian are not supported)"
        )
    return west, south, east, north


def _slugify(name: str) -> str:
    from geonb.datasets.places import slugify

    return slugify(name) or "lake"


def _box_around(lat: float, lon: float, side_km: float) -> tuple[float, float, float, float]:
    half_lat = side_km / 2 / 111.32
    half_lon = side_km / 2 / (111.32 * max(math.cos(math.radians(lat)), 0.05))
    return check_bbox((max(lon - half_lon, -180), max(lat - half_lat, -90),
                       min(lon + half_lon, 180), min(lat + half_lat, 90)))


def find_lake(name: str) -> Any:
    """The built-in place called ``name`` (name or slug, case-insensitive); close names suggested.

    Raises
    ------
    InvalidParameterError
        For an unknown name, listing the closest built-in names.
    """
    from geonb.datasets.places import PLACES

    key = str(name).strip().lower()
    for p in PLACES:
        if key in (p.name.lower(), p.slug):
            return p
    names = [p.name for p in PLACES]
    close = difflib.get_close_matches(str(name), names, n=3, cutoff=0.5)
    close += [n for n in difflib.get_close_matches(key, [n.lower() for n in names], n=3, cutoff=0.5)
              for n in [names[[m.lower() for m in names].index(n)]] if n not in close]
    hint = f"did you mean {', '.join(repr(c) for c in close[:3])}? " if close else ""
    raise InvalidParameterError(
        f"unknown lake {name!r}; {hint}Built-in names are listed by "
        "geonb.datasets.places.places_table(); for another lake pass (name, (west, south, east, north))."
    )


def _named_box(name: str, bbox: Sequence[float]) -> LakeRequest:
    """A lake by name and box; a built-in name keeps its id and climate."""
    box = check_bbox(bbox)
    try:
        place = find_lake(name)
    except InvalidParameterError:
        return LakeRequest(name, _slugify(name), box)
    return LakeRequest(place.name, place.slug, box, place.climate)


def parse_lakes(lakes: str | tuple | Sequence, bbox: Sequence[float] | None = None) -> list[LakeRequest]:
    """Turn the ``lakes`` argument of :func:`fetch_lakes` into a list of :class:`LakeRequest`.

    ``lakes`` is a built-in lake name, a ``(name, (west, south, east, north))`` pair, or a list of
    these. ``bbox`` replaces the built-in box of a single lake.

    Examples
    --------
    >>> [r.id for r in parse_lakes(["Lake Geneva", ("Our pond", (10.0, 50.0, 10.1, 50.1))])]
    ['geneva', 'our-pond']
    """
    if isinstance(lakes, str) or (isinstance(lakes, tuple) and len(lakes) == 2 and isinstance(lakes[0], str)
                                  and not isinstance(lakes[1], str)):
        lakes = [lakes]
    try:
        specs = list(lakes)
    except TypeError as exc:
        raise InvalidParameterError(
            f"`lakes` must be a lake name, a (name, bbox) pair or a list of them, got {lakes!r}"
        ) from exc
    if not specs:
        raise InvalidParameterError("`lakes` is empty; give at least one lake name or (name, bbox)")
    if bbox is not None and len(specs) != 1:
        raise InvalidParameterError(
            f"`bbox` applies to a single lake but {len(specs)} lakes were given; pass (name, bbox) pairs instead"
        )
    out: list[LakeRequest] = []
    for spec in specs:
        if isinstance(spec, str):
            if bbox is None:
                place = find_lake(spec)
                side = float(np.clip(1.6 * math.sqrt(place.area_km2), *CHIP_SIDE_KM))
                out.append(LakeRequest(place.name, place.slug, _box_around(place.lat, place.lon, side),
                                       place.climate))
            else:  # any name will do with an explicit box
                out.append(_named_box(spec, bbox))
        elif isinstance(spec, (tuple, list)) and len(spec) == 2 and isinstance(spec[0], str):
            out.append(_named_box(spec[0], bbox if bbox is not None else spec[1]))
        else:
            raise InvalidParameterError(
                f"`lakes` entry {spec!r} is neither a lake name nor a (name, (west, south, east, north)) pair"
            )
    ids = [r.id for r in out]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise InvalidParameterError(f"`lakes` names the same lake id twice: {dup}; give each lake once")
    return out


def _check_date(value: str | date, name: str) -> str:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError as exc:
        raise InvalidParameterError(f"`{name}` must be a date 'YYYY-MM-DD', got {value!r}") from exc


# -------------------------------------------------------------------------------------------
# Pure helpers: QA bits, labels, request keys, splits
# -------------------------------------------------------------------------------------------
def clear_mask(state: np.ndarray) -> np.ndarray:
    """Pixels that MOD09A1's ``sur_refl_state_500m`` flags as clear.

    Clear means cloud state (bits 0-1) "clear" or "not set, assumed clear", no cloud shadow
    (bit 2) and no internal cloud flag (bit 10) (MOD09 user guide, table 13).

    Parameters
    ----------
    state : ndarray of uint16, shape (rows, cols)

    Returns
    -------
    ndarray of bool, shape (rows, cols)

    Examples
    --------
    >>> clear_mask(np.array([0, 1, 2, 3, 4, 1024], dtype=np.uint16)).tolist()
    [True, False, False, True, False, False]
    """
    s = np.asarray(state).astype(np.uint32)
    cloud = s & 0b11
    return ((cloud == 0) | (cloud == 3)) & ((s >> 2) & 1 == 0) & ((s >> 10) & 1 == 0)


def snow_mask(state: np.ndarray) -> np.ndarray:
    """Pixels flagged snow or ice (MOD35 snow/ice bit 12 or internal snow mask bit 15)."""
    s = np.asarray(state).astype(np.uint32)
    return ((s >> 12) & 1 == 1) | ((s >> 15) & 1 == 1)


def classify_water_fraction(fraction: np.ndarray, water_min: float = WATER_MIN,
                            land_max: float = LAND_MAX) -> np.ndarray:
    """Class codes from the water fraction of each pixel.

    Parameters
    ----------
    fraction : ndarray of float, shape (rows, cols)
        Fraction of each pixel covered by water, in [0, 1]; NaN where unknown.
    water_min, land_max : float
        ``WATER`` where ``fraction >= water_min``, ``LAND`` where ``fraction <= land_max``,
        ``UNCLASSIFIED`` in between, ``NODATA`` where NaN. Equal thresholds give water/land only.

    Returns
    -------
    ndarray of uint8, shape (rows, cols)

    Examples
    --------
    >>> classify_water_fraction(np.array([1.0, 0.5, 0.0, np.nan])).tolist()
    [1, 3, 2, 0]
    """
    _check_thresholds(water_min, land_max)
    try:
        f = np.asarray(fraction, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"`fraction` must be an array of water fractions in [0, 1] (NaN where unknown), got {fraction!r}"
        ) from exc
    known = np.isfinite(f)
    # A resampled average may land a rounding error outside [0, 1]; that still classifies correctly.
    outside = known & ((f < -1e-6) | (f > 1.0 + 1e-6))
    if outside.any() or np.isinf(f).any():
        bad = np.unique(f[outside | np.isinf(f)])
        raise InvalidParameterError(
            f"`fraction` must hold water fractions in [0, 1] (NaN where unknown), found {bad[:5].tolist()}"
            f"{' ...' if bad.size > 5 else ''}; a percentage (0-100) must be divided by 100 first"
        )
    out = np.full(f.shape, NODATA, dtype=np.uint8)
    out[known] = UNCLASSIFIED
    out[known & (f <= land_max)] = LAND
    out[known & (f >= water_min)] = WATER
    return out


def _check_thresholds(water_min: float, land_max: float, occurrence_min: float | None = None) -> None:
    if not (0.0 <= land_max <= water_min <= 1.0) or (land_max == water_min == 0.0):
        raise InvalidParameterError(
            f"thresholds must satisfy 0 <= land_max <= water_min <= 1 (and water_min > 0), got "
            f"land_max={land_max}, water_min={water_min}; defaults are land_max={LAND_MAX}, water_min={WATER_MIN}"
        )
    if occurrence_min is not None and not (0.0 < occurrence_min <= 100.0):
        raise InvalidParameterError(
            f"`occurrence_min` is a percentage in (0, 100], got {occurrence_min}; default {OCCURRENCE_MIN}"
        )


def request_key(lake: LakeRequest, **settings: Any) -> str:
    """A short stable hash of everything that determines a chip (the cache key).

    Examples
    --------
    >>> r = LakeRequest("Our pond", "our-pond", (10.0, 50.0, 10.1, 50.1))
    >>> request_key(r, start="2020-06-01") == request_key(r, start="2020-06-01")
    True
    >>> request_key(r, start="2020-06-01") == request_key(r, start="2020-06-02")
    False
    """
    payload = {"id": lake.id, "name": lake.name, "bbox": [round(v, 6) for v in lake.bbox], **settings}
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def split_for(lake_id: str, fractions: dict[str, float] | None = None) -> str:
    """A split for a lake, from a stable hash of its id (adding lakes never moves others).

    Examples
    --------
    >>> split_for("victoria") == split_for("victoria")
    True
    >>> split_for("victoria") in ("train", "val", "test")
    True
    """
    from geonb.datasets.synthetic import check_split_fractions

    if not isinstance(lake_id, str) or not lake_id:
        raise InvalidParameterError(f"`lake_id` must be a non-empty string, got {lake_id!r}")
    fractions = check_split_fractions(SPLIT_FRACTIONS if fractions is None else fractions)
    u = int(hashlib.sha256(lake_id.encode()).hexdigest()[:8], 16) / 16**8
    acc = 0.0
    for name, share in fractions.items():
        acc += share
        if u < acc:
            return name
    return list(fractions)[-1]


# -------------------------------------------------------------------------------------------
# STAC access
# -------------------------------------------------------------------------------------------
def sign_planetary_computer(obj: Any) -> None:
    """Sign Planetary Computer asset URLs in place (anonymous SAS tokens); the default ``signer``."""
    import planetary_computer

    planetary_computer.sign_inplace(obj)


@dataclass
class _Remote:
    """A pystac-client ``Client`` with retries, and the error messages a user needs."""

    url: str
    signer: Callable | None
    retries: int
    backoff_s: float
    timeout_s: float
    _client: Any = None
    _meta: dict = field(default_factory=dict)

    def _fail(self, exc: Exception, what: str) -> Exception:
        status = getattr(exc, "status_code", None)
        if status is None:
            return NetworkError(f"cannot reach the STAC API at {self.url} ({_short(exc)}) while {what}; "
                                f"check the network or try again later; {_OFFLINE_HINT}")
        return NetworkError(f"the STAC API at {self.url} answered HTTP {status} while {what}: "
                            f"{_short(exc)}; try again later; {_OFFLINE_HINT}")

    @property
    def client(self):
        if self._client is None:
            from pystac_client import Client
            from pystac_client.exceptions import APIError
            from pystac_client.stac_api_io import StacApiIO
            from urllib3.util.retry import Retry

            # urllib3 retries connection errors and 5xx answers with exponential backoff
            # (backoff_s, 2 x backoff_s, ...), for POST searches too.
            retry = Retry(total=self.retries, backoff_factor=self.backoff_s, allowed_methods=None,
                          status_forcelist=(429, 500, 502, 503, 504), raise_on_status=True)
            io = StacApiIO(max_retries=retry, timeout=(min(10.0, self.timeout_s), self.timeout_s))
            try:
                self._client = Client.open(self.url, modifier=self.signer, stac_io=io)
            except APIError as exc:
                raise self._fail(exc, "opening the catalog") from exc
            except Exception as exc:  # a URL that is not a STAC API, a signer that needs the network
                raise NetworkError(f"cannot reach the STAC API at {self.url} ({_short(exc)}); {_OFFLINE_HINT}"
                                   ) from exc
        return self._client

    def collection_meta(self, collection_id: str) -> dict:
        """The collection as a dict (``item_assets``, ``license``...)."""
        if collection_id not in self._meta:
            from pystac_client.exceptions import APIError

            try:
                col = self.client.get_collection(collection_id)  # None when the API answers 404
            except APIError as exc:
                raise self._fail(exc, f"reading collection {collection_id!r}") from exc
            if col is None:
                raise DatasetNotFoundError(
                    f"the STAC API at {self.url} has no collection {collection_id!r}; "
                    "use the Planetary Computer (the default `stac_url`) or an API that serves it"
                )
            self._meta[collection_id] = col.to_dict()
        return self._meta[collection_id]

    def search(self, collection_id: str, bbox: Sequence[float], datetime_range: str | None = None) -> list:
        from pystac_client.exceptions import APIError

        try:
            search = self.client.search(collections=[collection_id], bbox=list(bbox), datetime=datetime_range,
                                        limit=100)
            return list(search.item_collection())
        except APIError as exc:
            raise self._fail(exc, f"searching {collection_id!r}") from exc
        except (OSError, ValueError) as exc:  # requests' errors are OSErrors; bad JSON is a ValueError
            raise NetworkError(f"cannot reach the STAC API at {self.url} ({_short(exc)}) while searching "
                               f"{collection_id!r}; {_OFFLINE_HINT}") from exc


def _short(exc: Exception, n: int = 160) -> str:
    """A one-line reason for a network error (requests/urllib3/GDAL messages are long)."""
    text = str(exc).strip()
    for needles, reason in ((("NameResolutionError", "Failed to resolve", "Could not resolve"),
                             "the host name could not be resolved: no internet?"),
                            (("Connection refused", "Couldn't connect"), "connection refused"),
                            (("timed out", "Timeout"), "timed out"),
                            (("too many 5", "too many 429"), "the server kept answering with errors")):
        if any(k in text for k in needles):
            return reason
    text = text.splitlines()[0] if text else type(exc).__name__
    return text if len(text) <= n else text[:n] + "..."


def _band_meta(item_assets: dict, asset: Any) -> dict:
    """``raster:bands[0]`` (or STAC 1.1 ``bands[0]``) of an item asset, else of the collection's item_assets."""
    for src in (getattr(asset, "extra_fields", None) or {}, item_assets or {}):
        bands = src.get("raster:bands") or src.get("bands")
        if bands and isinstance(bands[0], dict):
            return bands[0]
        if "nodata" in src or "raster:nodata" in src:
            return {"nodata": src.get("nodata", src.get("raster:nodata"))}
    return {}


def _asset_keys_check(item_assets: dict, wanted: Sequence[str], collection: str) -> None:
    if item_assets:
        missing = [k for k in wanted if k not in item_assets]
        if missing:
            raise BandMismatchError(
                f"collection {collection!r} does not list assets {missing} in its item_assets "
                f"(it has {sorted(item_assets)}); pass `band_assets=` with its asset keys"
            )


def _platform(item) -> str:
    """``terra`` or ``aqua`` from the item's ``platform`` property, else from its id (MOD... / MYD...)."""
    plat = str(item.properties.get("platform") or "").lower()
    if plat:
        return plat
    return {"MOD": "terra", "MYD": "aqua"}.get(item.id[:3].upper(), "unknown")


def _acquired(item) -> tuple[str, str]:
    p = item.properties
    start = p.get("start_datetime") or p.get("datetime") or ""
    end = p.get("end_datetime") or start
    return str(start)[:10], str(end)[:10]


# -------------------------------------------------------------------------------------------
# Window reads on a shared pixel grid
# -------------------------------------------------------------------------------------------
def _gdal_env(retries: int, backoff_s: float, timeout_s: float):
    import rasterio

    # GDAL retries 429/5xx answers itself, doubling the delay each time.
    return rasterio.Env(GDAL_HTTP_MAX_RETRY=str(retries), GDAL_HTTP_RETRY_DELAY=str(max(backoff_s, 0.001)),
                        GDAL_HTTP_TIMEOUT=str(max(int(math.ceil(timeout_s)), 1)),
                        GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR", GDAL_HTTP_MERGE_CONSECUTIVE_RANGES="YES")


def _strip_query(href: str) -> str:
    return href.split("?", 1)[0]


def _open_remote(href: str, what: str):
    import rasterio
    from rasterio.errors import RasterioIOError

    try:
        return rasterio.open(href)
    except RasterioIOError as exc:
        raise _read_error(exc, href, what) from exc


def _read_error(exc: Exception, href: str, what: str) -> Exception:
    text = str(exc)
    url = _strip_query(href)
    if any(s in text for s in ("HTTP response code: 5", "HTTP error code: 5", "timed out", "Timeout",
                               "Couldn't connect", "Could not resolve", "Connection refused")):
        return NetworkError(f"could not read {what} from {url} ({_short(exc)}) after retries; the server may be "
                            f"busy: try again later; {_OFFLINE_HINT}")
    return RasterReadError(f"could not read {what} from {url} ({_short(exc)}); the asset may have moved: "
                           "run again (signed URLs expire after about an hour)")


@dataclass(frozen=True)
class _Grid:
    """A pixel grid: CRS, north-up transform and shape ``(rows, cols)``."""

    crs: Any
    transform: Any
    shape: tuple[int, int]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        from rasterio.transform import array_bounds

        west, south, east, north = array_bounds(*self.shape, self.transform)
        return west, south, east, north


def _snap_grid(ref, bounds: Sequence[float], crs) -> _Grid:
    """The window of ``ref``'s pixel grid (a rasterio dataset) that covers ``bounds`` (in ``crs``)."""
    from rasterio.warp import transform_bounds
    from rasterio.windows import Window, from_bounds
    from rasterio.windows import transform as window_transform

    t = ref.transform
    if t.b != 0 or t.d != 0 or t.e >= 0:
        raise GridMismatchError(f"{ref.name!r} is not north-up; geonb reads north-up grids only")
    win = from_bounds(*transform_bounds(crs, ref.crs, *bounds, densify_pts=21), transform=t)
    # Whole pixels, edges pushed outwards (a hair of tolerance: a box edge on a pixel edge stays there).
    c0, r0 = math.floor(win.col_off + 1e-9), math.floor(win.row_off + 1e-9)
    c1, r1 = math.ceil(win.col_off + win.width - 1e-9), math.ceil(win.row_off + win.height - 1e-9)
    snapped = Window(c0, r0, max(c1 - c0, 1), max(r1 - r0, 1))
    return _Grid(ref.crs, window_transform(snapped, t), (int(snapped.height), int(snapped.width)))


def _check_on_grid(ds, grid: _Grid, step: int) -> None:
    """``ds`` has ``grid``'s CRS, a pixel ``step`` times finer, and pixel edges on the grid's."""
    from rasterio.windows import from_bounds

    t = ds.transform
    a, e = grid.transform.a / step, grid.transform.e / step
    if not (math.isclose(t.a, a, rel_tol=1e-6) and math.isclose(t.e, e, rel_tol=1e-6)) or ds.crs != grid.crs:
        raise GridMismatchError(
            f"tile {_strip_query(ds.name)!r} has pixel size ({t.a}, {t.e}) in {ds.crs}, the chip grid "
            f"({a}, {e}) in {grid.crs}; the tiles of one collection must share a grid"
        )
    win = from_bounds(*grid.bounds, transform=t)
    if abs(win.col_off - round(win.col_off)) > 1e-3 or abs(win.row_off - round(win.row_off)) > 1e-3:
        raise GridMismatchError(f"tile {_strip_query(ds.name)!r} is not aligned on the chip grid")


def _merge_onto(datasets: list, grid: _Grid, fill: float, step: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Band 1 of neighbouring tiles (open rasterio datasets) mosaicked onto ``grid`` with :func:`rasterio.merge.merge`.

    Only the windows of the tiles under ``grid`` are read. ``step`` > 1: ``grid`` is ``step`` times
    coarser than the tiles, which are decimated (nearest: every ``step``-th pixel).

    Returns
    -------
    values : ndarray of float64, shape ``grid.shape``
        ``fill`` where no tile has data.
    valid : ndarray of bool, shape ``grid.shape``
        Covered by a tile, and not ``fill`` (nor the tiles' own nodata).
    """
    import contextlib

    from rasterio.enums import Resampling
    from rasterio.vrt import WarpedVRT

    for ds in datasets:
        _check_on_grid(ds, grid, step)
    with contextlib.ExitStack() as stack:
        # merge masks each tile with the file's own nodata tag; the catalogue's value (`fill`) is the one that
        # counts: a tile tagged 0 whose catalogue says 255 keeps its 0s (JRC occurrence 0 is valid land)
        sources = [ds if _same_nodata(ds.nodata, fill) else stack.enter_context(
            WarpedVRT(ds, src_nodata=fill, nodata=fill, crs=ds.crs, transform=ds.transform, width=ds.width,
                      height=ds.height, resampling=Resampling.nearest)) for ds in datasets]
        return _merge_sources(sources, grid, fill)


def _same_nodata(tag, fill: float) -> bool:
    if tag is None:  # no tag: merge masks nothing, and `valid` below compares with `fill`
        return True
    return bool(tag == fill or (np.isnan(tag) and np.isnan(fill)))


def _merge_sources(datasets: list, grid: _Grid, fill: float) -> tuple[np.ndarray, np.ndarray]:
    from rasterio.enums import Resampling
    from rasterio.merge import merge

    merged, _ = merge(datasets, bounds=grid.bounds, res=(grid.transform.a, -grid.transform.e), nodata=fill,
                      dtype="float64", indexes=[1], resampling=Resampling.nearest, method="first")
    values = merged[0]
    if values.shape != grid.shape:  # merge rounds the bounds to whole pixels of `res`: they are whole already
        raise GridMismatchError(f"the mosaic has shape {values.shape}, the chip grid {grid.shape}")
    valid = ~np.isnan(values) if np.isnan(fill) else values != fill
    return values, valid


# -------------------------------------------------------------------------------------------
# One chip
# -------------------------------------------------------------------------------------------
@dataclass
class _Settings:
    start: str
    end: str
    water_min: float
    land_max: float
    occurrence_min: float
    band_assets: dict[str, str]
    state_asset: str
    label_asset: str
    modis_collection: str
    jrc_collection: str
    max_chip_px: int
    max_label_px: int
    progress: bool
    platforms: tuple[str, ...] = ("terra",)

    def key_fields(self, stac_url: str) -> dict:
        return {"start": self.start, "end": self.end, "water_min": self.water_min, "land_max": self.land_max,
                "occurrence_min": self.occurrence_min, "band_assets": self.band_assets,
                "state_asset": self.state_asset, "label_asset": self.label_asset,
                "collections": [self.modis_collection, self.jrc_collection], "stac_url": stac_url,
                "platforms": list(self.platforms)}


def _mosaic(items: list, key: str, grid: _Grid, collection_asset: dict, default_fill: float, *,
            step: int = 1, bar=None) -> tuple[np.ndarray, np.ndarray, dict]:
    """Read asset ``key`` of ``items`` (neighbouring tiles) onto ``grid``: one window read per tile.

    Returns
    -------
    values : ndarray of float64, shape ``grid.shape``
        Raw (unscaled) values; 0 where invalid.
    valid : ndarray of bool, shape ``grid.shape``
        Covered by a tile and not the asset's nodata value.
    meta : dict
        ``nodata``, ``scale`` and ``offset`` as found in ``raster:bands`` metadata, else in the file,
        else ``default_fill`` / ``None`` / 0.
    """
    from rasterio.errors import RasterioIOError

    meta: dict = {}
    with contextlib.ExitStack() as stack:
        datasets = []
        for it in items:
            asset = it.assets[key]
            ds = stack.enter_context(_open_remote(asset.href, f"{key} of {it.id}"))
            band = _band_meta(collection_asset, asset)
            fill = band.get("nodata", ds.nodata if ds.nodata is not None else default_fill)
            file_scale = ds.scales[0] if ds.scales and ds.scales[0] not in (None, 1.0) else None
            meta = {"nodata": fill, "scale": band.get("scale", file_scale),
                    "offset": float(band.get("offset", 0.0) or 0.0)}
            datasets.append(ds)
        try:
            values, valid = _merge_onto(datasets, grid, float(meta["nodata"]), step)
        except RasterioIOError as exc:
            raise _read_error(exc, items[0].assets[key].href, f"{key} of {[it.id for it in items]}") from exc
    if bar is not None:
        bar.update(len(items))
    values[~valid] = 0.0
    return values, valid, meta


def _search_modis(remote: _Remote, lake: LakeRequest, cfg: _Settings) -> dict[tuple[str, str, str], list]:
    """MODIS items over the lake, checked for their assets, grouped by composite (start, end, platform)."""
    item_assets = remote.collection_meta(cfg.modis_collection).get("item_assets") or {}
    wanted = [*cfg.band_assets.values(), cfg.state_asset]
    _asset_keys_check(item_assets, wanted, cfg.modis_collection)
    found = remote.search(cfg.modis_collection, lake.bbox, f"{cfg.start}/{cfg.end}")
    # The collection holds Terra (MOD09A1) and Aqua (MYD09A1) composites; keep the platforms asked for.
    items = [it for it in found if _platform(it) in cfg.platforms or _platform(it) == "unknown"]
    if not items:
        raise CoverageError(
            f"no {cfg.modis_collection} acquisitions for {lake.name!r} between {cfg.start} and {cfg.end} "
            f"over bbox {lake.bbox} from platforms {list(cfg.platforms)} ({len(found)} item(s) from other "
            "platforms); widen the dates (MOD09A1 is an 8-day composite: give at least 8 days), check the box, "
            "or pass platforms=('terra', 'aqua')"
        )
    for it in items:
        missing = [k for k in wanted if k not in it.assets]
        if missing:
            raise BandMismatchError(
                f"item {it.id!r} of {cfg.modis_collection!r} has no assets {missing} (it has "
                f"{sorted(it.assets)}); the collection may have changed: pass `band_assets=` with its keys"
            )
    groups: dict[tuple[str, str, str], list] = {}
    for it in items:
        groups.setdefault((*_acquired(it), _platform(it)), []).append(it)
    return dict(sorted(groups.items()))


def _choose_clearest(groups: dict, grid: _Grid, cfg: _Settings, item_assets: dict, bar) -> dict:
    """Score each composite by its clear share in the lake's window (QA reads only); return the best."""
    best = None
    for composite_key, items in groups.items():
        state, valid, _ = _mosaic(items, cfg.state_asset, grid, item_assets.get(cfg.state_asset, {}),
                                  MODIS_STATE_DEFAULT_FILL, bar=bar)
        state = state.astype(np.uint16)
        clear = float((clear_mask(state) & valid).sum() / max(valid.sum(), 1))
        score = clear * float(valid.mean())  # a composite that misses part of the lake scores lower
        if best is None or score > best["score"]:  # ties: the earliest composite
            best = {"score": score, "clear": clear, "key": composite_key, "items": items, "state": state,
                    "valid": valid}
    return best


def _read_reflectance(items: list, grid: _Grid, cfg: _Settings, item_assets: dict, bar):
    """The reflectance bands of one composite in the lake's window: ``(image, nodata_mask)``."""
    image = np.zeros((*grid.shape, len(cfg.band_assets)), dtype=np.float32)
    nodata = np.zeros(grid.shape, dtype=bool)
    for b, key in enumerate(cfg.band_assets.values()):
        raw, valid, meta = _mosaic(items, key, grid, item_assets.get(key, {}), MODIS_DEFAULT_FILL, bar=bar)
        scale = meta["scale"] if meta.get("scale") is not None else MODIS_DEFAULT_SCALE
        image[:, :, b] = raw * float(scale) + meta.get("offset", 0.0)
        nodata |= ~valid
    image[nodata] = 0.0
    return image, nodata


def _fetch_chip(remote: _Remote, lake: LakeRequest, cfg: _Settings) -> tuple[Any, dict]:
    """Search, choose, read and label one lake; returns ``(Scene, properties)``. Reads only windows."""
    from rasterio.warp import transform_bounds
    from tqdm.auto import tqdm

    from geonb.scene import Scene

    modis_meta = remote.collection_meta(cfg.modis_collection)
    item_assets = modis_meta.get("item_assets") or {}
    groups = _search_modis(remote, lake, cfg)
    first = next(iter(groups.values()))[0]
    with _gdal_env(remote.retries, remote.backoff_s, remote.timeout_s):
        # The chip grid: the window of the MODIS grid around the box (all tiles share that grid).
        with _open_remote(first.assets[cfg.band_assets["red"]].href, f"{cfg.band_assets['red']} of {first.id}") as ref:
            grid = _snap_grid(ref, lake.bbox, "EPSG:4326")
        if max(grid.shape) > cfg.max_chip_px:
            raise InvalidParameterError(
                f"the box of {lake.name!r} {lake.bbox} is {grid.shape[0]} x {grid.shape[1]} MODIS pixels, more "
                f"than `max_chip_px`={cfg.max_chip_px}; give a smaller box or raise max_chip_px"
            )
        n_reads = sum(len(v) for v in groups.values()) + len(cfg.band_assets) * max(len(v) for v in groups.values())
        bar = tqdm(total=n_reads, desc=f"{lake.name}: read", leave=False, disable=not cfg.progress, unit="read")
        try:
            best = _choose_clearest(groups, grid, cfg, item_assets, bar)
            image, nodata = _read_reflectance(best["items"], grid, cfg, item_assets, bar)
        finally:
            bar.close()
        chip_wgs84 = transform_bounds(grid.crs, "EPSG:4326", *grid.bounds, densify_pts=21)
        labels, jrc_ids = _label_chip(remote, lake, grid, chip_wgs84, cfg)

    labels[nodata] = NODATA
    labelled = max(int((labels != NODATA).sum()), 1)
    n_water = int((labels == WATER).sum())
    snow = float((snow_mask(best["state"]) & best["valid"] & (labels == WATER)).sum() / max(n_water, 1))
    condition = "frozen" if snow > 0.5 else ("cloudy" if best["clear"] < 0.9 else "clear")
    start, end, platform = best["key"]
    props = {
        "name": lake.name, "lat": round(lake.lat, 5), "lon": round(lake.lon, 5),
        "rows": int(grid.shape[0]), "cols": int(grid.shape[1]), "water_fraction": round(n_water / labelled, 4),
        "unclassified_fraction": round(float((labels == UNCLASSIFIED).sum() / labelled), 4),
        "nodata_fraction": round(float(nodata.mean()), 4),
        "condition": condition, "climate": lake.climate, "source": SOURCE,
        "clear_fraction": round(best["clear"], 4), "snow_fraction": round(snow, 4),
        "acquired_start": start, "acquired_end": end, "platform": platform,
        "request_start": cfg.start, "request_end": cfg.end, "bbox_wgs84": list(lake.bbox),
        "modis_collection": cfg.modis_collection, "modis_items": [it.id for it in best["items"]],
        "modis_candidates": len(groups),
        "jrc_collection": cfg.jrc_collection, "jrc_items": jrc_ids,
        "water_min": cfg.water_min, "land_max": cfg.land_max, "occurrence_min": cfg.occurrence_min,
        "modis_license": modis_meta.get("license", "proprietary"),
        "jrc_license": remote.collection_meta(cfg.jrc_collection).get("license", "proprietary"),
        "licence_notes": f"{LICENCE_NOTES['modis']} {LICENCE_NOTES['jrc']}",
        "footprint_wgs84": [round(v, 6) for v in chip_wgs84],
    }
    scene = Scene(image=image, labels=labels, band_names=tuple(cfg.band_assets), crs=grid.crs,
                  transform=grid.transform, nodata_mask=nodata, name=lake.name, properties=props)
    return scene, props


def _label_grid(ref, chip_wgs84, max_px: int) -> tuple[_Grid, int]:
    """The label tiles' grid around the chip (1 pixel margin), decimated by ``step`` if larger than ``max_px``."""
    from affine import Affine

    g = _snap_grid(ref, chip_wgs84, "EPSG:4326")
    # A 1 pixel margin so the average sees every label pixel under the chip's border pixels.
    g = _Grid(g.crs, g.transform * Affine.translation(-1, -1), (g.shape[0] + 2, g.shape[1] + 2))
    step = max(1, math.ceil(max(g.shape) / max_px))
    if step > 1:
        g = _Grid(g.crs, g.transform * Affine.scale(step), (math.ceil(g.shape[0] / step), math.ceil(g.shape[1] / step)))
    return g, step


def _label_chip(remote: _Remote, lake: LakeRequest, grid: _Grid, chip_wgs84, cfg: _Settings):
    """JRC occurrence -> 0/1 water at 30 m -> water fraction per chip pixel -> class codes."""
    from rasterio.warp import Resampling, reproject
    from shapely.geometry import box, shape
    from shapely.ops import unary_union
    from tqdm.auto import tqdm

    item_assets = remote.collection_meta(cfg.jrc_collection).get("item_assets") or {}
    _asset_keys_check(item_assets, [cfg.label_asset], cfg.jrc_collection)
    items = [it for it in remote.search(cfg.jrc_collection, chip_wgs84) if cfg.label_asset in it.assets]
    footprint = box(*chip_wgs84)
    cover = unary_union([shape(it.geometry) for it in items]) if items else None
    if cover is None or not cover.buffer(1e-9).covers(footprint):
        pct = 0.0 if cover is None else 100 * cover.intersection(footprint).area / footprint.area
        raise CoverageError(
            f"the label collection {cfg.jrc_collection!r} does not cover {lake.name!r} "
            f"(chip {tuple(round(v, 4) for v in chip_wgs84)}, "
            f"{pct:.0f}% covered by {len(items)} item(s) with an {cfg.label_asset!r} asset); JRC GSW covers "
            "land between about 80N and 60S: choose a lake inside it"
        )
    with _open_remote(items[0].assets[cfg.label_asset].href, f"{cfg.label_asset} of {items[0].id}") as ref:
        lgrid, step = _label_grid(ref, chip_wgs84, cfg.max_label_px)
    bar = tqdm(total=len(items), desc=f"{lake.name}: labels", leave=False, disable=not cfg.progress, unit="read")
    try:
        occ, valid, _ = _mosaic(items, cfg.label_asset, lgrid, item_assets.get(cfg.label_asset, {}),
                                JRC_DEFAULT_NODATA, step=step, bar=bar)
    finally:
        bar.close()
    water = np.where(valid, (occ >= cfg.occurrence_min).astype(np.float32), np.nan).astype(np.float32)
    frac = np.full(grid.shape, np.nan, dtype=np.float32)
    reproject(water, frac, src_transform=lgrid.transform, src_crs=lgrid.crs, src_nodata=np.nan,
              dst_transform=grid.transform, dst_crs=grid.crs, dst_nodata=np.nan, resampling=Resampling.average)
    if not np.isfinite(frac).any():
        raise CoverageError(
            f"the label collection {cfg.jrc_collection!r} holds no data over {lake.name!r} "
            f"(items {[it.id for it in items]}); choose a lake on land covered by JRC GSW"
        )
    return classify_water_fraction(frac, cfg.water_min, cfg.land_max), [it.id for it in items]


# -------------------------------------------------------------------------------------------
# Files: cache, dataset layout, catalog
# -------------------------------------------------------------------------------------------
def _cache_get(cache_dir: Path | None, key: str):
    if cache_dir is None:
        return None
    d = cache_dir / key
    if not (d / "properties.json").is_file():  # written last: its presence means the entry is complete
        return None
    from geonb.scene import read_scene

    props = json.loads((d / "properties.json").read_text())
    try:
        scene = read_scene(d / "image.tif", d / "labels.tif", name=props.get("name"), properties=props)
    except (OSError, ValueError) as exc:
        warnings.warn(f"ignoring a damaged cache entry {d} ({exc}); fetching again", stacklevel=3)
        shutil.rmtree(d, ignore_errors=True)
        return None
    return scene, props


def _cache_put(cache_dir: Path | None, key: str, scene, props: dict) -> None:
    if cache_dir is None:
        return
    from geonb.scene import write_scene

    d = cache_dir / key
    d.mkdir(parents=True, exist_ok=True)
    write_scene(scene, d / "image.tif", d / "labels.tif", overwrite=True)
    write_json_atomic(d / "properties.json", props, default=str)


def _read_catalog(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text())
        return list(data["features"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CatalogError(f"catalog {str(path)!r} is not a GeoJSON FeatureCollection ({exc}); "
                           "delete it (or the dataset folder) and fetch again") from exc


def _feature(scene, props: dict) -> dict:
    from geonb.datasets.synthetic import footprint_wgs84

    rows, cols = scene.shape
    return {"type": "Feature", "id": props["id"], "properties": props,
            "geometry": footprint_wgs84(scene.transform, rows, cols, scene.crs)}


def _commit_chip(ds_dir: Path, scene, props: dict, overwrite: bool) -> None:
    """Write image, labels, then the catalog entry; on any failure remove what this call wrote."""
    from geonb.scene import write_scene

    img = ds_dir / "images" / f"{props['id']}.tif"
    lab = ds_dir / "labels" / f"{props['id']}.tif"
    img.parent.mkdir(parents=True, exist_ok=True)
    lab.parent.mkdir(parents=True, exist_ok=True)
    existed = img.exists() or lab.exists()
    backup = {}
    if existed:
        for p in (img, lab):
            if p.exists():
                backup[p] = p.with_name(f".{p.name}.bak")
                shutil.copy2(p, backup[p])
    try:
        write_scene(scene, img, lab, overwrite=overwrite)
        features = [f for f in _read_catalog(ds_dir / "catalog.geojson")
                    if f.get("properties", {}).get("id") != props["id"]]
        features.append(_feature(scene, props))
        catalog = {"type": "FeatureCollection", "name": ds_dir.name,
                   "geonb": {"dataset": ds_dir.name, "source": SOURCE, "licence_notes": LICENCE_NOTES,
                             "classes": {"0": "no data", "1": "water", "2": "land", "3": "unclassified"}},
                   "features": features}
        write_json_atomic(ds_dir / "catalog.geojson", catalog, default=str)
    except BaseException:
        for p in (img, lab):
            if p in backup:
                os.replace(backup.pop(p), p)
            elif p.exists() and not existed:
                p.unlink()
        raise
    finally:
        for b in backup.values():
            b.unlink(missing_ok=True)


def _default_root() -> Path:
    from geonb.datasets import data_root

    return Path(data_root()) / "lakes"


# -------------------------------------------------------------------------------------------
# Public entry point
# -------------------------------------------------------------------------------------------
def fetch_lakes(lakes: str | tuple | Sequence, dataset: str = "lakes-real", *, start: str | date = DEFAULT_START,
                end: str | date = DEFAULT_END, bbox: Sequence[float] | None = None,
                root: str | os.PathLike | None = None, stac_url: str = DEFAULT_STAC_URL,
                signer: Callable | None = sign_planetary_computer, overwrite: bool = False,
                water_min: float = WATER_MIN, land_max: float = LAND_MAX, occurrence_min: float = OCCURRENCE_MIN,
                split: str | dict[str, str] | None = None, band_assets: dict[str, str] | None = None,
                max_chip_px: int = MAX_CHIP_PX, platforms: Sequence[str] = ("terra",),
                cache_dir: str | os.PathLike | None | bool = None,
                retries: int = 4, backoff_s: float = 0.5, timeout_s: float = 30.0,
                skip_failed: bool = False, progress: bool = True):
    """Fetch real lakes (MODIS MOD09A1 chips + JRC GSW labels) into a lakes dataset; return it.

    Needs the network (no account) the first time; later calls with the same arguments read the
    cache. Costs per lake: one STAC search per collection, a QA window read per 8-day composite in
    the date range, 7 band window reads, and the JRC window (a few MB for a 100 x 100 pixel chip).

    Parameters
    ----------
    lakes : str, (str, bbox) or list of these
        Built-in lake names (``geonb.datasets.places``; unknown names get suggestions) or
        ``(name, (west, south, east, north))`` pairs in degrees. A built-in lake gets a square box of
        1.6 x sqrt(area) km (15 to 200 km) around its centre.
    dataset : str
        The dataset folder under ``root``; load it with ``LakeDataset(dataset)``.
    start, end : str or date
        Date range ``YYYY-MM-DD`` (inclusive) to choose the clearest 8-day composite from.
    bbox : (west, south, east, north), optional
        Box for a single lake, replacing the built-in one.
    root : path, optional
        The folder of lakes datasets (default ``data_root() / "lakes"``, as ``LakeDataset``).
    stac_url : str
        A STAC API serving ``modis-09A1-061`` and ``jrc-gsw`` (default: Planetary Computer).
    signer : callable or None
        Modifies STAC objects before use (pystac-client ``modifier``); default signs Planetary
        Computer URLs anonymously. ``None`` for APIs whose assets need no signing.
    overwrite : bool
        Replace a lake already in the dataset that was fetched with other settings.
    water_min, land_max : float
        Water-fraction thresholds: ``WATER`` >= ``water_min`` (0.8), ``LAND`` <= ``land_max`` (0.2),
        ``UNCLASSIFIED`` between. Equal values give water/land only.
    occurrence_min : float
        JRC occurrence (percent) from which a 30 m pixel counts as water (50).
    split : str or {lake id: split}, optional
        Splits to record; default a stable hash of each lake id (70 % train, 15 % val, 15 % test).
    band_assets : {geonb band name: asset key}, optional
        Default :data:`MODIS_BAND_ASSETS` (``red`` -> ``sur_refl_b01`` ...).
    max_chip_px : int
        Refuse boxes larger than this many MODIS pixels per side (512).
    platforms : sequence of str
        ``("terra",)`` (MOD09A1, default) and/or ``"aqua"`` (MYD09A1, in the same collection): both
        give more composites to choose the clearest from.
    cache_dir : path, None or False
        Chip cache (default ``root/../cache/stac``); ``False`` disables it.
    retries, backoff_s, timeout_s
        Retries of transient HTTP errors (5xx, 429, connection errors, timeouts) with exponential
        backoff starting at ``backoff_s``; per-request timeout.
    skip_failed : bool
        Warn and go on when a lake fails (default: raise; lakes already written stay).
    progress : bool
        Show tqdm progress bars.

    Returns
    -------
    LakeDataset

    Raises
    ------
    InvalidParameterError
        Unknown lake (with close names), bad box or dates, thresholds out of order.
    CoverageError
        No acquisitions in the date range; the label collection does not cover the lake.
    BandMismatchError
        An item lacks one of the band assets.
    NetworkError
        The STAC API or the data server cannot be reached (after retries).
    OutputExistsError
        The lake is in the dataset with other settings and ``overwrite`` is False.

    Examples
    --------
    >>> ds = fetch_lakes(["Lake Geneva", ("Our reservoir", (6.0, 46.0, 6.3, 46.2))],
    ...                  start="2021-07-01", end="2021-08-31")            # doctest: +SKIP
    >>> ds.lakes[["name", "acquired_start", "condition", "water_fraction"]]  # doctest: +SKIP
    >>> LakeDataset("lakes-real").scene("geneva")                          # doctest: +SKIP
    Scene('Lake Geneva', 84x91 px, 7 bands, with labels, crs=...)
    """
    from geonb.datasets import LakeDataset

    requests = parse_lakes(lakes, bbox)
    start_s, end_s = _check_date(start, "start"), _check_date(end, "end")
    if start_s > end_s:
        raise InvalidParameterError(f"`start` ({start_s}) is after `end` ({end_s}); swap them")
    _check_thresholds(water_min, land_max, occurrence_min)
    if not isinstance(dataset, str) or not dataset or "/" in dataset or dataset.startswith("."):
        raise InvalidParameterError(f"`dataset` must be a folder name like 'lakes-real', got {dataset!r}")
    if isinstance(split, str) and split not in SPLIT_FRACTIONS:
        raise InvalidParameterError(f"`split` must be one of {list(SPLIT_FRACTIONS)}, got {split!r}")
    if isinstance(split, dict):
        bad = {k: v for k, v in split.items() if v not in SPLIT_FRACTIONS}
        if bad:
            raise InvalidParameterError(f"`split` values must be in {list(SPLIT_FRACTIONS)}, got {bad}")
    if int(retries) < 0 or backoff_s < 0 or timeout_s <= 0:
        raise InvalidParameterError(
            f"`retries` >= 0, `backoff_s` >= 0 and `timeout_s` > 0 are needed, got {retries}, {backoff_s}, {timeout_s}"
        )
    assets = dict(band_assets or MODIS_BAND_ASSETS)
    if "red" not in assets:
        raise InvalidParameterError(
            f"`band_assets` must map geonb band names (incl. 'red') to asset keys, got {assets}"
        )
    platforms = tuple(str(p).lower() for p in ([platforms] if isinstance(platforms, str) else platforms))
    if not platforms or not set(platforms) <= {"terra", "aqua"}:
        raise InvalidParameterError(f"`platforms` must hold 'terra' and/or 'aqua', got {platforms!r}")
    if int(max_chip_px) < 2:
        raise InvalidParameterError(f"`max_chip_px` must be >= 2, got {max_chip_px}")

    root_p = Path(root) if root is not None else _default_root()
    ds_dir = root_p / dataset
    if cache_dir is False:
        cache_p = None
    else:
        cache_p = Path(cache_dir) if cache_dir not in (None, True) else root_p.resolve().parent / "cache" / "stac"
    cfg = _Settings(start_s, end_s, float(water_min), float(land_max), float(occurrence_min), assets,
                    MODIS_STATE_ASSET, JRC_OCCURRENCE_ASSET, MODIS_COLLECTION, JRC_COLLECTION,
                    int(max_chip_px), MAX_LABEL_PX, bool(progress), platforms)
    remote = _Remote(stac_url, signer, int(retries), float(backoff_s), float(timeout_s))

    from tqdm.auto import tqdm

    existing = {f.get("properties", {}).get("id"): f.get("properties", {})
                for f in _read_catalog(ds_dir / "catalog.geojson")}
    failures = []
    bar = tqdm(requests, desc=f"fetch {dataset}", unit="lake", disable=not progress)
    for lake in bar:
        bar.set_postfix_str(lake.name)
        key = request_key(lake, **cfg.key_fields(stac_url))
        old = existing.get(lake.id)
        if old is not None and old.get("request_key") == key:
            continue  # already in the dataset, fetched with these settings
        if old is not None and not overwrite:
            raise OutputExistsError(
                f"lake {lake.id!r} is already in dataset {dataset!r} with other settings "
                f"(dates {old.get('request_start')}..{old.get('request_end')}); pass overwrite=True to replace "
                "it, or fetch into another `dataset`"
            )
        try:
            cached = _cache_get(cache_p, key)
            if cached is None:
                scene, props = _fetch_chip(remote, lake, cfg)
                props["request_key"] = key
                _cache_put(cache_p, key, scene, props)
            else:
                scene, props = cached
            props = dict(props)
            props["id"] = lake.id
            props["dataset"] = dataset
            props["split"] = (split if isinstance(split, str) else (split or {}).get(lake.id)) or split_for(lake.id)
            _commit_chip(ds_dir, scene, props, overwrite=True if old is not None else overwrite)
            existing[lake.id] = props
        except (CoverageError, BandMismatchError, NetworkError, RasterReadError, GridMismatchError) as exc:
            if not skip_failed:
                raise
            warnings.warn(f"skipped {lake.name!r}: {exc}", stacklevel=2)
            failures.append(lake.name)
    bar.close()
    if not (ds_dir / "catalog.geojson").is_file():
        raise DatasetNotFoundError(
            f"no lake could be fetched into {str(ds_dir)!r} (failed: {failures}); see the warnings above"
        )
    return LakeDataset(dataset, root=root_p)


__all__ = [
    "DEFAULT_STAC_URL",
    "JRC_COLLECTION",
    "LAND_MAX",
    "MODIS_BAND_ASSETS",
    "MODIS_COLLECTION",
    "OCCURRENCE_MIN",
    "WATER_MIN",
    "LakeRequest",
    "check_bbox",
    "classify_water_fraction",
    "clear_mask",
    "fetch_lakes",
    "find_lake",
    "parse_lakes",
    "request_key",
    "sign_planetary_computer",
    "snow_mask",
    "split_for",
]
