"""Tests of geonb.training (train, class weights, checkpoints, resume)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from geonb.errors import (
    BandMismatchError,
    ClassCodeError,
    InvalidParameterError,
    ModelError,
    OutputExistsError,
)
from geonb.labels import LAKE_CLASSES, LAND, UNCLASSIFIED, WATER, one_hot
from geonb.models import build_lakes_fcn, build_unet
from geonb.training import compute_class_weights, pixel_weights, train


def _data(n=12, size=8, seed=0):
    """Patches where water is dark in NIR; code 0 (no label) in one corner."""
    rng = np.random.default_rng(seed)
    labels = np.where(rng.random((n, size, size)) < 0.3, WATER, LAND).astype(np.uint8)
    labels[:, 0, 0] = 0
    x = rng.normal(0.05, 0.01, (n, size, size, 7)).astype(np.float32)
    x[..., 1] += np.where(labels == LAND, 0.3, 0.0)
    return x, labels


@pytest.fixture
def data():
    return _data()


def test_train_returns_history_with_validation(data):
    x, labels = data
    model = build_lakes_fcn(8)
    result = train(model, (x, labels), (x[:4], labels[:4]), epochs=2, batch_size=4, verbose=0)
    assert result.epochs_run == 2
    assert set(result.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 2 for v in result.history.values())
    assert result.patches_per_second > 0
    assert result.class_weights[WATER] > result.class_weights[LAND]  # balanced: rare water weighs more
    assert list(result.to_frame().index) == [1, 2]
    assert result.model is model


def test_train_accepts_a_patchset(tmp_path):
    from geonb.patches import extract_patches
    from geonb.scene import Scene

    x, labels = _data(n=2, size=24)
    scenes = [Scene(x[i], labels=labels[i], name=f"lake{i}", properties={"id": f"lake{i}"}) for i in range(2)]
    patches = extract_patches(scenes, 8)
    result = train(build_lakes_fcn(8), patches, epochs=1, batch_size=8, verbose=0)
    assert result.n_train == len(patches) == 18


def test_same_seed_same_weights_on_cpu(data):
    x, labels = data
    runs = []
    for _ in range(2):
        model = build_lakes_fcn(8, seed=1)
        train(model, (x, labels), epochs=1, batch_size=4, seed=3, verbose=0)
        runs.append(model.get_weights())
    for a, b in zip(*runs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_class_weights():
    t = one_hot(np.array([[[WATER, LAND], [LAND, LAND]]], np.uint8))
    w = compute_class_weights(t, "balanced", (WATER, LAND, UNCLASSIFIED))
    np.testing.assert_allclose(w, [2.0, 2 / 3, 1.0], rtol=1e-6)
    np.testing.assert_allclose(compute_class_weights(t, None, (1, 2, 3)), 1.0)
    np.testing.assert_allclose(compute_class_weights(t, {WATER: 5}, (1, 2, 3)), [5, 1, 1])
    with pytest.raises(ClassCodeError, match="class code 7.*class codes such as WATER"):
        compute_class_weights(t, {7: 1.0}, (1, 2, 3))
    with pytest.raises(InvalidParameterError, match="'balanced'"):
        compute_class_weights(t, "auto", (1, 2, 3))
    sw = pixel_weights(np.concatenate([t, np.zeros_like(t)], axis=1), w)
    assert sw.shape == (1, 4, 2) and sw[0, 2:].max() == 0  # unlabelled pixels weigh 0


def test_band_mismatch_is_a_clear_error(data):
    x, labels = data
    with pytest.raises(BandMismatchError, match="3 bands but the model takes 7"):
        train(build_lakes_fcn(8), (x[..., :3], labels), verbose=0)


def test_labels_with_classes_the_model_lacks(data):
    x, labels = data
    bad = labels.copy()
    bad[0, 1, 1] = 5
    with pytest.raises(ClassCodeError, match="classes the model does not have"):
        train(build_lakes_fcn(8), (x, bad), verbose=0)
    with pytest.raises(ClassCodeError, match=r"4 classes but the model outputs 3 \(class codes \(1, 2, 3\)\)"
                                             r".*one_hot\(labels, \(1, 2, 3\)\)"):
        train(build_lakes_fcn(8), (x, np.zeros(x.shape[:3] + (4,), np.float32)), classes=(1, 2, 3), verbose=0)


def test_one_hot_tuple_needs_its_class_codes(data):
    x, labels = data
    model = build_lakes_fcn(8, classes=(WATER, LAND))
    swapped = one_hot(labels, (LAND, WATER))  # channel 0 is land: taking the model's (WATER, LAND) would invert
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ClassCodeError, match=r"one-hot targets.*pass classes=\(\.\.\.\).*\(1, 2\)"):
        train(model, (x, swapped), epochs=1, verbose=0)
    with pytest.raises(ClassCodeError, match=r"`classes`=\(2, 1\) disagrees with the model's own class codes"):
        train(model, (x, swapped), epochs=1, verbose=0, classes=(LAND, WATER))
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))  # not trained
    # a one-hot validation tuple needs them too
    with pytest.raises(ClassCodeError, match="`val_patches` is a tuple"):
        train(model, (x, labels), (x, one_hot(labels, (WATER, LAND))), epochs=1, verbose=0)
    # declared: trains, and the codes are the model's
    result = train(model, (x, one_hot(labels, (WATER, LAND))), (x[:4], labels[:4]), epochs=1, batch_size=4,
                   verbose=0, classes=(WATER, LAND))
    assert result.epochs_run == 1 and model.geonb_class_codes == (WATER, LAND)


def test_patch_size_the_model_cannot_take():
    x, labels = _data(size=6)
    with pytest.raises(ModelError, match="patch_size=6.*>= 7"):
        train(build_lakes_fcn(8), (x, labels), verbose=0)
    x, labels = _data(size=10)
    with pytest.raises(ModelError, match="multiples of 4"):
        train(build_unet(8), (x, labels), verbose=0)


def test_bad_arguments(data):
    x, labels = data
    model = build_lakes_fcn(8)
    with pytest.raises(InvalidParameterError, match="epochs"):
        train(model, (x, labels), epochs=0)
    with pytest.raises(InvalidParameterError, match="0 patches"):
        train(model, (x[:0], labels[:0]))
    with pytest.raises(InvalidParameterError, match="checkpoint_dir"):
        train(model, (x, labels), resume=True)
    with pytest.raises(ModelError, match="Keras model"):
        train(object(), (x, labels))


def test_early_stopping_stops_when_validation_stalls(data):
    import keras

    x, labels = data
    inp = keras.Input((None, None, 7))
    out = keras.layers.Activation("softmax")(keras.layers.Conv2D(3, 1)(inp))
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="categorical_crossentropy")
    result = train(model, (x, labels), (x, labels), epochs=6, early_stopping=1, verbose=0, classes=LAKE_CLASSES)
    assert result.stopped_early and result.epochs_run == 2


class _Interrupt:
    """A Keras callback that raises KeyboardInterrupt at the end of the first epoch (like Ctrl-C)."""

    def __new__(cls):
        import keras

        class Stop(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch == 0:
                    raise KeyboardInterrupt

        return Stop()


def test_interrupt_then_resume_finishes_the_remaining_epochs(tmp_path, data):
    x, labels = data
    ck = tmp_path / "ckpt"
    with pytest.warns(UserWarning, match="resume=True"), pytest.raises(KeyboardInterrupt):
        train(build_lakes_fcn(8), (x, labels), (x, labels), epochs=3, batch_size=4, checkpoint_dir=ck,
              callbacks=[_Interrupt()], verbose=0)
    assert sorted(p.name for p in ck.iterdir()) == ["best.keras", "last.keras", "state.json"]
    assert json.loads((ck / "state.json").read_text())["epochs_done"] == 1

    fresh = build_lakes_fcn(8, seed=99)  # different initial weights: resume must replace them
    result = train(fresh, (x, labels), (x, labels), epochs=3, batch_size=4, checkpoint_dir=ck, resume=True,
                   verbose=0)
    assert result.epochs_run == 3
    assert len(result.epoch_seconds) == 2
    assert all(len(v) == 3 for v in result.history.values())
    assert int(fresh.optimizer.iterations) == 3 * 3  # 12 patches / 4 per batch, 3 epochs in total
    assert json.loads((ck / "state.json").read_text())["epochs_done"] == 3

    with pytest.warns(UserWarning, match="nothing to train"):
        again = train(fresh, (x, labels), epochs=3, checkpoint_dir=ck, resume=True, verbose=0)
    assert again.epochs_run == 3


def test_checkpoints_are_not_overwritten_silently(tmp_path, data):
    x, labels = data
    ck = tmp_path / "ckpt"
    train(build_lakes_fcn(8), (x, labels), epochs=1, checkpoint_dir=ck, verbose=0)
    with pytest.raises(OutputExistsError, match="resume=True"):
        train(build_lakes_fcn(8), (x, labels), epochs=1, checkpoint_dir=ck, verbose=0)
    train(build_lakes_fcn(8), (x, labels), epochs=1, checkpoint_dir=ck, overwrite=True, verbose=0)
    assert not [p for p in ck.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_resume_from_another_architecture_is_refused(tmp_path, data):
    x, labels = data
    ck = tmp_path / "ckpt"
    train(build_lakes_fcn(8), (x, labels), epochs=1, checkpoint_dir=ck, verbose=0)
    with pytest.raises(ModelError, match="another architecture.*'unet'"):
        train(build_unet(8), (x, labels), epochs=2, checkpoint_dir=ck, resume=True, verbose=0)


def test_class_codes_follow_the_patches_and_reach_prediction():
    from geonb.patches import PatchSet
    from geonb.prediction import predict_scene

    x, labels = _data(n=6)
    labels[labels == 0] = LAND
    n = len(x)
    ps = PatchSet(images=x, labels=labels, nodata=np.zeros(labels.shape, bool), lake_ids=np.array(["a"] * n),
                  windows=np.zeros((n, 4), int), band_names=tuple(f"b{i}" for i in range(7)), size=8, stride=8,
                  classes=(WATER, LAND))  # a 2-class water/land model
    model = build_lakes_fcn(8, classes=2)
    train(model, ps, epochs=1, verbose=0)
    assert model.geonb_class_codes == (WATER, LAND)
    pred = predict_scene(model, x[0], progress=False)
    assert set(np.unique(pred.classes)) <= {WATER, LAND}  # not codes 0/1 (no data / water)
    with pytest.raises(ClassCodeError, match=r"disagrees with the model's own class codes \(1, 2\)"):
        train(build_lakes_fcn(8, classes=2), ps, classes=(LAND, WATER), epochs=1, verbose=0)


def test_d4_is_the_eight_symmetries_of_the_square():
    from geonb.training import d4

    a = np.arange(9).reshape(1, 3, 3)
    images = {d4(a, k).tobytes() for k in range(8)}
    assert len(images) == 8  # all different
    assert (d4(a, 0) == a).all()
    for k in range(8):  # each has an inverse among them, and sums and shapes are kept
        assert d4(a, k).shape == a.shape and d4(a, k).sum() == a.sum()
        assert any((d4(d4(a, k), j) == a).all() for j in range(8))


def test_d4_augmentation_trains_and_is_refused_when_unknown(data):
    x, labels = data
    result = train(build_lakes_fcn(8), (x, labels), epochs=2, augment="d4", verbose=0)
    assert result.epochs_run == 2 and np.isfinite(result.history["loss"]).all()
    with pytest.raises(InvalidParameterError, match="augment"):
        train(build_lakes_fcn(8), (x, labels), epochs=1, augment="flip", verbose=0)
    with pytest.raises(InvalidParameterError, match="stop_on"):
        train(build_lakes_fcn(8), (x, labels), epochs=1, stop_on="f1", verbose=0)


class _RecordRate:
    """Records the optimizer's learning rate at every training step (set by the schedule before it)."""

    def __new__(cls):
        from geonb.runtime import import_keras

        keras = import_keras()

        class Record(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.rates = []

            def on_train_batch_begin(self, batch, logs=None):
                self.rates.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))

        return Record()


