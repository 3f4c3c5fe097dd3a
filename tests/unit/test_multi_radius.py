"""Multi-radius Deep SVDD: clustering, per-cluster centres and radii, the score on hand-worked numbers."""
import numpy as np
import pytest
import torch
import torch.nn as nn

from ocbench.detectors import METHODS
from ocbench.detectors.multi_radius import (MultiRadiusDeepSVDD, finch_clusters, finch_partitions,
                                               merge_small_clusters)
from ocbench.detectors.objectives import (init_center, multi_radius_score, multi_radius_soft_boundary_loss,
                                          radius_from_distances, soft_boundary_loss,
                                          squared_distances_to_centers)
from ocbench.errors import OcbenchError
from ocbench.nets.mlp import MLP

BLOB_CENTRES = np.array([(0.0, 0.0), (6.0, 0.0), (0.0, 6.0)], dtype=np.float32)


@pytest.fixture(scope="module")
def three_blobs():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(c, 0.5, (60, 2)) for c in BLOB_CENTRES]).astype(np.float32)
    return x, np.repeat([3, 7, 9], 60)


def identity_net():
    """A 2 -> 2 linear map starting at the identity: the codes are the points themselves."""
    net = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        net.weight.copy_(torch.eye(2))
    return net


def same_partition(a, b) -> bool:
    """Two labelings describe the same partition (up to renaming the clusters)."""
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


# --- formulas -------------------------------------------------------------------------


def test_score_on_hand_worked_numbers():
    centers = torch.tensor([[0.0, 0.0], [4.0, 0.0]])
    radii = torch.tensor([1.0, 2.0])
    points = torch.tensor([[0.0, 2.0], [3.0, 0.0], [2.0, 0.0]])
    dists = squared_distances_to_centers(points, centers)
    assert dists.tolist() == [[4.0, 20.0], [9.0, 1.0], [4.0, 4.0]]
    # min over k of d_k - R_k^2: (0,2): min(4-1, 20-4) = 3; (3,0): min(9-1, 1-4) = -3; (2,0): min(3, 0) = 0
    assert multi_radius_score(dists, radii).tolist() == [3.0, -3.0, 0.0]


def test_loss_on_hand_worked_numbers():
    dist = torch.tensor([1.0, 4.0, 9.0])
    radius = torch.tensor([1.0, 1.0, 2.0])  # each sample's own cluster radius
    # R_i^2 = [1, 1, 4]; hinge / nu (0.5) = [0, 6, 10]; per sample [1, 7, 14], mean 22/3
    assert multi_radius_soft_boundary_loss(dist, radius, 0.5).item() == pytest.approx(22 / 3)
    # one cluster: the soft-boundary Deep SVDD loss
    for r in (0.0, 1.5, 2.0):
        assert multi_radius_soft_boundary_loss(dist, torch.full((3,), r), 0.5).item() == \
            pytest.approx(soft_boundary_loss(dist, r, 0.5).item())


def test_small_clusters_join_the_nearest_one():
    codes = np.array([[0.0], [0.1], [0.2], [10.0], [10.1], [10.2], [9.0], [0.5]])
    ids = np.array([0, 0, 0, 1, 1, 1, 2, 3])  # 2 lies near 1, 3 near 0
    merged = merge_small_clusters(codes, ids, min_size=2)
    assert merged.tolist() == [0, 0, 0, 1, 1, 1, 1, 0]
    assert merge_small_clusters(codes, ids, min_size=1).tolist() == ids.tolist()


# --- clustering -----------------------------------------------------------------------


@pytest.mark.parametrize("n_blobs", [2, 3, 4])
def test_finch_finds_the_blobs(n_blobs):
    centres = [(0.0, 0.0), (6.0, 0.0), (0.0, 6.0), (6.0, 6.0)][:n_blobs]
    for draw in range(4):  # FINCH's coarsest level alone has 2, 3 or 4 clusters on these draws
        rng = np.random.default_rng(draw)
        x = np.concatenate([rng.normal(c, 0.5, (60, 2)) for c in centres]).astype(np.float32)
        ids = finch_clusters(x)
        assert same_partition(ids, np.repeat(np.arange(n_blobs), 60))
        assert sorted(np.unique(ids)) == list(range(n_blobs))


def test_finch_candidates_include_every_count_up_to_max_clusters(three_blobs):
    x, _ = three_blobs
    partitions = finch_partitions(x, max_clusters=6)
    assert sorted(partitions) == [2, 3, 4, 5, 6]
    assert all(len(np.unique(ids)) == k for k, ids in partitions.items())


def test_finch_on_a_subsample_assigns_the_rest_to_the_nearest_cluster(three_blobs):
    x, groups = three_blobs
    ids = finch_clusters(x, max_samples=90, seed=1)
    assert len(np.unique(ids)) == 3 and same_partition(ids, groups)


def test_finch_merges_to_the_requested_number(three_blobs):
    x, _ = three_blobs
    assert len(np.unique(finch_clusters(x, n_clusters=2))) == 2


# --- the detector ---------------------------------------------------------------------


def fit(x, **kw):
    params = dict(net=identity_net(), epochs=6, batch_size=60, lr=1e-3, warm_up_epochs=2, seed=0)
    params.update(kw)
    groups = params.pop("groups", None)
    return MultiRadiusDeepSVDD(**params).fit(x, groups=groups)


