"""torch.optim on the Learn view's 2-D surfaces, written independently of netloom: reads the
cases netloom walked (cases.json), walks each with torch.optim from the same start, and writes
the positions (paths.json) for tests/lessons.rs to compare within 1e-6."""
import json
import math
import sys

import torch

MASK = (1 << 64) - 1


def splitmix_uniforms(seed, n):
    state = (seed ^ 0x9E3779B97F4A7C15) & MASK
    out = []
    for _ in range(n):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        z = z ^ (z >> 31)
        out.append((z >> 11) * (1.0 / (1 << 53)))
    return out


def noise(seed, t):
    u = splitmix_uniforms((seed * 1_000_003 + t) & MASK, 2)
    return [1.0 * (2.0 * v - 1.0) for v in u]


def loss(surface, p, noise_xy):
    x, y = p[0], p[1]
    if surface == "narrow valley":
        return x * x / 20.0 + 5.0 * y * y
    if surface == "Rosenbrock":
        return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2
    if surface == "saddle point":
        return x * x - y * y
    if surface == "Beale":
        return ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2
                + (2.625 - x + x * y ** 3) ** 2)
    if surface == "noisy bowl":
        return 0.5 * (x * x + y * y) + x * noise_xy[0] + y * noise_xy[1]
    raise ValueError(surface)


def optimizer(case, params):
    kind, lr = case["optimizer"], case["lr"]
    mom, wd = case["momentum"], case["weight_decay"]
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=mom, weight_decay=wd)
    if kind == "nesterov":
        return torch.optim.SGD(params, lr=lr, momentum=mom, weight_decay=wd, nesterov=True)
    if kind == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, weight_decay=wd, eps=1e-10)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=0.99, eps=1e-8, momentum=mom,
                                   weight_decay=wd)
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    if kind == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    raise ValueError(kind)


def walk(case):
    p = torch.tensor(case["start"], dtype=torch.float64, requires_grad=True)
    opt = optimizer(case, [p])
    sched = None
    if case["schedule"] == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=case["steps"], eta_min=0.0)
    path = [p.detach().tolist()]
    for t in range(case["steps"]):
        opt.zero_grad()
        loss(case["surface"], p, noise(case["seed"], t)).backward()
        opt.step()
        if sched is not None:
            sched.step()
        xy = p.detach().tolist()
        if not all(math.isfinite(v) for v in xy):
            break
        path.append(xy)
    return path


def main():
    d = sys.argv[1]
    with open(f"{d}/cases.json") as f:
        cases = json.load(f)
    with open(f"{d}/paths.json", "w") as f:
        json.dump([walk(c) for c in cases], f)


main()
