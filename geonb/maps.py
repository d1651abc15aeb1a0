"""Interactive folium maps that work offline. Output room: draws only, no science inside.

* :func:`make_map` makes a ``folium.Map`` whose Leaflet JavaScript and CSS are inlined as ``data:``
  URLs from the ``xstatic-leaflet`` package (Leaflet 1.9.3, the version folium pins), so a map, and the
  HTML saved from it, renders with no internet. folium's other default assets (jQuery, Bootstrap,
  Font Awesome, awesome-markers) are dropped: geonb's map elements do not need them. Popups and
  tooltips are bound with geonb's own small elements because ``folium.Popup`` calls jQuery.
* ``add_*`` functions add lakes and rasters and return what they added: footprints coloured by split
  or by F1 with a legend, and image / label / prediction / error overlays. Rasters are reprojected
  from the scene's CRS (MODIS sinusoidal) to Web Mercator with :func:`rasterio.warp.reproject`
  (nearest neighbour, so every MODIS pixel stays one colour), encoded as PNG with transparency and
  placed by their exact WGS84 bounds.
* Offline there are no basemap tiles, so :func:`make_map` draws :func:`add_world_layer` instead: land,
  coastlines and country borders from Natural Earth 1:110m (public domain), shipped as package data.
* :func:`add_side_by_side` is a swipe control of our own (about 40 lines of JavaScript) because
  folium's ``SideBySideLayers`` plugin loads its script from a CDN and only clips tile layers.
* The CSS and the JavaScript of geonb's own elements are package data files in ``geonb/map_assets/``
  (Jinja templates for branca), not Python strings; colours come from :mod:`geonb.colors`.
* :func:`save_map` writes a standalone HTML file atomically.

Every user string (lake names...) is HTML-escaped before it reaches a popup, a tooltip or a legend.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import json
import math
import os
import re
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geonb.colors import ERROR_COLORS, LAKE_COLORS, SPLIT_COLORS, WORLD_STYLE, check_fraction
from geonb.errors import (
    ClassCodeError,
    CRSError,
    DatasetNotFoundError,
    GeoJSONError,
    InvalidParameterError,
    ShapeMismatchError,
)
from geonb.evaluation import FALSE_NEGATIVE, FALSE_POSITIVE, error_codes, prediction_on_grid
from geonb.io import atomic_path
from geonb.labels import LAKE_CLASS_NAMES, LAND, NODATA, UNCLASSIFIED, WATER
from geonb.scene import Scene, scene_title

__all__ = [
    "F1_BINS",
    "LAYER_KINDS",
    "add_class_layer",
    "add_class_legend",
    "add_error_layer",
    "add_footprints_layer",
    "add_label_layer",
    "add_lake_footprints",
    "add_lake_layers",
    "add_legend",
    "add_prediction_layer",
    "add_scene_layer",
    "add_side_by_side",
    "add_world_layer",
    "external_urls",
    "f1_color",
    "is_online",
    "make_map",
    "raster_to_wgs84",
    "save_map",
    "scene_bounds_wgs84",
]

#: Web Mercator, the CRS of Leaflet maps.
WEB_MERCATOR = "EPSG:3857"
#: Default largest side (pixels) of an overlay after reprojection; bigger scenes are downsampled.
MAX_OVERLAY_PX = 256
#: F1 bins for colouring lakes: (lower bound, label, colour); viridis steps, colour-blind safe.
F1_BINS: tuple[tuple[float, str, str], ...] = (
    (0.0, "F1 < 0.5", "#440154"),
    (0.5, "0.5 – 0.7", "#3b528b"),
    (0.7, "0.7 – 0.8", "#21918c"),
    (0.8, "0.8 – 0.9", "#5ec962"),
    (0.9, "F1 ≥ 0.9", "#fde725"),
)
#: Colour of a lake without a score (e.g. F1 undefined: no water in truth nor prediction).
NO_SCORE_COLOR = "#bdbdbd"

#: Package data folder of the maps' CSS, JavaScript templates and world vectors (see its README.md).
ASSETS = "map_assets"
#: The offline basemap: Natural Earth 1:110m land and country borders (public domain; provenance in
#: geonb/map_assets/README.md).
WORLD_FILE = "world_110m.geojson"


# ---------------------------------------------------------------------------------------------
# Offline Leaflet
# ---------------------------------------------------------------------------------------------
@functools.cache
def _asset(name: str) -> str:
    """The text of ``geonb/map_assets/<name>`` (package data), read once."""
    from importlib.resources import files

    return (files("geonb") / ASSETS / name).read_text(encoding="utf-8")


def _template(name: str):
    """A branca macro template whose ``script`` is the JavaScript file ``name`` of the assets."""
    from jinja2 import Template

    return Template("{% macro script(this, kwargs) %}" + _asset(name) + "{% endmacro %}")


def _data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


@functools.lru_cache(maxsize=1)
def _leaflet_assets() -> tuple[str, str, str]:
    """``(js_data_url, css_data_url, version)`` of the Leaflet shipped by ``xstatic-leaflet``.

    The CSS's relative ``url(images/...)`` references (layer-control icon, markers) are inlined too.
    """
    import xstatic.pkg.leaflet as xleaflet

    base = Path(xleaflet.BASE_DIR)
    js = (base / "leaflet.js").read_bytes()
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match) -> str:
        img = base / match.group(1)
        if not img.is_file():
            return match.group(0)
        return f"url({_data_url(img.read_bytes(), 'image/png')})"

    css = re.sub(r"url\((images/[^)]+\.png)\)", inline, css)
    return _data_url(js, "text/javascript"), _data_url(css.encode("utf-8"), "text/css"), xleaflet.VERSION


@functools.lru_cache(maxsize=1)
def is_online(host: str = "tile.openstreetmap.org", port: int = 443, timeout_s: float = 1.5) -> bool:
    """Whether ``host`` answers a TCP connection within ``timeout_s`` (cached for the session)."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def _center_zoom(bounds_wgs84: tuple[float, float, float, float]) -> tuple[list[float], int]:
    west, south, east, north = bounds_wgs84
    span = max(east - west, (north - south) * 1.5, 1e-6)
    zoom = int(np.clip(math.floor(math.log2(360.0 / span)) + 1, 1, 14))
    return [(south + north) / 2, (west + east) / 2], zoom


def _as_bounds_or_center(where) -> tuple[tuple[float, float, float, float] | None, list[float] | None]:
    """Normalise ``make_map``'s first argument to (bounds_wgs84, center)."""
    if where is None:
        return None, [20.0, 0.0]
    if isinstance(where, Scene):
        return scene_bounds_wgs84(where), None
    vals = np.asarray(where, dtype=float).ravel() if not isinstance(where, str) else None
    if vals is None or vals.size not in (2, 4) or not np.all(np.isfinite(vals)):
        raise InvalidParameterError(
            f"`bounds_or_center` must be (lat, lon), (west, south, east, north) in degrees, or a Scene; "
            f"got {where!r}"
        )
    if vals.size == 2:
        lat, lon = vals
        if not (-90 <= lat <= 90 and -180 <= lon <= 360):
            raise InvalidParameterError(
                f"`bounds_or_center` (lat, lon) = ({lat:g}, {lon:g}) is not on Earth: latitude must lie in "
                "[-90, 90]; give (lat, lon) in degrees, latitude first")
        return None, [float(lat), float(lon)]
    west, south, east, north = vals
    if not (west < east and south < north and -90 <= south and north <= 90):
        raise InvalidParameterError(
            f"`bounds_or_center` bounds ({west:g}, {south:g}, {east:g}, {north:g}) must be (west, south, east, north) "
            "in degrees with west < east, south < north, latitudes in [-90, 90]"
        )
    return (float(west), float(south), float(east), float(north)), None


