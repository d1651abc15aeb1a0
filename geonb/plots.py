"""Matplotlib figures. Output room: draws only, no science inside.

House colours mean the same thing in every notebook: water blue, land tan, unclassified grey,
no data white/transparent; errors: false positives (land called water) orange, false negatives
(water called land) red. Every function takes ``ax=None`` and returns the axes it drew on.

Shared module: several parts of geonb add plot functions here. Add new functions below the
section header of your area; reuse ``LAKE_CMAP``/``class_legend`` rather than new colours.
"""

from __future__ import annotations

import numpy as np

# House colours live in geonb.colors (one owner for plots, widgets and maps); the scoring helpers drawn
# here (error codes, water score, thresholds) live in geonb.evaluation. Both are re-exported under their
# old names, so ``from geonb.plots import LAKE_COLORS, error_codes`` keeps working.
from geonb.bands import MAX_SAMPLE_PIXELS
from geonb.colors import BUILDING_COLORS, ERROR_COLORS, LAKE_COLORS, SPLIT_COLORS, check_fraction  # noqa: F401
from geonb.evaluation import (  # noqa: F401
    FALSE_NEGATIVE,
    FALSE_POSITIVE,
    classes_at_threshold,
    error_codes,
    prediction_on_grid,
    water_score,
)
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


def _plt():
    import matplotlib.pyplot as plt

    return plt


# ---- Input checks (before any figure is made) ----------------------------------------------
def _grid2d(values, name: str) -> np.ndarray:
    """``values`` as a 2-D array, or a ShapeMismatchError naming ``name``."""
    from geonb.errors import InvalidParameterError, ShapeMismatchError

    if values is None or isinstance(values, str):
        raise InvalidParameterError(f"`{name}` must be a (rows, cols) array, got {values!r}")
    arr = np.asarray(values)
    if arr.ndim != 2:
        hint = ""
        if arr.ndim == 3:
            hint = ("; for class probabilities pass the class map (Prediction.classes or argmax over the last "
                    "axis), for a multi-band image pick one band")
        raise ShapeMismatchError(f"`{name}` must be a 2-D (rows, cols) array, got shape {arr.shape}{hint}")
    return arr


def _class_codes(values, name: str, allowed) -> np.ndarray:
    """A 2-D array of integer class codes within ``allowed``, or a ClassCodeError naming the codes."""
    from geonb.errors import ClassCodeError

    arr = _grid2d(values, name)
    if arr.dtype.kind == "f" and (not np.isfinite(arr).all() or np.any(arr != np.round(arr))):
        raise ClassCodeError(f"`{name}` must hold integer class codes {tuple(allowed)}, got non-integer values "
                             f"(dtype {arr.dtype}); pass a class map, not probabilities")
    if arr.dtype.kind not in "uifb":
        raise ClassCodeError(f"`{name}` must hold integer class codes {tuple(allowed)}, got dtype {arr.dtype}")
    bad = sorted(set(np.unique(arr).tolist()) - set(allowed))
    if bad:
        raise ClassCodeError(
            f"`{name}` holds class code(s) {bad[:10]} that are not in {tuple(allowed)}; remap them to geonb's codes "
            "first (geonb.labels: WATER=1, LAND=2, UNCLASSIFIED=3, 0 = no label)"
        )
    return arr


def _check_rgb(rgb, name: str = "rgb") -> np.ndarray:
    from geonb.errors import ShapeMismatchError

    arr = np.asarray(rgb)
    if arr.ndim == 3 and arr.shape[0] in (3, 4) and arr.shape[-1] not in (3, 4):
        raise ShapeMismatchError(
            f"`{name}` has shape {arr.shape}, bands first; geonb draws (rows, cols, 3): "
            f"use np.moveaxis({name}, 0, -1)"
        )
    if arr.ndim != 3 or arr.shape[-1] not in (3, 4):
        raise ShapeMismatchError(f"`{name}` must be (rows, cols, 3) RGB in [0, 1] (bands.composite), got {arr.shape}")
    return arr


def _check_columns(table, columns, name: str, what: str) -> None:
    from geonb.errors import InvalidParameterError

    if not hasattr(table, "columns"):
        raise InvalidParameterError(f"`{name}` must be a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InvalidParameterError(
            f"`{what}` {missing[0]!r} is not a column of `{name}`; its columns are {list(table.columns)}"
        )


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

    from geonb.errors import ClassCodeError

    colors = colors or LAKE_COLORS
    names = names or LAKE_CLASS_NAMES
    unknown = [c for c in classes if c not in colors or c not in names]
    if unknown:
        raise ClassCodeError(f"`classes` holds code(s) {unknown} without a colour or name; known codes are "
                             f"{sorted(set(colors) & set(names))}")
    handles = [Patch(facecolor=colors[c], edgecolor="0.3", label=names[c]) for c in classes]
    return ax.legend(handles=handles, loc=loc, fontsize="small", framealpha=0.85, **kwargs)


def pixel_axes(ax, title: str) -> None:
    """Title ``ax`` and label its axes in pixels (column, row), as every raster panel here."""
    ax.set_title(title)
    ax.set_xlabel("column (pixels)")
    ax.set_ylabel("row (pixels)")


# ---- Scenes and labels -------------------------------------------------------------------
def plot_labels(labels: np.ndarray, ax=None, *, title: str = "Labels", legend: bool = True):
    """Draw a lake label raster ``(rows, cols)`` in the house colours with a legend."""
    labels = _class_codes(labels, "labels", (NODATA, WATER, LAND, UNCLASSIFIED))
    ax = _get_ax(ax)
    cmap, norm = lake_cmap()
    ax.imshow(np.asarray(labels), cmap=cmap, norm=norm, interpolation="nearest")
    pixel_axes(ax, title)
    if legend:
        present = [c for c in (WATER, LAND, UNCLASSIFIED) if np.any(np.asarray(labels) == c)]
        class_legend(ax, present or (WATER, LAND))
    return ax


def first_band_grey(image: np.ndarray) -> np.ndarray:
    """``(rows, cols, 3)`` float in [0, 1]: the first band of ``image`` (rows, cols, bands), min-max
    stretched, in grey; the picture of a scene that lacks the bands of a composite."""
    band = np.asarray(image)[..., 0]
    return np.repeat(((band - band.min()) / (np.ptp(band) or 1))[..., None], 3, axis=-1)


def plot_rgb(rgb: np.ndarray, ax=None, *, title: str = "Composite"):
    """Draw an RGB array ``(rows, cols, 3)`` with values in [0, 1] (see ``bands.composite``)."""
    rgb = _check_rgb(rgb)
    ax = _get_ax(ax)
    ax.imshow(np.clip(np.asarray(rgb), 0, 1), interpolation="nearest")
    pixel_axes(ax, title)
    return ax


