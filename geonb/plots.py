"""Matplotlib figures. Output room: draws only, no science inside.

House colours mean the same thing in every notebook: water blue, land tan, unclassified grey,
no data white/transparent; errors: false positives (land called water) orange, false negatives
(water called land) red. Every function takes ``ax=None`` and returns the axes it drew on.

Shared module: several parts of geonb add plot functions here. Add new functions below the
section header of your area; reuse ``LAKE_CMAP``/``class_legend`` rather than new colours.
"""

from __future__ import annotations

import numpy as np

from geonb.labels import (
    BACKGROUND,
    BORDER,
    BUILDING,
    LAKE_CLASS_NAMES,
    LAND,
    NODATA,
    UNCLASSIFIED,
    WATER,
)

#: RGBA-compatible hex colours per lake class code.
LAKE_COLORS: dict[int, str] = {
    NODATA: "#ffffff",
    WATER: "#1f5fbf",
    LAND: "#d2b48c",
    UNCLASSIFIED: "#9a9a9a",
}
#: Error colours: false positive (predicted water, truly land) and false negative (missed water).
ERROR_COLORS: dict[str, str] = {"correct": "#ffffff", "false positive": "#ff8c00", "false negative": "#d62728"}
#: Colours of the buildings track classes.
BUILDING_COLORS: dict[int, str] = {BACKGROUND: "#f0f0f0", BUILDING: "#c0392b", BORDER: "#f1c40f"}
#: Split colours (maps and charts).
SPLIT_COLORS: dict[str, str] = {"train": "#2ca02c", "val": "#9467bd", "test": "#e377c2"}


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _get_ax(ax, figsize=(5, 5)):
    if ax is None:
        _, ax = _plt().subplots(figsize=figsize)
    return ax


def lake_cmap():
    """A ``ListedColormap`` and ``BoundaryNorm`` mapping class codes 0..3 to the house colours."""
    from matplotlib.colors import BoundaryNorm, ListedColormap

    codes = sorted(LAKE_COLORS)
    cmap = ListedColormap([LAKE_COLORS[c] for c in codes], name="geonb_lakes")
    norm = BoundaryNorm(np.arange(-0.5, max(codes) + 1.5), cmap.N)
    return cmap, norm


def class_legend(ax, classes=(WATER, LAND, UNCLASSIFIED), *, colors=None, names=None, loc="lower right",
                 **kwargs):
    """Add a legend of class colour patches to ``ax``; return the legend."""
    from matplotlib.patches import Patch

    colors = colors or LAKE_COLORS
    names = names or LAKE_CLASS_NAMES
    handles = [Patch(facecolor=colors[c], edgecolor="0.3", label=names[c]) for c in classes]
    return ax.legend(handles=handles, loc=loc, fontsize="small", framealpha=0.85, **kwargs)


def _pixel_axes(ax, title: str) -> None:
    ax.set_title(title)
    ax.set_xlabel("column (pixels)")
    ax.set_ylabel("row (pixels)")


# ---- Scenes and labels -------------------------------------------------------------------
def plot_labels(labels: np.ndarray, ax=None, *, title: str = "Labels", legend: bool = True):
    """Draw a lake label raster ``(rows, cols)`` in the house colours with a legend."""
    ax = _get_ax(ax)
    cmap, norm = lake_cmap()
    ax.imshow(np.asarray(labels), cmap=cmap, norm=norm, interpolation="nearest")
    _pixel_axes(ax, title)
    if legend:
        present = [c for c in (WATER, LAND, UNCLASSIFIED) if np.any(np.asarray(labels) == c)]
        class_legend(ax, present or (WATER, LAND))
    return ax


def plot_rgb(rgb: np.ndarray, ax=None, *, title: str = "Composite"):
    """Draw an RGB array ``(rows, cols, 3)`` with values in [0, 1] (see ``bands.composite``)."""
    ax = _get_ax(ax)
    ax.imshow(np.clip(np.asarray(rgb), 0, 1), interpolation="nearest")
    _pixel_axes(ax, title)
    return ax