def test_cosine_schedule_falls_from_the_compiled_rate_to_zero(data):
    from geonb.models import compile_model
    from geonb.training import cosine_rate

    x, labels = data
    rec = _RecordRate()
    model = compile_model(build_lakes_fcn(8, compile=False), learning_rate=4e-3)
    train(model, (x, labels), epochs=2, batch_size=4, verbose=0, learning_rate_schedule="cosine", callbacks=[rec])
    expected = [cosine_rate(step, 6, 4e-3) for step in range(6)]  # 12 patches / 4 = 3 steps, 2 epochs
    np.testing.assert_allclose(rec.rates, expected, rtol=1e-6)
    assert rec.rates[0] == pytest.approx(4e-3) and rec.rates[-1] < rec.rates[2] < rec.rates[0]
    # the compiled rate is back after training: a second run (fine-tuning) starts at the peak again
    assert float(model.optimizer.learning_rate) == pytest.approx(4e-3)
    rec2 = _RecordRate()
    train(model, (x, labels), epochs=1, batch_size=4, verbose=0, learning_rate_schedule="cosine", callbacks=[rec2])
    np.testing.assert_allclose(rec2.rates, [cosine_rate(s, 3, 4e-3) for s in range(3)], rtol=1e-6)
    # without a schedule the compiled rate stays
    rec3 = _RecordRate()
    train(compile_model(build_lakes_fcn(8, compile=False), learning_rate=4e-3), (x, labels), epochs=1,
          batch_size=4, verbose=0, callbacks=[rec3])
    assert rec3.rates == [pytest.approx(4e-3)] * 3
    with pytest.raises(InvalidParameterError, match="learning_rate_schedule"):
        train(build_lakes_fcn(8), (x, labels), epochs=1, verbose=0, learning_rate_schedule="step")
    import keras

    scheduled = build_lakes_fcn(8, compile=False)
    scheduled.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(1e-3, 10, 0.5)),
                      loss="categorical_crossentropy")
    with pytest.raises(InvalidParameterError, match="fixed learning rate.*LearningRateSchedule"):
        train(scheduled, (x, labels), epochs=1, verbose=0, learning_rate_schedule="cosine")


