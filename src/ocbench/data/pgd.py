"""The L∞ projected-gradient attack (PGD, Madry et al. 2018) on a classifier, and the check of its budget.

The adversarial setting (``data/adversarial.py``) attacks every test image of a dataset
with it. torch is imported inside the functions: the config checks import this module
cheaply.
"""
from __future__ import annotations

from ..errors import OcbenchError


def check_budget(epsilon, step_size, steps, where: str = "attack") -> None:
    """Raise one line unless epsilon is in (0, 1], step_size > 0 and steps an integer ≥ 1."""
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not 0 < epsilon <= 1:
        raise OcbenchError(f"{where}.epsilon: {epsilon!r} is not allowed; allowed: a number in (0, 1], the L∞ budget "
                           "in pixels scaled to [0, 1] (8/255 ≈ 0.0314)")
    if isinstance(step_size, bool) or not isinstance(step_size, (int, float)) or not step_size > 0:
        raise OcbenchError(f"{where}.step_size: {step_size!r} is not allowed; allowed: a number > 0")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise OcbenchError(f"{where}.steps: {steps!r} is not allowed; allowed: an integer >= 1")


def pgd_attack(network, x, y, epsilon: float, step_size: float, steps: int, *, seed: int = 0,
               random_start: bool = True, batch_size: int = 512):
    """L∞ projected gradient ascent on the classifier's margin loss of the true classes ``y``.

    ``x``: float images in [0, 1]. From ``x`` plus uniform noise in [−ε, ε] (drawn from
    ``seed_stream(seed, ATTACK_START_STREAM)``: deterministic, and not the stream that drew
    the classifier's weights from the same seed), ``steps`` times: a
    step of ``step_size`` along the sign of the gradient, then the projection onto the
    ε-ball around ``x`` and onto [0, 1]. Returns the attacked images (a new tensor).

    The loss is the margin, the largest other logit minus the true class's (Carlini and
    Wagner's loss, as PGD also uses it): cross-entropy's gradient vanishes in float32
    once the classifier is confident (its softmax rounds to 1), and the attack then
    stays where it started.
    """
    import torch

    from ..training import ATTACK_START_STREAM, seed_stream

    check_budget(epsilon, step_size, steps)
    generator = seed_stream(seed, ATTACK_START_STREAM)
    network.eval()
    attacked = []
    for start in range(0, len(x), batch_size):
        original, target = x[start:start + batch_size], y[start:start + batch_size]
        low, high = (original - epsilon).clamp(min=0), (original + epsilon).clamp(max=1)
        current = original.clone()
        if random_start:
            noise = (torch.rand(original.shape, generator=generator) * 2 - 1) * epsilon
            current = torch.min(torch.max(original + noise.to(original.device), low), high)
        for _ in range(int(steps)):
            current.requires_grad_(True)
            loss = margin_loss(network(current), target).sum()  # the sum: each image its own gradient
            gradient, = torch.autograd.grad(loss, current)  # the images' gradient only
            current = torch.min(torch.max(current.detach() + step_size * gradient.sign(), low), high)
        attacked.append(current.detach())
    return torch.cat(attacked)


def margin_loss(logits, target):
    """Per image: the largest logit of a class other than ``target`` minus the logit of ``target``
    (positive once the classifier's decision is wrong)."""
    true = logits.gather(1, target[:, None])[:, 0]
    others = logits.scatter(1, target[:, None], float("-inf"))
    return others.max(dim=1).values - true
