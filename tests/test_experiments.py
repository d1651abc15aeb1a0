import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from geonb import experiments as ex
from geonb.datasets import LakeDataset
from geonb.datasets.synthetic import generate_lakes
from geonb.errors import InvalidParameterError, OutputExistsError
from geonb.evaluation import UnclassifiedBreakdown
from geonb.labels import NODATA

BASELINES = ("logistic_regression", "all_land")


@pytest.fixture(scope="module")
def lakes(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    generate_lakes(root, seed=1, n_lakes=24, n_lakes_unclassified=4, progress=False)
    return LakeDataset("lakes-synthetic", root=root), LakeDataset("lakes-synthetic-unclassified", root=root)


def _counting(monkeypatch):
    calls = []
    real = ex._run_cell

    def counted(spec, data, transform):
        calls.append(spec)
        return real(spec, data, transform)

    monkeypatch.setattr(ex, "_run_cell", counted)
    return calls


def test_model_comparison_scores_every_model_on_the_same_pixels(lakes, tmp_path):
    ds, _ = lakes
    r = ex.model_comparison(ds, BASELINES, patch_size=8, seeds=(0,), epochs=1, batch_size=8,
                            cache_dir=tmp_path, progress=False)
    assert list(r.table["label"]) == list(BASELINES)
    assert r.table["n_pixels"].nunique() == 1  # same test pixels for every model
    assert set(r.predictions["all_land"]) == set(ds.split_ids("test"))
    land = r.table.set_index("label").loc["all_land"]
    assert land["f1"] == 0.0 and land["accuracy"] == pytest.approx(land["majority_share"])
    lr = r.table.set_index("label").loc["logistic_regression"]
    assert lr["f1"] > 0.5  # the spectra separate water and land
    pred = r.predictions["logistic_regression"][ds.split_ids("test")[0]]
    scene = ds.scene(ds.split_ids("test")[0])
    assert pred.classes.shape == scene.shape and pred.probabilities.shape == scene.shape + (3,)
    assert (pred.classes[scene.nodata_mask] == NODATA).all()
    table = r.study_table()
    assert list(table.columns)[:6] == ["N train", "N test", "TN", "FN", "TP", "FP"]
    assert table.loc["all_land", "TP"] == 0 and table.index.name == "model"


def test_cache_is_reused_only_for_identical_settings(lakes, tmp_path, monkeypatch):
    ds, _ = lakes
    calls = _counting(monkeypatch)
    kw = dict(patch_size=8, seeds=(0,), epochs=1, batch_size=8, cache_dir=tmp_path, progress=False)
    first = ex.model_comparison(ds, ("logistic_regression",), **kw)
    assert len(calls) == 1
    again = ex.model_comparison(ds, ("logistic_regression",), **kw)
    assert len(calls) == 1  # read from the cache
    pd.testing.assert_frame_equal(first.table.drop(columns=["train_seconds", "total_seconds"]),
                                  again.table.drop(columns=["train_seconds", "total_seconds"]),
                                  check_dtype=False)
    ex.model_comparison(ds, ("logistic_regression",), **{**kw, "seeds": (1,)})
    assert len(calls) == 2  # another seed is another cell
    ex.model_comparison(ds, ("logistic_regression",), **{**kw, "patch_size": 10})
    assert len(calls) == 3

    # an entry whose stored settings differ from the ones asked for is never used
    spec = calls[0]
    settings_file = tmp_path / spec.key() / "settings.json"
    stored = json.loads(settings_file.read_text())
    stored["epochs"] = 99
    settings_file.write_text(json.dumps(stored))
    with pytest.warns(UserWarning, match="other settings"):
        ex.model_comparison(ds, ("logistic_regression",), **kw)
    assert len(calls) == 4
    assert json.loads(settings_file.read_text())["epochs"] == 1  # replaced by the recomputed cell


def test_cell_key_depends_on_every_setting_and_the_split(lakes):
    ds, _ = lakes
    base = ex.CellSpec("d", ex.dataset_fingerprint(ds), "fcn", 16, ("red", "nir"), 0, 2, 32)
    keys = {base.key()}
    for change in (dict(model="unet"), dict(patch_size=8), dict(bands=("red",)), dict(seed=1), dict(epochs=3),
                   dict(batch_size=16), dict(learning_rate=0.01), dict(prune_single_class=False),
                   dict(class_weight="balanced"), dict(data_fingerprint="other"),
                   dict(learning_rate_schedule="cosine")):
        keys.add(ex.CellSpec(**{**base.__dict__, **change}).key())
    assert len(keys) == 12
    # a fixed rate (no schedule) keeps the settings, hence the keys, that caches made before schedules existed hold
    assert "learning_rate_schedule" not in base.settings()
    assert ex.dataset_fingerprint(ds) != ex.dataset_fingerprint(ds.subset(6))


def test_patch_size_larger_than_every_scene_is_a_clear_error(lakes, tmp_path):
    ds, _ = lakes
    largest = max(min(ds.scene(i).shape) for i in ds.split_ids("train"))
    with pytest.raises(InvalidParameterError, match=rf"larger than every training scene.*<= {largest}"):
        ex.patch_size_sweep(ds, (8, 1000), model="all_land", seeds=(0,), epochs=1, cache_dir=tmp_path,
                            progress=False)
    with pytest.raises(InvalidParameterError, match="patch_size"):
        ex.model_comparison(ds, BASELINES, patch_size=1, seeds=(0,), cache_dir=tmp_path, progress=False)
    with pytest.raises(InvalidParameterError, match="models"):
        ex.model_comparison(ds, ("random_forest",), seeds=(0,), cache_dir=tmp_path, progress=False)


def test_band_sweep_with_pca_and_rgb(lakes, tmp_path):
    ds, _ = lakes
    r = ex.band_sweep(ds, {"all 7": ex.MODIS_BAND_NAMES, "rgb": ("red", "green", "blue"), "pca2": "pca2"},
                      patch_size=8, model="logistic_regression", seeds=(0,), epochs=1, cache_dir=False,
                      progress=False)
    assert list(r.table["label"]) == ["all 7", "rgb", "pca2"]
    assert list(r.table["bands"]) == ["red+nir+blue+green+nir2+swir1+swir2", "red+green+blue", "pca2"]
    assert r.table["n_pixels"].nunique() == 1
    assert r.table["f1"].notna().all()
    with pytest.raises(InvalidParameterError, match="pca"):
        ex.band_sweep(ds, {"bad": "pca99"}, patch_size=8, model="all_land", seeds=(0,), cache_dir=False,
                      progress=False)


def test_fcn_sweep_histories_save_load_and_model_reload(lakes, tmp_path):
    ds, _ = lakes
    r = ex.patch_size_sweep(ds, (8,), seeds=(0,), epochs=1, batch_size=16, cache_dir=tmp_path / "cache",
                            progress=False)
    assert r.labels == ["8"] and r.varied == "patch_size"
    hist = r.histories["8"][0]
    assert len(hist["loss"]) == 1 and "val_loss" in hist
    assert 0.0 <= r.table.loc[0, "f1"] <= 1.0 or math.isnan(r.table.loc[0, "f1"])
    out = r.save(tmp_path / "saved")
    with pytest.raises(OutputExistsError):
        r.save(out)
    back = ex.ExperimentResults.load(out)
    pd.testing.assert_frame_equal(back.table, r.table, check_dtype=False)
    lake = ds.split_ids("test")[0]
    np.testing.assert_array_equal(back.predictions["8"][lake].classes, r.predictions["8"][lake].classes)
    assert back.histories == r.histories
    model = back.model("8")  # reloaded from the cache's model.keras
    assert model.count_params() == r.model("8").count_params()
    # trained on a single-threaded Dask worker, written to the cache by the client, said so
    assert r.provenance.loc[0, "source"] == "computed" and r.provenance.loc[0, "made"]
    again = ex.patch_size_sweep(ds, (8,), seeds=(0,), epochs=1, batch_size=16, cache_dir=tmp_path / "cache",
                                progress=False)
    assert list(again.provenance["source"]) == ["local cache"]


def test_the_profiles_learning_rate_schedule_reaches_every_keras_cell(lakes, tmp_path):
    from geonb.runtime import get_profile

    ds, _ = lakes
    prof = get_profile("quick", epochs=2, learning_rate=4e-3, learning_rate_schedule="cosine")
    r = ex.patch_size_sweep(ds, (8,), seeds=(0,), batch_size=16, profile=prof, cache_dir=tmp_path, progress=False,
                            workers=0)
    settings = json.loads(next(tmp_path.glob("*/settings.json")).read_text())
    assert settings["learning_rate"] == 4e-3 and settings["learning_rate_schedule"] == "cosine"
    rates = r.histories["8"][0]["learning_rate"]  # the rate of each epoch's last step: falling towards 0
    assert len(rates) == 2 and 4e-3 > rates[0] > rates[1] >= 0.0
    assert r.settings["learning_rate_schedule"] == "cosine"


def test_domain_shift_and_seed_summary(lakes, tmp_path):
    ds, _ = lakes
    r = ex.model_comparison(ds, BASELINES, patch_size=8, seeds=(0, 1), epochs=1, cache_dir=tmp_path,
                            progress=False)
    assert (r.table["label"] == "logistic_regression").sum() == 2 and (r.table["label"] == "all_land").sum() == 1
    summary = r.summary()
    assert summary.loc["logistic_regression", "n_seeds"] == 2
    shift = ex.domain_shift(r, ds)
    test_conditions = set(ds.lakes.loc[ds.split_ids("test"), "condition"])
    assert set(shift["condition"]) == test_conditions
    per_model = shift.groupby("label")["n_pixels"].sum()
    assert per_model["all_land"] == r.table.set_index("label").loc["all_land", "n_pixels"]
    with pytest.raises(InvalidParameterError, match="not in the results"):
        ex.domain_shift(r, ds, labels=("fcn",))


def test_unclassified_check(lakes, tmp_path):
    ds, ds3 = lakes
    r = ex.model_comparison(ds, ("logistic_regression",), patch_size=8, seeds=(0,), cache_dir=False,
                            progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b, preds = ex.unclassified_check(r.model("logistic_regression"), ds3, progress=False)
    assert isinstance(b, UnclassifiedBreakdown) and len(preds) == len(ds3)
    assert b.table.loc["unclassified", "pixels"] > 0
    row = b.table.loc["unclassified", ["predicted water", "predicted land", "predicted unclassified"]]
    assert row.sum() == pytest.approx(1.0)
    assert 0.0 <= b.absent_probability_mean < 0.5  # never trained on it


def test_a_patch_larger_than_every_validation_lake_trains_without_validation(lakes, tmp_path):
    ds, _ = lakes
    train_max = max(min(ds.scene(i).shape) for i in ds.split_ids("train"))
    val_max = max(min(ds.scene(i).shape) for i in ds.split_ids("val"))
    if val_max >= train_max:
        pytest.skip("this seed's validation lakes are not the smaller ones")
    size = val_max + 1
    with pytest.warns(UserWarning, match="trains without validation"):
        res = ex.model_comparison(ds, ("logistic_regression",), patch_size=size, seeds=(0,), epochs=1,
                                  cache_dir=tmp_path, progress=False)
    row = res.table.iloc[0]
    assert row["n_val_patches"] == 0 and row["n_train_patches"] > 0 and row["n_test_lakes"] > 0


def test_stored_prediction_needs_the_nodata_mask_when_0_is_a_class():
    probs = np.zeros((1, 3, 2), np.float32)
    classes = np.array([[0, 1, 0]], np.uint8)
    with pytest.raises(InvalidParameterError, match=r"`nodata_mask` is required: 0 is one of the class codes \(0, 1\)"):
        ex.StoredPrediction(classes, probs, (0, 1))
    mask = np.array([[False, False, True]])
    assert ex.StoredPrediction(classes, probs, (0, 1), mask).nodata_mask.tolist() == mask.tolist()
    # lakes codes: class 0 is no data, as before
    lakes = ex.StoredPrediction(np.array([[NODATA, 1, 2]], np.uint8), probs, (1, 2))
    assert lakes.nodata_mask.tolist() == [[True, False, False]]


def _tree(root):
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_shared_cache_is_read_first_and_never_written(lakes, tmp_path, monkeypatch):
    ds, _ = lakes
    teacher, student = tmp_path / "teacher", tmp_path / "student"
    kw = dict(patch_size=8, seeds=(0,), epochs=1, batch_size=8, progress=False)
    ex.model_comparison(ds, ("logistic_regression",), cache_dir=teacher, **kw)
    before = _tree(teacher)
    monkeypatch.setenv(ex.CACHE_ENV, str(teacher))
    calls = _counting(monkeypatch)
    r = ex.model_comparison(ds, ("logistic_regression",), cache_dir=student, **kw)
    assert calls == [] and list(r.provenance["source"]) == ["shared cache"]
    assert r.provenance.loc[0, "made"].startswith("20")
    # a cell the teacher did not run is computed into the student's own cache, not the shared one
    r2 = ex.model_comparison(ds, ("logistic_regression", "all_land"), cache_dir=student, **kw)
    assert len(calls) == 1 and list(r2.provenance["source"]) == ["shared cache", "computed"]
    assert _tree(teacher) == before
    assert any(student.rglob("settings.json"))
    # the teacher filling the shared folder itself writes there (cache_dir is that folder)
    ex.model_comparison(ds, ("all_land",), cache_dir=teacher, **kw)
    assert len(_tree(teacher)) > len(before)


def test_shared_cache_that_is_not_a_folder_is_a_clear_error(lakes, tmp_path, monkeypatch):
    ds, _ = lakes
    monkeypatch.setenv(ex.CACHE_ENV, str(tmp_path / "missing"))
    with pytest.raises(InvalidParameterError, match=r"GEONB_CACHE=.*missing.*not a folder"):
        ex.model_comparison(ds, ("all_land",), patch_size=8, seeds=(0,), cache_dir=tmp_path / "c", progress=False)


def test_workers_must_be_a_count(lakes, tmp_path):
    ds, _ = lakes
    with pytest.raises(InvalidParameterError, match="`workers` must be"):
        ex.model_comparison(ds, ("all_land",), patch_size=8, seeds=(0,), cache_dir=tmp_path, progress=False,
                            workers=-1)


@pytest.mark.slow
def test_run_study_fills_every_cell_the_notebook_asks_for_and_reproduces(lakes, tmp_path, monkeypatch):
    """run_study's cells are exactly the experiment functions' cells; a second cold run on other workers
    gives the same numbers (each Keras cell trained on one TensorFlow thread)."""
    from geonb.runtime import get_profile

    ds, _ = lakes
    prof = get_profile("quick", patch_sizes=(8,), seeds=(0, 1), max_lakes=None)
    table = ex.run_study(ds, prof, cache_dir=tmp_path / "a", progress=False)
    assert set(table["source"]) == {"computed"} and table["made"].notna().all()
    assert len(table) == len({(r.label, r.seed) for r in table.itertuples()})
    calls = _counting(monkeypatch)
    kw = dict(profile=prof, cache_dir=tmp_path / "a", progress=False)
    sweep = ex.patch_size_sweep(ds, seeds=prof.sweep_seeds, **kw)
    bands = ex.band_sweep(ds, seeds=prof.sweep_seeds, **kw)
    models = ex.model_comparison(ds, **kw)
    assert calls == []  # every cell came from the cache run_study filled
    assert set(models.table["label"]) == set(ex.MODEL_NAMES) and sweep.labels == ["8"]
    assert len(bands.labels) == 3
    again = ex.run_study(ds, prof, cache_dir=tmp_path / "b", progress=False)
    pd.testing.assert_series_equal(again["f1"], table["f1"])  # bit-identical scores from a cold cache


def test_cells_trained_in_this_process_are_keyed_by_its_thread_count(lakes, tmp_path, monkeypatch):
    """workers=0 trains with this process's TensorFlow threads: those numbers never pass for single-threaded ones."""
    ds, _ = lakes
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "3")
    r = ex.patch_size_sweep(ds, (8,), seeds=(0,), epochs=1, batch_size=16, cache_dir=tmp_path, progress=False,
                            workers=0)
    assert r.provenance.loc[0, "source"] == "computed" and r.provenance.loc[0, "made"]
    settings = json.loads(next(tmp_path.glob("*/settings.json")).read_text())
    assert settings["tf_threads"] == 3
    one = ex.CellSpec(ds.name, ex.dataset_fingerprint(ds), "fcn", 8, tuple(ex.MODIS_BAND_NAMES), 0, 1, 16)
    assert one.tf_threads == 1 and not (tmp_path / one.key()).exists()


def test_a_cluster_with_multithreaded_workers_is_refused(lakes, tmp_path):
    from distributed import Client, LocalCluster

    ds, _ = lakes
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        with pytest.raises(InvalidParameterError, match=r"\[2\] threads each.*threads_per_worker=1"):
            ex.patch_size_sweep(ds, (8,), seeds=(0,), epochs=1, cache_dir=tmp_path, progress=False, client=client)
    assert not list(tmp_path.glob("*/settings.json"))
