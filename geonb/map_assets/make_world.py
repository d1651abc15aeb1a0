"""Derive ``world_110m.geojson`` (land and country borders for the offline map) from Natural Earth.

Run once by a maintainer; the output is committed as package data (see README.md here):

    python geonb/map_assets/make_world.py

Source: Natural Earth 1:110m Admin 0 countries (public domain), as shipped by the ``pyogrio`` wheel
(``pyogrio/tests/fixtures/naturalearth_lowres``), a geonb dependency, so no download is needed.
Countries are merged into land polygons (their outline is the coastline) and the lines two
countries share are kept as borders. Coordinates are rounded to 0.01 degree (about 1 km, far finer
than the 1:110m source) to keep the file small.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from shapely.geometry import mapping

OUT = Path(__file__).with_name("world_110m.geojson")
DECIMALS = 2


def source_path() -> Path:
    import pyogrio.tests

    return Path(pyogrio.tests.__file__).parent / "fixtures" / "naturalearth_lowres" / "naturalearth_lowres.shp"


def _rounded(geom):
    return shapely.set_precision(geom, 10.0 ** -DECIMALS, mode="valid_output")


def world_features(path: Path) -> list[dict]:
    """Land (MultiPolygon) and borders (MultiLineString) of the countries in ``path``."""
    _, _, wkb, _ = pyogrio.raw.read(path)
    countries = [shapely.make_valid(g) for g in shapely.from_wkb(wkb)]
    land = _rounded(shapely.union_all(countries))
    tree = shapely.STRtree(countries)
    shared = []
    for i, j in tree.query(countries, predicate="intersects").T:
        if i < j:
            line = shapely.intersection(countries[i].boundary, countries[j].boundary)
            parts = [p for p in getattr(line, "geoms", [line]) if p.geom_type in ("LineString", "MultiLineString")]
            shared.extend(parts)
    borders = _rounded(shapely.line_merge(shapely.union_all(shared)))
    return [
        {"type": "Feature", "properties": {"kind": "land"}, "geometry": mapping(land)},
        {"type": "Feature", "properties": {"kind": "border"}, "geometry": mapping(borders)},
    ]


def _compact(obj):
    """JSON-ready copy with coordinates as short floats (no 1.2300000001)."""
    if isinstance(obj, dict):
        return {k: _compact(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_compact(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return round(float(obj), DECIMALS)
    return obj


def main() -> None:
    src = source_path()
    doc = {
        "type": "FeatureCollection",
        "geonb": {"source": "Natural Earth 1:110m Admin 0 countries (public domain), via the pyogrio wheel "
                            f"{pyogrio.__version__} (tests/fixtures/naturalearth_lowres)",
                  "derived_by": "geonb/map_assets/make_world.py", "decimals": DECIMALS},
        "features": _compact(world_features(src)),
    }
    OUT.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
