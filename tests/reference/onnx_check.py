"""The Python side of tests/onnx_files.rs: runs netloom's ONNX files in onnxruntime (after
onnx.checker) and compares them with netloom's own forward pass and with PyTorch, computed here
independently of netloom.

  onnx_check.py pools DIR        every case of DIR/cases.json: DIR/N.onnx on DIR/N.x.npy against
                                 netloom's DIR/N.y.npy and torch.nn.functional's pooling
  onnx_check.py model ONNX X Y   one model (its external data beside it, if any) on X.npy
                                 against netloom's Y.npy; prints the model's input and output
                                 names, opset and metadata as JSON
"""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F


def close(name, got, want, tol=1e-5):
    assert got.shape == want.shape, f"{name}: shape {got.shape}, expected {want.shape}"
    scale = max(float(np.abs(want).max()), 1.0)
    err = float(np.abs(got - want).max()) / scale
    assert err <= tol, f"{name}: relative error {err:.3g}"
    return err


def pools(folder):
    import onnx
    import onnxruntime as ort
    cases = json.load(open(f"{folder}/cases.json"))
    options = ort.SessionOptions()
    options.log_severity_level = 3
    worst, ceil_used = 0.0, 0
    for c in cases:
        name = f"case {c['id']} {c}"
        path = f"{folder}/{c['id']}.onnx"
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
        ceil_used += sum(1 for n in model.graph.node for a in n.attribute if a.name == "ceil_mode" and a.i)
        x = np.load(f"{folder}/{c['id']}.x.npy")
        netloom = np.load(f"{folder}/{c['id']}.y.npy")
        t = torch.from_numpy(x)
        if c["kind"] == "max":
            ref = F.max_pool2d(t, c["k"], c["s"], c["p"], ceil_mode=c["ceil"])
        else:
            ref = F.avg_pool2d(t, c["k"], c["s"], c["p"], ceil_mode=c["ceil"],
                               count_include_pad=c["kind"] == "avg")
        ref = ref.numpy()
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        got = session.run(None, {session.get_inputs()[0].name: x})[0]
        worst = max(worst, close(f"{name}: netloom vs PyTorch", netloom, ref))
        worst = max(worst, close(f"{name}: onnxruntime vs PyTorch", got, ref))
    assert ceil_used == 0, f"{ceil_used} pooling nodes still use ceil_mode"
    print(f"{len(cases)} pooling cases: onnx.checker, onnxruntime, PyTorch and netloom agree "
          f"(worst relative error {worst:.2e})")


def model(path, x_path, y_path):
    import onnx
    import onnxruntime as ort
    onnx.checker.check_model(path, full_check=True)  # by path: external data is checked too
    m = onnx.load(path, load_external_data=False)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    x = np.load(x_path)
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    err = close(path, got, np.load(y_path))
    print(json.dumps({
        "input": session.get_inputs()[0].name,
        "output": session.get_outputs()[0].name,
        "opset": m.opset_import[0].version,
        "ir_version": m.ir_version,
        "ops": sorted({n.op_type for n in m.graph.node}),
        "external": sum(1 for t in m.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL),
        "metadata": {p.key: p.value for p in m.metadata_props},
        "error": err,
    }))


if __name__ == "__main__":
    if sys.argv[1] == "pools":
        pools(sys.argv[2])
    else:
        model(*sys.argv[2:5])
