"""The Python side of tests/export.rs's module-name test.

  module_names.py                  every attribute name torch.nn.Module and nn.ModuleDict have
                                   (the names netloom's model.py must be able to hold), one a line
  module_names.py DIR W X Y        DIR/model.py builds, goes to eval mode, loads W strictly and
                                   computes netloom's Y.npy from X.npy
"""
import importlib.util
import sys

import numpy as np
import torch


def names():
    m, d = torch.nn.Module(), torch.nn.ModuleDict()
    found = set(dir(m)) | set(dir(d)) | set(vars(m))
    # Only names a design may give a block: letters, digits, _, not starting with a digit.
    ok = sorted(n for n in found if not n.startswith("__") and n.replace("_", "a").isalnum())
    print("\n".join(ok))


def check(folder, weights, x, y):
    spec = importlib.util.spec_from_file_location("model", f"{folder}/model.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    net = mod.Net()
    net.eval()
    net.train()
    net = net.eval()
    state = mod.load_safetensors(weights)
    result = net.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys, result
    assert sorted(net.state_dict()) == sorted(state), "state-dict keys differ"
    with torch.no_grad():
        got = net(torch.from_numpy(np.load(x))).numpy()
    want = np.load(y)
    assert np.abs(got - want).max() <= 1e-5 * max(1.0, float(np.abs(want).max())), (got, want)
    print(f"model.py holds every name ({len(state)} tensors)")


if __name__ == "__main__":
    if len(sys.argv) == 1:
        names()
    else:
        check(*sys.argv[1:5])
