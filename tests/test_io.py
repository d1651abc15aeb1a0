"""geonb.io: a set of outputs is written whole or not at all, whatever step fails."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from rasterio.transform import from_origin

import geonb.io as gio
import geonb.scene as gscene
from geonb.errors import InvalidParameterError, OutputExistsError
from geonb.io import atomic_path, atomic_paths, check_output_paths
from geonb.scene import Scene, write_scene


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _fail_on_call(monkeypatch, k: int) -> list:
    """Make the k-th call of ``os.replace`` inside geonb.io raise OSError; return the call log."""
    real = os.replace
    calls: list = []

    def replace(src, dst):
        calls.append((Path(src).name, Path(dst).name))
        if len(calls) == k:
            raise OSError("injected failure")
        return real(src, dst)

    monkeypatch.setattr(gio.os, "replace", replace)
    return calls


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_set_with_a_failing_rename_leaves_bytes_and_folder_unchanged(tmp_path, monkeypatch, k):
    # two existing targets + overwrite: renames are a->bak, b->bak, tmpa->a, tmpb->b (then rollback)
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(b"A0")
    b.write_bytes(b"B0")
    calls = _fail_on_call(monkeypatch, k)
    with pytest.raises(OSError, match="injected"):
        with atomic_paths([a, b], overwrite=True) as (ta, tb):
            ta.write_bytes(b"A1")
            tb.write_bytes(b"B1")
    assert len(calls) >= k
    assert a.read_bytes() == b"A0" and b.read_bytes() == b"B0"
    assert _listing(tmp_path) == ["a.txt", "b.txt"]


@pytest.mark.parametrize("k", [1, 2])
def test_new_set_with_a_failing_rename_leaves_no_file_and_no_new_folder(tmp_path, monkeypatch, k):
    _fail_on_call(monkeypatch, k)
    with pytest.raises(OSError, match="injected"):
        with atomic_paths([tmp_path / "new" / "deep" / "a.tif", tmp_path / "b.tif"]) as (ta, tb):
            ta.write_bytes(b"A1")
            tb.write_bytes(b"B1")
    assert _listing(tmp_path) == []


def test_set_without_failure_replaces_both(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(b"A0")
    b.write_bytes(b"B0")
    with atomic_paths([a, b], overwrite=True) as (ta, tb):
        ta.write_bytes(b"A1")
        tb.write_bytes(b"B1")
    assert (a.read_bytes(), b.read_bytes()) == (b"A1", b"B1")
    assert _listing(tmp_path) == ["a.txt", "b.txt"]


def test_failing_body_removes_the_folders_it_created_and_keeps_existing_ones(tmp_path):
    (tmp_path / "kept").mkdir()
    with pytest.raises(RuntimeError, match="body failed"):
        with atomic_paths([tmp_path / "new" / "x.tif", tmp_path / "new2" / "sub" / "y.tif",
                           tmp_path / "kept" / "z.tif"]):
            raise RuntimeError("body failed")
    assert _listing(tmp_path) == ["kept"]


def test_successful_set_keeps_the_folders_it_created(tmp_path):
    with atomic_path(tmp_path / "new" / "x.txt") as t:
        t.write_text("x")
    assert (tmp_path / "new" / "x.txt").read_text() == "x"


def test_dangling_symlink_is_not_replaced_without_overwrite(tmp_path):
    link = tmp_path / "out.txt"
    os.symlink(tmp_path / "nowhere.txt", link)
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        with atomic_path(link) as t:
            t.write_text("Z")
    assert link.is_symlink() and os.readlink(link) == str(tmp_path / "nowhere.txt")
    assert _listing(tmp_path) == ["out.txt"]


def test_dangling_symlink_is_restored_when_the_set_fails(tmp_path, monkeypatch):
    link, other = tmp_path / "out.txt", tmp_path / "other.txt"
    os.symlink(tmp_path / "nowhere.txt", link)
    other.write_bytes(b"O0")
    _fail_on_call(monkeypatch, 4)  # link->bak, other->bak, tmp->link, tmp->other (fails)
    with pytest.raises(OSError, match="injected"):
        with atomic_paths([link, other], overwrite=True) as (t1, t2):
            t1.write_text("L1")
            t2.write_text("O1")
    assert link.is_symlink() and os.readlink(link) == str(tmp_path / "nowhere.txt")
    assert other.read_bytes() == b"O0"
    assert _listing(tmp_path) == ["other.txt", "out.txt"]


def test_two_hard_links_to_one_file_are_refused(tmp_path):
    a = tmp_path / "a.txt"
    a.write_bytes(b"A0")
    os.link(a, tmp_path / "hard.txt")
    with pytest.raises(InvalidParameterError, match="two links to one existing file"):
        check_output_paths({"image_path": a, "labels_path": tmp_path / "hard.txt"}, overwrite=True)
    with pytest.raises(InvalidParameterError, match="two links"):
        with atomic_paths([a, tmp_path / "hard.txt"], overwrite=True) as (t1, t2):
            t1.write_bytes(b"X")
            t2.write_bytes(b"Y")
    assert a.read_bytes() == b"A0" and (tmp_path / "hard.txt").read_bytes() == b"A0"
    assert _listing(tmp_path) == ["a.txt", "hard.txt"]


def _scene(value: float) -> Scene:
    rng = np.random.default_rng(0)
    image = (rng.uniform(0, 0.3, (6, 5, 3)) + value).astype(np.float32)
    labels = np.ones((6, 5), np.uint8)
    return Scene(image, labels=labels, crs="EPSG:32633", transform=from_origin(0, 6, 1, 1),
                 band_names=("red", "green", "blue"))


def test_write_scene_whose_labels_write_fails_leaves_neither_file_changed(tmp_path, monkeypatch):
    image_path, labels_path = tmp_path / "img.tif", tmp_path / "lab.tif"
    write_scene(_scene(0.0), image_path, labels_path)
    before = (image_path.read_bytes(), labels_path.read_bytes())
    real = gscene._write_raster_file
    written = []

    def write(path, *args, **kwargs):
        if written:  # the labels: the image temp file is already written
            assert Path(written[0]).stat().st_size > 0
            raise OSError("disk full while writing labels")
        written.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(gscene, "_write_raster_file", write)
    with pytest.raises(OSError, match="disk full"):
        write_scene(_scene(0.5), image_path, labels_path, overwrite=True)
    assert written, "the image temp file was written before the labels failed"
    assert (image_path.read_bytes(), labels_path.read_bytes()) == before
    assert _listing(tmp_path) == ["img.tif", "lab.tif"]


def test_write_scene_new_pair_whose_labels_write_fails_leaves_nothing(tmp_path, monkeypatch):
    real = gscene._write_raster_file
    calls = []

    def write(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full while writing labels")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(gscene, "_write_raster_file", write)
    with pytest.raises(OSError, match="disk full"):
        write_scene(_scene(0.0), tmp_path / "out" / "img.tif", tmp_path / "out" / "lab.tif")
    assert _listing(tmp_path) == []