def test_one_centre_and_radius_per_blob(three_blobs):
    x, groups = three_blobs
    detector = fit(x)
    assert detector.n_clusters_ == 3
    assert detector.cluster_sizes_.tolist() == [60, 60, 60]
    assert same_partition(detector.train_clusters_, groups)
    # each centre is its cluster's mean code (the identity net before training), +-0.1 rule included
    for k in range(3):
        expected = init_center(torch.from_numpy(x[detector.train_clusters_ == k]))
        assert torch.allclose(detector.centers_[k], expected)
    assert detector.centers_.shape == (3, 2) and detector.radii_.shape == (3,)
    assert torch.all(detector.radii_ > 0)
    assert detector.threshold_ == 0.0


def test_a_point_far_from_every_blob_scores_highest(three_blobs):
    x, _ = three_blobs
    detector = fit(x)
    probes = np.concatenate([BLOB_CENTRES, [[20.0, 20.0]]]).astype(np.float32)
    scores = detector.decision_function(probes)
    assert scores.argmax() == 3
    assert np.all(scores[:3] < 0) and scores[3] > 0  # blob centres inside a sphere, the far point outside
    assert detector.predict(probes).tolist() == [0, 0, 0, 1]


def test_radii_are_the_per_cluster_quantiles_after_warm_up(three_blobs):
    x, _ = three_blobs
    # one full batch and a learning rate too small to move the weights
    detector = fit(x, batch_size=len(x), lr=1e-12, epochs=2, warm_up_epochs=0, nu=0.2)
    with torch.no_grad():
        codes = detector.network_(torch.from_numpy(x))
    ids = torch.from_numpy(detector.train_clusters_)
    for k in range(3):
        dist = ((codes[ids == k] - detector.centers_[k]) ** 2).sum(dim=1)
        assert detector.radii_[k].item() == pytest.approx(radius_from_distances(dist, 0.2), rel=1e-4)
    # a share nu of each cluster lies outside its own sphere
    assert np.mean(detector.decision_function(x) > 0) == pytest.approx(0.2, abs=0.02)


def test_radii_stay_zero_during_warm_up(three_blobs):
    x, _ = three_blobs
    assert torch.all(fit(x, epochs=2, warm_up_epochs=5).radii_ == 0)


def test_detector_scores_with_its_centres_and_radii(three_blobs):
    x, _ = three_blobs
    detector = fit(x, lr=1e-12, epochs=1)  # the net stays the identity
    detector.centers_ = torch.tensor([[0.0, 0.0], [4.0, 0.0]])
    detector.radii_ = torch.tensor([1.0, 2.0], dtype=torch.float64)
    points = np.array([[0.0, 2.0], [3.0, 0.0], [2.0, 0.0]], dtype=np.float32)
    assert detector.decision_function(points) == pytest.approx([3.0, -3.0, 0.0], abs=1e-5)


def test_one_cluster_is_soft_boundary_deep_svdd(three_blobs):
    x, _ = three_blobs
    detector = fit(x, n_clusters=1)
    assert detector.n_clusters_ == 1
    assert torch.allclose(detector.centers_[0], init_center(torch.from_numpy(x)))


def test_labels_option_uses_the_given_groups(three_blobs):
    x, groups = three_blobs
    # two groups that FINCH would never find: blob 0 alone, blobs 1 and 2 together
    two = np.where(groups == 3, 5, 8)
    detector = fit(x, clusters="labels", groups=two)
    assert detector.n_clusters_ == 2
    assert detector.cluster_sizes_.tolist() == [60, 120]
    assert same_partition(detector.train_clusters_, two)


def test_labels_option_needs_groups(three_blobs):
    x, groups = three_blobs
    with pytest.raises(OcbenchError, match="groups"):
        fit(x, clusters="labels")
    with pytest.raises(OcbenchError, match="groups has 3 entries"):
        fit(x, clusters="labels", groups=groups[:3])


def test_bad_parameters_are_refused(three_blobs):
    x, _ = three_blobs
    with pytest.raises(OcbenchError, match="clusters"):
        fit(x, clusters="kmeans")
    with pytest.raises(OcbenchError, match="nu"):
        fit(x, nu=1.0)
    with pytest.raises(OcbenchError, match="n_clusters"):
        fit(x, n_clusters=0)
    with pytest.raises(OcbenchError, match="max_clusters"):
        fit(x, max_clusters=0)
    with pytest.raises(OcbenchError, match="finch_metric"):
        fit(x, finch_metric="hamming")
    with pytest.raises(OcbenchError, match="warm_up_epochs"):
        fit(x, warm_up_epochs=-1)


def test_same_seed_same_scores(three_blobs):
    x, _ = three_blobs
    net = MLP(2, (16,), 4)
    first = fit(x, net=net, seed=2).decision_function(x)
    again = fit(x, net=net, seed=2).decision_function(x)
    np.testing.assert_array_equal(first, again)


def test_registry_entry():
    spec = METHODS["multi_radius_deep_svdd"]
    assert spec.detector is MultiRadiusDeepSVDD and spec.deep and spec.pretrained and not spec.needs_labels
    detector = spec.factory({"clusters": "labels"}, net="mnist_lenet", device="cpu", seed=1, autoencoder=None)
    assert detector.clusters == "labels" and not detector.uses_labels