def make_map(bounds_or_center=None, *, offline: bool | None = None, tiles: str | None = "OpenStreetMap",
             zoom_start: int | None = None, width: str | int = "100%", height: str | int = 520,
             world: bool | None = None, **kwargs):
    """A ``folium.Map`` that renders without internet (inline Leaflet), with a basemap when online.

    Parameters
    ----------
    bounds_or_center : (lat, lon), (west, south, east, north) in degrees, Scene, or None
        Where to look: a centre, a WGS84 bounding box (the map fits it), or a scene's footprint.
        ``None``: the whole world.
    offline : bool, optional
        ``True``: no basemap tiles (nothing is fetched from the internet). ``False``: use ``tiles``.
        ``None`` (default): check once whether the tile server answers.
    tiles : str or None
        Basemap when online (any ``folium.Map(tiles=...)`` name or URL); ``None``: no basemap.
    zoom_start : int, optional
        Zoom for a centre (a bounding box is fitted instead).
    width, height : str or int
        Size of the map (CSS); the notebook iframe gets this size too.
    world : bool, optional
        Draw the offline world basemap (:func:`add_world_layer`: land, coastlines, country borders)
        under the lakes. ``None`` (default): when there are no basemap tiles (offline).
    **kwargs
        More ``folium.Map`` options.

    Returns
    -------
    folium.Map
        Zoom and fade animations are off (stable screenshots, crisp overlays).

    Examples
    --------
    >>> m = make_map((45.0, 10.0), offline=True)
    >>> html = m.get_root().render()
    >>> "cdn.jsdelivr.net" in html, "data:text/javascript;base64" in html
    (False, True)
    >>> m.geonb_world is not None          # offline: coastlines and borders drawn from package data
    True
    """
    import folium

    if zoom_start is not None and (isinstance(zoom_start, bool) or not isinstance(zoom_start, (int, np.integer))
                                   or not 0 <= zoom_start <= 20):
        raise InvalidParameterError(f"`zoom_start` must be an integer zoom level 0..20 (or None), got {zoom_start!r}")
    for arg, size in (("width", width), ("height", height)):
        if isinstance(size, bool) or (isinstance(size, (int, float, np.number)) and not size > 0) or \
                not isinstance(size, (str, int, float, np.number)):
            raise InvalidParameterError(f"`{arg}` must be a positive number of pixels or a CSS size "
                                        f"such as '100%', got {size!r}")
    bounds, center = _as_bounds_or_center(bounds_or_center)
    if offline is None:
        offline = tiles is None or not is_online()
    use_tiles = None if offline else tiles
    if bounds is not None:
        center, zoom = _center_zoom(bounds)
    else:
        zoom = 3 if bounds_or_center is not None else 2
    opts = {"zoom_animation": False, "fade_animation": False, "control_scale": True, "prefer_canvas": False}
    opts.update(kwargs)
    m = folium.Map(location=center, zoom_start=zoom_start if zoom_start is not None else zoom, tiles=use_tiles,
                   width=width, height=height, **opts)
    js, css, _ = _leaflet_assets()
    # On the instance, not the class: other folium maps in the session keep their defaults.
    m.default_js = [("leaflet", js)]
    m.default_css = [("leaflet_css", css)]
    m.get_root().header.add_child(folium.Element(f"<style>{_asset('maps.css')}</style>"), name="geonb_css")
    if bounds is not None:
        west, south, east, north = bounds
        m.fit_bounds([[south, west], [north, east]])
    m.geonb_offline = bool(offline)
    if world is None:
        world = use_tiles is None
    m.geonb_world = add_world_layer(m) if world else None
    return m


@functools.lru_cache(maxsize=1)
def _world_json() -> str:
    """The world vectors as compact JSON text (checked once: a FeatureCollection of land and borders)."""
    doc = json.loads(_asset(WORLD_FILE))
    kinds = sorted(f["properties"]["kind"] for f in doc.get("features", []))
    if doc.get("type") != "FeatureCollection" or kinds != ["border", "land"]:
        raise GeoJSONError(f"geonb/{ASSETS}/{WORLD_FILE} is not the expected land + border FeatureCollection "
                           f"(kinds {kinds}); reinstall geonb or rerun geonb/{ASSETS}/make_world.py")
    return json.dumps({"type": "FeatureCollection", "features": doc["features"]}, separators=(",", ":"))


def add_world_layer(m, *, style: Mapping[str, str] | None = None, coast_weight: float = 1.0,
                    border_weight: float = 0.8):
    """Draw land, coastlines and country borders under everything else: the offline basemap.

    The vectors are Natural Earth 1:110m (public domain), shipped with geonb as package data
    (``geonb/map_assets/world_110m.geojson``, about 120 kB, inlined into the map), so a map saved
    or shown without internet still shows where a lake is. They sit in their own pane above any
    tiles and below the lakes and overlays, are not clickable, and are left out of the layer control.

    Parameters
    ----------
    m : folium.Map
    style : dict, optional
        Colours ``sea`` (the map background), ``land``, ``coast``, ``border``; default
        :data:`geonb.colors.WORLD_STYLE`.
    coast_weight, border_weight : float
        Line widths in pixels.

    Returns
    -------
    branca MacroElement (added to ``m``)

    Examples
    --------
    >>> m = make_map((0.5, 33.0), offline=True, world=False)
    >>> layer = add_world_layer(m)
    >>> "geonbWorld" in m.get_root().render()
    True
    """
    from branca.element import MacroElement
    from matplotlib.colors import is_color_like

    _check_map(m)
    colors = dict(WORLD_STYLE)
    colors.update(style or {})
    unknown = sorted(set(colors) - set(WORLD_STYLE))
    if unknown:
        raise InvalidParameterError(f"`style` has unknown keys {unknown}; use {sorted(WORLD_STYLE)}")
    for key, value in colors.items():
        if not isinstance(value, str) or not is_color_like(value):
            raise InvalidParameterError(f"`style[{key!r}]` must be a CSS colour such as '#41566e', got {value!r}")
    for name, w in (("coast_weight", coast_weight), ("border_weight", border_weight)):
        if isinstance(w, bool) or not isinstance(w, (int, float, np.number)) or not 0 <= w <= 20:
            raise InvalidParameterError(f"`{name}` must be a line width in pixels (0 to 20), got {w!r}")

    class _World(MacroElement):
        _template = _template("world.js")

    layer = _World()
    layer._name = "GeonbWorld"
    layer.style = {**colors, "coast_weight": float(coast_weight), "border_weight": float(border_weight)}
    layer.data_json = _world_json()
    m.add_child(layer)
    return layer