# ---- Dataset exploration (notebook 01) ---------------------------------------------------
def plot_band_histograms(pixel_table, bands=None, *, axes=None, bins: int = 60, classes=(WATER, LAND, UNCLASSIFIED),
                         max_pixels: int = MAX_SAMPLE_PIXELS, seed: int = 0):
    """Histograms of reflectance per band, one colour per class (house colours).

    Parameters
    ----------
    pixel_table : pandas.DataFrame
        One row per labelled pixel with a ``label`` column and one column per band.
    bands : sequence of str, optional
        Band columns to draw (default: every column except ``lake_id`` and ``label``).
    axes : array of Axes, optional
        One axes per band; default a new grid of figures.
    max_pixels : int
        A random sample of at most this many pixels is drawn (fast on large tables).

    Returns
    -------
    ndarray of Axes
    """
    from geonb.errors import BandMismatchError, InvalidParameterError

    if not hasattr(pixel_table, "columns"):
        raise InvalidParameterError(f"`pixel_table` must be a DataFrame (LakeDataset.pixel_table), "
                                    f"got {type(pixel_table).__name__}")
    plt = _plt()
    if bands is None:
        bands = [c for c in pixel_table.columns if c not in ("lake_id", "label")]
    missing = [b for b in bands if b not in pixel_table.columns]
    if missing:
        raise BandMismatchError(f"`bands` {missing} are not columns of the pixel table; it has "
                                f"{[c for c in pixel_table.columns if c not in ('lake_id', 'label')]}")
    if len(pixel_table) > max_pixels:
        pixel_table = pixel_table.sample(max_pixels, random_state=seed)
    if axes is None:
        ncols = min(4, len(bands))
        nrows = int(np.ceil(len(bands) / ncols))
        fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.8 * nrows), squeeze=False,
                                 constrained_layout=True)
        for ax in axes.ravel()[len(bands):]:
            ax.set_visible(False)
        fig.suptitle("Reflectance per band and class")
    axes = np.asarray(axes).ravel()
    labels = pixel_table["label"].to_numpy()
    for ax, band in zip(axes, bands, strict=False):
        values = pixel_table[band].to_numpy()
        hi = float(np.percentile(values, 99.5)) if len(values) else 1.0
        edges = np.linspace(min(0.0, float(values.min(initial=0))), max(hi, 1e-3), bins + 1)
        for c in classes:
            sel = values[labels == c]
            if len(sel):
                ax.hist(sel, bins=edges, density=True, histtype="stepfilled", alpha=0.55,
                        color=LAKE_COLORS[c], edgecolor=LAKE_COLORS[c], label=LAKE_CLASS_NAMES[c])
        ax.set_title(band)
        ax.set_xlabel("reflectance")
        ax.set_ylabel("density")
    axes[0].legend(fontsize="small")
    return axes


def plot_scene_sizes(lakes, ax=None, *, color_by: str = "split"):
    """Scatter of scene sizes (rows vs cols), coloured by split; ``lakes`` is ``LakeDataset.lakes``."""
    ax = _get_ax(ax, figsize=(5, 4.5))
    groups = lakes.groupby(color_by) if color_by in lakes else [("lakes", lakes)]
    for key, g in groups:
        ax.scatter(g["cols"], g["rows"], s=12, alpha=0.7, label=f"{key} ({len(g)})",
                   color=SPLIT_COLORS.get(key, None))
    ax.set_title("Scene sizes")
    ax.set_xlabel("columns (pixels)")
    ax.set_ylabel("rows (pixels)")
    ax.legend(title=color_by, fontsize="small")
    return ax


def plot_class_balance(summary, ax=None, *, title: str = "Class balance per split"):
    """Stacked bars of pixel shares per class for each row of ``summary``.

    ``summary`` is a DataFrame indexed by split (or dataset) with pixel-count columns named after the
    classes (``water``, ``land``, ``unclassified``).
    """
    _check_columns(summary, (), "summary", "summary")
    ax = _get_ax(ax, figsize=(5, 3.5))
    classes = [c for c in (WATER, LAND, UNCLASSIFIED)
               if LAKE_CLASS_NAMES[c] in summary.columns and summary[LAKE_CLASS_NAMES[c]].sum() > 0]
    counts = summary[[LAKE_CLASS_NAMES[c] for c in classes]].astype(float)
    shares = counts.div(counts.sum(axis=1), axis=0) * 100
    left = np.zeros(len(shares))
    for c in classes:
        vals = shares[LAKE_CLASS_NAMES[c]].to_numpy()
        ax.barh([str(i) for i in shares.index], vals, left=left, color=LAKE_COLORS[c], edgecolor="0.3",
                label=LAKE_CLASS_NAMES[c])
        for y, (lft, v) in enumerate(zip(left, vals, strict=True)):
            if v >= 12:
                ax.text(lft + v / 2, y, f"{v:.1f}%", ha="center", va="center", fontsize="small")
        left += vals
    ax.set_xlim(0, 100)
    ax.set_title(title)
    ax.set_xlabel("share of labelled pixels (%)")
    ax.set_ylabel(summary.index.name or "")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=len(classes), fontsize="small")
    return ax


# ---- Evaluation and experiments (notebook 05) ---------------------------------------------
def plot_confusion(confusion, ax=None, *, normalize: str | None = "true", title: str = "Confusion matrix",
                   cmap: str = "Blues"):
    """Draw a confusion matrix (``geonb.evaluation.Confusion`` or ``Scores``) as an annotated heatmap.

    Parameters
    ----------
    confusion : Confusion or Scores
    normalize : {"true", None}
        ``"true"``: colour and label each cell by its share of the true class (row); ``None``: counts.
    """
    from geonb.errors import InvalidParameterError

    if normalize not in ("true", None):
        raise InvalidParameterError(f"`normalize` must be 'true' or None, got {normalize!r}")
    conf = getattr(confusion, "confusion", confusion)
    if not hasattr(conf, "to_frame") or not hasattr(conf, "matrix"):
        raise InvalidParameterError(
            f"`confusion` must be a geonb.evaluation Confusion or Scores, got {type(confusion).__name__}"
        )
    frame = conf.to_frame()
    counts = frame.to_numpy().astype(float)
    if normalize == "true":
        with np.errstate(invalid="ignore", divide="ignore"):
            values = counts / counts.sum(axis=1, keepdims=True)
        values = np.nan_to_num(values)
        bar_label, vmax = "share of the true class", 1.0
    elif normalize is None:
        values, bar_label, vmax = counts, "pixels", None
    else:
        raise ValueError(f"`normalize` must be 'true' or None, got {normalize!r}")
    ax = _get_ax(ax, figsize=(4.6, 3.8))
    im = ax.imshow(values, cmap=cmap, vmin=0, vmax=vmax)
    for (i, j), v in np.ndenumerate(values):
        txt = f"{int(counts[i, j]):,}" + (f"\n{v:.1%}" if normalize else "")
        ax.text(j, i, txt, ha="center", va="center", fontsize="small",
                color="white" if v > 0.6 * (vmax or values.max() or 1) else "black")
    names = [c.replace("predicted ", "") for c in frame.columns]
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(frame.index)), [r.replace("true ", "") for r in frame.index])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    ax.figure.colorbar(im, ax=ax, label=bar_label, fraction=0.046, pad=0.04)
    return ax


def _seed_histories(h):
    """``{seed: history}`` from a history dict or a dict of them."""
    if h and all(isinstance(v, dict) for v in h.values()):
        return {k: v for k, v in h.items() if v}
    return {0: h} if h else {}


