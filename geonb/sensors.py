"""Sensors: band tables for MODIS, Landsat TM / ETM+ / OLI and Sentinel-2 MSI, shared band names, scaling.

The one place that knows which band of which sensor is which. Every band has the sensor's own id
(``"B4"``, ``"B8A"``, ``"sur_refl_b01"``) and a geonb *shared name* that means the same part of the
spectrum on every sensor, so everything downstream picks bands by name, never by band number:

============  ==========  ===========  ===========  ==========  ============
shared name   MODIS       Landsat 4-5  Landsat 7    Landsat 8-9 Sentinel-2
============  ==========  ===========  ===========  ==========  ============
coastal                                             B1          B1
blue          b03         B1           B1           B2          B2
green         b04         B2           B2           B3          B3
red           b01         B3           B3           B4          B4
rededge1..3                                                     B5, B6, B7
nir           b02         B4           B4           B5          B8
nir_narrow                                                      B8A
nir2          b05 (1240)
watervapour                                                     B9
cirrus                                              B9          B10
swir1         b06         B5           B5           B6          B11
swir2         b07         B7           B7           B7          B12
pan                                    B8           B8
thermal                   B6           B6_VCID_1
thermal_hg                             B6_VCID_2
thermal1/2                                          B10, B11
============  ==========  ===========  ===========  ==========  ============

Sources (wavelength ranges in nm, resolution in m):

- MODIS: Vermote, Roger & Ray, *MODIS Surface Reflectance User's Guide, Collection 6* (NASA, 2015),
  Table 1 (bands 1-7); scale 0.0001, fill -28672, valid range -100..16000.
- Landsat 4-5 TM, Landsat 7 ETM+, Landsat 8-9 OLI/TIRS: USGS, "What are the band designations for the
  Landsat satellites?" (usgs.gov FAQ) and the Landsat 7 / Landsat 8 Data Users Handbooks (LSDS-1927,
  LSDS-1574). Collection-2 Level-2 scaling: USGS *Landsat 4-7 Collection 2 Level-2 Science Product Guide*
  (LSDS-1618) and *Landsat 8-9 Collection 2 Level-2 Science Product Guide* (LSDS-1619): surface
  reflectance ``DN * 0.0000275 - 0.2``, surface temperature ``DN * 0.00341802 + 149.0`` kelvin.
- Sentinel-2 MSI: ESA *Sentinel-2 User Handbook* (2015), spectral resolution table (Sentinel-2A
  central wavelength +- half the bandwidth). Scaling: ESA *Sentinel-2 Products Specification Document*
  (S2-PDGS-TAS-DI-PSD): reflectance = (DN + ADD_OFFSET) / QUANTIFICATION_VALUE with QUANTIFICATION_VALUE
  10000; since processing baseline 04.00 (products from 25 January 2022, and the reprocessed
  Collection-1 archive) ``BOA_ADD_OFFSET`` / ``RADIO_ADD_OFFSET`` is -1000 DN, i.e. -0.1 reflectance;
  before it, 0. Many distributions ("harmonized" collections) remove the offset again: ask yours.

Landsat Level-1 products hold DN (quantised, calibrated radiance; uint8 for TM/ETM+, uint16 for OLI):
they are **not** reflectance and geonb never scales them; turning them into top-of-atmosphere
reflectance needs the per-scene gains of the MTL file and the sun elevation.

This module is pure (no file I/O); :mod:`geonb.scene` reads files and MTL text and asks it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from geonb.errors import BandMismatchError, InvalidParameterError


@dataclass(frozen=True)
class Band:
    """One band of one sensor.

    Attributes
    ----------
    number : int
        The band's number as the sensor names it (Sentinel-2 B8 and B8A are both 8, Landsat 7's two
        thermal gains both 6: ``id`` tells them apart).
    name : str
        geonb's shared name (``"red"``, ``"swir1"``...): the same name means the same part of the
        spectrum on every sensor.
    long_name : str
    wavelength_nm : (float, float)
        Lower and upper edge of the band in nanometres.
    id : str
        The sensor's own id (``"B4"``, ``"B8A"``, ``"sur_refl_b01"``).
    resolution_m : float or None
        Native ground sampling distance in metres.
    """

    number: int
    name: str
    long_name: str
    wavelength_nm: tuple[float, float]
    id: str = ""
    resolution_m: float | None = None

    @property
    def center_nm(self) -> float:
        """Centre wavelength in nanometres."""
        return (self.wavelength_nm[0] + self.wavelength_nm[1]) / 2

    @property
    def is_thermal(self) -> bool:
        """True for thermal infrared bands (scaled as temperature, not reflectance, in Level-2 products)."""
        return self.name.startswith("thermal")


@dataclass(frozen=True)
class Product:
    """The usual integer encoding of one product of a sensor: ``physical = DN * scale + offset``.

    Attributes
    ----------
    key : str
        ``"mod09"``, ``"l1"``, ``"c2l2"``, ``"l2a"``...
    description : str
    dtype : str
        The product's integer dtype on disk.
    scale, offset : float or None
        For reflective bands; ``scale=None`` means the values are DN and are not scaled.
    thermal_scale, thermal_offset : float or None
        For thermal bands (kelvin); None: as the reflective bands.
    units : str
        What the values are after scaling ("reflectance", "DN").
    source : str
        The published document the numbers come from.
    """

    key: str
    description: str
    dtype: str
    scale: float | None
    offset: float = 0.0
    thermal_scale: float | None = None
    thermal_offset: float | None = None
    units: str = "reflectance"
    source: str = ""

    def scale_offset(self, band: Band) -> tuple[float, float]:
        """``(scale, offset)`` for ``band`` (``(1, 0)`` for DN products)."""
        if self.scale is None:
            return 1.0, 0.0
        if band.is_thermal and self.thermal_scale is not None:
            return self.thermal_scale, self.thermal_offset or 0.0
        return self.scale, self.offset


@dataclass(frozen=True)
class Sensor:
    """A sensor's band table, the band subsets files commonly hold, and its products.

    Attributes
    ----------
    key : str
        ``"modis"``, ``"landsat5"``, ``"landsat7"``, ``"landsat8"``, ``"sentinel2"``.
    name : str
    bands : tuple of Band
        In the sensor's band order (a full stack's file order).
    subsets : tuple of tuple of str
        Band ids of the stacks files commonly hold, in file order; a file without band descriptions
        is matched to one of them by its band count (a guess).
    products : tuple of Product
    aliases : tuple of str
        Other spellings accepted for ``sensor=`` and found in metadata ("TM", "LANDSAT_5", "S2A").
    """

    key: str
    name: str
    bands: tuple[Band, ...]
    subsets: tuple[tuple[str, ...], ...]
    products: tuple[Product, ...]
    aliases: tuple[str, ...] = ()

    @property
    def band_ids(self) -> tuple[str, ...]:
        return tuple(b.id for b in self.bands)

    @property
    def band_names(self) -> tuple[str, ...]:
        """Shared names in the sensor's band order."""
        return tuple(b.name for b in self.bands)

    def band(self, name_or_id: str) -> Band:
        """The band with this shared name or sensor id (``"nir"`` or ``"B8"``; case-insensitive ids)."""
        b = _lookup(self, name_or_id)
        if b is None:
            raise BandMismatchError(
                f"{self.name} has no band {name_or_id!r}; its bands are "
                f"{[f'{b.id} ({b.name})' for b in self.bands]}"
            )
        return b

    def product(self, key: str) -> Product:
        """The product called ``key`` (see :attr:`products`)."""
        for p in self.products:
            if p.key == key:
                return p
        raise InvalidParameterError(
            f"`product` {key!r} is not a product of {self.name}; choose one of {[p.key for p in self.products]}"
        )


