"""ipywidgets apps for the notebooks. Output room: wires controls to functions in ``plots``,
``patches`` and ``prediction``; holds no science of its own.

Shared module: the patch-size explorer and the prediction viewer live here, each in its own section.
"""

from __future__ import annotations

import numpy as np

from geonb.errors import InvalidParameterError

#: Figure backgrounds kept per app for blitting (about 1.3 MB each at the viewer's size).
MAX_CACHED_BACKGROUNDS = 32

# ---- Patch-size explorer (notebook 03) -----------------------------------------------------
#: Patch sizes drawn on the dual-problem chart (the study compared 8, 16, 32 and 64).
CHART_SIZES: tuple[int, ...] = (4, 6, 8, 12, 16, 24, 32, 48, 64)
#: Overlap choices: the stride as a fraction of the patch size.
OVERLAPS: tuple[tuple[str, float], ...] = (("none (stride = size)", 1.0), ("50% (stride = size / 2)", 0.5))


def _blit_png(canvas, figure, dynamic: list, backgrounds: dict, key, max_cached: int) -> bytes:
    """Render ``figure`` to PNG bytes, redrawing only the ``dynamic`` artists over a cached background.

    The background (everything else: axes, ticks, legends) is drawn once per ``key`` and kept in
    ``backgrounds`` (at most ``max_cached``, oldest dropped first); a frame with a key seen before
    restores it and draws the dynamic artists on top (blitting). Shared by both apps here.
    """
    import io

    from PIL import Image as PILImage

    background = backgrounds.get(key)
    if background is None:
        for a in dynamic:
            a.set_animated(True)  # left out of the full draw, drawn below
        canvas.draw()
        while len(backgrounds) >= max_cached:
            backgrounds.pop(next(iter(backgrounds)))
        backgrounds[key] = canvas.copy_from_bbox(figure.bbox)
    else:
        canvas.restore_region(background)
    for a in dynamic:
        (a.axes or figure.axes[0]).draw_artist(a)
    width, height = canvas.get_width_height()
    img = PILImage.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="png", compress_level=1)
    return buf.getvalue()


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
        from geonb.windows import PATCH_SIZE_RANGE

        if (dataset is None) == (scenes is None):
            raise InvalidParameterError("give either `dataset` (a LakeDataset) or `scenes` (a list of Scene)")
        size = check_size(size)
        lo, hi = PATCH_SIZE_RANGE
        if not lo <= size <= hi:
            raise InvalidParameterError(f"`size` must be between {lo} and {hi} (the slider's range), got {size}")
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
            options = [(f"{dataset.title(i)} ({lakes.loc[i, 'rows']}x{lakes.loc[i, 'cols']}, "
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
            options = [(f"{self._scene_cache[i].title or i} ({self._scene_cache[i].shape[0]}x"
                        f"{self._scene_cache[i].shape[1]})", i) for i in order]
            self._split_ids = ids
            self._split_labels = [sc.labels for sc in scenes]
        values = [v for _, v in options]
        if lake is not None and lake not in values:
            raise InvalidParameterError(f"`lake` {lake!r} is not among the lakes; e.g. {values[:3]}")

        style = {"description_width": "initial"}
        self.lake_dropdown = w.Dropdown(options=options, value=lake or values[0], description="lake",
                                        layout=w.Layout(width="420px"))
        self.size_slider = w.IntSlider(value=size, min=lo, max=hi, step=1, description="patch size (px)",
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
            self._split_labels = self.dataset.labels(ids=self._split_ids)
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
        self.figure = Figure(figsize=(11.5, 5.4), dpi=self.dpi)
        self._canvas = FigureCanvasAgg(self.figure)
        grid = self.figure.add_gridspec(2, 2, width_ratios=(1.05, 1), height_ratios=(1.7, 1), left=0.06,
                                        right=0.94, top=0.93, bottom=0.16, wspace=0.28, hspace=0.62)
        self.ax_scene = self.figure.add_subplot(grid[:, 0])
        self.ax_chart = self.figure.add_subplot(grid[0, 1])
        self.ax_balance = self.figure.add_subplot(grid[1, 1])
        self._drawn_lake = None
        self._drawn_chart = None
        self._balance_bars = None
        self._backgrounds: dict = {}  # static key -> background pixels (the latest only)

    def _draw_scene(self, scene) -> None:
        from geonb.bands import composite
        from geonb.plots import WindowOverlay, pixel_axes

        ax = self.ax_scene
        ax.clear()
        ax.imshow(composite(scene), interpolation="nearest")
        self._overlay = WindowOverlay(ax, scene.shape)
        pixel_axes(ax, "")
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
        from geonb.colors import LAKE_COLORS
        from geonb.labels import LAKE_CLASS_NAMES, LAND, WATER

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
        return _blit_png(self._canvas, self.figure, self._dynamic_artists(), self._backgrounds, static_key, 1)

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
        self.ax_scene.set_title(f"{scene.title}: {lake.n_kept} of {lake.n_windows} windows kept "
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


# ---- Prediction viewer (notebook 06) ---------------------------------------------------------
#: What the viewer says when it is given no predictions.
NO_MODELS_MESSAGE = (
    "No trained models yet, so there is nothing to view. Run notebooks/05_evaluate.ipynb first (it trains "
    "and caches the models: FCN, U-Net, logistic regression, all-land), or notebooks/04_train_fcn.ipynb for "
    "a single FCN, then run this notebook again."
)


def _as_predictions(predictions) -> dict:
    """``{model: {lake_id: prediction}}`` from ExperimentResults(s) or a plain dict."""
    if predictions is None:
        return {}
    if hasattr(predictions, "predictions") and not isinstance(predictions, dict):
        predictions = predictions.predictions
    if not isinstance(predictions, dict):
        raise InvalidParameterError(
            "`predictions` must be a dict {model name: {lake id: Prediction}} or ExperimentResults, got "
            f"{type(predictions).__name__}")
    out = {}
    for model, by_lake in predictions.items():
        if not isinstance(by_lake, dict):
            raise InvalidParameterError(
                f"`predictions[{model!r}]` must be a dict {{lake id: Prediction}}, got {type(by_lake).__name__}")
        for lake_id, pred in by_lake.items():
            if not hasattr(pred, "classes"):
                raise InvalidParameterError(
                    f"`predictions[{model!r}][{lake_id!r}]` is a {type(pred).__name__}, not a prediction; pass the "
                    "Prediction of geonb.prediction.predict_scene (it carries the class map, probabilities and codes)")
        if by_lake:
            out[str(model)] = {str(k): v for k, v in by_lake.items()}
    return out


class PredictionViewer:
    """Browse predictions lake by lake: image | label | prediction | errors | water probability.

    Controls: a lake drop-down with a search box and previous/next buttons, a model selector, a
    composite selector (true colour, false colour, SWIR, single bands, PCA), a patch slider (0 = the
    whole scene, then each ``patch_size`` window), an opacity slider (label, prediction and errors
    are drawn over the image) and a water-probability threshold slider that re-derives the
    prediction and its scores live. Beside the panels: F1, IoU, precision, recall and the confusion
    counts of the lake at that threshold.

    Switching lake or model only swaps arrays in the existing matplotlib artists and re-renders
    one PNG (no re-prediction, no new figure); scenes, composites, the arrays derived from the
    threshold (classes, water probability, errors) and scores are cached.

    The lake list holds every lake that any model predicted. When the selected model has no
    prediction for the selected lake, the prediction panels stay empty and the readout says so.

    Parameters
    ----------
    scenes : LakeDataset, or dict of lake id to Scene
        Where the images and labels come from.
    predictions : dict of model name to dict of lake id to Prediction, or ExperimentResults
        E.g. ``results.predictions`` of :func:`geonb.experiments.model_comparison`. Each prediction
        needs ``classes`` (rows, cols); with ``probabilities`` (rows, cols, k) the threshold works.
        Empty: the viewer shows :data:`NO_MODELS_MESSAGE` instead of panels.
    lake, model : str, optional
        Shown first.
    patch_size : int
        Side of the windows the patch slider steps through.
    threshold : float
        Initial water-probability threshold.
    dpi : int
        Resolution of the rendered figure (lower is faster).

    Attributes
    ----------
    lake_dropdown, search_text, prev_button, next_button, model_dropdown, composite_dropdown,
    patch_slider, opacity_slider, threshold_slider : ipywidgets controls
    image : ipywidgets.Image
        The rendered panels (PNG).
    scores_html : ipywidgets.HTML
        The lake's scores and confusion counts.
    current_scores : geonb.evaluation.Scores or None
    widget : ipywidgets.Widget
        The app (a cell showing the viewer displays it).
    """

    def __init__(self, scenes, predictions, *, lake: str | None = None, model: str | None = None,
                 patch_size: int = 16, threshold: float = 0.5, dpi: int = 72):
        import warnings

        import ipywidgets as w

        self.predictions = _as_predictions(predictions)
        self._scene_source = scenes
        self._scenes: dict = {}
        self._rgb_cache: dict = {}
        self._score_cache: dict = {}
        self._derived_cache: dict = {}  # (lake, model, threshold) -> threshold-derived arrays
        self.patch_size = int(patch_size)
        if self.patch_size < 2:
            raise InvalidParameterError(f"`patch_size` must be >= 2, got {patch_size}")
        if not 0 <= float(threshold) <= 1:
            raise InvalidParameterError(f"`threshold` must be in [0, 1], got {threshold}")
        self.dpi = int(dpi)
        self.current_scores = None
        self.message = ""
        self.figure = None
        if not self.predictions:
            self.message = NO_MODELS_MESSAGE
            warnings.warn(NO_MODELS_MESSAGE, UserWarning, stacklevel=2)
            self.widget = w.HTML(f"<div style='padding:8px;border-left:4px solid #d62728'><b>Prediction viewer"
                                 f"</b><br>{NO_MODELS_MESSAGE}</div>")
            return
        models = list(self.predictions)
        if model is not None and model not in models:
            raise InvalidParameterError(f"`model` {model!r} has no predictions; models: {models}")
        self.model = model or models[0]
        self._all_ids = self._lake_ids()
        if not self._all_ids:
            raise InvalidParameterError(
                "none of the predicted lakes is among `scenes` (an empty test split?); pass the dataset the "
                "models were evaluated on")
        if lake is not None and lake not in self._all_ids:
            raise InvalidParameterError(f"`lake` {lake!r} has no prediction; e.g. {self._all_ids[:3]}")

        style = {"description_width": "initial"}
        self.search_text = w.Text(value="", placeholder="type to filter lakes", description="search",
                                  layout=w.Layout(width="220px"), continuous_update=True)
        self.lake_dropdown = w.Dropdown(options=self._lake_options(""), value=lake or self._all_ids[0],
                                        description="lake", layout=w.Layout(width="380px"))
        self.prev_button = w.Button(description="◀ previous", layout=w.Layout(width="100px"))
        self.next_button = w.Button(description="next ▶", layout=w.Layout(width="100px"))
        self.model_dropdown = w.Dropdown(options=models, value=self.model, description="model",
                                         layout=w.Layout(width="260px"))
        self.composite_dropdown = w.Dropdown(options=self._composite_options(), description="composite",
                                             layout=w.Layout(width="300px"))
        self.patch_slider = w.IntSlider(value=0, min=0, max=0, description="patch (0 = whole scene)",
                                        continuous_update=False, style=style, layout=w.Layout(width="380px"))
        self.opacity_slider = w.FloatSlider(value=0.8, min=0.0, max=1.0, step=0.05, description="overlay opacity",
                                            continuous_update=False, style=style, layout=w.Layout(width="300px"))
        self.threshold_slider = w.FloatSlider(value=float(threshold), min=0.05, max=0.95, step=0.05,
                                              description="water threshold", continuous_update=False,
                                              readout_format=".2f", style=style, layout=w.Layout(width="300px"))
        self.image = w.Image(format="png", layout=w.Layout(flex="1 1 auto", min_width="0", max_width="1120px",
                                                           object_fit="contain"))
        self.scores_html = w.HTML(layout=w.Layout(flex="0 0 240px", margin="0 0 0 8px"))
        self._build_figure()

        self.search_text.observe(self._on_search, "value")
        self.lake_dropdown.observe(self._on_lake, "value")
        self.prev_button.on_click(lambda _b: self.step(-1))
        self.next_button.on_click(lambda _b: self.step(+1))
        for ctl in (self.model_dropdown, self.composite_dropdown, self.patch_slider, self.opacity_slider,
                    self.threshold_slider):
            ctl.observe(self._on_change, "value")
        row1 = w.HBox([self.search_text, self.lake_dropdown, self.prev_button, self.next_button])
        row2 = w.HBox([self.model_dropdown, self.composite_dropdown, self.patch_slider])
        row3 = w.HBox([self.opacity_slider, self.threshold_slider])
        self.widget = w.VBox([row1, row2, row3, w.HBox([self.image, self.scores_html])])
        self._on_lake_changed()

    # ---- data ------------------------------------------------------------------------------
    def _lake_ids(self) -> list[str]:
        """Lakes predicted by any model (the selected model's first), that are among the scenes."""
        ids = list(dict.fromkeys(i for m in (self.model, *self.predictions) for i in self.predictions[m]))
        src = self._scene_source
        if hasattr(src, "lakes"):
            known = set(src.lakes.index)
        elif isinstance(src, dict):
            known = set(src)
        else:
            raise InvalidParameterError(
                f"`scenes` must be a LakeDataset or a dict of lake id -> Scene, got {type(src).__name__}")
        return [i for i in ids if i in known]

    def _name(self, lake_id: str) -> str:
        """The lake's title (:attr:`geonb.scene.Scene.title`: a stand-in says it is synthetic)."""
        src = self._scene_source
        if hasattr(src, "title") and hasattr(src, "lakes"):
            return src.title(lake_id)
        if isinstance(src, dict):
            return str(getattr(src[lake_id], "title", "") or lake_id)
        return lake_id

    def _lake_options(self, query: str) -> list[tuple[str, str]]:
        q = query.strip().lower()
        opts = [(f"{self._name(i)} ({i})", i) for i in self._all_ids]
        return [o for o in opts if q in o[0].lower()] if q else opts

    def _composite_options(self) -> list[tuple[str, object]]:
        from geonb.bands import COMPOSITES

        opts: list[tuple[str, object]] = [(k, ("bands", v)) for k, v in COMPOSITES.items()]
        opts += [(f"single band: {b}", ("band", b)) for b in ("nir", "swir1", "swir2", "red")]
        opts.append(("PCA (components 1-2-3 of this scene)", ("pca", None)))
        return opts

    def scene(self, lake_id: str):
        """The scene of ``lake_id`` (read once, then cached)."""
        if lake_id not in self._scenes:
            src = self._scene_source
            self._scenes[lake_id] = src.scene(lake_id) if hasattr(src, "scene") else src[lake_id]
        return self._scenes[lake_id]

    def _rgb(self, lake_id: str, choice) -> np.ndarray:
        key = (lake_id, choice)
        if key not in self._rgb_cache:
            from geonb.bands import composite, fit_pca, percentile_stretch
            from geonb.plots import first_band_grey

            sc = self.scene(lake_id)
            kind, arg = choice
            try:
                if kind == "bands":
                    rgb = composite(sc, bands=arg)
                elif kind == "band":
                    band = sc.image[..., list(sc.band_names).index(arg)]
                    rgb = np.repeat(percentile_stretch(band[..., None], mask=sc.nodata_mask), 3, axis=-1)
                else:
                    valid = sc.image[~sc.nodata_mask]
                    pcs = fit_pca(valid, 3, bands=sc.band_names).transform(sc.image, sc.band_names)
                    rgb = percentile_stretch(pcs, mask=sc.nodata_mask)
            except (ValueError, IndexError):  # bands missing from this scene
                rgb = first_band_grey(sc.image)
            rgb = np.asarray(rgb, dtype=np.float32)
            rgb[sc.nodata_mask] = 1.0
            self._rgb_cache[key] = rgb
        return self._rgb_cache[key]

    def _prediction_arrays(self, lake_id: str, model: str, threshold: float):
        """(classes at threshold, water probability or None, error codes) on the scene grid.

        All three are ``None`` when ``model`` has no prediction for ``lake_id``. They are computed
        once per (lake, model, threshold) and cached (the last 32), so opacity, composite and patch
        moves only redraw; ``error_codes`` compares with the label (zeros without one).
        """
        key = (lake_id, model, round(float(threshold), 4))
        if key in self._derived_cache:
            return self._derived_cache[key]
        from geonb import evaluation

        pred = self.predictions[model].get(lake_id)
        if pred is None:
            return None, None, None
        probs = getattr(pred, "probabilities", None)
        classes = evaluation.classes_at_threshold(pred, threshold) if probs is not None else np.asarray(pred.classes)
        sc = self.scene(lake_id)
        classes = evaluation.prediction_on_grid(classes, sc,
                                                what=f"model {model!r}: the prediction of lake {lake_id!r}")
        p_water = evaluation.water_score(pred) if probs is not None else None
        err = evaluation.error_codes(sc.labels, classes) if sc.labels is not None else np.zeros(sc.shape, np.uint8)
        if len(self._derived_cache) >= 32:
            self._derived_cache.pop(next(iter(self._derived_cache)))
        self._derived_cache[key] = (classes, p_water, err)
        return self._derived_cache[key]

    def _scores(self, lake_id: str, model: str, threshold: float, classes: np.ndarray):
        key = (lake_id, model, round(float(threshold), 4))
        if key not in self._score_cache:
            from geonb.evaluation import scores

            sc = self.scene(lake_id)
            self._score_cache[key] = scores(sc.labels, classes, mask=sc.nodata_mask) \
                if sc.labels is not None else None
        return self._score_cache[key]

    # ---- drawing -----------------------------------------------------------------------------
    def _build_figure(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        from geonb.plots import class_legend, error_cmap, error_legend, lake_cmap

        fig = Figure(figsize=(15.5, 4.1), dpi=self.dpi, layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, 5)
        cmap, norm = lake_cmap()
        ecmap, enorm = error_cmap()
        blank = np.zeros((2, 2))
        self._art = {}
        titles = ("image", "label", "prediction", "errors (vs label)", "water probability")
        for ax, t in zip(axes, titles, strict=True):
            ax.set_title(t)
            ax.set_xlabel("column (pixels)")
            ax.locator_params(nbins=4)
        axes[0].set_ylabel("row (pixels)")
        self._art["rgb"] = [ax.imshow(np.ones((2, 2, 3)), interpolation="nearest") for ax in axes[:4]]
        self._art["label"] = axes[1].imshow(blank, cmap=cmap, norm=norm, interpolation="nearest")
        self._art["pred"] = axes[2].imshow(blank, cmap=cmap, norm=norm, interpolation="nearest")
        self._art["err"] = axes[3].imshow(blank, cmap=ecmap, norm=enorm, interpolation="nearest")
        self._art["prob"] = axes[4].imshow(blank, cmap="Blues", vmin=0, vmax=1, interpolation="nearest")
        cbar = fig.colorbar(self._art["prob"], ax=axes[4], fraction=0.046, pad=0.04)
        cbar.set_label("P(water) vs strongest other class")
        self._threshold_line = cbar.ax.axhline(0.5, color="#d62728", lw=2)
        self._patch_boxes = [ax.add_patch(_rect()) for ax in axes]
        below = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.2), "ncol": 3, "frameon": False}
        class_legend(axes[1], **below)
        error_legend(axes[3], **{**below, "ncol": 2})
        fig.canvas.draw()  # constrained layout once; then fixed, so frames can be blitted
        fig.set_layout_engine("none")
        self.figure, self.axes = fig, axes
        self._canvas = FigureCanvasAgg(fig)
        self._backgrounds: dict = {}  # (grid shape, patch window) -> cached background pixels

    def _dynamic_artists(self) -> list:
        """Artists that change with lake, model, composite, threshold and opacity (blitted)."""
        return [*self._art["rgb"], self._art["label"], self._art["pred"], self._art["err"], self._art["prob"],
                self._threshold_line, *self._patch_boxes, self.axes[0].title, self.axes[2].title]

    def _render(self, static_key) -> None:
        """Draw (only the dynamic artists when the axes did not change) and show the PNG.

        The background (axes, ticks, legends, colour bar) is drawn once per grid shape and patch
        window and cached (the last :data:`MAX_CACHED_BACKGROUNDS`); a lake of a shape seen before, a
        model, a threshold or an opacity change only redraws the images and titles over it.
        """
        self.image.value = _blit_png(self._canvas, self.figure, self._dynamic_artists(), self._backgrounds,
                                     static_key, MAX_CACHED_BACKGROUNDS)

    def _patch_window(self, shape) -> tuple[int, int, int, int] | None:
        from geonb.patches import grid_windows

        k = int(self.patch_slider.value)
        if k == 0:
            return None
        wins = grid_windows(shape, min(self.patch_size, *shape), edge="shift").windows
        r, c, h, w_ = (int(v) for v in wins[min(k, len(wins)) - 1])
        return r, c, h, w_

    def redraw(self) -> None:
        """Redraw the panels and scores for the current controls (called by every control)."""
        import html as _html

        lake_id, model = self.lake_dropdown.value, self.model_dropdown.value
        if lake_id is None:
            return
        sc = self.scene(lake_id)
        thr = float(self.threshold_slider.value)
        classes, p_water, err = self._prediction_arrays(lake_id, model, thr)
        rows, cols = sc.shape
        extent = (-0.5, cols - 0.5, rows - 0.5, -0.5)
        rgb = self._rgb(lake_id, self.composite_dropdown.value)
        alpha = float(self.opacity_slider.value)
        for im in self._art["rgb"]:
            im.set_data(rgb)
            im.set_extent(extent)
        blank = np.zeros(sc.shape, np.uint8)
        labels = sc.labels if sc.labels is not None else blank
        layers = {"label": np.ma.masked_equal(labels, 0),
                  "pred": np.ma.masked_equal(classes if classes is not None else blank, 0)}
        layers["err"] = np.ma.masked_equal(err if err is not None else blank, 0)
        for key, data in layers.items():
            self._art[key].set_data(data)
            self._art[key].set_extent(extent)
            self._art[key].set_alpha(alpha)
        self._art["prob"].set_data(p_water if p_water is not None else np.zeros(sc.shape))
        self._art["prob"].set_extent(extent)
        self._threshold_line.set_ydata([thr, thr])
        n_windows = self._n_windows(sc.shape)
        if self.patch_slider.max != n_windows:
            self.patch_slider.unobserve(self._on_change, "value")
            self.patch_slider.max = n_windows
            self.patch_slider.observe(self._on_change, "value")
        win = self._patch_window(sc.shape)
        for ax, box in zip(self.axes, self._patch_boxes, strict=True):
            if win is None:
                ax.set_xlim(-0.5, cols - 0.5)
                ax.set_ylim(rows - 0.5, -0.5)
                box.set_visible(False)
            else:
                r, c, h, w_ = win
                pad = max(2, self.patch_size // 2)
                ax.set_xlim(max(-0.5, c - pad - 0.5), min(cols - 0.5, c + w_ + pad - 0.5))
                ax.set_ylim(min(rows - 0.5, r + h + pad - 0.5), max(-0.5, r - pad - 0.5))
                box.set_bounds(c - 0.5, r - 0.5, w_, h)
                box.set_visible(True)
        name = _html.escape(self._name(lake_id))
        self.axes[0].set_title(f"{self._name(lake_id)[:32]}: image")
        if classes is None:
            self.axes[2].set_title(f"{model[:20]}: no prediction")
        else:
            self.axes[2].set_title(f"{model[:20]}" + (f", water if P ≥ {thr:.2f}" if p_water is not None else ""))
        sc_scores = self._scores(lake_id, model, thr, classes) if classes is not None else None
        self.current_scores = sc_scores
        self.scores_html.value = self._scores_text(name, lake_id, model, thr, sc_scores, p_water is not None,
                                                   predicted=classes is not None)
        self._render((sc.shape, win))

    def _n_windows(self, shape) -> int:
        from geonb.patches import grid_windows

        return len(grid_windows(shape, min(self.patch_size, *shape), edge="shift").windows)

    @staticmethod
    def _scores_text(name, lake_id, model, thr, s, has_probs, predicted: bool = True) -> str:
        import html as _html

        head = f"<b>{name}</b><br><small>{_html.escape(lake_id)} · model <b>{_html.escape(model)}</b>" + \
            (f" · threshold {thr:.2f}" if has_probs else "") + "</small>"
        if not predicted:
            return (f"<div style='line-height:1.35;font-size:13px'>{head}<p class='geonb-no-prediction'>"
                    f"No prediction from <b>{_html.escape(model)}</b> for {name} ({_html.escape(lake_id)}): "
                    "nothing to show or score. Pick another model or lake.</p></div>")
        if s is None:
            return f"<div style='line-height:1.35;font-size:13px'>{head}<p>No labels: no scores.</p></div>"
        c = s.confusion

        def f(v):
            return "n/a" if v != v else f"{v:.3f}"

        table = (
            "<table class='geonb-scores' style='border-collapse:collapse;margin-top:6px'>"
            f"<tr><td>F1 (water)</td><td class='geonb-f1'><b>{f(s.f1)}</b></td></tr>"
            f"<tr><td>IoU (water)</td><td class='geonb-iou'>{f(s.iou)}</td></tr>"
            f"<tr><td>precision</td><td>{f(s.precision)}</td></tr>"
            f"<tr><td>recall</td><td>{f(s.recall)}</td></tr>"
            f"<tr><td>accuracy</td><td>{f(s.accuracy)}</td></tr>"
            f"<tr><td colspan=2><hr style='margin:3px 0'></td></tr>"
            f"<tr><td>TP water → water</td><td class='geonb-tp'>{c.tp:,}</td></tr>"
            f"<tr><td style='color:#ff8c00'>FP land → water</td><td class='geonb-fp'>{c.fp:,}</td></tr>"
            f"<tr><td style='color:#d62728'>FN water → land</td><td class='geonb-fn'>{c.fn:,}</td></tr>"
            f"<tr><td>TN land → land</td><td class='geonb-tn'>{c.tn:,}</td></tr>"
            f"<tr><td>not scored</td><td>{c.n_excluded:,}</td></tr></table>"
        )
        note = f"<p><small><i>{_html.escape(s.note)}</i></small></p>" if s.note else ""
        # ipywidgets' HTML gives every line the height of a control; a readout wants to be compact.
        return f"<div style='line-height:1.35;font-size:13px'>{head}{table}{note}</div>"

    # ---- events ------------------------------------------------------------------------------
    def _on_search(self, change) -> None:
        opts = self._lake_options(change["new"])
        current = self.lake_dropdown.value
        if not opts:
            return  # keep the list while the query matches nothing
        values = [v for _, v in opts]
        keep = current if current in values else values[0]
        # Replacing the options selects the first one; stay on the current lake when it still matches.
        self.lake_dropdown.unobserve(self._on_lake, "value")
        self.lake_dropdown.options = opts
        self.lake_dropdown.value = keep
        self.lake_dropdown.observe(self._on_lake, "value")
        if keep != current:
            self._on_lake_changed()

    def _on_lake(self, change) -> None:
        if change["new"] is not None:
            self._on_lake_changed()

    def _on_lake_changed(self) -> None:
        self.patch_slider.unobserve(self._on_change, "value")
        self.patch_slider.value = 0
        self.patch_slider.max = self._n_windows(self.scene(self.lake_dropdown.value).shape)
        self.patch_slider.observe(self._on_change, "value")
        self.redraw()

    def _on_change(self, _change) -> None:
        self.redraw()

    def step(self, delta: int) -> None:
        """Show the previous (``-1``) or next (``+1``) lake of the (filtered) list."""
        values = [v for _, v in self.lake_dropdown.options]
        i = values.index(self.lake_dropdown.value)
        self.lake_dropdown.value = values[(i + delta) % len(values)]

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def _rect():
    from matplotlib.patches import Rectangle

    return Rectangle((0, 0), 1, 1, fill=False, edgecolor="#ffd400", lw=2, visible=False)


def prediction_viewer(scenes, predictions, **kwargs) -> PredictionViewer:
    """Build a :class:`PredictionViewer` (see there for the arguments)."""
    return PredictionViewer(scenes, predictions, **kwargs)