def plot_loss_curves(histories, ax=None, *, metric: str = "loss", validation: bool = True,
                     title: str = "Training loss per epoch"):
    """The study's Figure 6: loss per epoch of several models (training solid, validation dashed).

    Parameters
    ----------
    histories : dict of label to history
        A history is ``{"loss": [...], "val_loss": [...]}`` or ``{seed: history}``; with several
        seeds the line is the mean and the band spans the min to max over seeds. Labels with an
        empty history (baselines) are skipped.
    metric : str
        ``"loss"`` or ``"accuracy"``.
    """
    from geonb.errors import InvalidParameterError

    if not isinstance(histories, dict):
        raise InvalidParameterError(f"`histories` must be a dict of label -> history, got {type(histories).__name__}")
    recorded = {k for h in histories.values() for r in _seed_histories(h).values() for k in r}
    if recorded and metric not in recorded:
        raise InvalidParameterError(f"`metric` {metric!r} was not recorded; the histories have {sorted(recorded)}")
    ax = _get_ax(ax, figsize=(6, 4))
    colors = _plt().rcParams["axes.prop_cycle"].by_key()["color"]
    drawn = 0
    for i, (label, h) in enumerate(histories.items()):
        runs = _seed_histories(h)
        if not runs:
            continue
        color = colors[i % len(colors)]
        for key, style, suffix in ((metric, "-", "train"), (f"val_{metric}", "--", "validation")):
            if key == f"val_{metric}" and not validation:
                continue
            curves = [np.asarray(r[key], float) for r in runs.values() if key in r]
            if not curves:
                continue
            n = min(len(c) for c in curves)
            arr = np.stack([c[:n] for c in curves])
            epochs = np.arange(1, n + 1)
            ax.plot(epochs, arr.mean(axis=0), style, color=color, marker="o", ms=3,
                    label=f"{label} ({suffix})" + (f", {len(curves)} seeds" if len(curves) > 1 else ""))
            if len(curves) > 1:
                ax.fill_between(epochs, arr.min(axis=0), arr.max(axis=0), color=color, alpha=0.15, lw=0)
            drawn += 1
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric.replace("_", " "))
    if drawn:
        from matplotlib.ticker import MaxNLocator

        ax.legend(fontsize="small")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        ax.text(0.5, 0.5, "no training history (baselines only)", ha="center", va="center", transform=ax.transAxes)
    return ax


def plot_experiment_scores(table, ax=None, *, metric: str = "f1", by: str = "label", reference=None,
                           reference_label: str = "study (2018)", title: str | None = None, xlabel: str | None = None):
    """A metric per setting of an experiment: one dot per seed, the mean as a bar, ± std as an error bar.

    Parameters
    ----------
    table : pandas.DataFrame
        An experiment's tidy table (``ExperimentResults.table``): columns ``by``, ``seed``, ``metric``.
    metric : str
        ``"f1"``, ``"iou"``, ``"accuracy"``...
    reference : dict of setting to value, optional
        The study's values, drawn as black diamonds (NaN skipped).
    """
    _check_columns(table, (by,), "table", "by")
    _check_columns(table, (metric,), "table", "metric")
    ax = _get_ax(ax, figsize=(6, 3.8))
    labels = list(dict.fromkeys(table[by].astype(str)))
    x = np.arange(len(labels))
    groups = [table.loc[table[by].astype(str) == lb, metric].astype(float) for lb in labels]
    means = np.array([g.mean() for g in groups])
    stds = np.array([g.std(ddof=1) if g.notna().sum() > 1 else 0.0 for g in groups])
    ax.bar(x, np.nan_to_num(means), width=0.6, color=LAKE_COLORS[WATER], alpha=0.35, edgecolor=LAKE_COLORS[WATER],
           label="geonb, mean over seeds")
    ax.errorbar(x, means, yerr=stds, fmt="none", ecolor="0.2", capsize=4, label="± 1 std over seeds")
    for xi, g in zip(x, groups, strict=True):
        vals = g.to_numpy()
        jitter = np.linspace(-0.12, 0.12, len(vals)) if len(vals) > 1 else np.zeros(len(vals))
        ax.plot(xi + jitter, vals, "o", color=LAKE_COLORS[WATER], ms=4)
    for xi, m in zip(x, means, strict=True):
        if np.isfinite(m):
            ax.text(xi, m, f"{m:.3f}", ha="center", va="bottom", fontsize="small")
        else:
            ax.text(xi, 0.02, "undefined", ha="center", va="bottom", fontsize="small", rotation=90)
    if reference:
        ref = [reference.get(lb, reference.get(_maybe_int(lb), np.nan)) for lb in labels]
        ax.plot(x, ref, "D", color="black", ms=6, label=reference_label)
    ax.set_xticks(x, labels)
    ax.set_ylim(0, 1.05 if metric in ("f1", "iou", "accuracy", "precision", "recall") else None)
    ax.set_xlabel(xlabel or by.replace("_", " "))
    ax.set_ylabel(metric.upper() if metric in ("f1", "iou") else metric)
    ax.set_title(title or f"{metric.upper() if metric in ('f1', 'iou') else metric} on the test lakes")
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, frameon=False)
    return ax


def _maybe_int(s):
    try:
        return int(s)
    except (TypeError, ValueError):
        return s


def plot_scores_by_condition(shift, ax=None, *, metric: str = "f1", title: str = "F1 by scene condition"):
    """Grouped bars of a metric per scene condition and model (``geonb.experiments.domain_shift`` output)."""
    ax = _get_ax(ax, figsize=(7, 3.8))
    pivot = shift.pivot_table(index="condition", columns="label", values=metric, aggfunc="mean", sort=False)
    n_lakes = shift.groupby("condition")["n_lakes"].max()
    k = pivot.shape[1]
    width = 0.8 / max(k, 1)
    x = np.arange(len(pivot.index))
    for j, col in enumerate(pivot.columns):
        ax.bar(x + (j - (k - 1) / 2) * width, pivot[col].fillna(0).to_numpy(), width, label=str(col))
    ax.set_xticks(x, [f"{c}\n({int(n_lakes[c])} lakes)" for c in pivot.index])
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("scene condition (test lakes)")
    ax.set_ylabel(metric.upper() if metric in ("f1", "iou") else metric)
    ax.set_title(title)
    ax.legend(fontsize="small", ncol=min(k, 4))
    return ax


# ---- Bands, PCA and patches (notebooks 02 and 03) ------------------------------------------
#: Colours of windows drawn over a scene: kept patches, pruned patches, pixels dropped at the edge.
WINDOW_COLORS: dict[str, str] = {"kept": "#ffd400", "pruned": "#a6a6a6", "dropped": "#c51b7d"}


def _rect_segments(windows: np.ndarray, inset: float = 0.2) -> np.ndarray:
    """Closed outlines ``(n, 5, 2)`` in imshow (x=col, y=row) coordinates of windows ``(n, 4)``."""
    w = np.asarray(windows, dtype=float).reshape(-1, 4)
    r0 = w[:, 0] - 0.5 + inset
    c0 = w[:, 1] - 0.5 + inset
    r1 = w[:, 0] + w[:, 2] - 0.5 - inset
    c1 = w[:, 1] + w[:, 3] - 0.5 - inset
    xs = np.stack([c0, c1, c1, c0, c0], axis=1)
    ys = np.stack([r0, r0, r1, r1, r0], axis=1)
    return np.stack([xs, ys], axis=2)