_MOD09 = Product("mod09", "MOD09/MYD09 surface reflectance (int16, fill -28672)", "int16", 0.0001,
                 source="Vermote et al., MODIS Surface Reflectance User's Guide, Collection 6, Table 1")
_L1_TM = Product("l1", "Level-1 DN (uint8): calibrated radiance counts, not reflectance", "uint8", None,
                 units="DN", source="USGS Landsat 4-5 TM / 7 ETM+ Level-1 Data Format Control Books")
_L1_OLI = Product("l1", "Level-1 DN (uint16): calibrated radiance counts, not reflectance", "uint16", None,
                  units="DN", source="USGS Landsat 8-9 OLI/TIRS Collection 2 Level-1 Data Format Control Book")
_C2L2_TM = Product("c2l2", "Collection-2 Level-2 surface reflectance / temperature (uint16)", "uint16",
                   0.0000275, -0.2, 0.00341802, 149.0,
                   source="USGS LSDS-1618, Landsat 4-7 Collection 2 Level-2 Science Product Guide, Table 6-1")
_C2L2_OLI = Product("c2l2", "Collection-2 Level-2 surface reflectance / temperature (uint16)", "uint16",
                    0.0000275, -0.2, 0.00341802, 149.0,
                    source="USGS LSDS-1619, Landsat 8-9 Collection 2 Level-2 Science Product Guide, Table 6-1")
