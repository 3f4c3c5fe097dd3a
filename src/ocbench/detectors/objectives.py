"""The losses, centres and radii of the hypersphere methods, as plain tensor functions.

Kept apart from the detectors so that each formula can be checked on numbers worked
by hand. ``dist`` is always the squared distance d = ||phi(x) - c||^2 per sample.
"""
import torch

CENTER_EPS = 0.1


def init_center(codes: torch.Tensor, eps: float = CENTER_EPS) -> torch.Tensor:
    """Mean of the codes, with every coordinate closer to 0 than eps pushed to +-eps by its sign.

    A coordinate at zero would let the network reach the centre with zero weights.
    Coordinates exactly 0 go to +eps (the reference's sign rule sends them to -eps
    and +eps in two passes, which ends at +eps).
    """
    c = codes.mean(dim=0)
    small_neg = (c.abs() < eps) & (c < 0)
    small_pos = (c.abs() < eps) & (c >= 0)
    c = c.clone()
    c[small_neg] = -eps
    c[small_pos] = eps
    return c


def squared_distance(codes: torch.Tensor, center: torch.Tensor) -> torch.Tensor:
    return ((codes - center) ** 2).sum(dim=1)


def one_class_loss(dist: torch.Tensor) -> torch.Tensor:
    return dist.mean()


def soft_boundary_loss(dist: torch.Tensor, radius: torch.Tensor | float, nu: float) -> torch.Tensor:
    """R^2 + (1/nu) * mean(max(0, d - R^2))."""
    r2 = torch.as_tensor(radius, dtype=dist.dtype, device=dist.device) ** 2
    return r2 + torch.clamp(dist - r2, min=0).mean() / nu


def radii_from_distances(dist: torch.Tensor, nu: float) -> torch.Tensor:
    """The (1 - nu) quantile of sqrt(d) along the last axis: each model's soft-boundary radius
    after a step (one value for a batch's d, K values for K stacked models' batches)."""
    return torch.quantile(dist.detach().double().sqrt(), 1 - nu, dim=-1)


def radius_from_distances(dist: torch.Tensor, nu: float) -> float:
    """The (1 - nu) quantile of sqrt(d): the soft-boundary radius after a step."""
    return float(radii_from_distances(dist.flatten(), nu))


def deep_sad_loss(dist: torch.Tensor, semi: torch.Tensor, eta: float = 1.0, eps: float = 1e-6) -> torch.Tensor:
    """Mean over samples of d if unlabeled, else eta * (d + eps) ** y (y = +1 or -1)."""
    labelled = eta * (dist + eps) ** semi.to(dist.dtype)
    return torch.where(semi == 0, dist, labelled).mean()


# --- Multi-radius Deep SVDD: one centre and one radius per cluster ---------------------