class WindowOverlay:
    """Artists drawing windows over a scene, updatable in place (fast redraws in widgets).

    Kept windows are solid yellow outlines, pruned windows dashed light-grey outlines, and
    scene pixels that no window covers (dropped at the edge) a magenta veil.
    """

    def __init__(self, ax, shape: tuple[int, int]):
        from matplotlib.collections import LineCollection
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        self.ax = ax
        self.kept = LineCollection([], colors=WINDOW_COLORS["kept"], linewidths=1.4, zorder=3)
        self.pruned = LineCollection([], colors=WINDOW_COLORS["pruned"], linewidths=1.0, linestyles="--",
                                     zorder=2)
        ax.add_collection(self.pruned)
        ax.add_collection(self.kept)
        self.veil = ax.imshow(np.zeros(tuple(shape) + (4,)), interpolation="nearest", zorder=1.5)
        handles = [Line2D([], [], color=WINDOW_COLORS["kept"], lw=2, label="kept patch"),
                   Line2D([], [], color=WINDOW_COLORS["pruned"], lw=1.5, ls="--", label="pruned (one class)"),
                   Patch(facecolor=WINDOW_COLORS["dropped"], alpha=0.6, label="dropped at edge")]
        self.legend = ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.11), ncol=3,
                                fontsize="small", frameon=False)

    def update(self, windows: np.ndarray, keep: np.ndarray | None = None, dropped: np.ndarray | None = None):
        """Redraw with windows ``(n, 4)``, their ``keep`` flags ``(n,)`` and the ``dropped`` mask (rows, cols)."""
        from matplotlib.colors import to_rgba

        windows = np.asarray(windows).reshape(-1, 4)
        keep = np.ones(len(windows), bool) if keep is None else np.asarray(keep, bool)
        self.kept.set_segments(list(_rect_segments(windows[keep])))
        self.pruned.set_segments(list(_rect_segments(windows[~keep])))
        if dropped is not None:
            dropped = np.asarray(dropped, bool)
            rgba = np.zeros(dropped.shape + (4,))
            rgba[dropped] = to_rgba(WINDOW_COLORS["dropped"], 0.6)
            self.veil.set_data(rgba)
        return self


def plot_windows(rgb: np.ndarray, windows: np.ndarray, keep: np.ndarray | None = None, ax=None, *,
                 dropped: np.ndarray | None = None, title: str = "Patches over the scene"):
    """Draw patch windows ``(n, 4)`` (row_off, col_off, height, width) over an RGB composite.

    Parameters
    ----------
    rgb : ndarray (rows, cols, 3) in [0, 1]
        E.g. ``bands.composite(scene)``.
    windows : ndarray of int, shape (n, 4)
        ``PatchSet.windows`` or ``grid_windows(...).windows``.
    keep : ndarray of bool (n,), optional
        False for pruned windows (dashed).
    dropped : ndarray of bool (rows, cols), optional
        Pixels no window covers (``grid.coverage() == 0``), veiled in magenta.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.geonb_overlay`` is the :class:`WindowOverlay`, for in-place updates.
    """
    from geonb.errors import ShapeMismatchError

    rgb = _check_rgb(rgb)
    win = np.asarray(windows)
    if win.ndim != 2 or win.shape[1] != 4:
        raise ShapeMismatchError(f"`windows` must be (n, 4) (row_off, col_off, height, width), got shape {win.shape}")
    if keep is not None and np.asarray(keep).shape != (len(win),):
        raise ShapeMismatchError(
            f"`keep` must have one flag per window ({len(win)}), got shape {np.asarray(keep).shape}")
    if dropped is not None and np.asarray(dropped).shape != rgb.shape[:2]:
        raise ShapeMismatchError(
            f"`dropped` must be a (rows, cols) mask on the image grid {rgb.shape[:2]}, got {np.asarray(dropped).shape}")
    ax = _get_ax(ax, figsize=(6, 6.4))
    ax.imshow(np.clip(rgb, 0, 1), interpolation="nearest")
    overlay = WindowOverlay(ax, rgb.shape[:2]).update(windows, keep, dropped)
    ax.set_xlim(-0.5, max(rgb.shape[1], int(np.max(np.asarray(windows)[:, [1]] + np.asarray(windows)[:, [3]],
                                                              initial=0))) - 0.5)
    ax.set_ylim(max(rgb.shape[0], int(np.max(np.asarray(windows)[:, [0]] + np.asarray(windows)[:, [2]],
                                             initial=0))) - 0.5, -0.5)
    pixel_axes(ax, title)
    ax.geonb_overlay = overlay
    return ax


def plot_patch_tradeoff(table, ax=None, *, current: int | None = None,
                        title: str = "The dual problem: patch size vs data kept"):
    """Patches (left axis, log) and pixels used / lost (right axis, %) against patch size.

    ``table`` comes from :func:`geonb.patches.patch_tradeoff` (indexed by size). A dotted vertical
    line marks ``current``; ``ax.geonb_marker`` is that line (move it with ``set_xdata``).
    """
    ax = _get_ax(ax, figsize=(6, 3.6))
    sizes = np.asarray(table.index, dtype=float)
    ax.plot(sizes, np.maximum(table["patches"].to_numpy(), 0.8), "o-", color="0.15", ms=3.5, label="patches")
    ax.set_yscale("log")
    ax.set_xscale("log", base=2)
    ax.set_xticks(sizes)
    ax.set_xticklabels([str(int(s)) for s in sizes], fontsize="small")
    ax.minorticks_off()
    ax.set_xlabel("patch size (pixels per side)")
    ax.set_ylabel("patches kept (log)")
    ax.set_title(title)
    twin = ax.twinx()
    total = table["pixels_total"].to_numpy(dtype=float)
    used = 100 * table["pixels_used"].to_numpy() / np.maximum(total, 1)
    twin.plot(sizes, used, "s-", color=LAKE_COLORS[WATER], ms=3.5, label="pixels used (%)")
    twin.plot(sizes, 100 - used, "^--", color=WINDOW_COLORS["dropped"], ms=3.5, label="pixels lost (%)")
    twin.set_ylim(0, 100)
    twin.set_ylabel("share of scene pixels (%)")
    ax.geonb_marker = ax.axvline(current if current is not None else np.nan, color="0.4", ls=":", lw=1.5)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = twin.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize="x-small", loc="center left", framealpha=0.85)
    return ax


def plot_spectra(spectra, ax=None, *, title: str = "Mean spectrum per class (band: 10th-90th percentile)"):
    """Mean reflectance per band and class against wavelength, with a 10-90 percentile band.

    ``spectra`` is the table of :func:`geonb.bands.class_spectra`.
    """
    ax = _get_ax(ax, figsize=(7, 4))
    for c, g in spectra.groupby("class"):
        g = g.sort_values("wavelength_nm")
        color = LAKE_COLORS.get(int(c), None)
        ax.fill_between(g["wavelength_nm"], g["p10"], g["p90"], color=color, alpha=0.2, lw=0)
        ax.plot(g["wavelength_nm"], g["mean"], "o-", color=color, label=f"{g['class_name'].iloc[0]} (mean)")
    first = spectra[spectra["class"] == spectra["class"].iloc[0]].sort_values("wavelength_nm")
    top = float(spectra["p90"].max())
    for wl, name in zip(first["wavelength_nm"], first["band"], strict=True):
        ax.axvline(wl, color="0.85", lw=0.8, zorder=0)
        ax.text(wl, top * 1.02, name, rotation=90, ha="center", va="bottom", fontsize="x-small", color="0.35")
    ax.set_ylim(min(0.0, float(spectra["p10"].min())), top * 1.18)
    ax.set_xlabel("wavelength (nm)")
    ax.set_ylabel("reflectance")
    ax.set_title(title)
    ax.legend(fontsize="small", loc="upper left")
    return ax


def plot_pca_variance(pca, ax=None, *, threshold: float = 0.99, title: str | None = None):
    """Explained variance per principal component (bars) and cumulative (line), cf. the study's Figure 4.

    ``pca`` is a :class:`geonb.bands.PCAResult`; a dashed line marks ``threshold``.
    """
    threshold = check_fraction(threshold, "threshold")
    ax = _get_ax(ax, figsize=(5.5, 3.6))
    ratio = 100 * pca.explained_variance_ratio
    cum = 100 * pca.cumulative
    x = np.arange(1, len(ratio) + 1)
    ax.bar(x, ratio, color="#8fb3de", edgecolor="0.3", label="explained by the component")
    ax.plot(x, cum, "o-", color="0.15", label="cumulative")
    ax.axhline(100 * threshold, color="0.5", ls="--", lw=1, label=f"{100 * threshold:g}%")
    ax.set_xticks(x)
    ax.set_xticklabels([f"PC{i}" for i in x])
    ax.set_ylim(0, 105)
    ax.set_xlabel("principal component")
    ax.set_ylabel("explained variance (%)")
    kind = "standardised bands" if pca.standardize else "raw reflectance"
    ax.set_title(title or f"PCA of {len(pca.band_names)} bands ({kind})")
    ax.legend(fontsize="small", loc="center right")
    return ax


