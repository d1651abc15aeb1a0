import os
import subprocess
import sys

import pytest

from geonb.errors import GeonbError, InvalidParameterError
from geonb.runtime import DEFAULT_BACKEND, PROFILES, build_dir, get_profile


def test_profiles_map_sizes_in_one_place():
    quick, klass, full = (get_profile(n) for n in ("quick", "class", "full"))
    assert quick.epochs < klass.epochs < full.epochs
    assert quick.max_lakes is not None and klass.max_lakes is None
    assert set(klass.patch_sizes) == {8, 16, 32, 64}
    assert len(klass.seeds) > 1
    assert set(PROFILES) == {"quick", "class", "full"}


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv("GEONB_PROFILE", "Quick ")
    assert get_profile().name == "quick"
    monkeypatch.delenv("GEONB_PROFILE")
    assert get_profile().name == "class"
    assert get_profile("class", epochs=2).epochs == 2


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("GEONB_PROFILE", "turbo")
    with pytest.raises(InvalidParameterError, match="unknown profile 'turbo'.*quick"):
        get_profile()
    with pytest.raises(ValueError):  # a geonb error is also the builtin it refines
        get_profile("fast")
    assert issubclass(InvalidParameterError, GeonbError)


def test_build_dir_honours_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GEONB_BUILD", str(tmp_path / "b"))
    assert build_dir("models") == tmp_path / "b" / "models"
    assert (tmp_path / "b" / "models").is_dir()


def _run(code: str, **env) -> str:
    full_env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env=full_env).stdout.strip()


def test_import_geonb_sets_default_backend_without_importing_keras():
    out = _run("import sys, os, geonb; print(os.environ['KERAS_BACKEND'], 'keras' in sys.modules, "
               "'tensorflow' in sys.modules, 'torch' in sys.modules)")
    assert out == f"{DEFAULT_BACKEND} False False False"


def test_user_choice_of_backend_is_kept():
    assert _run("import os, geonb; print(os.environ['KERAS_BACKEND'])", KERAS_BACKEND="jax") == "jax"


def test_import_is_fast():
    # Best of several fresh interpreters; the budget is 0.3 s (README). Timed in the child itself.
    code = ("import time; t=time.perf_counter(); import geonb; "
            "print(time.perf_counter()-t)")
    best = min(float(_run(code)) for _ in range(3))
    assert best < 0.3, f"import geonb took {best:.2f} s"


def test_device_report_says_cpu_only_without_gpu():
    from geonb.runtime import device_report

    report = device_report()
    assert report.backend == os.environ["KERAS_BACKEND"]
    text = report.summary()
    assert "Keras 3" in text
    if not report.has_gpu:
        assert "CPU only" in text
    assert "<pre>" in report._repr_html_()