_S2_SOURCE = ("ESA Sentinel-2 Products Specification Document (S2-PDGS-TAS-DI-PSD): (DN + ADD_OFFSET) / 10000; "
              "ADD_OFFSET -1000 from processing baseline 04.00 (25 January 2022)")
_S2_PRODUCTS = (
    Product("l2a", "Level-2A surface reflectance, processing baseline >= 04.00 (offset -1000 DN)", "uint16",
            0.0001, -0.1, source=_S2_SOURCE),
    Product("l1c", "Level-1C top-of-atmosphere reflectance, processing baseline >= 04.00 (offset -1000 DN)",
            "uint16", 0.0001, -0.1, source=_S2_SOURCE),
    Product("l2a_pre0400", "Level-2A before baseline 04.00, or a 'harmonized' collection (no offset)", "uint16",
            0.0001, 0.0, source=_S2_SOURCE),
    Product("l1c_pre0400", "Level-1C before baseline 04.00, or a 'harmonized' collection (no offset)", "uint16",
            0.0001, 0.0, source=_S2_SOURCE),
)

MODIS = Sensor(
    "modis", "MODIS (Terra/Aqua) land bands 1-7",
    (
        Band(1, "red", "Red", (620, 670), "sur_refl_b01", 250),
        Band(2, "nir", "Near infrared (858 nm)", (841, 876), "sur_refl_b02", 250),
        Band(3, "blue", "Blue", (459, 479), "sur_refl_b03", 500),
        Band(4, "green", "Green", (545, 565), "sur_refl_b04", 500),
        Band(5, "nir2", "Near infrared (1240 nm)", (1230, 1250), "sur_refl_b05", 500),
        Band(6, "swir1", "Shortwave infrared (1640 nm)", (1628, 1652), "sur_refl_b06", 500),
        Band(7, "swir2", "Shortwave infrared (2130 nm)", (2105, 2155), "sur_refl_b07", 500),
    ),
    subsets=(tuple(f"sur_refl_b0{i}" for i in range(1, 8)),),
    products=(_MOD09,),
    aliases=("terra", "aqua", "mod09", "myd09", "mod09a1", "mod09ga", "mod09q1"),
)

LANDSAT5 = Sensor(
    "landsat5", "Landsat 4-5 TM",
    (
        Band(1, "blue", "Blue", (450, 520), "B1", 30),
        Band(2, "green", "Green", (520, 600), "B2", 30),
        Band(3, "red", "Red", (630, 690), "B3", 30),
        Band(4, "nir", "Near infrared", (760, 900), "B4", 30),
        Band(5, "swir1", "Shortwave infrared 1", (1550, 1750), "B5", 30),
        Band(6, "thermal", "Thermal infrared (120 m, delivered at 30 m)", (10400, 12500), "B6", 120),
        Band(7, "swir2", "Shortwave infrared 2", (2080, 2350), "B7", 30),
    ),
    subsets=(("B1", "B2", "B3", "B4", "B5", "B6", "B7"), ("B1", "B2", "B3", "B4", "B5", "B7")),
    products=(_L1_TM, _C2L2_TM),
    aliases=("landsat4", "landsat45", "tm", "lt04", "lt05", "lt4", "lt5"),
)