def plot_pca_loadings(pca, ax=None, *, n_components: int = 3, title: str | None = None):
    """Heat map of each component's weight per band (diverging colours, values written in)."""
    from geonb.errors import InvalidParameterError

    n_max = pca.loadings.shape[1]
    if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)) or \
            not 1 <= n_components <= n_max:
        raise InvalidParameterError(f"`n_components` must be an integer in 1..{n_max}, got {n_components!r}")
    ax = _get_ax(ax, figsize=(4.8, 4))
    load = pca.loadings.iloc[:, :n_components]
    vmax = float(np.abs(load.to_numpy()).max()) or 1.0
    im = ax.imshow(load.to_numpy(), cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto")
    for (i, j), v in np.ndenumerate(load.to_numpy()):
        ax.text(j, i, f"{v:+.2f}", ha="center", va="center", fontsize="small",
                color="white" if abs(v) > 0.6 * vmax else "black")
    ax.set_xticks(range(load.shape[1]))
    ax.set_xticklabels([c.upper() for c in load.columns])
    ax.set_yticks(range(load.shape[0]))
    ax.set_yticklabels(load.index)
    ax.set_xlabel("principal component")
    ax.set_ylabel("band")
    ax.set_title(title or "PCA loadings (weight of each band)")
    ax.figure.colorbar(im, ax=ax, label="loading", shrink=0.85)
    return ax


def plot_index(values: np.ndarray, ax=None, *, title: str = "NDWI", cmap: str = "RdBu", vmin: float = -1,
               vmax: float = 1, label: str = "index value"):
    """A normalised-difference index map ``(rows, cols)`` (NaN = no data, grey) with a colorbar."""
    values = _grid2d(values, "values")
    ax = _get_ax(ax, figsize=(5, 4.5))
    import matplotlib

    cm = matplotlib.colormaps[cmap].with_extremes(bad="0.75")
    im = ax.imshow(np.ma.masked_invalid(values), cmap=cm, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.figure.colorbar(im, ax=ax, label=label, shrink=0.85)
    pixel_axes(ax, title)
    return ax


# ---- Training and prediction (notebook 04) ------------------------------------------------
#: History entries that are settings, not scores: :func:`plot_history` marks no best epoch on them.
_NOT_SCORES = ("learning_rate", "lr")


def plot_history(history, axes=None, *, metrics=("loss", "accuracy"), title: str = "Training history"):
    """Training curves: one panel per metric, training solid and validation dashed, best epoch marked.

    Parameters
    ----------
    history : dict of str to list of float, or a ``TrainingResult``
        ``{"loss": [...], "val_loss": [...], "accuracy": [...], ...}`` (one value per epoch).
    axes : sequence of Axes, optional
        One per metric; made side by side when ``None``.
    metrics : sequence of str

    Returns
    -------
    ndarray of Axes
    """
    from geonb.errors import InvalidParameterError

    hist = getattr(history, "history", history) or {}
    if not hasattr(hist, "get") or not hasattr(hist, "keys"):
        raise InvalidParameterError(
            f"`history` must be a dict of metric -> values per epoch or a TrainingResult, got {type(history).__name__}"
        )
    if hist and not any(m in hist for m in metrics):
        raise InvalidParameterError(
            f"none of `metrics` {tuple(metrics)} was recorded; the history has {sorted(hist)}"
        )
    metrics = [m for m in metrics if m in hist] or list(metrics[:1])
    if axes is None:
        _, axes = _plt().subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.6), squeeze=False)
        axes = axes[0]
    axes = np.atleast_1d(axes)
    for ax, metric in zip(axes, metrics, strict=False):
        for key, style, label in ((metric, "-o", "training"), (f"val_{metric}", "--s", "validation")):
            values = hist.get(key)
            if values:
                ax.plot(np.arange(1, len(values) + 1), values, style, ms=4, label=label,
                        color="#1f77b4" if label == "training" else "#ff7f0e")
        val = hist.get(f"val_{metric}") or hist.get(metric)
        if val:
            if metric not in _NOT_SCORES:  # a learning rate has no best epoch
                best = int(np.argmin(val) if "loss" in metric else np.argmax(val))
                ax.axvline(best + 1, color="0.5", lw=0.8, ls=":", label=f"best epoch ({best + 1})")
            ax.legend(fontsize="small")
            n = len(val)
            if n <= 12:
                ax.set_xticks(range(1, n + 1))
                ax.set_xlim(0.5, n + 0.5)
            else:
                ax.xaxis.get_major_locator().set_params(integer=True)
        else:
            ax.text(0.5, 0.5, f"no '{metric}' recorded", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(f"{title}: {metric.replace('_', ' ')}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric.replace("_", " ") + (" (weighted cross-entropy)" if metric == "loss" else ""))
    return axes


def plot_prediction(scene, prediction, axes=None, *, title: str | None = None):
    """Image | label | prediction of one scene, side by side, in the house colours.

    Parameters
    ----------
    scene : Scene
        With ``labels`` (the middle panel says "no labels" otherwise).
    prediction : Prediction
        From :func:`geonb.prediction.predict_scene`.
    axes : three Axes, optional

    Returns
    -------
    ndarray of 3 Axes
    """
    from geonb.bands import composite

    _check_scene(scene)
    pred_classes = prediction_on_grid(prediction, scene)
    if axes is None:
        _, axes = _plt().subplots(1, 3, figsize=(11, 3.8))
    axes = np.atleast_1d(axes)
    name = title or scene.title or "scene"
    condition = scene.properties.get("condition") if isinstance(scene.properties, dict) else None
    if condition and not title:
        name = f"{name} ({condition})"
    try:
        rgb = composite(scene.image, scene.band_names, nodata_mask=scene.nodata_mask)
    except (ValueError, IndexError, KeyError):  # scenes without the true-colour bands
        rgb = first_band_grey(scene.image)
    plot_rgb(rgb, ax=axes[0], title=f"{name}: image")
    if scene.labels is not None:
        plot_labels(scene.labels, ax=axes[1], title="label")
    else:
        axes[1].text(0.5, 0.5, "no labels", ha="center", va="center", transform=axes[1].transAxes)
        pixel_axes(axes[1], "label")
    plot_labels(pred_classes, ax=axes[2], title="prediction")
    return axes


def plot_scene_overview(scene, axes=None, *, composites=None):
    """One row per scene: composites side by side with the label map (house colours).

    Parameters
    ----------
    scene : Scene
    axes : sequence of Axes, optional
        ``len(composites) + 1`` axes (the last one for the labels, when the scene has labels).
    composites : dict of title -> 3 band names, optional
        Default: true colour (1-4-3) and false colour (2-6-1).

    Returns
    -------
    list of Axes
    """
    from geonb.bands import FALSE_COLOR, TRUE_COLOR, composite

    _check_scene(scene)
    composites = composites or {"true colour (1-4-3)": TRUE_COLOR, "false colour (2-6-1)": FALSE_COLOR}
    n = len(composites) + (scene.labels is not None)
    if axes is None:
        _, axes = _plt().subplots(1, n, figsize=(3.6 * n, 3.6), constrained_layout=True)
    axes = list(np.atleast_1d(axes))
    for ax, (title, bands) in zip(axes, composites.items(), strict=False):
        plot_rgb(composite(scene, bands=bands), ax=ax, title=f"{scene.title}\n{title}")
    if scene.labels is not None:
        plot_labels(scene.labels, ax=axes[len(composites)], title=f"{scene.title}\nlabels")
    return axes


# ---- Buildings -----------------------------------------------------------------------------
def _outline_segments(geoms) -> list:
    """Exterior and interior rings of (Multi)Polygons as (n, 2) arrays."""
    rings = []
    for g in geoms:
        for poly in getattr(g, "geoms", [g]):
            if poly.is_empty or not hasattr(poly, "exterior"):
                continue
            rings.append(np.asarray(poly.exterior.coords)[:, :2])
            rings.extend(np.asarray(r.coords)[:, :2] for r in poly.interiors)
    return rings


def plot_footprints(rgb, footprints, transform, crs=None, ax=None, *, title: str = "Building footprints",
                    color: str = "#00e5ff", label: str = "truth footprints", linewidth: float = 1.2):
    """Draw footprint outlines over an image, in its pixel coordinates (the study's Figure 20).

    Parameters
    ----------
    rgb : ndarray (rows, cols, 3) in [0, 1], or None
        The image (``geonb.bands.composite``); None draws outlines only (e.g. a second set on the
        same axes).
    footprints : Footprints or sequence of shapely geometries
        Reprojected to ``crs`` when they carry a CRS (``geonb.labels.footprints_to_pixels``).
    transform, crs
        The image's grid.
    color, label : str
        Outline colour and legend entry; call again with another colour for predictions.
    """
    from affine import Affine
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    from geonb.errors import InvalidParameterError
    from geonb.labels import footprints_to_pixels

    if not isinstance(transform, Affine):
        raise InvalidParameterError(f"`transform` must be an affine.Affine (scene.transform), got {transform!r}")
    if rgb is not None:
        rgb = _check_rgb(rgb)
    ax = _get_ax(ax, figsize=(6, 6))
    if rgb is not None:
        ax.imshow(np.clip(np.asarray(rgb), 0, 1), interpolation="nearest")
    # Pixel (0, 0) spans -0.5..0.5 in imshow: shift the pixel-corner coordinates by half a pixel.
    rings = [r - 0.5 for r in _outline_segments(footprints_to_pixels(footprints, transform, crs))]
    ax.add_collection(LineCollection(rings, colors=color, linewidths=linewidth))
    handles = list(ax.get_legend().legend_handles) if ax.get_legend() else []
    handles.append(Line2D([], [], color=color, lw=2, label=f"{label} ({len(footprints)})"))
    ax.legend(handles=handles, loc="lower right", fontsize="small", framealpha=0.85)
    pixel_axes(ax, title)
    return ax


def plot_building_mask(mask: np.ndarray, ax=None, *, title: str = "Building mask", legend: bool = True):
    """Draw a buildings label raster (background / building / border) in the house colours."""
    from matplotlib.colors import BoundaryNorm, ListedColormap

    from geonb.labels import BUILDING_CLASS_NAMES

    codes = (BACKGROUND, BUILDING, BORDER)
    mask = _class_codes(mask, "mask", codes)
    ax = _get_ax(ax)
    cmap = ListedColormap([BUILDING_COLORS[c] for c in codes], name="geonb_buildings")
    norm = BoundaryNorm(np.arange(-0.5, len(codes) + 0.5), cmap.N)
    ax.imshow(mask.astype(np.uint8), cmap=cmap, norm=norm, interpolation="nearest")
    pixel_axes(ax, title)
    if legend:
        present = [c for c in codes if np.any(mask == c)] or [BACKGROUND]
        class_legend(ax, present, colors=BUILDING_COLORS, names=BUILDING_CLASS_NAMES)
    return ax


def plot_distance(distance: np.ndarray, ax=None, *, title: str = "Signed distance to building outlines",
                  cmap: str = "RdBu_r"):
    """Draw a signed distance map (metres, inside positive) with a diverging colour bar centred on 0."""
    distance = _grid2d(distance, "distance")
    ax = _get_ax(ax, figsize=(6, 5))
    vmax = float(np.nanmax(np.abs(distance))) or 1.0
    im = ax.imshow(distance, cmap=cmap, vmin=-vmax, vmax=vmax, interpolation="nearest")
    cbar = ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    cbar.set_label("metres (+ inside a building, - outside)")
    pixel_axes(ax, title)
    return ax


# ---- Prediction viewer and side-by-side panels (notebooks 06 and 07) ------------------------
def _check_scene(scene) -> None:
    from geonb.errors import InvalidParameterError
    from geonb.scene import Scene

    if not isinstance(scene, Scene):
        raise InvalidParameterError(f"`scene` must be a geonb Scene (read_scene, LakeDataset.scene), "
                                    f"got {type(scene).__name__}")


def error_cmap():
    """``ListedColormap`` and ``BoundaryNorm`` of :func:`error_codes` (0 correct, 1 false pos., 2 false neg.)."""
    from matplotlib.colors import BoundaryNorm, ListedColormap

    cmap = ListedColormap([ERROR_COLORS["correct"], ERROR_COLORS["false positive"],
                           ERROR_COLORS["false negative"]], name="geonb_errors")
    return cmap, BoundaryNorm([-0.5, 0.5, 1.5, 2.5], cmap.N)


def error_legend(ax, loc="lower right", **kwargs):
    """Legend of the error colours (false positive orange, false negative red)."""
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=ERROR_COLORS["false positive"], edgecolor="0.3", label="false positive"),
               Patch(facecolor=ERROR_COLORS["false negative"], edgecolor="0.3", label="false negative")]
    return ax.legend(handles=handles, loc=loc, fontsize="small", framealpha=0.85, **kwargs)


