"""torch.optim reference for netloom's optimizers: two steps from the given weights and
gradients, printed as JSON {name: [values]}.

Usage: python3 optim_reference.py CONFIG.json
CONFIG: {"optimizer", "lr", "momentum", "weight_decay", "weights", "grads": [step1, step2]}
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_reference import read_safetensors  # noqa: E402


def main():
    cfg = json.load(open(sys.argv[1]))
    weights = read_safetensors(cfg["weights"])
    names = sorted(weights)
    params = [torch.nn.Parameter(weights[n].to(torch.float32)) for n in names]
    lr, mom, wd = cfg["lr"], cfg["momentum"], cfg["weight_decay"]
    opt = {
        "sgd": lambda: torch.optim.SGD(params, lr=lr, momentum=mom, weight_decay=wd),
        "nesterov": lambda: torch.optim.SGD(params, lr=lr, momentum=mom, weight_decay=wd, nesterov=True),
        "adagrad": lambda: torch.optim.Adagrad(params, lr=lr, weight_decay=wd),
        "rmsprop": lambda: torch.optim.RMSprop(params, lr=lr, momentum=mom, weight_decay=wd),
        "adam": lambda: torch.optim.Adam(params, lr=lr, weight_decay=wd),
        "adamw": lambda: torch.optim.AdamW(params, lr=lr, weight_decay=wd),
    }[cfg["optimizer"]]()
    for path in cfg["grads"]:
        grads = read_safetensors(path)
        for n, p in zip(names, params):
            p.grad = grads[n].to(torch.float32).clone()
        opt.step()
    print(json.dumps({n: p.detach().flatten().tolist() for n, p in zip(names, params)}))


if __name__ == "__main__":
    main()
