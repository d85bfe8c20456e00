"""series-rocket on real data (UCR GunPoint, shipped by aeon) and its invariances."""

import numpy as np
import pytest
from aeon.datasets import load_classification
from modahub_series_rocket.encoder import SeriesRocketEncoder
from pydantic import ValidationError

from modahub.documents import Document
from modahub.executors import ExecutorError
from modahub.payloads import TimeSeriesPayload


def series(values, **fields):
    return Document(modality="timeseries", payload={"values": np.asarray(values, dtype=np.float64)}, **fields)


@pytest.fixture(scope="module")
def encoder():
    return SeriesRocketEncoder()


def test_gunpoint_nearest_neighbour_beats_euclidean(encoder):
    x_train, y_train = load_classification("GunPoint", split="train")  # shipped inside aeon: nothing downloads
    x_test, y_test = load_classification("GunPoint", split="test")
    e_train = encoder.encode([series(s.T) for s in x_train])
    e_test = encoder.encode([series(s.T) for s in x_test])
    accuracy = np.mean(y_train[np.argmax(e_test @ e_train.T, axis=1)] == y_test)
    flat_train, flat_test = x_train[:, 0], x_test[:, 0]
    euclid = np.mean(y_train[np.argmin(((flat_test[:, None] - flat_train[None]) ** 2).sum(-1), axis=1)] == y_test)
    assert euclid == pytest.approx(1 - 0.087, abs=1e-3)  # the archive's published 1-NN ED error, reproduced
    assert accuracy >= 0.95 > euclid


def test_level_scale_and_length_do_not_matter(encoder):
    t = np.linspace(0, 4 * np.pi, 200)
    wave = np.sin(t) + 0.3 * np.sin(3 * t)
    resampled = np.interp(np.linspace(0, 1, 90), np.linspace(0, 1, 200), wave)
    vectors = encoder.encode([series(wave[:, None]), series(7 + 50 * wave[:, None]), series(resampled[:, None])])
    assert vectors[0] @ vectors[1] > 0.999
    assert vectors[0] @ vectors[2] > 0.95


def test_shapes_are_told_apart(encoder):
    t = np.linspace(0, 1, 128)
    rng = np.random.default_rng(0)
    kinds = {"sine": lambda: np.sin(2 * np.pi * 4 * t + rng.uniform(0, 1)), "step": lambda: (t > rng.uniform(0.3, 0.7)) * 1.0,
             "ramp": lambda: t * rng.uniform(1, 2)}
    gallery = {k: make() for k, make in kinds.items()}
    names = list(gallery)
    g = encoder.encode([series(v[:, None] + rng.normal(0, 0.05, (128, 1))) for v in gallery.values()])
    for name, make in kinds.items():
        q = encoder.encode([series(make()[:, None] + rng.normal(0, 0.05, (128, 1)))])[0]
        assert names[int(np.argmax(g @ q))] == name


def test_channels_are_pooled_and_bad_values_refused(encoder):
    rng = np.random.default_rng(1)
    two = rng.standard_normal((64, 2)).cumsum(axis=0)
    assert encoder.encode([series(two)]).shape == (1, 256)
    broken = two.copy()
    broken[5, 1] = np.nan
    with pytest.raises(ValidationError, match="NaN"):  # core refuses it when the document is built
        series(broken)
    unchecked = Document.model_construct(modality="timeseries", payload=TimeSeriesPayload.model_construct(values=broken))
    with pytest.raises(ExecutorError, match="document 0 .*NaN"):  # and the encoder still refuses one built without checks
        encoder.encode([unchecked])
