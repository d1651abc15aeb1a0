"""Tests of geonb.cli: ``python -m geonb info | data generate | data fetch | kernels install``.

``data fetch`` is tested with the local STAC server in test_datasets_stac.py and ``kernels install``
in test_runtime.py; here the commands' own behaviour.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from geonb.cli import build_parser, main


def test_info_prints_versions_and_the_device_report(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("geonb ") and "profile" in out
    assert "CPU" in out or "GPU" in out


def test_python_dash_m_geonb_runs_and_lists_commands():
    res = subprocess.run([sys.executable, "-m", "geonb", "--help"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0
    for command in ("info", "data", "kernels"):
        assert command in res.stdout


def test_unknown_command_is_a_usage_error():
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["train-everything"])
    assert exc.value.code == 2


def test_data_generate_refuses_to_replace_a_dataset_and_loses_nothing(tmp_path, capsys):
    # One of the two lakes datasets is there (a user's edits, say): generating must not replace it.
    mine = tmp_path / "lakes" / "lakes-synthetic" / "catalog.geojson"
    mine.parent.mkdir(parents=True)
    mine.write_text("my edits")
    assert main(["data", "generate", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "--overwrite" in err
    assert mine.read_text() == "my edits"
    assert not (tmp_path / "lakes" / "lakes-synthetic-unclassified").exists()


def test_data_generate_keeps_present_lakes_and_makes_what_is_missing(tmp_path, capsys):
    for name in ("lakes-synthetic", "lakes-synthetic-unclassified"):
        (tmp_path / "lakes" / name).mkdir(parents=True)
    assert main(["data", "generate", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "lakes datasets already in" in out
    assert list((tmp_path / "lakes" / "lakes-synthetic").iterdir()) == []  # untouched
    assert list((tmp_path / "buildings").rglob("*.geojson"))  # the buildings sample was missing: written


# ---- geonb train / geonb predict on your own raster ---------------------------------------------------
@pytest.fixture(scope="module")
def example(tmp_path_factory):
    from geonb.datasets.synthetic import write_polygon_example

    return write_polygon_example(tmp_path_factory.mktemp("example"), size=64, seed=1)


def test_train_then_predict_from_the_command_line(tmp_path, example, capsys):
    import json

    import rasterio

    image, polygons = example
    model = tmp_path / "m.keras"
    assert main(["train", str(image), "--labels", str(polygons), "--out", str(model), "--epochs", "2",
                 "--patch-size", "8"]) == 0
    out = capsys.readouterr().out
    assert "1=water, 2=land" in out and "held-out polygons (test)" in out and model.exists()
    outs = {"--out": tmp_path / "classes.tif", "--probabilities": tmp_path / "p.tif",
            "--polygons": tmp_path / "water.geojson"}
    args = ["predict", str(model), str(image), "--polygon-classes", "water", "--quiet"]
    assert main(args + [x for kv in outs.items() for x in (kv[0], str(kv[1]))]) == 0
    with rasterio.open(outs["--out"]) as ds, rasterio.open(image) as src:
        assert ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert ds.crs == src.crs and ds.transform == src.transform
        assert ds.tags()["CLASS_1"] == "water" and ds.colormap(1)[1][:3] == (0x1f, 0x5f, 0xbf)
        classes = ds.read(1)
    with rasterio.open(outs["--probabilities"]) as ds:
        assert ds.count == 2
    features = json.loads(outs["--polygons"].read_text())["features"]
    assert features and {f["properties"]["class"] for f in features} == {"water"}
    assert sum(f["properties"]["pixels"] for f in features) == int((classes == 1).sum())
    # the same outputs again: refused as a set, nothing changed
    before = {k: v.read_bytes() for k, v in outs.items()}
    assert main(args + [x for kv in outs.items() for x in (kv[0], str(kv[1]))]) == 2
    assert "overwrite" in capsys.readouterr().err
    assert {k: v.read_bytes() for k, v in outs.items()} == before


def test_train_refuses_bad_arguments_before_training(tmp_path, example, capsys):
    image, polygons = example
    (tmp_path / "old.keras").write_bytes(b"mine")
    assert main(["train", str(image), "--labels", str(polygons), "--out", str(tmp_path / "old.keras")]) == 2
    assert "overwrite" in capsys.readouterr().err and (tmp_path / "old.keras").read_bytes() == b"mine"
    assert main(["train", str(image), "--labels", str(polygons), "--out", str(tmp_path / "m.h5")]) == 2
    assert ".keras" in capsys.readouterr().err
    assert main(["train", str(image), "--labels", str(polygons), "--class-field", "kind",
                 "--out", str(tmp_path / "m.keras")]) == 2
    assert "kind" in capsys.readouterr().err
    assert not (tmp_path / "m.keras").exists()


def test_predict_refuses_one_path_twice(tmp_path, example, capsys):
    image, _ = example
    assert main(["predict", str(tmp_path / "none.keras"), str(image), "--out", str(tmp_path / "a.tif"),
                 "--probabilities", str(tmp_path / "a.tif")]) == 2
    assert "same file" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_predict_refuses_an_image_in_other_units(tmp_path, example, capsys):
    """A model trained on reflectance must not silently predict raw counts of another file."""
    import rasterio

    image, polygons = example
    model = tmp_path / "m.keras"
    assert main(["train", str(image), "--labels", str(polygons), "--out", str(model), "--epochs", "1"]) == 0
    with rasterio.open(image) as src:  # the same pixels as plain integers, without scale tags
        profile = src.profile
        data = src.read()
        names = src.descriptions
    profile.update(nodata=None)
    raw = tmp_path / "raw.tif"
    with rasterio.open(raw, "w", **profile) as dst:
        dst.write(data)
        for i, n in enumerate(names, start=1):
            dst.set_band_description(i, n)
    capsys.readouterr()
    assert main(["predict", str(model), str(raw), "--out", str(tmp_path / "c.tif"), "--quiet"]) == 2
    assert "trained on" in capsys.readouterr().err and not (tmp_path / "c.tif").exists()
    assert main(["predict", str(model), str(image), "--out", str(tmp_path / "c.tif"), "--quiet",
                 "--polygons", str(tmp_path / "p.tif")]) == 2
    assert ".geojson" in capsys.readouterr().err


# ---- geonb predict with several rasters (geonb.distributed; the run itself is in test_distributed.py) ------
def test_predict_many_refuses_single_raster_outputs_before_any_work(tmp_path, example, capsys):
    image, _ = example
    other = tmp_path / "other.tif"
    other.write_bytes(image.read_bytes())
    out = tmp_path / "maps"
    # checked before the model is even read: the model path does not exist
    assert main(["predict", str(tmp_path / "none.keras"), str(image), str(other), "--out", str(out),
                 "--probabilities", str(tmp_path / "p.tif"), "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "--probabilities" in capsys.readouterr().err and not out.exists()
    assert main(["predict", str(tmp_path / "none.keras"), str(image), str(other), "--out", str(out),
                 "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err and not out.exists()


def test_predict_parser_takes_several_inputs_and_cluster_options():
    args = build_parser().parse_args(["predict", "m.keras", "a.tif", "b.tif", "--out", "maps", "--workers", "2",
                                      "--scheduler", "tcp://10.0.0.5:8786"])
    assert args.inputs == ["a.tif", "b.tif"] and args.workers == 2 and args.scheduler == "tcp://10.0.0.5:8786"
    from geonb.cli import _is_batch

    assert _is_batch(args)
    one = build_parser().parse_args(["predict", "m.keras", "a.tif", "--out", "classes.tif"])
    assert not _is_batch(one) and one.workers is None and one.scheduler is None
    assert _is_batch(build_parser().parse_args(["predict", "m.keras", "a.tif", "--out", "maps"]))


@pytest.mark.slow
def test_experiments_run_fills_a_cache_that_a_second_run_only_reads(tmp_path, capsys):
    """The teacher's command: every cell of notebook 05 into --cache; run again, nothing is computed."""
    from geonb.datasets.synthetic import generate_lakes

    generate_lakes(tmp_path / "data", seed=3, n_lakes=24, n_lakes_unclassified=4, progress=False)
    args = ["experiments", "run", "--cache", str(tmp_path / "cache"), "--profile", "quick",
            "--data-root", str(tmp_path / "data"), "--workers", "2"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert "7 cell(s) computed, 0 already cached" in first and "GEONB_CACHE=" in first
    assert len(list((tmp_path / "cache").glob("*/settings.json"))) == 7  # fcn 8/16, rgb, pca3, unet, LR, all-land
    assert main(args) == 0
    second = capsys.readouterr().out
    assert "0 cell(s) computed, 7 already cached" in second


def test_experiments_run_refuses_a_cache_that_is_a_file(tmp_path, capsys):
    (tmp_path / "cache").write_text("not a folder")
    assert main(["experiments", "run", "--cache", str(tmp_path / "cache")]) == 2
    assert "is a file" in capsys.readouterr().err
