"""ipywidgets apps for the notebooks. Output room: wires controls to functions in ``plots``,
``patches`` and ``prediction``; holds no science of its own.

Shared module: the patch-size explorer and the prediction viewer live here, each in its own section.
"""

from __future__ import annotations

import numpy as np

from geonb.errors import InvalidParameterError

# ---- Patch-size explorer (notebook 03) -----------------------------------------------------
#: Patch sizes drawn on the dual-problem chart (the study compared 8, 16, 32 and 64).
CHART_SIZES: tuple[int, ...] = (4, 6, 8, 12, 16, 24, 32, 48, 64)
#: Overlap choices: the stride as a fraction of the patch size.
OVERLAPS: tuple[tuple[str, float], ...] = (("none (stride = size)", 1.0), ("50% (stride = size / 2)", 0.5))


def _read_labels_many(dataset, ids, workers: int = 4) -> list:
    """Label rasters of ``ids`` (label files only, a few threads: rasterio releases the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    from geonb.scene import read_labels

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda i: read_labels(dataset.labels_path(i))[0], ids))


class PatchExplorer:
    """Pick a lake, move the patch-size slider, see the windows and what patching keeps and loses.

    The figure shows the lake's composite with the windows (kept: yellow; pruned: dashed;
    pixels dropped at the edge: magenta), the dual-problem chart for the training split
    (patches and pixels against patch size) and the class balance of kept patches. A table
    gives live counts for the lake and the whole training split.

    Counting uses :func:`geonb.patches.scene_windows` / :func:`~geonb.patches.count_patches`
    (label rasters only, no pixel copies); split-wide counts are cached per setting.

    Parameters
    ----------
    dataset : LakeDataset, optional
        Lakes to choose from; its ``split`` gives the split-wide counts.
    scenes : list of Scene, optional
        Instead of a dataset: scenes to choose from; all of them count as the "split".
    split : str
        Split whose counts are shown beside the lake's (the study patched training lakes).
    lake : str, optional
        Lake id shown first (default: the largest lake).
    size : int
        Initial patch size (4 to 64).
    dpi : int
        Resolution of the rendered figure (lower is faster).

    Attributes
    ----------
    lake_dropdown, size_slider, overlap_buttons, edge_buttons, prune_checkbox : ipywidgets controls
    image : ipywidgets.Image
        The rendered figure (PNG).
    counts_html : ipywidgets.HTML
    counts : dict
        ``{"lake": PatchCounts, "split": PatchCounts}`` of the current setting.
    windows : SceneWindows
        The lake's windows and their status, as drawn.
    figure : matplotlib.figure.Figure
    widget : ipywidgets.VBox
        The app; a notebook cell showing ``app`` displays it.
    """

    def __init__(self, dataset=None, *, scenes=None, split: str = "train", lake: str | None = None,
                 size: int = 16, dpi: int = 80):
        import ipywidgets as w

        from geonb.patches import check_size

        if (dataset is None) == (scenes is None):
            raise InvalidParameterError("give either `dataset` (a LakeDataset) or `scenes` (a list of Scene)")
        size = check_size(size)
        if not 4 <= size <= 64:
            raise InvalidParameterError(f"`size` must be between 4 and 64 (the slider's range), got {size}")
        self.dataset = dataset
        self.split = split
        self.dpi = int(dpi)
        self._scene_cache: dict = {}
        self._split_cache: dict = {}
        self._chart_cache: dict = {}
        if dataset is not None:
            lakes = dataset.lakes
            # largest first, clear scenes before cloudy/frozen ones, so the first lake shows its water
            clear = (lakes["condition"] == "clear") if "condition" in lakes else True
            rank = (lakes["rows"] * lakes["cols"]) * (1 + clear)
            order = rank.sort_values(ascending=False, kind="stable").index
            options = [(f"{lakes.loc[i, 'name']} ({lakes.loc[i, 'rows']}x{lakes.loc[i, 'cols']}, "
                        f"{lakes.loc[i, 'split']})", i) for i in order]
            self._split_ids = dataset.split_ids(split)
            self._split_labels = None  # read on first use
        else:
            scenes = list(scenes)
            if not scenes:
                raise InvalidParameterError("`scenes` is empty")
            for i, sc in enumerate(scenes):
                if sc.labels is None:
                    raise InvalidParameterError(f"scene {i} ({sc.name!r}) has no labels; the explorer needs labels")
            ids = [str((sc.properties or {}).get("id") or sc.name or f"scene_{i}") for i, sc in enumerate(scenes)]
            self._scene_cache = dict(zip(ids, scenes, strict=True))
            order = sorted(ids, key=lambda i: -np.prod(self._scene_cache[i].shape))
            options = [(f"{self._scene_cache[i].name or i} ({self._scene_cache[i].shape[0]}x"
                        f"{self._scene_cache[i].shape[1]})", i) for i in order]
            self._split_ids = ids
            self._split_labels = [sc.labels for sc in scenes]
        values = [v for _, v in options]
        if lake is not None and lake not in values:
            raise InvalidParameterError(f"`lake` {lake!r} is not among the lakes; e.g. {values[:3]}")

        style = {"description_width": "initial"}
        self.lake_dropdown = w.Dropdown(options=options, value=lake or values[0], description="lake",
                                        layout=w.Layout(width="420px"))
        self.size_slider = w.IntSlider(value=size, min=4, max=64, step=1, description="patch size (px)",
                                       continuous_update=False, style=style, layout=w.Layout(width="420px"))
        self.overlap_buttons = w.ToggleButtons(options=list(OVERLAPS), value=1.0, description="overlap",
                                               style={"button_width": "170px"})
        self.edge_buttons = w.ToggleButtons(options=["drop", "pad", "shift"], value="drop", description="edge",
                                            tooltips=["discard pixels that do not fit (the study)",
                                                      "pad with no-data to fit", "last window flush with the edge"])
        self.prune_checkbox = w.Checkbox(value=True, description="prune single-class patches (the study's rule)",
                                         style=style)
        self.image = w.Image(format="png", layout=w.Layout(max_width="100%"))
        self.counts_html = w.HTML()
        self._build_figure()
        for control in (self.lake_dropdown, self.size_slider, self.overlap_buttons, self.edge_buttons,
                        self.prune_checkbox):
            control.observe(self._on_change, names="value")
        controls = w.VBox([self.lake_dropdown, self.size_slider, self.overlap_buttons, self.edge_buttons,
                           self.prune_checkbox])
        self.widget = w.VBox([w.HBox([controls, self.counts_html]), self.image])
        self.redraw()

    # -- settings ---------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return int(self.size_slider.value)

    @property
    def stride(self) -> int:
        return max(1, int(self.size * float(self.overlap_buttons.value)))

    @property
    def setting(self) -> tuple:
        """``(size, stride, edge, prune)`` of the controls."""
        return self.size, self.stride, self.edge_buttons.value, bool(self.prune_checkbox.value)

    def scene(self, lake_id: str | None = None):
        """The Scene of ``lake_id`` (default: the selected lake), read once and cached."""
        lake_id = lake_id or self.lake_dropdown.value
        if lake_id not in self._scene_cache:
            self._scene_cache[lake_id] = self.dataset.scene(lake_id)
        return self._scene_cache[lake_id]

    def split_labels(self) -> list:
        """Label rasters of the split's lakes (read once)."""
        if self._split_labels is None:
            self._split_labels = _read_labels_many(self.dataset, self._split_ids)
        return self._split_labels

    def split_counts(self, size: int, stride: int, edge: str, prune: bool):
        """Split-wide :class:`~geonb.patches.PatchCounts` for a setting (cached)."""
        from geonb.patches import count_patches

        key = (size, stride, edge, prune)
        if key not in self._split_cache:
            self._split_cache[key] = count_patches(self.split_labels(), size, stride, edge, prune)
        return self._split_cache[key]

    def tradeoff(self):
        """The dual-problem table for the split at the current overlap/edge/prune setting (cached)."""
        from geonb.patches import patch_tradeoff

        key = (float(self.overlap_buttons.value), self.edge_buttons.value, bool(self.prune_checkbox.value))
        if key not in self._chart_cache:
            self._chart_cache[key] = patch_tradeoff(self.split_labels(), CHART_SIZES, key[0], key[1], key[2])
        return self._chart_cache[key]

    # -- drawing ----------------------------------------------------------------------------
    def _build_figure(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        # A figure outside pyplot (nothing is shown twice), rendered by Agg into self.image.
        self.figure = Figure(figsize=(11.5, 5.4))
        self._canvas = FigureCanvasAgg(self.figure)
        grid = self.figure.add_gridspec(2, 2, width_ratios=(1.05, 1), height_ratios=(1.7, 1), left=0.06,
                                        right=0.94, top=0.93, bottom=0.16, wspace=0.28, hspace=0.62)
        self.ax_scene = self.figure.add_subplot(grid[:, 0])
        self.ax_chart = self.figure.add_subplot(grid[0, 1])
        self.ax_balance = self.figure.add_subplot(grid[1, 1])
        self._drawn_lake = None
        self._drawn_chart = None
        self._balance_bars = None
        self._background = None
        self._static_key = None

    def _draw_scene(self, scene) -> None:
        from geonb.bands import composite
        from geonb.plots import WindowOverlay, _pixel_axes

        ax = self.ax_scene
        ax.clear()
        ax.imshow(composite(scene), interpolation="nearest")
        self._overlay = WindowOverlay(ax, scene.shape)
        _pixel_axes(ax, "")
        self._drawn_lake = self.lake_dropdown.value

    def _draw_chart(self) -> None:
        from geonb.plots import plot_patch_tradeoff

        for extra in self.figure.axes:
            if extra not in (self.ax_scene, self.ax_chart, self.ax_balance):
                extra.remove()  # the twin axis of the previous chart
        self.ax_chart.clear()
        plot_patch_tradeoff(self.tradeoff(), ax=self.ax_chart, current=self.size,
                            title=f"The dual problem ({self.split} split)")
        self._drawn_chart = (self.overlap_buttons.value, self.edge_buttons.value, self.prune_checkbox.value)

    def _draw_balance(self, lake_counts, split_counts) -> None:
        from geonb.labels import LAKE_CLASS_NAMES, LAND, WATER
        from geonb.plots import LAKE_COLORS

        rows = [lake_counts.class_fractions(), split_counts.class_fractions()]
        classes = [c for c in lake_counts.classes if any(r.get(c, 0) > 0 for r in rows)] or [WATER, LAND]
        key = tuple(classes)
        ax = self.ax_balance
        if self._balance_bars is None or self._balance_bars[0] != key:
            ax.clear()
            bars = {c: ax.barh([0, 1], [0, 0], color=LAKE_COLORS[c], edgecolor="0.3", label=LAKE_CLASS_NAMES[c])
                    for c in classes}
            ax.set_yticks([0, 1])
            ax.set_yticklabels(["this lake", f"{self.split} split"])
            ax.invert_yaxis()
            ax.set_xlim(0, 100)
            ax.set_xlabel("share of labelled pixels in kept patches (%)")
            ax.set_title("Class balance of kept patches")
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.45), ncol=len(classes), fontsize="small",
                      frameon=False)
            self._balance_bars = (key, bars)
        bars = self._balance_bars[1]
        left = np.zeros(2)
        for c in classes:
            vals = np.array([100 * r.get(c, 0.0) for r in rows])
            for rect, lft, v in zip(bars[c], left, vals, strict=True):
                rect.set_x(lft)
                rect.set_width(v)
            left += vals

    def _dynamic_artists(self) -> list:
        """Artists that change with the slider: drawn over a cached background (blitting)."""
        bars = [r for container in self._balance_bars[1].values() for r in container]
        return [self._overlay.veil, self._overlay.pruned, self._overlay.kept, self.ax_scene.title,
                self.ax_chart.geonb_marker, *bars]

    def _render(self, static_key) -> bytes:
        """Draw the figure (only the dynamic artists when nothing else changed) and encode it as PNG."""
        import io

        from PIL import Image as PILImage

        dynamic = self._dynamic_artists()
        if self._background is None or static_key != self._static_key:
            for a in dynamic:
                a.set_animated(True)  # left out of the full draw, drawn below
            self._canvas.draw()
            self._background = self._canvas.copy_from_bbox(self.figure.bbox)
            self._static_key = static_key
        else:
            self._canvas.restore_region(self._background)
        for a in dynamic:
            a.axes.draw_artist(a)
        width, height = self._canvas.get_width_height()
        img = PILImage.frombuffer("RGBA", (width, height), self._canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buf = io.BytesIO()
        img.convert("RGB").save(buf, format="png", compress_level=1)
        return buf.getvalue()

    def _counts_table(self, lake, split) -> str:
        from html import escape

        from geonb.labels import LAKE_CLASS_NAMES, WATER

        def pct(part, whole):
            return f"{100 * part / whole:.0f}%" if whole else "-"

        def col(c):
            pruned = ", ".join(f"{LAKE_CLASS_NAMES.get(k, k)} {v}" for k, v in c.pruned.items()) or "none"
            return [f"{c.n_windows:,}", f"{c.n_kept:,}", escape(pruned),
                    f"{c.pixels_used:,} ({pct(c.pixels_used, c.pixels_total)})",
                    f"{c.pixels_dropped:,} ({pct(c.pixels_dropped, c.pixels_total)})",
                    f"{c.pixels_pruned:,} ({pct(c.pixels_pruned, c.pixels_total)})",
                    f"{c.n_too_small:,} of {c.n_scenes:,}",
                    f"{100 * c.class_fractions().get(WATER, 0):.1f}%"]

        names = ["windows", "patches kept", "pruned (by class)", "pixels used", "pixels dropped at edge",
                 "pixels only in pruned patches", "scenes too small", "water share in kept patches"]
        body = "".join(f"<tr><th style='text-align:left'>{n}</th><td>{a}</td><td>{b}</td></tr>"
                       for n, a, b in zip(names, col(lake), col(split), strict=True))
        size, stride, edge, prune = self.setting
        return (f"<div style='margin-left:2em'><b>{size}&times;{size} px patches, stride {stride}, edge "
                f"'{edge}', {'pruned' if prune else 'not pruned'}</b><table style='border-spacing:12px 2px'>"
                f"<tr><th></th><th>this lake</th><th>{escape(self.split)} split</th></tr>{body}</table></div>")

    def _on_change(self, change) -> None:
        self.redraw()

    def redraw(self) -> None:
        """Recount and redraw for the current controls.

        Only the windows, the marker, the bars and the title are redrawn when the patch size
        changes (blitting over a cached background); the rest when the lake or setting changes.
        """
        from geonb.patches import scene_windows

        size, stride, edge, prune = self.setting
        scene = self.scene()
        if self._drawn_lake != self.lake_dropdown.value:
            self._draw_scene(scene)
        self.windows = scene_windows(scene.labels, size, stride, edge, prune)
        grid = self.windows.grid
        self._overlay.update(grid.windows, self.windows.keep, grid.coverage() == 0)
        rows, cols = grid.padded_shape
        self.ax_scene.set_xlim(-0.5, cols - 0.5)
        self.ax_scene.set_ylim(rows - 0.5, -0.5)
        lake = self.windows.summary
        self.ax_scene.set_title(f"{scene.name}: {lake.n_kept} of {lake.n_windows} windows kept "
                                f"({size}x{size} px, stride {stride})", fontsize="medium")
        split = self.split_counts(size, stride, edge, prune)
        self.counts = {"lake": lake, "split": split}
        if self._drawn_chart != (self.overlap_buttons.value, self.edge_buttons.value, self.prune_checkbox.value):
            self._draw_chart()
        self.ax_chart.geonb_marker.set_xdata([size, size])
        self._draw_balance(lake, split)
        self.counts_html.value = self._counts_table(lake, split)
        static_key = (self._drawn_lake, self._drawn_chart, self._balance_bars[0], (rows, cols))
        self.image.value = self._render(static_key)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def patch_size_explorer(dataset=None, *, scenes=None, split: str = "train", lake: str | None = None,
                        size: int = 16, dpi: int = 80) -> PatchExplorer:
    """Build a :class:`PatchExplorer` (show it by leaving it as the last expression of a cell)."""
    return PatchExplorer(dataset, scenes=scenes, split=split, lake=lake, size=size, dpi=dpi)
