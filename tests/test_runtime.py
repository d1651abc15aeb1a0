import json
import os
import subprocess
import sys
import warnings

import pytest

from geonb.errors import DeviceError, GeonbError, InvalidParameterError
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


def test_device_report_says_cpu_only_without_gpu():
    from geonb.runtime import device_report

    report = device_report()
    assert report.backend == os.environ["KERAS_BACKEND"]
    text = report.summary()
    assert "Keras 3" in text
    if not report.has_gpu:
        assert "CPU only" in text
    assert "<pre>" in report._repr_html_()


# ---- GPU kernels and device helpers ---------------------------------------------------------
def test_kernel_specs_and_install(tmp_path):
    from geonb.runtime import install_kernels, kernel_specs

    specs = kernel_specs("jax", python="/x/python")
    assert specs["geonb"]["display_name"] == "geonb (Python 3)"
    assert specs["geonb-gpu"]["display_name"] == "geonb (GPU)"
    assert specs["geonb-gpu"]["env"] == {"KERAS_BACKEND": "jax", "GEONB_PROFILE": "full", "GEONB_DEVICE": "gpu"}
    with pytest.raises(InvalidParameterError, match="tensorflow"):
        kernel_specs("tensorflow")
    where = install_kernels(prefix=str(tmp_path))
    spec = json.loads((tmp_path / "share/jupyter/kernels/geonb-gpu/kernel.json").read_text())
    assert spec["env"]["KERAS_BACKEND"] == "torch" and set(where) == {"geonb", "geonb-gpu"}


def test_cli_kernels_install(tmp_path, monkeypatch, capsys):
    import sys

    from geonb.cli import main

    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    assert main(["kernels", "install", "--sys-prefix", "--gpu-backend", "jax"]) == 0
    spec = json.loads((tmp_path / "share/jupyter/kernels/geonb-gpu/kernel.json").read_text())
    assert spec["env"]["KERAS_BACKEND"] == "jax"
    out = capsys.readouterr().out
    assert "geonb-gpu" in out
    import importlib.util

    # the GPU kernel's backend is named when it is missing, so the user knows what to install
    assert ("'jax' is not installed" in out) == (importlib.util.find_spec("jax") is None)


def _cpu_report():
    from geonb.runtime import DeviceReport

    return DeviceReport(backend="tensorflow", keras_version="3", backend_version="2", devices=["CPU"], gpus=[])


def test_gpu_kernel_without_gpu_warns_not_errors(monkeypatch):
    from geonb.runtime import require_gpu

    monkeypatch.setenv("GEONB_DEVICE", "gpu")
    with pytest.warns(UserWarning, match="sees no GPU"):
        assert require_gpu(report=_cpu_report()) is False
    with pytest.raises(DeviceError, match="GPU was required"):
        require_gpu(strict=True, report=_cpu_report())
    monkeypatch.setenv("GEONB_DEVICE", "cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert require_gpu(report=_cpu_report()) is False


def test_batch_size_and_precision_follow_the_device():
    from geonb.runtime import DeviceReport, get_profile, pick_batch_size, use_mixed_precision

    gpu = DeviceReport(backend="torch", keras_version="3", backend_version="2", devices=["GPU:0"],
                       gpus=[{"name": "H200", "memory_gib": 139.0}])
    quick = get_profile("quick")
    assert pick_batch_size(_cpu_report(), quick) == quick.batch_size
    assert pick_batch_size(gpu, quick, patch_size=16) == 1024
    assert use_mixed_precision(_cpu_report()) == "float32"
    with pytest.warns(UserWarning, match="needs a GPU"):
        assert use_mixed_precision(_cpu_report(), enable=True) == "float32"


def test_a_backend_that_is_not_installed_is_a_clear_error():
    # A fresh process: Keras can only be imported once per process with one backend.
    code = ("import importlib.util, sys\n"
            "from geonb.errors import DeviceError\n"
            "from geonb.runtime import import_keras\n"
            "real = importlib.util.find_spec\n"
            "importlib.util.find_spec = lambda name, *a: None if name == 'torch' else real(name, *a)\n"
            "try:\n"
            "    import_keras()\n"
            "except DeviceError as exc:\n"
            "    print(exc)\n"
            "print('keras' in sys.modules)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "KERAS_BACKEND": "torch"})
    assert res.returncode == 0, res.stderr
    assert "'torch' package is not installed" in res.stdout and "'geonb' kernel" in res.stdout
    assert res.stdout.strip().endswith("False")  # stopped before Keras half-imported


def test_quiet_native_startup_drops_only_the_known_startup_notes(capfd):
    from geonb.runtime import quiet_native_startup

    with quiet_native_startup():
        os.write(2, b"I0000 00:00 port.cc:153] oneDNN custom operations are on. You may see...\n")
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
        os.write(2, b"E0000 a real native error\n")
    err = capfd.readouterr().err
    assert "a real native error" in err
    assert "oneDNN" not in err and "absl" not in err


@pytest.mark.slow
def test_importing_keras_through_geonb_writes_no_startup_notes():
    """A notebook (ipykernel captures file descriptor 2) shows no red oneDNN/absl boxes when Keras starts."""
    code = ("from geonb.runtime import import_keras\nk = import_keras()\nimport numpy as np\n"
            "m = k.Sequential([k.Input((8, 8, 3)), k.layers.Conv2D(2, 3)])\n"
            "m.predict(np.zeros((1, 8, 8, 3)), verbose=0)\nprint('ok')\n")
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS")}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "ok"
    assert "oneDNN" not in run.stderr and "absl" not in run.stderr, run.stderr[-2000:]


def test_installing_kernels_behind_another_of_the_same_name_warns(tmp_path, monkeypatch):
    """A kernel of the same name earlier on Jupyter's search path (another checkout's interpreter) would silently
    run instead of the one just installed: say so."""
    import warnings

    from geonb.runtime import install_kernels

    first, second = tmp_path / "first", tmp_path / "second"
    monkeypatch.setenv("JUPYTER_PATH", f"{first / 'share' / 'jupyter'}:{second / 'share' / 'jupyter'}")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # first on the path: nothing hides it
        install_kernels(prefix=str(first), python="/elsewhere/.venv/bin/python")
    with pytest.warns(UserWarning) as caught:
        install_kernels(prefix=str(second))
    messages = sorted(str(w.message) for w in caught)
    assert len(messages) == 2 and all("first" in m and "hides the one just installed" in m for m in messages)
    assert "`jupyter kernelspec remove geonb`" in messages[0]
    assert "`jupyter kernelspec remove geonb-gpu`" in messages[1]