LANDSAT7 = Sensor(
    "landsat7", "Landsat 7 ETM+",
    (
        Band(1, "blue", "Blue", (450, 520), "B1", 30),
        Band(2, "green", "Green", (520, 600), "B2", 30),
        Band(3, "red", "Red", (630, 690), "B3", 30),
        Band(4, "nir", "Near infrared", (770, 900), "B4", 30),
        Band(5, "swir1", "Shortwave infrared 1", (1550, 1750), "B5", 30),
        Band(6, "thermal", "Thermal infrared, low gain (60 m, delivered at 30 m)", (10400, 12500), "B6_VCID_1", 60),
        Band(6, "thermal_hg", "Thermal infrared, high gain (60 m, delivered at 30 m)", (10400, 12500),
             "B6_VCID_2", 60),
        Band(7, "swir2", "Shortwave infrared 2", (2090, 2350), "B7", 30),
        Band(8, "pan", "Panchromatic", (520, 900), "B8", 15),
    ),
    subsets=(("B1", "B2", "B3", "B4", "B5", "B7"), ("B1", "B2", "B3", "B4", "B5", "B6_VCID_1", "B7")),
    products=(_L1_TM, _C2L2_TM),
    aliases=("etm", "etm+", "etmplus", "le07", "le7"),
)

LANDSAT8 = Sensor(
    "landsat8", "Landsat 8-9 OLI/TIRS",
    (
        Band(1, "coastal", "Coastal aerosol", (430, 450), "B1", 30),
        Band(2, "blue", "Blue", (450, 510), "B2", 30),
        Band(3, "green", "Green", (530, 590), "B3", 30),
        Band(4, "red", "Red", (640, 670), "B4", 30),
        Band(5, "nir", "Near infrared", (850, 880), "B5", 30),
        Band(6, "swir1", "Shortwave infrared 1", (1570, 1650), "B6", 30),
        Band(7, "swir2", "Shortwave infrared 2", (2110, 2290), "B7", 30),
        Band(8, "pan", "Panchromatic", (500, 680), "B8", 15),
        Band(9, "cirrus", "Cirrus", (1360, 1380), "B9", 30),
        Band(10, "thermal1", "Thermal infrared 1 (100 m, delivered at 30 m)", (10600, 11190), "B10", 100),
        Band(11, "thermal2", "Thermal infrared 2 (100 m, delivered at 30 m)", (11500, 12510), "B11", 100),
    ),
    subsets=(("B1", "B2", "B3", "B4", "B5", "B6", "B7"), ("B2", "B3", "B4", "B5", "B6", "B7"),
             ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B9", "B10", "B11")),
    products=(_L1_OLI, _C2L2_OLI),
    aliases=("landsat9", "oli", "olitirs", "oli2", "lc08", "lc09", "lc8", "lc9", "landsat89"),
)

SENTINEL2 = Sensor(
    "sentinel2", "Sentinel-2 MSI",
    (
        Band(1, "coastal", "Coastal aerosol", (433, 453), "B1", 60),
        Band(2, "blue", "Blue", (457.5, 522.5), "B2", 10),
        Band(3, "green", "Green", (542.5, 577.5), "B3", 10),
        Band(4, "red", "Red", (650, 680), "B4", 10),
        Band(5, "rededge1", "Vegetation red edge 1", (697.5, 712.5), "B5", 20),
        Band(6, "rededge2", "Vegetation red edge 2", (732.5, 747.5), "B6", 20),
        Band(7, "rededge3", "Vegetation red edge 3", (773, 793), "B7", 20),
        Band(8, "nir", "Near infrared (broad)", (784.5, 899.5), "B8", 10),
        Band(8, "nir_narrow", "Near infrared (narrow, 865 nm)", (855, 875), "B8A", 20),
        Band(9, "watervapour", "Water vapour", (935, 955), "B9", 60),
        Band(10, "cirrus", "Shortwave infrared, cirrus", (1360, 1390), "B10", 60),
        Band(11, "swir1", "Shortwave infrared 1", (1565, 1655), "B11", 20),
        Band(12, "swir2", "Shortwave infrared 2", (2100, 2280), "B12", 20),
    ),
    subsets=(
        ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B10", "B11", "B12"),
        ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B11", "B12"),  # L2A: no B10
        ("B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B11", "B12"),  # the 10 m and 20 m bands
        ("B2", "B3", "B4", "B8"),  # the 10 m bands
    ),
    products=_S2_PRODUCTS,
    aliases=("s2", "s2a", "s2b", "s2c", "msi", "sentinel2a", "sentinel2b", "sentinel2c", "s2msi1c", "s2msi2a"),
)

#: Every sensor geonb knows, by key.
SENSORS: dict[str, Sensor] = {s.key: s for s in (MODIS, LANDSAT5, LANDSAT7, LANDSAT8, SENTINEL2)}
#: Every shared band name, in wavelength order of first appearance.
SHARED_BAND_NAMES: tuple[str, ...] = tuple(dict.fromkeys(
    b.name for b in sorted((b for s in SENSORS.values() for b in s.bands), key=lambda b: b.center_nm)))

#: The 7 MODIS land bands (MOD09 surface reflectance), in file order (band 1 first).
MODIS_BANDS: tuple[Band, ...] = MODIS.bands
#: Band names in MODIS file order.
MODIS_BAND_NAMES: tuple[str, ...] = MODIS.band_names


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9+]", "", str(text).lower())


