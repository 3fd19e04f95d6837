"""The Python side of tests/export.rs: reads what `netloom export` wrote with PyTorch, onnx,
onnxruntime and torch.jit, independently of netloom.

  export_check.py weights DIR     random weights with non-trivial BatchNorm statistics for the
                                  exported DIR/model.py, as DIR/w.safetensors, and two input
                                  batches DIR/x1.npy (1 sample) and DIR/x7.npy (7 samples)
  export_check.py compare DIR...  each DIR's model.py (with w.safetensors), model.onnx (after
                                  onnx.checker) and model.pt against netloom's y1.npy / y7.npy
  export_check.py torchvision DIR torchvision's resnet18 state dict (random init, random BN
                                  statistics) loads strictly into DIR/model.py and computes
                                  torchvision's outputs
"""
import importlib.util
import sys

import numpy as np
import torch


def load_model(folder):
    spec = importlib.util.spec_from_file_location(f"model_{abs(hash(folder))}", f"{folder}/model.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def randomise_batchnorm(net, g):
    for m in net.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=g) * 0.2)
            m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
            m.num_batches_tracked.fill_(7)
            if m.affine:
                m.weight.copy_(torch.rand(c, generator=g) + 0.5)
                m.bias.copy_(torch.randn(c, generator=g) * 0.1)


def weights(folder):
    mod = load_model(folder)
    torch.manual_seed(11)
    net = mod.Net()
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        randomise_batchnorm(net, g)
    mod.save_safetensors(net.state_dict(), f"{folder}/w.safetensors")
    for n in (1, 7):
        x = torch.randn(n, *mod.INPUT_SHAPE, generator=g)
        np.save(f"{folder}/x{n}.npy", x.numpy())


def close(name, got, want):
    scale = max(float(np.abs(want).max()), 1e-12)
    err = float(np.abs(got - want).max()) / scale
    assert got.shape == want.shape, f"{name}: shape {got.shape}, netloom {want.shape}"
    assert err <= 1e-5, f"{name}: relative error {err:.3g} against netloom forward"
    return err


def compare(folder):
    import onnx
    import onnxruntime as ort
    mod = load_model(folder)
    net = mod.build(f"{folder}/w.safetensors").eval()
    model = onnx.load(f"{folder}/model.onnx")
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version >= 17
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    session = ort.InferenceSession(f"{folder}/model.onnx", providers=["CPUExecutionProvider"])
    script = torch.jit.load(f"{folder}/model.pt")
    worst = 0.0
    for n in (1, 7):
        x = np.load(f"{folder}/x{n}.npy")
        want = np.load(f"{folder}/y{n}.npy")
        with torch.no_grad():
            worst = max(worst, close(f"{folder} model.py batch {n}", net(torch.from_numpy(x)).numpy(), want))
            worst = max(worst, close(f"{folder} TorchScript batch {n}", script(torch.from_numpy(x)).numpy(), want))
        worst = max(worst, close(f"{folder} ONNX batch {n}", session.run(["output"], {"input": x})[0], want))
    print(f"{folder}: worst relative error {worst:.2e}")


def torchvision_resnet18(folder):
    import torchvision
    mod = load_model(folder)
    torch.manual_seed(3)
    tv = torchvision.models.resnet18(weights=None)
    with torch.no_grad():
        randomise_batchnorm(tv, torch.Generator().manual_seed(9))
    net = mod.Net()
    result = net.load_state_dict(tv.state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys, result
    tv.eval(), net.eval()
    x = torch.randn(2, *mod.INPUT_SHAPE)
    with torch.no_grad():
        err = close("resnet18 vs torchvision", net(x).numpy(), tv(x).numpy())
    print(f"torchvision resnet18 loads strictly; relative error {err:.2e}")


def data_path(folder, expected):
    """train.py's DATA path is exactly the (hostile) string netloom was given."""
    sys.path.insert(0, folder)
    import train
    assert train.DATA["path"] == expected, (train.DATA["path"], expected)
    print("data path survives quoting")


if __name__ == "__main__":
    what, dirs = sys.argv[1], sys.argv[2:]
    if what == "datapath":
        data_path(dirs[0], dirs[1])
        sys.exit(0)
    for d in dirs:
        {"weights": weights, "compare": compare, "torchvision": torchvision_resnet18}[what](d)