def plot_errors(labels: np.ndarray, predicted: np.ndarray, ax=None, *, title: str = "Errors", legend: bool = True,
                background=None, alpha: float = 1.0):
    """Draw where a prediction is wrong: false positives orange, false negatives red.

    Parameters
    ----------
    labels, predicted : ndarray (rows, cols) of class codes (``predicted`` may be a Prediction)
    background : ndarray (rows, cols, 3) in [0, 1], optional
        A picture drawn underneath (e.g. the composite); errors are drawn over it with ``alpha``.
    """
    if hasattr(predicted, "classes") and not isinstance(predicted, np.ndarray):
        predicted = predicted.classes
    err = error_codes(labels, predicted)
    ax = _get_ax(ax)
    cmap, norm = error_cmap()
    if background is not None:
        ax.imshow(np.clip(background, 0, 1), interpolation="nearest")
        ax.imshow(np.ma.masked_equal(err, 0), cmap=cmap, norm=norm, interpolation="nearest", alpha=alpha)
    else:
        ax.imshow(err, cmap=cmap, norm=norm, interpolation="nearest")
    pixel_axes(ax, title)
    if legend:
        error_legend(ax)
    return ax


def plot_probability(probability: np.ndarray, ax=None, *, threshold: float | None = None,
                     title: str = "Water probability", colorbar: bool = True):
    """A water-probability heat map ``(rows, cols)`` in [0, 1] (e.g. :func:`water_score`) with a colour bar
    and the threshold marked on it."""
    from geonb.errors import InvalidParameterError

    probability = _grid2d(probability, "probability")
    finite = probability[np.isfinite(probability)]
    if finite.size and (finite.min() < 0 or finite.max() > 1):
        raise InvalidParameterError(
            f"`probability` must lie in [0, 1], got {finite.min():.4g}..{finite.max():.4g}; "
            "pass water_score(prediction)"
        )
    ax = _get_ax(ax)
    im = ax.imshow(probability, cmap="Blues", vmin=0, vmax=1, interpolation="nearest")
    pixel_axes(ax, title)
    if colorbar:
        cbar = ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        cbar.set_label("P(water) vs strongest other class")
        if threshold is not None:
            cbar.ax.axhline(float(threshold), color=ERROR_COLORS["false negative"], lw=2)
    return ax