def sensor_key(value: str | None) -> str | None:
    """The sensor key for a name as users and metadata write it, or None when it names no known sensor.

    ``"Landsat 5"``, ``"LANDSAT_5"``, ``"TM"``, ``"Sentinel-2A"``, ``"S2B"``, ``"Terra"`` ...

    Examples
    --------
    >>> sensor_key("LANDSAT_5"), sensor_key("Sentinel-2A"), sensor_key("OLI_TIRS"), sensor_key("WorldView-2")
    ('landsat5', 'sentinel2', 'landsat8', None)
    """
    if value is None:
        return None
    v = _squash(value)
    for s in SENSORS.values():
        if v == s.key or v in (_squash(a) for a in s.aliases):
            return s.key
    if v.startswith("modis"):
        return "modis"
    return None


def get_sensor(sensor: str | Sensor) -> Sensor:
    """The :class:`Sensor` for a key or alias; an :class:`InvalidParameterError` listing the keys otherwise."""
    if isinstance(sensor, Sensor):
        return sensor
    key = sensor_key(sensor) if isinstance(sensor, str) else None
    if key is None:
        raise InvalidParameterError(
            f"`sensor` {sensor!r} is not a sensor geonb knows; choose one of {list(SENSORS)} (or 'auto' to "
            "detect it, None for none). For another sensor, name the bands yourself: Scene(..., band_names=...)"
        )
    return SENSORS[key]


_B_ID = re.compile(r"^(?:SR_|ST_|TOA_)?B(?:AND)?[ _]?0*(\d{1,2})(A?)(_VCID_[12])?$", re.IGNORECASE)
_MOD09_ID = re.compile(r"^sur_refl_b0?([1-7])$", re.IGNORECASE)


