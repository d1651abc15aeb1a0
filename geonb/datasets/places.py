"""A built-in list of real lakes, reservoirs, rivers and deltas, where the synthetic scenes are placed.

The synthetic lakes datasets put each scene at (or near) one of these places, on the MODIS
sinusoidal grid, so that a map shows it where it is and the land cover matches the climate.
Coordinates are approximate centres (about 0.1 degree), areas approximate open-water surface areas
in square kilometres (for rivers and deltas: the area of the water in a typical MODIS scene of
the reach). They size and scatter the scenes; they are not a gazetteer.

Climate is a broad Koppen group: ``tropical`` (A), ``arid`` (B), ``temperate`` (C), ``continental``
(Dfa/Dfb), ``boreal`` (Dfc/Dfd), ``polar`` (E, tundra) and ``highland`` (high plateaus and mountains).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from geonb.errors import InvalidParameterError

#: Broad climate groups used by the generator to pick land cover and conditions.
CLIMATES: tuple[str, ...] = ("tropical", "arid", "temperate", "continental", "boreal", "polar", "highland")
#: Kinds of water body.
KINDS: tuple[str, ...] = ("lake", "reservoir", "river", "delta", "lagoon")
CONTINENTS: tuple[str, ...] = ("Africa", "Asia", "Europe", "North America", "South America", "Oceania")


@dataclass(frozen=True)
class Place:
    """A real water body.

    Attributes
    ----------
    name : str
        English name, e.g. ``"Lake Victoria"``.
    lat, lon : float
        Approximate centre in degrees (WGS84).
    climate : str
        One of :data:`CLIMATES`.
    continent : str
        One of :data:`CONTINENTS`.
    kind : str
        One of :data:`KINDS`.
    area_km2 : float
        Approximate water area in square kilometres (for rivers: of a typical reach).
    """

    name: str
    lat: float
    lon: float
    climate: str
    continent: str
    kind: str
    area_km2: float

    @property
    def slug(self) -> str:
        """A short lower-case id stem: ``"Lake Victoria"`` -> ``"victoria"``."""
        return slugify(self.name)


def slugify(name: str) -> str:
    """Lower-case ASCII id stem of a place name, without generic words.

    Examples
    --------
    >>> slugify("Lake Victoria")
    'victoria'
    >>> slugify("Amazon River at Manaus")
    'amazon-manaus'
    """
    if not isinstance(name, str):
        raise InvalidParameterError(f"`name` must be a place name (a string), got {name!r}")
    table = str.maketrans("áàâäãåéèêëíìîïóòôöõúùûüçñ", "aaaaaaeeeeiiiiooooouuuucn")
    words = re.findall(r"[a-z0-9]+", name.lower().translate(table))
    generic = {"lake", "lago", "lagoa", "river", "reservoir", "delta", "at", "the", "of", "dos", "loch",
               "lough", "rio"}
    kept = [w for w in words if w not in generic] or words
    return "-".join(kept)


_P = Place
#: The built-in places: real water bodies on six continents, from the tropics to the Arctic.
PLACES: tuple[Place, ...] = (
    # Africa ---------------------------------------------------------------------------------
    _P("Lake Victoria", -1.0, 33.0, "tropical", "Africa", "lake", 68800),
    _P("Lake Tanganyika", -6.0, 29.5, "tropical", "Africa", "lake", 32900),
    _P("Lake Malawi", -12.0, 34.5, "tropical", "Africa", "lake", 29600),
    _P("Lake Chad", 13.0, 14.5, "arid", "Africa", "lake", 1350),
    _P("Lake Turkana", 3.6, 36.1, "arid", "Africa", "lake", 6400),
    _P("Lake Volta", 7.5, -0.2, "tropical", "Africa", "reservoir", 8500),
    _P("Lake Kariba", -17.0, 27.8, "tropical", "Africa", "reservoir", 5580),
    _P("Lake Tana", 12.0, 37.3, "highland", "Africa", "lake", 3000),
    _P("Lake Albert", 1.7, 30.9, "tropical", "Africa", "lake", 5300),
    _P("Lake Nasser", 22.5, 31.8, "arid", "Africa", "reservoir", 5250),
    _P("Nile River at Khartoum", 15.6, 32.5, "arid", "Africa", "river", 120),
    _P("Niger Inner Delta", 15.0, -4.0, "arid", "Africa", "delta", 3000),
    _P("Congo River at Kinshasa", -4.3, 15.3, "tropical", "Africa", "river", 600),
    _P("Okavango Delta", -19.3, 22.9, "arid", "Africa", "delta", 1500),
    # Asia -----------------------------------------------------------------------------------
    _P("Lake Baikal", 53.5, 108.0, "boreal", "Asia", "lake", 31500),
    _P("Caspian Sea", 42.0, 50.5, "arid", "Asia", "lake", 371000),
    _P("Aral Sea", 45.0, 59.5, "arid", "Asia", "lake", 8000),
    _P("Lake Balkhash", 46.5, 74.5, "arid", "Asia", "lake", 16400),
    _P("Issyk-Kul", 42.4, 77.3, "highland", "Asia", "lake", 6200),
    _P("Qinghai Lake", 36.9, 100.2, "highland", "Asia", "lake", 4300),
    _P("Poyang Lake", 29.1, 116.3, "temperate", "Asia", "lake", 3500),
    _P("Dongting Lake", 29.3, 112.9, "temperate", "Asia", "lake", 2800),
    _P("Tonle Sap", 12.9, 104.1, "tropical", "Asia", "lake", 2700),
    _P("Yangtze River at Wuhan", 30.6, 114.3, "temperate", "Asia", "river", 250),
    _P("Jamuna River at Sirajganj", 24.4, 89.7, "tropical", "Asia", "river", 800),
    _P("Mekong River at Phnom Penh", 11.6, 104.9, "tropical", "Asia", "river", 400),
    _P("Lake Khanka", 45.0, 132.4, "continental", "Asia", "lake", 4070),
    _P("Chilika Lake", 19.7, 85.3, "tropical", "Asia", "lagoon", 1100),
    _P("Lake Van", 38.6, 42.9, "highland", "Asia", "lake", 3755),
    _P("Lake Urmia", 37.7, 45.3, "arid", "Asia", "lake", 5200),
    _P("Ob River at Salekhard", 66.5, 66.6, "polar", "Asia", "river", 900),
    _P("Lena Delta", 72.8, 126.0, "polar", "Asia", "delta", 6000),
    _P("Lake Taymyr", 74.5, 102.5, "polar", "Asia", "lake", 4560),
    _P("Dead Sea", 31.5, 35.5, "arid", "Asia", "lake", 605),
    _P("Indus River at Hyderabad", 25.4, 68.4, "arid", "Asia", "river", 150),
    _P("Lake Hovsgol", 51.0, 100.5, "boreal", "Asia", "lake", 2760),
    _P("Lake Inle", 20.55, 96.9, "tropical", "Asia", "lake", 116),
    # Europe ---------------------------------------------------------------------------------
    _P("Lake Ladoga", 61.0, 31.5, "boreal", "Europe", "lake", 17700),
    _P("Lake Onega", 61.7, 35.5, "boreal", "Europe", "lake", 9700),
    _P("Lake Vanern", 58.9, 13.2, "continental", "Europe", "lake", 5650),
    _P("Lake Vattern", 58.4, 14.6, "continental", "Europe", "lake", 1890),
    _P("Lake Peipus", 58.7, 27.5, "continental", "Europe", "lake", 3550),
    _P("Lake Saimaa", 61.3, 28.1, "boreal", "Europe", "lake", 4400),
    _P("Lake Inari", 69.0, 27.9, "boreal", "Europe", "lake", 1040),
    _P("Lake Geneva", 46.45, 6.55, "temperate", "Europe", "lake", 580),
    _P("Lake Constance", 47.6, 9.4, "temperate", "Europe", "lake", 536),
    _P("Lake Balaton", 46.85, 17.75, "temperate", "Europe", "lake", 592),
    _P("Lake Garda", 45.65, 10.65, "temperate", "Europe", "lake", 370),
    _P("Danube Delta", 45.1, 29.3, "temperate", "Europe", "delta", 1500),
    _P("Rhine River at Cologne", 50.9, 6.96, "temperate", "Europe", "river", 40),
    _P("Volga River at Volgograd", 48.7, 44.5, "arid", "Europe", "river", 300),
    _P("Rybinsk Reservoir", 58.4, 38.4, "continental", "Europe", "reservoir", 4580),
    _P("Lough Neagh", 54.6, -6.4, "temperate", "Europe", "lake", 392),
    _P("Lake Ohrid", 41.0, 20.75, "temperate", "Europe", "lake", 358),
    _P("Loch Lomond", 56.1, -4.6, "temperate", "Europe", "lake", 71),
    # North America --------------------------------------------------------------------------
    _P("Lake Superior", 47.7, -87.5, "continental", "North America", "lake", 82100),
    _P("Lake Michigan", 44.0, -87.0, "continental", "North America", "lake", 58000),
    _P("Lake Huron", 44.8, -82.4, "continental", "North America", "lake", 59600),
    _P("Lake Erie", 42.2, -81.2, "continental", "North America", "lake", 25700),
    _P("Lake Ontario", 43.7, -77.9, "continental", "North America", "lake", 18960),
    _P("Great Bear Lake", 66.0, -121.0, "polar", "North America", "lake", 31000),
    _P("Great Slave Lake", 61.7, -114.0, "boreal", "North America", "lake", 27200),
    _P("Lake Winnipeg", 52.5, -97.5, "boreal", "North America", "lake", 24500),
    _P("Lake Athabasca", 59.2, -109.0, "boreal", "North America", "lake", 7850),
    _P("Reindeer Lake", 57.3, -102.3, "boreal", "North America", "lake", 6650),
    _P("Great Salt Lake", 41.1, -112.5, "arid", "North America", "lake", 4400),
    _P("Lake Okeechobee", 26.95, -80.8, "temperate", "North America", "lake", 1900),
    _P("Lake Tahoe", 39.1, -120.0, "highland", "North America", "lake", 490),
    _P("Lake Mead", 36.2, -114.4, "arid", "North America", "reservoir", 640),
    _P("Mississippi River at Memphis", 35.1, -90.1, "temperate", "North America", "river", 150),
    _P("Mackenzie Delta", 68.5, -134.5, "polar", "North America", "delta", 5000),
    _P("Lake Chapala", 20.2, -103.0, "highland", "North America", "lake", 1100),
    _P("Lake Nicaragua", 11.6, -85.4, "tropical", "North America", "lake", 8264),
    _P("Yukon River at Fort Yukon", 66.6, -145.3, "boreal", "North America", "river", 300),
    _P("Lake Champlain", 44.5, -73.3, "continental", "North America", "lake", 1130),
    # South America --------------------------------------------------------------------------
    _P("Lake Titicaca", -15.9, -69.4, "highland", "South America", "lake", 8372),
    _P("Lake Maracaibo", 9.8, -71.6, "tropical", "South America", "lake", 13210),
    _P("Lagoa dos Patos", -31.1, -51.2, "temperate", "South America", "lagoon", 10140),
    _P("Amazon River at Manaus", -3.1, -60.0, "tropical", "South America", "river", 1200),
    _P("Amazon River at Obidos", -1.9, -55.5, "tropical", "South America", "river", 900),
    _P("Parana Delta", -33.8, -58.9, "temperate", "South America", "delta", 1500),
    _P("Lake Poopo", -18.8, -67.1, "highland", "South America", "lake", 1000),
    _P("Itaipu Reservoir", -24.8, -54.4, "tropical", "South America", "reservoir", 1350),
    _P("Lake Nahuel Huapi", -41.0, -71.5, "temperate", "South America", "lake", 557),
    _P("Lago General Carrera", -46.5, -72.0, "temperate", "South America", "lake", 1850),
    _P("Orinoco River at Ciudad Bolivar", 8.1, -63.5, "tropical", "South America", "river", 300),
    _P("Sobradinho Reservoir", -9.6, -41.6, "arid", "South America", "reservoir", 4214),
    # Oceania --------------------------------------------------------------------------------
    _P("Lake Eyre", -28.4, 137.3, "arid", "Oceania", "lake", 9500),
    _P("Lake Taupo", -38.8, 175.9, "temperate", "Oceania", "lake", 616),
    _P("Murray River at Mildura", -34.2, 142.1, "arid", "Oceania", "river", 30),
    _P("Lake Alexandrina", -35.45, 139.15, "temperate", "Oceania", "lake", 649),
    _P("Lake Argyle", -16.1, 128.7, "tropical", "Oceania", "reservoir", 1000),
    _P("Lake Te Anau", -45.2, 167.7, "temperate", "Oceania", "lake", 344),
)
del _P


def places_table(places: tuple[Place, ...] = PLACES) -> pd.DataFrame:
    """The places as a DataFrame (one row per place, index ``slug``).

    Examples
    --------
    >>> t = places_table()
    >>> len(t) >= 60
    True
    >>> t.loc["victoria", "continent"]
    'Africa'
    """
    if isinstance(places, Place):
        places = (places,)
    try:
        places = tuple(places)
    except TypeError as exc:
        raise InvalidParameterError(
            f"`places` must be a sequence of Place (e.g. geonb.datasets.places.PLACES), got {places!r}"
        ) from exc
    if not places:
        raise InvalidParameterError("`places` is empty; pass some Place objects, e.g. PLACES (the default)")
    bad = [p for p in places if not isinstance(p, Place)]
    if bad:
        raise InvalidParameterError(
            f"`places` must hold Place objects, got {bad[:3]!r}; to look a place up by name use get_place(name)"
        )
    rows = [{"slug": p.slug, "name": p.name, "lat": p.lat, "lon": p.lon, "climate": p.climate,
             "continent": p.continent, "kind": p.kind, "area_km2": p.area_km2} for p in places]
    return pd.DataFrame(rows).set_index("slug")


def get_place(name_or_slug: str) -> Place:
    """Return the built-in place called ``name_or_slug`` (its name or slug, case-insensitive)."""
    key = str(name_or_slug).strip().lower()
    for p in PLACES:
        if key in (p.name.lower(), p.slug):
            return p
    raise InvalidParameterError(
        f"unknown place {name_or_slug!r}; use one of the names in geonb.datasets.places.PLACES "
        f"(e.g. {PLACES[0].name!r}) or its slug ({PLACES[0].slug!r})"
    )


__all__ = ["CLIMATES", "CONTINENTS", "KINDS", "PLACES", "Place", "get_place", "places_table", "slugify"]