def plot_side_by_side(scene, prediction, axes=None, *, composite=("red", "green", "blue"),
                      threshold: float | None = None, probability: bool = True, title: str | None = None):
    """Image | label | prediction | errors (| water probability) of one scene, side by side.

    The study's Figures 5, 7 and 8, in the house colours, usable in a static notebook or a report.

    Parameters
    ----------
    scene : Scene
        The image; its ``labels`` give the label and error panels.
    prediction : Prediction, or ndarray (rows, cols) of class codes
        On the scene's grid (else ``ShapeMismatchError``).
    axes : 4 or 5 Axes, optional
    composite : 3 band names
        Bands shown as red, green, blue (see ``geonb.bands.COMPOSITES``).
    threshold : float, optional
        Call water where :func:`water_score` ``>= threshold`` (needs probabilities; 0.5 = the argmax).
    probability : bool
        Add the water-probability panel (when the prediction has probabilities).

    Returns
    -------
    ndarray of Axes
    """
    from geonb.bands import composite as make_composite

    _check_scene(scene)
    has_probs = getattr(prediction, "probabilities", None) is not None
    classes = classes_at_threshold(prediction, threshold) if has_probs else prediction
    classes = prediction_on_grid(classes, scene, what="the prediction" if has_probs else "`prediction`")
    n = 4 + int(probability and has_probs)
    if axes is None:
        _, axes = _plt().subplots(1, n, figsize=(3.3 * n, 3.6), layout="constrained")
    axes = np.atleast_1d(axes)
    name = title or scene.title or "scene"
    plot_rgb(make_composite(scene, bands=tuple(composite)), ax=axes[0], title=f"{name}\nimage")
    if scene.labels is not None:
        plot_labels(scene.labels, ax=axes[1], title="label")
        plot_errors(scene.labels, classes, ax=axes[3], title="errors")
    else:
        for ax, t in ((axes[1], "label"), (axes[3], "errors")):
            ax.text(0.5, 0.5, "no labels", ha="center", va="center", transform=ax.transAxes)
            pixel_axes(ax, t)
    plot_labels(classes, ax=axes[2], title="prediction" + (f" (P ≥ {threshold:.2f})" if threshold is not None
                                                            and has_probs else ""))
    if n == 5:
        plot_probability(water_score(prediction), ax=axes[4], threshold=threshold)
    return axes


# ---- Your own raster: any class scheme (notebook 09) -----------------------------------------
def _check_scheme(scheme, name: str = "scheme"):
    from geonb.classes import ClassScheme
    from geonb.errors import InvalidParameterError

    if not isinstance(scheme, ClassScheme):
        raise InvalidParameterError(
            f"`{name}` must be a geonb.classes.ClassScheme (names and colours of the codes), got "
            f"{type(scheme).__name__}; e.g. labelled.scheme or ClassScheme.from_names(['water', 'forest'])")
    return scheme