def _lookup(sensor: Sensor, text: str, *, shared_names: bool = True) -> Band | None:
    """The band of ``sensor`` that ``text`` names: its id (in the usual spellings) or its shared name."""
    t = str(text).strip()
    if shared_names:
        for b in sensor.bands:
            if t == b.name:
                return b
    candidates = [t.upper()]
    m = _MOD09_ID.match(t)
    if m:
        candidates.append(f"SUR_REFL_B0{m.group(1)}")
    m = _B_ID.match(t)
    if m and sensor.key != "modis":
        bid = f"B{int(m.group(1))}{m.group(2).upper()}{(m.group(3) or '').upper()}"
        candidates.append(bid)
        if bid == "B6" and sensor.key == "landsat7":
            candidates.append("B6_VCID_1")  # pre-collection ETM+ files call the low-gain thermal band "B6"
    for c in candidates:
        for b in sensor.bands:
            if b.id.upper() == c:
                return b
    return None


def match_bands(names: Sequence[str | None], sensor: str | Sensor, *,
                shared_names: bool = True) -> tuple[Band, ...] | None:
    """The bands of ``sensor`` that ``names`` (band descriptions or ids, in file order) name, or None.

    Every name must name a distinct band (``"B4"``, ``"SR_B4"``, ``"B04"``, ``"sur_refl_b01"``, or a
    shared name such as ``"red"`` unless ``shared_names=False``); otherwise None.

    Examples
    --------
    >>> [b.name for b in match_bands(["B2", "B3", "B4", "B8A"], "sentinel2")]
    ['blue', 'green', 'red', 'nir_narrow']
    >>> match_bands(["B2", "B8A"], "landsat8") is None
    True
    """
    sensor = get_sensor(sensor)
    if not names or any(not n for n in names):
        return None
    bands = [_lookup(sensor, n, shared_names=shared_names) for n in names]
    if any(b is None for b in bands) or len({b.id for b in bands}) != len(bands):
        return None
    return tuple(bands)


def sensors_matching(names: Sequence[str | None]) -> tuple[str, ...]:
    """Keys of the sensors whose band *ids* (not shared names) account for every one of ``names``.

    Examples
    --------
    >>> sensors_matching(["B1", "B2", "B8A", "B11"])
    ('sentinel2',)
    >>> sensors_matching(["B1", "B2", "B3", "B4", "B5", "B6", "B7"])
    ('landsat5', 'landsat7', 'landsat8', 'sentinel2')
    """
    return tuple(k for k, s in SENSORS.items() if match_bands(names, s, shared_names=False) is not None)


def bands_by_count(sensor: str | Sensor, n: int) -> tuple[Band, ...] | None:
    """The bands of the common stack of ``sensor`` with ``n`` bands (:attr:`Sensor.subsets`), or None."""
    sensor = get_sensor(sensor)
    for ids in sensor.subsets:
        if len(ids) == n:
            return tuple(sensor.band(i) for i in ids)
    return None


def parse_mtl(text: str) -> dict[str, str]:
    """``KEY = VALUE`` pairs of a Landsat MTL metadata text (quotes stripped; groups flattened).

    Examples
    --------
    >>> parse_mtl('GROUP = X\\n  SPACECRAFT_ID = "LANDSAT_5"\\n  SENSOR_ID = "TM"\\nEND_GROUP = X')["SENSOR_ID"]
    'TM'
    """
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        key = key.strip()
        if sep and key and key not in ("GROUP", "END_GROUP") and key not in out:
            out[key] = value.strip().strip('"')
    return out


def sensor_from_mtl(mtl: dict[str, str]) -> tuple[str | None, str | None]:
    """``(sensor key, product key)`` from parsed MTL metadata; None where it does not say.

    The product is ``"c2l2"`` for a Level-2 product (``PROCESSING_LEVEL`` L2SP/L2SR), ``"l1"`` for a
    Level-1 product (``PROCESSING_LEVEL`` or the older ``DATA_TYPE`` L1T/L1TP/L1GT/L1GS/L1G).

    Examples
    --------
    >>> sensor_from_mtl({"SPACECRAFT_ID": "LANDSAT_5", "SENSOR_ID": "TM", "DATA_TYPE": "L1T"})
    ('landsat5', 'l1')
    >>> sensor_from_mtl({"SPACECRAFT_ID": "LANDSAT_9", "SENSOR_ID": "OLI_TIRS", "PROCESSING_LEVEL": "L2SP"})
    ('landsat8', 'c2l2')
    """
    key = sensor_key(mtl.get("SPACECRAFT_ID")) or sensor_key(mtl.get("SENSOR_ID"))
    level = (mtl.get("PROCESSING_LEVEL") or mtl.get("DATA_TYPE") or "").upper()
    product = "c2l2" if level.startswith("L2") else "l1" if level.startswith("L1") else None
    return key, product