def squared_distances_to_centers(codes: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """N x K matrix of d_k = ||phi(x) - c_k||^2 for each sample and each of the K centres."""
    return ((codes[:, None, :] - centers[None, :, :]) ** 2).sum(dim=2)


def multi_radius_soft_boundary_loss(dist: torch.Tensor, radius: torch.Tensor, nu: float) -> torch.Tensor:
    """mean over samples of R_i^2 + (1/nu) * max(0, d_i - R_i^2), with R_i the radius of i's own cluster.

    ``dist`` and ``radius`` are per sample; with one cluster (every R_i = R) this is
    exactly ``soft_boundary_loss``. The radii are set by quantiles, not by gradient,
    so the R^2 term only makes the loss value comparable to the one-radius objective.
    """
    r2 = radius.to(dist.dtype) ** 2
    return (r2 + torch.clamp(dist - r2, min=0) / nu).mean()


def multi_radius_score(dists: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    """min over k of d_k - R_k^2: negative inside at least one sphere, positive outside all of them."""
    return (dists - radii.to(dists.dtype) ** 2).min(dim=1).values


# --- OC-NN (Chalapathy, Menon and Chawla 2018) -----------------------------------------


def ocnn_loss(y_hat: torch.Tensor, r: float, nu: float, w: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """1/2 ||w||^2 + 1/2 ||V||_F^2 + (1/nu) * mean(max(0, r - y_hat)) - r.

    The hinge is the paper's: only samples with y_hat below r pull the weights, so r
    marks a boundary. The Keras reference used the identity there, which leaves the
    weights' gradient independent of r (every sample pulls y_hat up alike).
    """
    r = torch.as_tensor(r, dtype=y_hat.dtype, device=y_hat.device)
    return 0.5 * (w ** 2).sum() + 0.5 * (V ** 2).sum() + torch.clamp(r - y_hat, min=0).mean() / nu - r


def ocnn_offset(y_hat: torch.Tensor, nu: float) -> float:
    """r = the nu quantile of the outputs: the paper's closed-form update of r for fixed weights."""
    return float(torch.quantile(y_hat.detach().double().flatten(), nu))


# --- OC-NN as its authors' code computed it (github.com/raghavchalapathy/oc-nn at f571305) ---

#: r of the authors' code: the module constant ``rvalue`` (src/models/OneClass_SVDD.py, line 56),
#: which their loss reads and nothing updates
AUTHORS_OCNN_RADIUS = 0.1


def ocnn_authors_loss(outputs: torch.Tensor, center: torch.Tensor, nu: float,
                      radius: float = AUTHORS_OCNN_RADIUS) -> torch.Tensor:
    """(1/nu) * mean over samples of r^2 + sum_j max(0, (y_j - c_j)^2 - r^2).

    The authors' ``custom_ocnn_hyperplane_loss`` (src/models/OneClass_SVDD.py, lines
    886-908): a hinge per output coordinate j around a fixed centre c, with r a constant
    and no penalty on the weights. It is a soft-boundary hypersphere loss with a fixed
    radius, not the paper's hyperplane objective (``ocnn_loss``): docs/method_notes.md.
    """
    r2 = radius ** 2
    per_sample = r2 + torch.clamp((outputs - center) ** 2 - r2, min=0).sum(dim=1)
    return per_sample.mean() / nu


# --- RCAE: the sparse-noise step -------------------------------------------------------


def soft_threshold(v: torch.Tensor, t: float) -> torch.Tensor:
    """sign(v) * max(|v| - t, 0), elementwise: the proximal step of t * ||N||_1.

    RCAE sets N = soft_threshold(X - AE(X), lam / 2), the exact minimiser over N of
    ||X - N - AE(X)||^2 + lam * ||N||_1 for a fixed autoencoder.
    """
    return torch.sign(v) * torch.clamp(v.abs() - t, min=0)


# --- SS-DGM (Kingma et al. 2014, M2): the terms of the two evidence lower bounds -------


def gaussian_kl_to_standard_normal(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag exp(log_var)) || N(0, I)) per sample: 0.5 * sum(exp(lv) + mu^2 - 1 - lv).

    The closed form; the reference uses a one-sample estimate log q(z) - log p(z) with
    the same expectation and more noise.
    """
    return 0.5 * (log_var.exp() + mu ** 2 - 1.0 - log_var).sum(dim=-1)


def bernoulli_log_likelihood(x_rec: torch.Tensor, x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """log p(x|y,z) per sample: sum of x log r + (1 - x) log(1 - r) over the features (eps as the reference)."""
    return (x * torch.log(x_rec + eps) + (1 - x) * torch.log(1 - x_rec + eps)).sum(dim=-1)


def labelled_elbo(log_likelihood: torch.Tensor, kl: torch.Tensor, n_classes: int) -> torch.Tensor:
    """-L(x, y) = log p(x|y,z) + log p(y) - KL(q(z|x,y) || p(z)), with p(y) uniform."""
    log_prior = -torch.log(torch.tensor(float(n_classes), dtype=kl.dtype, device=kl.device))
    return log_likelihood + log_prior - kl


def unlabelled_elbo(class_elbos: torch.Tensor, class_probs: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """-U(x) = sum_y q(y|x) * (-L(x, y)) + H(q(y|x)) per sample; both inputs are N x classes."""
    entropy = -(class_probs * torch.log(class_probs + eps)).sum(dim=-1)
    return (class_probs * class_elbos).sum(dim=-1) + entropy


def classification_loss(class_probs: torch.Tensor, onehot: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Mean cross-entropy -log q(y|x) of the labelled samples (the alpha term of M2)."""
    return -(onehot * torch.log(class_probs + eps)).sum(dim=-1).mean()