def plot_classes(classes, scheme, ax=None, *, title: str = "Classes", legend: bool = True):
    """Draw a class map of any classes in its scheme's colours, with a legend of the scheme's names.

    Parameters
    ----------
    classes : ndarray (rows, cols) of class codes, or a Prediction
        Codes of ``scheme``; "no label / no data" pixels (0, or 255 when 0 is a class, as in
        :func:`geonb.prediction.class_map_nodata`) are white.
    scheme : geonb.classes.ClassScheme
        The one source of names and colours (the same as maps and exported colour tables).
    legend : bool
        A legend of the classes present (all of the scheme's classes when none is).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from geonb.classes import ClassScheme
    >>> ax = plot_classes(np.array([[1, 2], [3, 0]], np.uint8), ClassScheme.from_names(["water", "forest", "cleared"]))
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['water', 'forest', 'cleared']
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap

    from geonb.classes import NODATA_COLOR
    from geonb.prediction import class_map_nodata

    scheme = _check_scheme(scheme)
    if hasattr(classes, "classes") and not isinstance(classes, np.ndarray):
        classes = classes.classes
    fill = class_map_nodata(scheme.codes)
    arr = _class_codes(classes, "classes", sorted({*scheme.codes, fill}))
    # One colour per code 0..max (codes need not be contiguous): unused codes are white, never shown.
    top = int(max(*scheme.codes, fill))
    lut = [NODATA_COLOR] * (top + 1)
    for code, color in zip(scheme.codes, scheme.colors, strict=True):
        lut[code] = color
    cmap = ListedColormap(lut, name="geonb_scheme")
    norm = BoundaryNorm(np.arange(-0.5, top + 1.5), cmap.N)
    ax = _get_ax(ax)
    ax.imshow(np.asarray(arr, dtype=np.int32), cmap=cmap, norm=norm, interpolation="nearest")
    pixel_axes(ax, title)
    if legend:
        present = [c for c in scheme.codes if np.any(arr == c)] or list(scheme.codes)
        # Beside the map, not on it: a class map has no empty corner to spare.
        class_legend(ax, present, colors=scheme.colors_by_code, names=scheme.names_by_code, loc="upper left",
                     bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    return ax


def plot_polygons(rgb, polygons, transform, crs=None, ax=None, *, by: str = "class", colors=None,
                  title: str = "Training polygons", linewidth: float = 1.5, alpha: float = 0.35):
    """Draw polygons over an image, filled and outlined in one colour per value of a property.

    Parameters
    ----------
    rgb : ndarray (rows, cols, 3) in [0, 1], or None
        The image (``geonb.bands.composite``); None draws the polygons only.
    polygons : Footprints, or a sequence of Footprints (drawn together)
        E.g. ``labelled.polygons.values()`` (each polygon carries its ``split``). Reprojected to ``crs``.
    transform, crs
        The image's grid.
    by : str
        The property that picks the colour: ``"class"`` (or the polygons' class field), ``"split"``.
    colors : dict of value to "#rrggbb", optional
        E.g. ``dict(zip(scheme.names, scheme.colors))`` or :data:`SPLIT_COLORS`; values without a
        colour are drawn grey. Default: :data:`SPLIT_COLORS` for ``by="split"``, else grey.

    Returns
    -------
    matplotlib.axes.Axes
        With a legend of each value and its number of polygons.
    """
    from affine import Affine
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    from geonb.errors import InvalidParameterError
    from geonb.labels import Footprints, footprints_to_pixels

    if not isinstance(transform, Affine):
        raise InvalidParameterError(f"`transform` must be an affine.Affine (scene.transform), got {transform!r}")
    parts = [polygons] if isinstance(polygons, Footprints) else list(polygons) if polygons is not None else []
    if not parts or not all(isinstance(p, Footprints) for p in parts):
        raise InvalidParameterError("`polygons` must be Footprints (geonb.labels.load_polygons) or a sequence of "
                                    f"them, got {type(polygons).__name__}")
    colors = dict(SPLIT_COLORS if colors is None and by == "split" else colors or {})
    alpha = check_fraction(alpha, "alpha")
    if rgb is not None:
        rgb = _check_rgb(rgb)
    groups: dict[str, list] = {}
    for part in parts:
        pixels = footprints_to_pixels(part, transform, crs)
        for geom, props in zip(pixels, part.properties, strict=True):
            groups.setdefault(str(props.get(by)), []).append(geom)
    # Known values in the order of `colors` (class scheme or split order), then the others.
    order = [v for v in map(str, colors) if v in groups] + sorted(v for v in groups if v not in map(str, colors))
    ax = _get_ax(ax, figsize=(6, 6))
    if rgb is not None:
        ax.imshow(np.clip(np.asarray(rgb), 0, 1), interpolation="nearest")
    handles = []
    for value in order:
        color = colors.get(value, "#808080")
        # Pixel (0, 0) spans -0.5..0.5 in imshow: shift the pixel-corner coordinates by half a pixel.
        rings = [r - 0.5 for r in _outline_segments(groups[value])]
        ax.add_collection(PolyCollection(rings, facecolors=[_with_alpha(color, alpha)], edgecolors=[color],
                                         linewidths=linewidth))
        handles.append(Patch(facecolor=_with_alpha(color, alpha), edgecolor=color,
                             label=f"{value} ({len(groups[value])})"))
    if rgb is None:
        ax.autoscale_view()
        ax.invert_yaxis()
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, fontsize="small",
              title=by)
    pixel_axes(ax, title)
    return ax


def _with_alpha(color: str, alpha: float) -> tuple[float, float, float, float]:
    from matplotlib.colors import to_rgba

    return to_rgba(color, alpha)


def plot_class_histograms(pixel_table, scheme, bands=None, *, axes=None, bins: int = 60, xlabel: str | None = None,
                          max_pixels: int = MAX_SAMPLE_PIXELS, seed: int = 0):
    """Histograms of band values per class, in a class scheme's colours (any sensor, any classes).

    Parameters
    ----------
    pixel_table : pandas.DataFrame
        One row per labelled pixel: a ``label`` column of the scheme's codes and one column per band
        (:func:`geonb.bands.pixel_table`).
    scheme : geonb.classes.ClassScheme
    bands : sequence of str, optional
        Columns to draw (default every column but ``lake_id`` and ``label``).
    xlabel : str, optional
        What the values are (``"reflectance"``, ``"DN"``); index columns (``ndwi``, ``mndwi``) are
        always labelled "index value". Default ``"value"``.
    max_pixels : int
        A random sample (seeded) of at most this many pixels is drawn.

    Returns
    -------
    ndarray of Axes
        One per band; each histogram is a density, so small classes stay visible.
    """
    from geonb.errors import BandMismatchError, InvalidParameterError

    scheme = _check_scheme(scheme)
    if not hasattr(pixel_table, "columns"):
        raise InvalidParameterError(f"`pixel_table` must be a DataFrame (geonb.bands.pixel_table), "
                                    f"got {type(pixel_table).__name__}")
    _check_columns(pixel_table, ("label",), "pixel_table", "column")
    available = [c for c in pixel_table.columns if c not in ("lake_id", "label")]
    bands = list(available if bands is None else ([bands] if isinstance(bands, str) else bands))
    missing = [b for b in bands if b not in pixel_table.columns]
    if missing or not bands:
        raise BandMismatchError(f"`bands` {missing or bands} are not band columns of the pixel table; it has "
                                f"{available}")
    if len(pixel_table) > max_pixels:
        pixel_table = pixel_table.sample(max_pixels, random_state=seed)
    if axes is None:
        ncols = min(4, len(bands))
        nrows = int(np.ceil(len(bands) / ncols))
        fig, axes = _plt().subplots(nrows, ncols, figsize=(3.6 * ncols, 2.8 * nrows), squeeze=False,
                                    constrained_layout=True)
        for ax in axes.ravel()[len(bands):]:
            ax.set_visible(False)
        fig.suptitle("Values per band and class (labelled pixels)")
    axes = np.atleast_1d(np.asarray(axes)).ravel()
    labels = pixel_table["label"].to_numpy()
    for ax, band in zip(axes, bands, strict=False):
        values = pixel_table[band].to_numpy(dtype=float)
        values_ok = values[np.isfinite(values)]
        lo, hi = (np.percentile(values_ok, (0.5, 99.5)) if len(values_ok) else (0.0, 1.0))
        edges = np.linspace(float(lo), float(hi) if hi > lo else float(lo) + 1e-3, bins + 1)
        for code, name, color in zip(scheme.codes, scheme.names, scheme.colors, strict=True):
            sel = values[(labels == code) & np.isfinite(values)]
            if len(sel):
                ax.hist(np.clip(sel, edges[0], edges[-1]), bins=edges, density=True, histtype="stepfilled",
                        alpha=0.5, color=color, edgecolor=color, label=f"{name} ({len(sel):,} px)")
        ax.set_title(band)
        ax.set_xlabel("index value" if band in ("ndwi", "mndwi") else (xlabel or "value"))
        ax.set_ylabel("density")
    axes[0].legend(fontsize="small")
    return axes


def plot_scores_by_class(table, ax=None, *, metric: str = "f1", by: str = "model", title: str | None = None):
    """A metric per class and model: bars = mean over seeds, error bars = ± 1 std, dots = each seed.

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy, with columns ``class``, ``by`` (e.g. ``model``), ``metric`` and optionally ``seed``
        (:func:`geonb.workflow.compare_on_scene`).
    metric : str
    by : str
        One bar colour per value of this column (in the table's order).

    Returns
    -------
    matplotlib.axes.Axes
    """
    _check_columns(table, ("class",), "table", "column")
    _check_columns(table, (by,), "table", "by")
    _check_columns(table, (metric,), "table", "metric")
    ax = _get_ax(ax, figsize=(7, 3.8))
    classes = list(dict.fromkeys(table["class"].astype(str)))
    groups = list(dict.fromkeys(table[by].astype(str)))
    width = 0.8 / max(1, len(groups))
    x = np.arange(len(classes))
    palette = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#17becf")
    for i, g in enumerate(groups):
        color = palette[i % len(palette)]
        offset = x - 0.4 + width * (i + 0.5)
        sub = table[table[by].astype(str) == g]
        vals = [sub.loc[sub["class"].astype(str) == c, metric].astype(float).to_numpy() for c in classes]
        means = np.array([v[np.isfinite(v)].mean() if np.isfinite(v).any() else np.nan for v in vals])
        stds = np.array([v[np.isfinite(v)].std(ddof=1) if np.isfinite(v).sum() > 1 else 0.0 for v in vals])
        ax.bar(offset, np.nan_to_num(means), width=width * 0.9, color=color, alpha=0.4, edgecolor=color,
               label=f"{g} (mean)")
        ax.errorbar(offset, means, yerr=stds, fmt="none", ecolor="0.2", capsize=3)
        for xo, v in zip(offset, vals, strict=True):
            ax.plot(np.full(len(v), xo), v, "o", color=color, ms=3.5)
    ax.set_xticks(x, classes)
    if metric in ("f1", "iou", "accuracy", "precision", "recall"):
        ax.set_ylim(0, 1.05)
    ax.set_xlabel("class")
    ax.set_ylabel(metric.upper() if metric in ("f1", "iou") else metric)
    ax.set_title(title or f"{metric.upper() if metric in ('f1', 'iou') else metric} per class on the held-out "
                          "polygons")
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=len(groups), frameon=False)
    return ax
