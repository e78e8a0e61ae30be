"""sections.embedding: stratified subsets, t-SNE, and class-separation measures checked against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs, make_classification
from sklearn.metrics import silhouette_score
from sklearn.model_selection import LeaveOneOut, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from reportgen.sections.embedding import (
    effective_perplexity,
    knn_loo_accuracy,
    separation,
    stratified_subset,
    tsne_embed,
)


def test_stratified_subset_keeps_class_proportions():
    y = np.repeat(np.arange(5), [100, 50, 30, 15, 5])
    idx = stratified_subset(y, 40, seed=0)
    assert len(idx) == 40 and len(set(idx.tolist())) == 40
    assert np.all(np.diff(idx) > 0)  # sorted
    counts = np.bincount(y[idx], minlength=5)
    expected = 40 * np.bincount(y) / len(y)
    assert np.all(np.abs(counts - expected) <= 1), counts
    assert counts.min() >= 1  # the rare class is still shown


def test_stratified_subset_is_seeded_and_covers_everything_when_large():
    y = np.repeat(np.arange(3), 20)
    np.testing.assert_array_equal(stratified_subset(y, 10, 1), stratified_subset(y, 10, 1))
    assert not np.array_equal(stratified_subset(y, 10, 1), stratified_subset(y, 10, 2))
    np.testing.assert_array_equal(stratified_subset(y, 60, 0), np.arange(60))
    np.testing.assert_array_equal(stratified_subset(y, 1000, 0), np.arange(60))


def test_stratified_subset_with_more_classes_than_points():
    y = np.arange(10).repeat(3)
    idx = stratified_subset(y, 4, 0)
    assert len(idx) == 4 and len(set(y[idx].tolist())) == 4


def test_knn_loo_accuracy_equals_sklearn_leave_one_out():
    x, y = make_classification(n_samples=120, n_features=6, n_informative=4, n_classes=3, random_state=0)
    expected = cross_val_score(KNeighborsClassifier(5), x, y, cv=LeaveOneOut()).mean()
    assert knn_loo_accuracy(x, y, 5) == pytest.approx(expected)


def test_separation_silhouette_equals_sklearn():
    x, y = make_blobs(n_samples=90, centers=3, n_features=5, random_state=1)
    result = separation(x, y)
    assert result["silhouette"] == pytest.approx(silhouette_score(x, y))
    assert result["knn_accuracy"] == 1.0
    assert separation(x, np.zeros(len(x), int))["silhouette"] is None  # one class: undefined


def test_tsne_keeps_well_separated_classes_apart():
    x, y = make_blobs(n_samples=150, centers=3, n_features=10, cluster_std=0.5, random_state=0)
    coords = tsne_embed(x, seed=0, perplexity=30)
    assert coords.shape == (150, 2)
    np.testing.assert_allclose(coords, tsne_embed(x, seed=0, perplexity=30))  # deterministic
    assert separation(coords, y)["knn_accuracy"] == 1.0
    assert separation(coords, y)["silhouette"] > 0.5


def test_tsne_reduces_wide_features_and_caps_perplexity():
    rng = np.random.default_rng(0)
    wide = rng.standard_normal((60, 80)).astype(np.float32)  # PCA to 50 dims first
    assert tsne_embed(wide, seed=0, perplexity=30).shape == (60, 2)
    assert effective_perplexity(60, 30) == pytest.approx(59 / 3)
    assert effective_perplexity(1000, 30) == 30
    assert tsne_embed(wide[:12], seed=0, perplexity=30).shape == (12, 2)  # would be rejected uncapped