def external_urls(html_text: str) -> list[str]:
    """``http(s)://`` URLs a page would load (``src=``/``href=`` of scripts and stylesheets).

    Plain links a user may click (``<a href>``, attribution text) are not counted.
    """
    found = re.findall(r"<(?:script|link)\b[^>]*?(?:src|href)=[\"'](https?://[^\"']+)", html_text)
    found += re.findall(r"@import\s+url\([\"']?(https?://[^\"')]+)", html_text)
    return sorted(set(found))


def save_map(m, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write ``m`` as one standalone HTML file (Leaflet and overlays inlined), atomically.

    Refuses to replace an existing file unless ``overwrite=True``. Returns the path.
    """
    _check_map(m)
    if path is None or str(path) == "":
        raise InvalidParameterError(f"`path` must be a file path ending in .html, got {path!r}")
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise InvalidParameterError(f"`path` should end in .html, got {str(path)!r}")
    with atomic_path(path, overwrite) as tmp:
        # Plain save: make_map already points Leaflet's JS/CSS at inlined data: URLs, so the file is
        # standalone. branca 0.8.2's ``embedded=True`` would instead download each link with urllib
        # (no network here) and write the bytes' repr (b'...') into <script>, breaking the page.
        m.save(str(tmp))
        tmp.chmod(0o644)  # the temporary file is private (mkstemp); a saved map is meant to be shared
    return path


# ---------------------------------------------------------------------------------------------
# Small Leaflet elements of our own (no CDN, user strings escaped)
# ---------------------------------------------------------------------------------------------
def _check_map(m, name: str = "m") -> None:
    """Refuse anything that is not a folium map (or a layer/group to draw into)."""
    from branca.element import Element

    if not isinstance(m, Element):
        raise InvalidParameterError(
            f"`{name}` must be a folium.Map (geonb.maps.make_map) or a folium layer group, got {type(m).__name__}"
        )


def _safe_text(value) -> str:
    """HTML-escape ``value``; ``$`` too, so it cannot open a JS template literal either."""
    return html.escape(str(value), quote=True).replace("$", "&#36;").replace("`", "&#96;")


def _bind_element(kind: str, html_text: str, options: dict | None = None):
    """A MacroElement that calls ``parent.bindPopup`` / ``bindTooltip`` with a JSON-encoded string."""
    from branca.element import MacroElement
    from jinja2 import Template

    class _Bind(MacroElement):
        _template = Template(
            "{% macro script(this, kwargs) %}"
            "{{ this._parent.get_name() }}.{{ this.method }}({{ this.content|tojson }}, {{ this.opts|tojson }});"
            "{% endmacro %}"
        )

    el = _Bind()
    el._name = "GeonbBind"
    el.method = {"popup": "bindPopup", "tooltip": "bindTooltip"}[kind]
    el.content = html_text
    el.opts = options or {}
    return el


def _popup_html(title: str, rows: Sequence[tuple[str, object]]) -> str:
    cells = "".join(f"<tr><td><b>{_safe_text(k)}</b></td><td>{_safe_text(v)}</td></tr>" for k, v in rows)
    return f"<div class='geonb-popup'><div><b>{_safe_text(title)}</b></div><table>{cells}</table></div>"


def add_legend(m, title: str, entries: Sequence[tuple[str, str]], *, position: str = "bottomright"):
    """Add a small HTML legend (coloured squares with labels) to ``m``; return the element.

    Parameters
    ----------
    entries : sequence of (label, css colour)
    position : Leaflet control position ("topright", "bottomleft", ...).
    """
    from branca.element import MacroElement
    from matplotlib.colors import is_color_like

    _check_map(m)
    entries = list(entries)
    for entry in entries:
        if isinstance(entry, str) or len(entry) != 2:
            raise InvalidParameterError(f"`entries` must be (label, css colour) pairs, got {entry!r}")
        if not is_color_like(entry[1]):
            raise InvalidParameterError(f"`entries`: {entry[1]!r} is not a colour (use '#1f5fbf' or a CSS name)")
    if position not in ("topleft", "topright", "bottomleft", "bottomright"):
        raise InvalidParameterError(f"`position` must be a Leaflet corner such as 'bottomright', got {position!r}")
    items = "".join(f"<div><i style='background:{_safe_text(c)}'></i>{_safe_text(label)}</div>"
                    for label, c in entries)
    content = f"<div><b>{_safe_text(title)}</b></div>{items}"

    class _Legend(MacroElement):
        _template = _template("legend.js")

    legend = _Legend()
    legend._name = "GeonbLegend"
    legend.position = position
    legend.content = content
    m.add_child(legend)
    return legend


# ---------------------------------------------------------------------------------------------
# Lake footprints
# ---------------------------------------------------------------------------------------------
def _catalog_records(catalog) -> list[dict]:
    """Lakes as dicts with ``id``, properties and ``geometry`` (GeoJSON or None) from any accepted input."""
    if hasattr(catalog, "lakes") and hasattr(catalog, "geometry"):  # a LakeDataset
        records = []
        for lake_id, row in catalog.lakes.iterrows():
            rec = {k: v for k, v in row.items() if not _isna(v)}
            rec["id"] = str(lake_id)
            rec["geometry"] = catalog.geometry(str(lake_id))
            records.append(rec)
        return records
    if isinstance(catalog, (str, os.PathLike)):
        p = Path(catalog)
        if p.is_dir():
            p = p / "catalog.geojson"
        if not p.is_file():
            raise DatasetNotFoundError(
                f"`dataset_or_catalog`: {str(p)!r} does not exist; pass a LakeDataset, a GeoJSON path or dict")
        try:
            catalog = json.loads(p.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise GeoJSONError(f"`dataset_or_catalog`: {str(p)!r} is not GeoJSON ({exc})") from exc
    if isinstance(catalog, Mapping) and catalog.get("type") == "FeatureCollection":
        records = []
        for k, feat in enumerate(catalog.get("features") or []):
            props = dict(feat.get("properties") or {})
            props.setdefault("id", str(feat.get("id", k)))
            props["id"] = str(props["id"])
            props["geometry"] = feat.get("geometry")
            records.append(props)
        return records
    if hasattr(catalog, "iterrows"):  # a DataFrame with lat/lon (index = id)
        missing = [c for c in ("lat", "lon") if c not in catalog.columns]
        if missing and "geometry" not in catalog.columns:
            raise InvalidParameterError(
                f"`dataset_or_catalog` table needs 'lat' and 'lon' columns (degrees) or a 'geometry' column; "
                f"it has {list(catalog.columns)}")
        records = []
        for lake_id, row in catalog.iterrows():
            rec = {k: v for k, v in row.items() if not _isna(v)}
            rec.setdefault("id", str(lake_id))
            rec["geometry"] = rec.get("geometry") if isinstance(rec.get("geometry"), Mapping) else None
            records.append(rec)
        return records
    raise InvalidParameterError(
        f"`dataset_or_catalog` must be a LakeDataset, a GeoJSON FeatureCollection (dict or path) or a "
        f"DataFrame with lat/lon columns; got {type(catalog).__name__}"
    )


def _isna(v) -> bool:
    try:
        return bool(v is None or (np.ndim(v) == 0 and v != v)) or str(v) == "<NA>"
    except (TypeError, ValueError):
        return False


def _scores_by_id(scores) -> dict[str, dict]:
    """``{lake_id: {"f1": .., ...}}`` from a per-lake table, a dict of floats or a dict of dicts."""
    if scores is None:
        return {}
    if hasattr(scores, "iterrows"):
        cols = [c for c in ("f1", "iou", "precision", "recall", "tp", "fp", "fn", "tn") if c in scores.columns]
        if "f1" not in cols:
            raise InvalidParameterError(
                f"`scores` table needs an 'f1' column (geonb.evaluation.per_lake_scores), has {list(scores.columns)}")
        return {str(i): {c: row[c] for c in cols} for i, row in scores.iterrows()}
    if isinstance(scores, Mapping):
        out = {}
        for k, v in scores.items():
            if isinstance(v, Mapping):
                out[str(k)] = dict(v)
            elif hasattr(v, "f1"):
                out[str(k)] = {"f1": v.f1, "iou": getattr(v, "iou", math.nan)}
            else:
                out[str(k)] = {"f1": float(v)}
        return out
    raise InvalidParameterError(
        f"`scores` must be a per-lake table (DataFrame with an 'f1' column) or a dict lake id -> F1, "
        f"got {type(scores).__name__}")


def f1_color(f1: float | None) -> str:
    """The :data:`F1_BINS` colour of an F1 value (:data:`NO_SCORE_COLOR` for None/NaN)."""
    if f1 is None:
        return NO_SCORE_COLOR
    if isinstance(f1, (bool, str)) or not isinstance(f1, (int, float, np.number)):
        raise InvalidParameterError(f"`f1` must be a number in [0, 1] or None, got {f1!r}")
    if not np.isfinite(f1):
        return NO_SCORE_COLOR
    if not 0 <= f1 <= 1:
        raise InvalidParameterError(f"`f1` must be in [0, 1], got {f1!r}; F1 scores are fractions, not percent")
    color = F1_BINS[0][2]
    for low, _, c in F1_BINS:
        if f1 >= low:
            color = c
    return color


def _fmt(v) -> str:
    if isinstance(v, (float, np.floating)):
        return "n/a" if not np.isfinite(v) else f"{v:.3f}"
    if isinstance(v, (np.integer,)):
        return f"{int(v):,}"
    return str(v)


def add_lake_footprints(m, dataset_or_catalog, *, color_by: str = "split", scores=None,
                        layer_name: str = "Lakes", ids: Sequence[str] | None = None, show: bool = True,
                        legend: bool = True, fill_opacity: float = 0.25, markers: bool = False):
    """Add one footprint per lake (polygon, or a circle where a lake has no polygon) with popups.

    Parameters
    ----------
    m : folium.Map
    dataset_or_catalog : LakeDataset, GeoJSON FeatureCollection (dict or path), or DataFrame
        The lakes; a DataFrame needs ``lat``/``lon`` columns (drawn as circles).
    color_by : {"split", "f1"}
        Colour by split (house ``SPLIT_COLORS``) or by F1 bins (:data:`F1_BINS`; needs ``scores``).
    scores : DataFrame or dict, optional
        Per-lake scores: a table from :func:`geonb.evaluation.per_lake_scores` (index lake id, column
        ``f1`` and optionally ``iou``, counts) or a dict lake id -> F1. Shown in the popups.
    layer_name : str
        Name of the layer in the layer control.
    ids : sequence of str, optional
        Only these lakes (default all).
    legend : bool
        Add a legend for the colours.
    fill_opacity : float
        Fill of the footprints (their outline is opaque); lower it over raster layers.
    markers : bool
        Also put a small circle (same colour and popup) at each lake's centre, so lakes stay visible
        and clickable when the map is zoomed out to a continent (a footprint is then under a pixel).

    Returns
    -------
    folium.FeatureGroup
        The layer holding the footprints (already added to ``m``); ``.geonb_lake_ids`` lists the lakes.

    Raises
    ------
    InvalidParameterError
        Unknown ``color_by``, ``color_by="f1"`` without scores, or no lake to draw.
    """
    import folium

    _check_map(m)
    if color_by not in ("split", "f1"):
        raise InvalidParameterError(f"`color_by` must be 'split' or 'f1', got {color_by!r}")
    fill_opacity = check_fraction(fill_opacity, "fill_opacity")
    if ids is not None and (isinstance(ids, str) or not hasattr(ids, "__iter__")):
        raise InvalidParameterError(f"`ids` must be a list of lake ids, got {ids!r}; write ids=[{ids!r}]")
    by_id = _scores_by_id(scores)
    for lake_id, sc in by_id.items():
        f1 = sc.get("f1")
        if f1 is not None and np.isfinite(f1) and not 0 <= f1 <= 1:
            raise InvalidParameterError(f"`scores`: lake {lake_id!r} has f1={f1!r}, outside [0, 1]")
    if color_by == "f1" and not by_id:
        raise InvalidParameterError(
            "`color_by='f1'` needs `scores` (e.g. geonb.evaluation.per_lake_scores(...)); "
            "run notebook 05 (evaluation) or pass color_by='split'")
    records = _catalog_records(dataset_or_catalog)
    known = {r["id"] for r in records}
    if ids is not None:
        wanted = {str(i) for i in ids}
        missing = sorted(wanted - known)
        if missing:
            raise InvalidParameterError(f"`ids` {missing[:5]} are not lakes of the catalog (it has {len(known)} lakes, "
                                        f"e.g. {sorted(known)[:3]})")
        records = [r for r in records if r["id"] in wanted]
    stray = sorted(set(by_id) - known)
    if stray:
        raise InvalidParameterError(f"`scores` names lakes {stray[:5]} that are not in the catalog; score this "
                                    "dataset's lakes (evaluation.per_lake_scores) or pass the matching catalog")
    if not records:
        raise InvalidParameterError(
            "there is no lake to draw (empty catalog or split); check the dataset and the `ids` you passed")
    group = folium.FeatureGroup(name=_safe_text(layer_name), show=show)  # LayerControl uses innerHTML
    group.geonb_lake_ids = []  # ids drawn, in order (for tests and callers)
    for rec in records:
        lake_id = rec["id"]
        sc = by_id.get(lake_id, {})
        if color_by == "f1":
            color = f1_color(sc.get("f1"))
        else:
            color = SPLIT_COLORS.get(str(rec.get("split")), NO_SCORE_COLOR)
        rows = [("id", lake_id)]
        for key, label in (("split", "split"), ("condition", "condition"), ("climate", "climate")):
            if key in rec:
                rows.append((label, rec[key]))
        if "rows" in rec and "cols" in rec:
            rows.append(("size", f"{int(rec['rows'])} × {int(rec['cols'])} px"))
        if "water_fraction" in rec:
            rows.append(("water fraction", f"{float(rec['water_fraction']):.1%}"))
        for key in ("f1", "iou", "precision", "recall", "tp", "fp", "fn"):
            if key in sc:
                rows.append((key.upper() if len(key) <= 3 else key, _fmt(sc[key])))
        name = str(rec.get("title") or scene_title(rec.get("name", lake_id), rec))  # says "synthetic" for stand-ins
        style = {"color": color, "weight": 2, "fillColor": color, "fillOpacity": float(fill_opacity)}
        geom = rec.get("geometry")
        if isinstance(geom, Mapping) and geom.get("type") in ("Polygon", "MultiPolygon"):
            shape = folium.GeoJson({"type": "Feature", "geometry": geom, "properties": {}},
                                   style_function=lambda _f, s=style: s, name=None, control=False,
                                   highlight_function=None)
            # GeoJson renders through a sub-layer; bind on the GeoJson layer itself (works for all paths).
        elif "lat" in rec and "lon" in rec:
            shape = folium.CircleMarker([float(rec["lat"]), float(rec["lon"])], radius=6, color=color,
                                        weight=2, fill=True, fill_color=color,
                                        fill_opacity=max(float(fill_opacity), 0.5))
        else:
            continue
        shapes = [shape]
        if markers and isinstance(geom, Mapping) and "lat" in rec and "lon" in rec:
            shapes.append(folium.CircleMarker([float(rec["lat"]), float(rec["lon"])], radius=5, color="#333333",
                                              weight=1, fill=True, fill_color=color, fill_opacity=0.9))
        for shp in shapes:
            shp.add_child(_bind_element("popup", _popup_html(name, rows), {"maxWidth": 320}))
            shp.add_child(_bind_element("tooltip", _safe_text(name), {"sticky": True}))
            group.add_child(shp)
        group.geonb_lake_ids.append(lake_id)
    group.add_to(m)
    if legend:
        if color_by == "f1":
            entries = [(label, c) for _, label, c in F1_BINS] + [("no score", NO_SCORE_COLOR)]
            add_legend(m, "Water F1 per lake", entries)
        else:
            present = sorted({str(r.get("split")) for r in records if str(r.get("split")) in SPLIT_COLORS},
                             key=list(SPLIT_COLORS).index)
            add_legend(m, "Split", [(s, SPLIT_COLORS[s]) for s in present])
    return group


# ---------------------------------------------------------------------------------------------
# Raster overlays
# ---------------------------------------------------------------------------------------------
def scene_bounds_wgs84(scene: Scene) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` in degrees of a scene's footprint (densified edges)."""
    from rasterio.warp import transform_bounds

    _check_crs(scene)
    return tuple(transform_bounds(scene.crs, "EPSG:4326", *scene.bounds, densify_pts=21))  # type: ignore


@dataclass(frozen=True)
class _Grid:
    """The part of a Scene an overlay needs: a georeferenced (rows, cols) grid."""

    shape: tuple[int, int]
    transform: object
    crs: object
    name: str = ""

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        from rasterio.transform import array_bounds

        west, south, east, north = array_bounds(self.shape[0], self.shape[1], self.transform)
        return west, south, east, north


def _as_grid(where, shape: tuple[int, int], name: str = "scene_or_grid") -> _Grid:
    """A Scene, or ``(transform, crs)``, as the grid of a ``shape`` raster."""
    from affine import Affine

    from geonb.labels import as_crs

    if isinstance(where, Scene):
        _check_crs(where)
        return _Grid(tuple(where.shape), where.transform, where.crs, where.title)
    if isinstance(where, Sequence) and not isinstance(where, str) and len(where) == 2:
        transform, crs = where
        if not isinstance(transform, Affine):
            raise InvalidParameterError(
                f"`{name}` must be a Scene or (transform, crs) with an affine.Affine transform, got a "
                f"{type(transform).__name__} transform")
        if crs is None:
            raise CRSError(f"`{name}` has no CRS, so the map cannot place the raster; give (transform, crs) "
                           "with the raster's CRS, e.g. (scene.transform, scene.crs)")
        return _Grid(tuple(shape), transform, as_crs(crs, name=name, allow_none=False), "")
    raise InvalidParameterError(
        f"`{name}` must be a geonb Scene or a (transform, crs) pair, got {type(where).__name__}")


def _title(scene) -> str:
    """What a layer shows for a Scene or a grid: the scene's title (a stand-in says it is synthetic)."""
    return scene.title if isinstance(scene, Scene) else scene.name


def _check_crs(scene) -> None:
    if isinstance(scene, _Grid):
        return
    if not isinstance(scene, Scene):
        raise InvalidParameterError(f"`scene` must be a geonb Scene, got {type(scene).__name__}")
    if scene.crs is None:
        raise CRSError(
            f"scene {scene.name!r} has no CRS, so the map cannot place it; read it from a georeferenced "
            "GeoTIFF (read_scene) or set `scene.crs` and `scene.transform`. The prediction viewer "
            "(geonb.widgets.PredictionViewer) shows scenes without a CRS."
        )


def _hex_rgba(color: str, alpha: int = 255) -> tuple[int, int, int, int]:
    from matplotlib.colors import to_rgba

    r, g, b, _ = to_rgba(color)
    return int(round(r * 255)), int(round(g * 255)), int(round(b * 255)), int(alpha)


def raster_to_wgs84(scene: Scene | _Grid, rgba: np.ndarray, *, max_size_px: int = MAX_OVERLAY_PX
                    ) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Reproject an RGBA picture on a scene's grid to Web Mercator, for a Leaflet image overlay.

    Parameters
    ----------
    scene : Scene
        Gives the grid (``crs``, ``transform``, shape).
    rgba : ndarray uint8, shape (rows, cols, 4)
        The picture on the scene grid; alpha 0 = transparent.
    max_size_px : int
        Largest side of the result; the Mercator grid is coarsened to fit (downsampling).

    Returns
    -------
    rgba_3857 : ndarray uint8 (rows', cols', 4)
        Nearest-neighbour reprojection (:func:`rasterio.warp.reproject`); outside the scene alpha is 0.
    bounds_wgs84 : (west, south, east, north) in degrees
        Exact bounds of the Mercator grid, so Leaflet places the picture without distortion.
    """
    from affine import Affine
    from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds

    _check_crs(scene)
    rgba = np.asarray(rgba)
    rows, cols = scene.shape
    if rgba.shape != (rows, cols, 4) or rgba.dtype != np.uint8:
        raise ShapeMismatchError(
            f"`rgba` must be uint8 with shape {(rows, cols, 4)} (the scene grid), got {rgba.dtype} {rgba.shape}")
    if isinstance(max_size_px, bool) or not isinstance(max_size_px, (int, np.integer)) or max_size_px < 2:
        raise InvalidParameterError(f"`max_size_px` must be an integer >= 2, got {max_size_px!r}")
    dst_t, dst_w, dst_h = calculate_default_transform(scene.crs, WEB_MERCATOR, cols, rows, *scene.bounds)
    scale = max(dst_w, dst_h) / float(max_size_px)
    if scale > 1:
        dst_w, dst_h = max(1, int(math.ceil(dst_w / scale))), max(1, int(math.ceil(dst_h / scale)))
        dst_t = dst_t * Affine.scale(scale)
    out = np.zeros((4, dst_h, dst_w), dtype=np.uint8)
    reproject(np.moveaxis(rgba, -1, 0), out, src_transform=scene.transform, src_crs=scene.crs,
              dst_transform=dst_t, dst_crs=WEB_MERCATOR, resampling=Resampling.nearest,
              src_nodata=None, dst_nodata=0)
    left, top = dst_t.c, dst_t.f
    right, bottom = left + dst_t.a * dst_w, top + dst_t.e * dst_h
    west, south, east, north = transform_bounds(WEB_MERCATOR, "EPSG:4326", left, bottom, right, top)
    return np.moveaxis(out, 0, -1), (west, south, east, north)


def _png_data_url(rgba: np.ndarray, *, palette_colors: int | None = None) -> str:
    """PNG-encode an RGBA uint8 array as a data URL; optionally quantised to a palette (much smaller)."""
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(rgba), mode="RGBA")
    if palette_colors:
        img = img.quantize(colors=int(palette_colors), method=Image.Quantize.FASTOCTREE)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return _data_url(buf.getvalue(), "image/png")


def _add_overlay(m, scene: Scene | _Grid, rgba: np.ndarray, *, layer_name: str | None, group, opacity: float,
                 max_size_px: int, palette_colors: int | None, show: bool, tooltip: str | None):
    import folium

    _check_map(m if group is None else group, "m" if group is None else "group")
    opacity = check_fraction(opacity, "opacity")
    if palette_colors is not None and (isinstance(palette_colors, bool) or
                                       not isinstance(palette_colors, (int, np.integer)) or
                                       not 2 <= palette_colors <= 256):
        raise InvalidParameterError(f"`palette_colors` must be an integer 2..256 or None (full colour), "
                                    f"got {palette_colors!r}")
    merc, (west, south, east, north) = raster_to_wgs84(scene, rgba, max_size_px=max_size_px)
    url = _png_data_url(merc, palette_colors=palette_colors)
    overlay = folium.raster_layers.ImageOverlay(
        url, bounds=[[south, west], [north, east]], opacity=float(opacity),
        name=_safe_text(layer_name or _title(scene) or "raster"), show=show, control=group is None, pixelated=True,
        interactive=tooltip is not None,
    )
    if tooltip:
        overlay.add_child(_bind_element("tooltip", _safe_text(tooltip), {"sticky": True}))
    overlay.add_to(group if group is not None else m)
    return overlay


def _class_rgba(codes: np.ndarray, colors: Mapping[int, str], alpha: int = 255,
                transparent: Sequence[int] = (NODATA,)) -> np.ndarray:
    codes = np.asarray(codes)
    out = np.zeros(codes.shape + (4,), dtype=np.uint8)
    for code, color in colors.items():
        if code in transparent:
            continue
        out[codes == code] = _hex_rgba(color, alpha)
    return out


def _class_map(scene: Scene | _Grid, prediction, what: str = "prediction",
               allowed: Sequence[int] = (NODATA, WATER, LAND, UNCLASSIFIED)) -> np.ndarray:
    pred = prediction_on_grid(prediction, scene, what=f"the {what}")
    if pred.dtype == bool:
        raise InvalidParameterError(
            f"the {what} is a boolean mask; pass class codes (e.g. np.where(mask, WATER, LAND)), not True/False")
    if pred.dtype.kind == "f" and pred.size and (not np.isfinite(pred).all() or np.any(pred != np.round(pred))):
        raise ClassCodeError(f"the {what} holds non-integer values (dtype {pred.dtype}); pass integer class codes")
    if pred.dtype.kind not in "uif":
        raise InvalidParameterError(f"the {what} must hold integer class codes, got dtype {pred.dtype}")
    bad = sorted(set(np.unique(pred).tolist()) - set(allowed))
    if bad:
        raise ClassCodeError(
            f"the {what} holds class code(s) {bad[:10]} that the map cannot colour (known: {tuple(allowed)}); "
            "remap them to geonb's codes (WATER=1, LAND=2, UNCLASSIFIED=3, 0 = no label)")
    return pred.astype(np.uint8, copy=False)


def _check_classes(classes) -> tuple[int, ...]:
    classes = tuple(classes)
    unknown = [c for c in classes if c not in LAKE_COLORS or c == NODATA]
    if unknown:
        raise ClassCodeError(f"`classes` holds code(s) {unknown} without a house colour; choose from "
                             f"{(WATER, LAND, UNCLASSIFIED)}")
    return classes


def add_scene_layer(m, scene: Scene, *, bands: Sequence[str] | None = None, composite: str | Sequence[str] = "true",
                    layer_name: str | None = None, group=None, opacity: float = 1.0,
                    max_size_px: int = MAX_OVERLAY_PX, palette_colors: int | None = 128, show: bool = True):
    """Add a scene's colour composite as an image overlay (nodata transparent), for any sensor and CRS.

    The picture is reprojected from the scene's CRS (UTM, sinusoidal, lon/lat...) to Web Mercator.

    Parameters
    ----------
    bands : 3 band names, optional
        Shown as red, green, blue, chosen by *name* (``("red", "green", "blue")``, ``("nir", "red",
        "green")``, or a file's own names such as ``("B4", "B3", "B2")``). Overrides ``composite``.
    composite : "true", "false", "swir", a key of ``geonb.bands.COMPOSITES``, or 3 band names
    layer_name : str, optional
        Name in the layer control (default: the scene name and composite).
    group : folium.FeatureGroup, optional
        Put the overlay in this group (one layer-control entry for many lakes) instead of the map.
    palette_colors : int or None
        Quantise the PNG to this many colours (about 4x smaller HTML); None keeps full colour.

    Returns
    -------
    folium.raster_layers.ImageOverlay

    Raises
    ------
    CRSError
        The scene has no CRS.
    """
    from geonb.bands import COMPOSITES, FALSE_COLOR, SWIR, TRUE_COLOR
    from geonb.bands import composite as make_composite

    named = {"true": TRUE_COLOR, "false": FALSE_COLOR, "swir": SWIR, **COMPOSITES}
    if bands is not None:
        if isinstance(bands, str) or not isinstance(bands, Sequence) or len(bands) != 3:
            raise InvalidParameterError(
                f"`bands` must be 3 band names shown as red, green, blue, e.g. ('red', 'green', 'blue'); got {bands!r}")
        composite = tuple(str(b) for b in bands)
    if isinstance(composite, str):
        if composite not in named:
            raise InvalidParameterError(f"unknown composite {composite!r}; use one of {list(named)} or 3 band names")
        bands = named[composite]
        label = composite
    else:
        bands = tuple(composite)
        label = "-".join(bands)
    _check_crs(scene)
    rgb = make_composite(scene, bands=bands)
    rgba = np.concatenate([np.round(rgb * 255).astype(np.uint8),
                           np.where(scene.nodata_mask, 0, 255).astype(np.uint8)[..., None]], axis=-1)
    return _add_overlay(m, scene, rgba, layer_name=layer_name or f"{scene.title}: image ({label})", group=group,
                        opacity=opacity, max_size_px=max_size_px, palette_colors=palette_colors, show=show,
                        tooltip=None)


def add_label_layer(m, scene: Scene, *, labels: np.ndarray | None = None, layer_name: str | None = None,
                    group=None, opacity: float = 0.8, classes: Sequence[int] = (WATER, LAND, UNCLASSIFIED),
                    max_size_px: int = MAX_OVERLAY_PX, show: bool = True):
    """Add a label raster in the house colours (water blue, land tan, unclassified grey; no label clear).

    ``labels`` defaults to ``scene.labels``; ``classes`` lists the codes drawn (e.g. ``(WATER,)`` for
    water only). Returns the ImageOverlay.
    """
    labels = scene.labels if labels is None else labels
    if labels is None:
        raise InvalidParameterError(f"scene {scene.name!r} has no labels; pass `labels=` or use add_scene_layer")
    classes = _check_classes(classes)
    labels = _class_map(scene, labels, "label raster")
    colors = {c: LAKE_COLORS[c] for c in classes if c in LAKE_COLORS}
    rgba = _class_rgba(labels, colors)
    return _add_overlay(m, scene, rgba, layer_name=layer_name or f"{scene.title}: label", group=group,
                        opacity=opacity, max_size_px=max_size_px, palette_colors=None, show=show, tooltip=None)


def add_prediction_layer(m, scene: Scene, prediction, *, layer_name: str | None = None, group=None,
                         opacity: float = 0.8, classes: Sequence[int] = (WATER, LAND, UNCLASSIFIED),
                         max_size_px: int = MAX_OVERLAY_PX, show: bool = True):
    """Add a predicted class map (a ``Prediction`` or a ``(rows, cols)`` code array) in the house colours.

    Raises ``ShapeMismatchError`` when the prediction is not on the scene's grid.
    """
    classes = _check_classes(classes)
    codes = _class_map(scene, prediction)
    colors = {c: LAKE_COLORS[c] for c in classes if c in LAKE_COLORS}
    rgba = _class_rgba(codes, colors)
    return _add_overlay(m, scene, rgba, layer_name=layer_name or f"{scene.title}: prediction", group=group,
                        opacity=opacity, max_size_px=max_size_px, palette_colors=None, show=show, tooltip=None)


def add_error_layer(m, scene: Scene, prediction, *, layer_name: str | None = None, group=None,
                    opacity: float = 1.0, max_size_px: int = MAX_OVERLAY_PX, show: bool = True):
    """Add the errors of a prediction against ``scene.labels``: false positives orange, false negatives
    red, correct pixels transparent. Returns the ImageOverlay."""
    if scene.labels is None:
        raise InvalidParameterError(f"scene {scene.name!r} has no labels, so errors cannot be drawn")
    codes = _class_map(scene, prediction)
    err = error_codes(scene.labels, codes)
    colors = {FALSE_POSITIVE: ERROR_COLORS["false positive"], FALSE_NEGATIVE: ERROR_COLORS["false negative"]}
    rgba = _class_rgba(err, colors, transparent=(0,))
    return _add_overlay(m, scene, rgba, layer_name=layer_name or f"{scene.title}: errors", group=group,
                        opacity=opacity, max_size_px=max_size_px, palette_colors=None, show=show, tooltip=None)


def add_class_layer(m, classes, scene_or_grid, scheme, *, layer_name: str | None = None, group=None,
                    opacity: float = 0.8, legend: bool = True, legend_position: str = "bottomleft",
                    max_size_px: int = MAX_OVERLAY_PX, show: bool = True):
    """Add a class map of any classes in its scheme's colours, with a legend of the scheme's names.

    Works for any grid: UTM, MODIS sinusoidal, lon/lat (EPSG:4326)...; the map is reprojected to Web
    Mercator by nearest neighbour, so every pixel keeps its class colour.

    Parameters
    ----------
    m : folium.Map
    classes : ndarray (rows, cols) of class codes, or a Prediction
        0 (no data) is transparent unless ``scheme`` makes it a class.
    scene_or_grid : Scene, or (transform, crs)
        The grid the class map is on.
    scheme : geonb.classes.ClassScheme
        Colours and names of the codes (the one source: the same colours as plots and exported files).
    layer_name : str, optional
        Name in the layer control (default ``"<scene>: classes"``) and title of the legend.
    group : folium.FeatureGroup, optional
    opacity : float in [0, 1]
    legend : bool
        Add a legend listing the scheme's classes.
    legend_position : Leaflet corner
    max_size_px : int
        Largest side of the overlay (bigger maps are downsampled).

    Returns
    -------
    folium.raster_layers.ImageOverlay

    Raises
    ------
    ClassCodeError
        ``classes`` holds a code the scheme does not name.
    ShapeMismatchError
        ``classes`` is not on the grid of ``scene_or_grid``.
    CRSError
        The grid has no CRS.

    Examples
    --------
    >>> from affine import Affine
    >>> from geonb.classes import ClassScheme
    >>> classes = np.ones((10, 12), np.uint8); classes[:, 6:] = 2
    >>> m = make_map((0.0, 10.0), offline=True)
    >>> layer = add_class_layer(m, classes, (Affine(1e-3, 0, 10, 0, -1e-3, 0.01), "EPSG:4326"),
    ...                         ClassScheme.from_names(["water", "forest"]), layer_name="My classes")
    >>> html = m.get_root().render()
    >>> "My classes" in html, "forest" in html
    (True, True)
    """
    from geonb.classes import ClassScheme

    if not isinstance(scheme, ClassScheme):
        raise InvalidParameterError(
            f"`scheme` must be a geonb.classes.ClassScheme (names and colours of the codes), got "
            f"{type(scheme).__name__}; e.g. ClassScheme.from_names(['water', 'forest'])")
    pred = classes.classes if hasattr(classes, "classes") and not isinstance(classes, np.ndarray) else classes
    if pred is None:
        raise InvalidParameterError("`classes` is None; pass a (rows, cols) class map or a Prediction")
    arr = np.asarray(pred)
    if arr.ndim != 2:
        hint = ": class probabilities or an image? pass the class codes (prediction.classes)" if arr.ndim == 3 else ""
        raise ShapeMismatchError(f"`classes` must be a (rows, cols) class map, got shape {arr.shape}{hint}")
    grid = _as_grid(scene_or_grid, arr.shape)
    if arr.dtype.kind in "ui":
        unknown = sorted(set(np.unique(arr).tolist()) - {NODATA, *scheme.codes})
        if unknown:
            raise ClassCodeError(
                f"`classes` holds code(s) {unknown[:10]} that `scheme` {scheme!r} does not name; give a scheme "
                "listing every code (ClassScheme(codes, names, colors), or geonb.classes.scheme_for_codes)")
    arr = _class_map(grid, arr, "class map", allowed=(NODATA, *scheme.codes))
    colors = scheme.colors_by_code
    transparent = () if NODATA in scheme.codes else (NODATA,)
    rgba = _class_rgba(arr, colors, transparent=transparent)
    name = layer_name or f"{grid.name or 'raster'}: classes"
    overlay = _add_overlay(m, grid, rgba, layer_name=name, group=group, opacity=opacity, max_size_px=max_size_px,
                           palette_colors=None, show=show, tooltip=None)
    if legend:
        add_legend(m, name, [(n, c) for n, c in zip(scheme.names, scheme.colors, strict=True)],
                   position=legend_position)
    return overlay


def add_class_legend(m, *, errors: bool = True, classes: Sequence[int] = (WATER, LAND, UNCLASSIFIED),
                     position: str = "bottomleft"):
    """A legend of the house class colours (and error colours) for label/prediction/error layers."""
    classes = _check_classes(classes)
    entries = [(LAKE_CLASS_NAMES[c], LAKE_COLORS[c]) for c in classes]
    if errors:
        entries += [("false positive (land called water)", ERROR_COLORS["false positive"]),
                    ("false negative (missed water)", ERROR_COLORS["false negative"])]
    return add_legend(m, "Classes", entries, position=position)


#: Layer kinds of :func:`add_lake_layers`, in drawing order.
LAYER_KINDS: tuple[str, ...] = ("image", "label", "prediction", "errors")


def add_lake_layers(m, scenes, predictions=None, *, model_name: str = "", kinds: Sequence[str] = LAYER_KINDS,
                    show: Sequence[str] = ("image", "prediction"), composite: str = "true",
                    max_size_px: int = MAX_OVERLAY_PX, opacity: float = 0.8) -> dict:
    """Add image / label / prediction / error overlays of many lakes, one layer-control entry per kind.

    Each kind is a ``folium.FeatureGroup`` holding one overlay per lake, so the layer control stays
    short however many lakes there are ("Image", "Label", "Prediction (fcn)", "Errors (fcn)").

    Parameters
    ----------
    m : folium.Map
    scenes : iterable of Scene, or dict of lake id to Scene
        Scenes with a CRS (and labels for the label and error layers).
    predictions : dict of lake id to Prediction (or class map), optional
        Needed for the prediction and error layers; lakes without one are skipped there.
    model_name : str
        Shown in the layer names of predictions and errors.
    kinds : subset of :data:`LAYER_KINDS`
    show : kinds visible when the map opens (others are ticked off in the layer control).
    composite, max_size_px, opacity
        As in :func:`add_scene_layer` / :func:`add_label_layer`.

    Returns
    -------
    dict of kind to folium.FeatureGroup

    Raises
    ------
    InvalidParameterError
        No scenes (an empty split), an unknown kind, or prediction layers without predictions.
    CRSError
        A scene has no CRS.
    """
    import folium

    items = list(scenes.items()) if isinstance(scenes, Mapping) else \
        [(str((s.properties or {}).get("id") or s.name), s) for s in scenes]
    if not items:
        raise InvalidParameterError("`scenes` is empty (an empty test split?); there is nothing to put on the map")
    unknown = [k for k in kinds if k not in LAYER_KINDS]
    if unknown:
        raise InvalidParameterError(f"`kinds` names unknown layer kinds {unknown}; choose from {list(LAYER_KINDS)}")
    unknown_show = [k for k in show if k not in LAYER_KINDS]
    if unknown_show:
        raise InvalidParameterError(f"`show` names unknown layer kinds {unknown_show}; choose from {list(LAYER_KINDS)}")
    if predictions is not None:
        if not isinstance(predictions, Mapping):
            raise InvalidParameterError(f"`predictions` must be a dict of lake id -> Prediction, "
                                        f"got {type(predictions).__name__}")
        stray = sorted(set(map(str, predictions)) - {k for k, _ in items})
        if stray:
            raise InvalidParameterError(
                f"`predictions` has lakes {stray[:5]} that are not among `scenes` ({[k for k, _ in items][:5]}); "
                "key predictions by the scenes' lake ids")
    if predictions is None and any(k in ("prediction", "errors") for k in kinds):
        raise InvalidParameterError(
            "prediction and error layers need `predictions` (dict lake id -> Prediction); run notebook 05 "
            "(evaluation) first, or pass kinds=('image', 'label')")
    suffix = f" ({model_name})" if model_name else ""
    names = {"image": f"Image ({composite} colour)", "label": "Label", "prediction": f"Prediction{suffix}",
             "errors": f"Errors{suffix}"}
    groups = {k: folium.FeatureGroup(name=_safe_text(names[k]), show=k in show) for k in kinds}
    for lake_id, scene in items:
        pred = (predictions or {}).get(lake_id)
        if "image" in groups:
            add_scene_layer(m, scene, composite=composite, group=groups["image"], max_size_px=max_size_px)
        if "label" in groups and scene.labels is not None:
            add_label_layer(m, scene, group=groups["label"], max_size_px=max_size_px, opacity=opacity)
        if pred is not None and "prediction" in groups:
            add_prediction_layer(m, scene, pred, group=groups["prediction"], max_size_px=max_size_px,
                                 opacity=opacity)
        if pred is not None and "errors" in groups and scene.labels is not None:
            add_error_layer(m, scene, pred, group=groups["errors"], max_size_px=max_size_px)
    for g in groups.values():
        g.add_to(m)
    return groups


# ---------------------------------------------------------------------------------------------
# Side by side (swipe)
# ---------------------------------------------------------------------------------------------


def add_side_by_side(m, left_layer, right_layer, *, start: float = 0.5):
    """Compare two layers with a swipe: ``left_layer`` shows left of a draggable line, ``right_layer`` right.

    Works offline (the script is inlined), with image overlays, feature groups of overlays and tile
    layers. folium's ``SideBySideLayers`` plugin loads its script from a CDN (blank offline) and clips
    tile layers only, hence this small control.

    Parameters
    ----------
    left_layer, right_layer : folium layers already added to ``m``
    start : float in [0, 1]
        Initial position of the line, as a share of the map width.

    Returns
    -------
    branca MacroElement (added to ``m``)
    """
    from branca.element import MacroElement

    if not 0 <= float(start) <= 1:
        raise InvalidParameterError(f"`start` must be in [0, 1], got {start}")
    if left_layer is right_layer:
        raise InvalidParameterError("`left_layer` and `right_layer` are the same layer; pass two different ones")
    for name, layer in (("left_layer", left_layer), ("right_layer", right_layer)):
        if not hasattr(layer, "get_name"):
            raise InvalidParameterError(f"`{name}` must be a folium layer (e.g. from add_scene_layer), "
                                        f"got {type(layer).__name__}")

    class _Swipe(MacroElement):
        _template = _template("swipe.js")

    swipe = _Swipe()
    swipe._name = "GeonbSideBySide"
    swipe.left, swipe.right, swipe.start = left_layer, right_layer, float(start)
    m.add_child(swipe)
    return swipe


# ---------------------------------------------------------------------------------------------
# Buildings: footprint polygons
# ---------------------------------------------------------------------------------------------
def add_footprints_layer(m, footprints, *, crs=None, layer_name: str = "footprints", color: str = "#00e5ff",
                         weight: float = 2.0, fill_opacity: float = 0.0, group=None, show: bool = True):
    """Add building footprints (outlines) as a GeoJSON layer, reprojected to lon/lat.

    Parameters
    ----------
    footprints : geonb.labels.Footprints or sequence of shapely geometries
        Plain geometries are taken to be in ``crs``.
    crs : CRS-like, optional
    layer_name : str
        Name in the layer control.
    color, weight, fill_opacity
        Outline colour and width; fill opacity (0: outlines only).
    group : folium.FeatureGroup, optional
        Add to this group instead of the map.

    Returns
    -------
    folium.GeoJson
    """
    import folium

    from geonb.labels import polygons_to_geojson

    _check_map(m)
    if isinstance(footprints, (str, bytes)):
        from geonb.labels import parse_footprints

        footprints = parse_footprints(footprints, crs=crs)
    collection = polygons_to_geojson(footprints, crs, properties=False)
    style = {"color": color, "weight": float(weight), "fill": fill_opacity > 0, "fillColor": color,
             "fillOpacity": float(fill_opacity)}
    layer = folium.GeoJson(collection, name=_safe_text(layer_name), style_function=lambda _f: style, show=show)
    layer.add_to(group if group is not None else m)
    return layer
