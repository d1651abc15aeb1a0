"""geonb.distributed on a real LocalCluster (2 worker processes x 1 thread), with tiny rasters written here.

One cluster for the whole module. Every distributed result is compared with the single-process reference
(predict_raster, patch_dataset).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

SINU = "+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m +no_defs"
PIXEL = 463.312716525


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    from geonb.distributed import local_cluster_settings

    settings = local_cluster_settings(n_workers=2, threads_per_worker=1)
    assert settings["processes"] and settings["env"]["TF_NUM_INTRAOP_THREADS"] == "1"
    with LocalCluster(**settings) as cluster, Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def model():
    from geonb.models import build_lakes_fcn

    return build_lakes_fcn(8, bands=7, seed=0)


def _scene(rows: int, cols: int, seed: int, bands: int = 7):
    from affine import Affine

    from geonb.scene import Scene

    rng = np.random.default_rng(seed)
    water = np.array([0.03, 0.02, 0.05, 0.04, 0.01, 0.005, 0.003], np.float32)[:bands]
    land = np.array([0.12, 0.30, 0.06, 0.10, 0.28, 0.22, 0.14], np.float32)[:bands]
    yy, xx = np.mgrid[:rows, :cols]
    is_water = (yy - rows / 2) ** 2 + (xx - cols / 3) ** 2 < (min(rows, cols) / 3) ** 2
    image = np.where(is_water[..., None], water, land) + rng.normal(0, 0.01, (rows, cols, bands))
    nodata = np.zeros((rows, cols), bool)
    nodata[:, cols - 5 - seed % 7:cols - 2 - seed % 7] = True  # a nodata stripe
    x0 = 510000.0 + 1000 * seed
    return Scene(np.clip(image, 0, 1).astype(np.float32), crs=SINU,
                 transform=Affine(PIXEL, 0, x0, 0, -PIXEL, 5150000.0), nodata_mask=nodata)


def _write(path: Path, rows: int, cols: int, seed: int, bands: int = 7) -> Path:
    from geonb.scene import write_scene

    write_scene(_scene(rows, cols, seed, bands), path)
    return path


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """10 rasters: [3] is corrupt (truncated), [7] has 4 bands instead of 7."""
    d = tmp_path_factory.mktemp("inputs")
    paths = []
    for i in range(10):
        p = _write(d / f"scene{i:02d}.tif", 40 + 3 * i, 56 - 2 * i, seed=i, bands=4 if i == 7 else 7)
        if i == 3:
            p.write_bytes(p.read_bytes()[:600])
        paths.append(p)
    return paths


def _classes(path) -> np.ndarray:
    import rasterio

    with rasterio.open(path) as ds:
        return ds.read(1)


def _serial(model, path, tmp_path) -> np.ndarray:
    from geonb.prediction import predict_raster

    out = tmp_path / f"serial-{Path(path).stem}.tif"
    if not out.exists():
        predict_raster(model, path, out, progress=False)
    return _classes(out)


def _visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ---- a batch with faults ---------------------------------------------------------------------------
def test_batch_with_a_corrupt_and_a_wrong_band_raster(client, model, batch, tmp_path):
    import rasterio

    from geonb.distributed import FINGERPRINT_TAG, model_fingerprint, model_loads, scene_fingerprint
    from geonb.export import pixel_areas_m2

    out = tmp_path / "maps"
    table = predict_rasters_(model, batch, out, client)
    assert list(table["input"]) == [str(p) for p in batch]
    assert (table["status"] == "done").sum() == 8
    failed = table[table["status"] == "failed"]
    assert list(failed.index) == [3, 7]
    assert failed.loc[3, "error"].startswith("RasterReadError") and "scene03.tif" in failed.loc[3, "error"]
    assert failed.loc[7, "error"].startswith("BandMismatchError") and "4 bands" in failed.loc[7, "error"]
    # 8 complete outputs and nothing else (no temporary or half-written file)
    assert _visible(out) == [f"scene{i:02d}_classes.tif" for i in range(10) if i not in (3, 7)]
    for i in (0, 5, 9):
        p = out / f"scene{i:02d}_classes.tif"
        np.testing.assert_array_equal(_classes(p), _serial(model, batch[i], tmp_path))
        with rasterio.open(p) as ds:
            assert ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
            assert ds.colormap(1)[1][:3] == (0x1f, 0x5f, 0xbf) and ds.tags()["CLASS_1"] == "water"
            # the run's fingerprint joined with this input's identity
            assert ds.tags()[FINGERPRINT_TAG] == scene_fingerprint(table.attrs["fingerprint"], batch[i])
            classes, transform, crs = ds.read(1), ds.transform, ds.crs
        row = table.loc[i]
        assert row["water_px"] == (classes == 1).sum() and row["land_px"] == (classes == 2).sum()
        assert row["nodata_px"] == (classes == 0).sum() > 0
        area = pixel_areas_m2(transform, crs, classes.shape)
        assert row["water_km2"] == pytest.approx(area[classes == 1].sum() / 1e6)
        assert row["worker"] in client.scheduler_info()["workers"] and row["seconds"] > 0
    # the model was shipped and loaded once per worker, whatever the number of tasks it ran
    fp = model_fingerprint(model)
    loads = [v.get(fp, 0) for v in client.run(model_loads).values()]
    assert max(loads) == 1 and sum(loads) == table["worker"].dropna().nunique()


def predict_rasters_(model, inputs, out, client, **kw):
    from geonb.distributed import predict_rasters

    return predict_rasters(model, inputs, out, client=client, progress=False, **kw)


def test_rerun_skips_finished_scenes_and_resumes(client, model, batch, tmp_path):
    good = [p for i, p in enumerate(batch) if i not in (3, 7)]
    out = tmp_path / "maps"
    first = predict_rasters_(model, good, out, client)
    assert (first["status"] == "done").all()
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # an interrupted run: three outputs never got written
    for p in good[2:5]:
        (out / f"{p.stem}_classes.tif").unlink()
    again = predict_rasters_(model, good, out, client)
    assert list(again["status"]) == ["skipped"] * 2 + ["done"] * 3 + ["skipped"] * 3
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # skipped rows still carry the scene's numbers (read back from the output)
    cols = ["water_px", "land_px", "nodata_px", "water_km2"]
    np.testing.assert_allclose(again[cols].to_numpy(float), first[cols].to_numpy(float))

    # another model over the same outputs: refused per scene, nothing replaced, unless overwrite=True
    from geonb.models import build_lakes_fcn

    other = build_lakes_fcn(8, bands=7, seed=1)
    refused = predict_rasters_(other, good[:2], out, client)
    assert (refused["status"] == "failed").all()
    assert refused["error"].str.startswith("OutputExistsError").all()
    assert refused["error"].str.contains("overwrite=True").all()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    replaced = predict_rasters_(other, good[:2], out, client, overwrite=True)
    assert (replaced["status"] == "done").all()
    np.testing.assert_array_equal(_classes(out / f"{good[0].stem}_classes.tif"), _serial(other, good[0], tmp_path))


def test_another_input_with_the_same_name_is_never_skipped(client, model, tmp_path):
    """Resume reuses an output only for the same input file, unchanged (not just the same file name)."""
    a = _write(tmp_path / "a" / "tile.tif", 40, 40, seed=1)
    b = _write(tmp_path / "b" / "tile.tif", 40, 40, seed=2)
    out = tmp_path / "maps"
    assert (predict_rasters_(model, [a], out, client)["status"] == "done").all()
    row = predict_rasters_(model, [b], out, client).iloc[0]
    assert row["status"] == "failed" and "another input" in row["error"]
    assert predict_rasters_(model, [b], out, client, overwrite=True).iloc[0]["status"] == "done"
    np.testing.assert_array_equal(_classes(out / "tile_classes.tif"), _serial(model, b, tmp_path))


def test_a_worker_killed_mid_batch(client, model, tmp_path):
    """Kill one worker process after the first output appears: the batch finishes, every output is complete
    and equal to a serial run."""
    paths = [_write(tmp_path / f"big{i:02d}.tif", 160, 150, seed=20 + i) for i in range(14)]
    out = tmp_path / "maps"
    result = {}
    runner = threading.Thread(target=lambda: result.setdefault("table", predict_rasters_(model, paths, out, client)))
    runner.start()
    deadline = time.monotonic() + 120
    while not (out.exists() and any(p.suffix == ".tif" and not p.name.startswith(".") for p in out.iterdir())):
        assert time.monotonic() < deadline and runner.is_alive(), "no output appeared"
        time.sleep(0.05)
    pids = client.run(os.getpid)
    victim = sorted(pids)[0]
    os.kill(pids[victim], signal.SIGKILL)
    written_before_kill = len([p for p in out.iterdir() if not p.name.startswith(".")])
    assert runner.is_alive() and written_before_kill < len(paths)  # really in the middle of the batch
    runner.join(300)
    assert not runner.is_alive()
    table = result["table"]
    assert (table["status"] == "done").all(), table[["status", "error"]]
    assert _visible(out) == [f"big{i:02d}_classes.tif" for i in range(14)]
    for p in paths:
        np.testing.assert_array_equal(_classes(out / f"{p.stem}_classes.tif"), _serial(model, p, tmp_path))
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it


def test_errors_before_any_work(model, batch, tmp_path):
    from geonb.distributed import predict_rasters
    from geonb.errors import DatasetNotFoundError, InvalidParameterError

    not_a_client = object()  # reaching the cluster would fail differently: every check comes first
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InvalidParameterError, match="not writable"):
        predict_rasters(model, batch[:2], blocker / "maps", client=not_a_client)
    with pytest.raises(InvalidParameterError, match="is a file"):
        predict_rasters(model, batch[:2], blocker, client=not_a_client)
    out = tmp_path / "maps"
    with pytest.raises(InvalidParameterError, match=r"names one file twice: \[0\].*\[2\]"):
        predict_rasters(model, [batch[0], batch[1], Path(str(batch[0]).replace("/scene", "/./scene"))], out,
                        client=not_a_client)
    with pytest.raises(InvalidParameterError, match="empty"):
        predict_rasters(model, [], out, client=not_a_client)
    with pytest.raises(DatasetNotFoundError, match="nope.tif"):
        predict_rasters(model, [batch[0], tmp_path / "nope.tif"], out, client=not_a_client)
    twin = tmp_path / "other"
    twin.mkdir()
    (twin / batch[0].name).write_bytes(batch[0].read_bytes())
    with pytest.raises(InvalidParameterError, match="same name"):
        predict_rasters(model, [batch[0], twin / batch[0].name], out, client=not_a_client)
    with pytest.raises(InvalidParameterError, match="unknown prediction setting"):
        predict_rasters(model, batch[:1], out, client=not_a_client, probabilities=True)
    assert not any(out.iterdir())


# ---- one raster in chunks --------------------------------------------------------------------------
def _read_all(path):
    import rasterio

    with rasterio.open(path) as ds:
        return ds.read(), ds.profile, ds.tags()


def test_chunked_prediction_equals_predict_raster(client, model, tmp_path):
    from geonb.distributed import predict_raster_chunked
    from geonb.prediction import predict_raster

    image = _write(tmp_path / "large.tif", 300, 280, seed=3)
    ref = predict_raster(model, image, tmp_path / "ref.tif", block=128, probabilities=True, progress=False)
    got = predict_raster_chunked(model, image, tmp_path / "chunked.tif", client=client, chunk=128,
                                 probabilities=True, progress=False, max_in_flight=3)
    assert (got.shape, got.blocks) == (ref.shape, ref.blocks) and got.pixels_predicted == ref.pixels_predicted
    cls_ref, prof_ref, _ = _read_all(ref.classes_path)
    cls, prof, tags = _read_all(got.classes_path)
    np.testing.assert_array_equal(cls, cls_ref)
    assert prof["transform"] == prof_ref["transform"] and prof["crs"] == prof_ref["crs"]
    assert prof["nodata"] == prof_ref["nodata"] and tags["classes"] == "1=water,2=land,3=unclassified"
    p_ref, p = _read_all(ref.probabilities_path)[0], _read_all(got.probabilities_path)[0]
    np.testing.assert_allclose(p, p_ref, atol=1e-5)  # NaN at nodata in both
    # another chunk than predict_raster's block: the same valid pixels
    other = predict_raster_chunked(model, image, tmp_path / "chunked96.tif", client=client, chunk=96,
                                   probabilities=True, progress=False)
    valid = cls_ref[0] != 0
    np.testing.assert_array_equal(_read_all(other.classes_path)[0][0][valid], cls_ref[0][valid])
    np.testing.assert_allclose(_read_all(other.probabilities_path)[0][:, valid], p_ref[:, valid], atol=1e-5)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


# ---- patches of many scenes ------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [{}, {"stride": 4, "prune_single_class": True, "bands": ("red", "nir")}])
def test_distributed_patches_equal_patch_dataset(client, tiny_lakes_root, kw):
    from geonb.datasets.lakes import LakeDataset
    from geonb.distributed import patch_dataset_distributed
    from geonb.patches import patch_dataset

    ds = LakeDataset("lakes-synthetic", root=tiny_lakes_root)
    ref = patch_dataset(ds, 16, **kw)
    got = patch_dataset_distributed(ds, 16, client=client, **kw)
    assert list(got) == list(ref)
    for split in ref:
        a, b = ref[split], got[split]
        assert len(a) > 0
        for name in ("images", "labels", "nodata", "lake_ids", "windows"):
            np.testing.assert_array_equal(getattr(b, name), getattr(a, name))
        for name in ("band_names", "size", "stride", "edge", "classes", "pruned", "dropped_pixels", "too_small",
                     "scene_shapes"):
            assert getattr(b, name) == getattr(a, name), name


# ---- clients and the command line ------------------------------------------------------------------
def test_get_client_uses_an_address_or_the_environment(client, monkeypatch):
    from distributed import Client

    from geonb.distributed import SCHEDULER_ENV, get_client
    from geonb.errors import InvalidParameterError

    address = client.scheduler.address
    assert get_client(client) is client
    with get_client(address) as c:
        assert isinstance(c, Client) and c.scheduler.address == address
        assert set(c.scheduler_info()["workers"]) == set(client.scheduler_info()["workers"])
    monkeypatch.setenv(SCHEDULER_ENV, address)
    with get_client() as c:
        assert c.scheduler.address == address
    with pytest.raises(InvalidParameterError, match="distributed.Client"):
        get_client(42)


def test_cli_predicts_many_rasters(client, model, batch, tmp_path, capsys):
    from geonb.cli import main
    from geonb.models import save_model

    path = save_model(model, tmp_path / "m.keras")
    out = tmp_path / "maps"
    args = ["predict", str(path), *map(str, batch[2:5]), "--out", str(out), "--scheduler",
            client.scheduler.address, "--quiet"]
    assert main(args) == 1  # scene 3 is corrupt: reported, the others written
    text = capsys.readouterr().out
    assert "scene02.tif" in text and "RasterReadError" in text and "2 done, 0 skipped, 1 failed" in text
    assert _visible(out) == ["scene02_classes.tif", "scene04_classes.tif"]
    assert main(args) == 1
    assert "0 done, 2 skipped, 1 failed" in capsys.readouterr().out