def test_cosine_schedule_continues_when_a_run_is_resumed(tmp_path, data):
    from geonb.models import compile_model
    from geonb.training import cosine_rate

    x, labels = data
    ck = tmp_path / "ckpt"
    first = _RecordRate()
    with pytest.warns(UserWarning, match="resume=True"), pytest.raises(KeyboardInterrupt):
        train(compile_model(build_lakes_fcn(8, compile=False), learning_rate=3e-3), (x, labels), epochs=3,
              batch_size=4, checkpoint_dir=ck, callbacks=[first, _Interrupt()], verbose=0,
              learning_rate_schedule="cosine")
    # the resumed model is compiled with another rate: the peak comes from the checkpoint
    rest = _RecordRate()
    train(compile_model(build_lakes_fcn(8, compile=False), learning_rate=1.0), (x, labels), epochs=3, batch_size=4,
          checkpoint_dir=ck, resume=True, callbacks=[rest], verbose=0, learning_rate_schedule="cosine")
    np.testing.assert_allclose(first.rates + rest.rates, [cosine_rate(s, 9, 3e-3) for s in range(9)], rtol=1e-6)
    # ... step by step as one run would: 9 rates; and one history row per epoch, the rate recorded in each
    # (also for the epoch before the interruption, which only the checkpoint saw)
    with pytest.warns(UserWarning, match="cosine schedule is complete"):
        result = train(compile_model(build_lakes_fcn(8, compile=False), learning_rate=1.0), (x, labels), epochs=3,
                       batch_size=4, checkpoint_dir=ck, resume=True, verbose=0, learning_rate_schedule="cosine")
    frame = result.to_frame()
    assert len(frame) == 3 and frame["learning_rate"].is_monotonic_decreasing
    # the schedule and its length belong to the run: resuming with others is refused, not silently restarted
    with pytest.raises(InvalidParameterError, match="epochs=3"):
        train(build_lakes_fcn(8), (x, labels), epochs=5, batch_size=4, checkpoint_dir=ck, resume=True, verbose=0,
              learning_rate_schedule="cosine")
    with pytest.raises(InvalidParameterError, match="learning_rate_schedule='cosine'"):
        train(build_lakes_fcn(8), (x, labels), epochs=5, batch_size=4, checkpoint_dir=ck, resume=True, verbose=0)