#: GeoTIFF metadata tags (case-insensitive) that may name the sensor, most specific first.
SENSOR_TAGS: tuple[str, ...] = ("GEONB_SENSOR", "SPACECRAFT_NAME", "SPACECRAFT_ID", "SPACECRAFT", "PLATFORM",
                                "SATELLITE", "MISSION", "SENSOR", "SENSOR_ID", "INSTRUMENT")


def sensor_from_tags(tags: dict[str, str]) -> tuple[str | None, str | None, str | None]:
    """``(sensor key, product key, tag used)`` from a raster's metadata tags; None where they do not say.

    Sentinel-2 tags as GDAL writes them (``PRODUCT_TYPE`` S2MSI1C/S2MSI2A, ``PROCESSING_BASELINE``)
    also give the product and so whether the -1000 DN offset applies.

    Examples
    --------
    >>> sensor_from_tags({"SPACECRAFT_NAME": "Sentinel-2B", "PRODUCT_TYPE": "S2MSI2A", "PROCESSING_BASELINE": "05.09"})
    ('sentinel2', 'l2a', 'SPACECRAFT_NAME')
    >>> sensor_from_tags({"AREA_OR_POINT": "Area"})
    (None, None, None)
    """
    upper = {str(k).upper(): str(v) for k, v in tags.items()}
    key = used = None
    for tag in SENSOR_TAGS:
        if tag in upper and sensor_key(upper[tag]):
            key, used = sensor_key(upper[tag]), tag
            break
    product = upper.get("GEONB_PRODUCT")
    if key == "sentinel2" and product is None:
        ptype = upper.get("PRODUCT_TYPE", "").upper()
        level = "l2a" if "2A" in ptype else "l1c" if "1C" in ptype else None
        baseline = upper.get("PROCESSING_BASELINE")
        if level and baseline:
            try:
                product = level if float(baseline) >= 4.0 else f"{level}_pre0400"
            except ValueError:
                product = None
    if key is not None and product is not None and product not in [p.key for p in SENSORS[key].products]:
        product = None
    return key, product, used


def band_table(sensor: str | Sensor):
    """The band table of ``sensor`` as a DataFrame: id, name, long_name, wavelength range, centre, resolution.

    Examples
    --------
    >>> band_table("landsat5")[["id", "name"]].head(2).to_dict("records")
    [{'id': 'B1', 'name': 'blue'}, {'id': 'B2', 'name': 'green'}]
    """
    import pandas as pd

    sensor = get_sensor(sensor)
    return pd.DataFrame([{"id": b.id, "number": b.number, "name": b.name, "long_name": b.long_name,
                          "wavelength_min_nm": b.wavelength_nm[0], "wavelength_max_nm": b.wavelength_nm[1],
                          "center_nm": b.center_nm, "resolution_m": b.resolution_m} for b in sensor.bands])


__all__ = [
    "LANDSAT5", "LANDSAT7", "LANDSAT8", "MODIS", "MODIS_BANDS", "MODIS_BAND_NAMES", "SENSORS", "SENSOR_TAGS",
    "SENTINEL2", "SHARED_BAND_NAMES", "Band", "Product", "Sensor", "band_table", "bands_by_count", "get_sensor",
    "match_bands", "parse_mtl", "sensor_from_mtl", "sensor_from_tags", "sensor_key", "sensors_matching",
]
