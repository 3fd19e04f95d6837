"""PyTorch's side of the transfer-learning tests: weights written by PyTorch itself.

    transfer_reference.py lenet OUT    a LeNet (the PyTorch tutorial's names), trained a few
                                       steps, saved with torch.save (zip, OrderedDict) and as
                                       .safetensors; with an input batch and its eval output
    transfer_reference.py resnet18 OUT torchvision's resnet18 (random init, non-trivial BN
                                       statistics), saved with torch.save; input and output
    transfer_reference.py evil OUT     a .pth whose pickle would run a shell command
    transfer_reference.py zoo OUT NAME…  for each torchvision model NAME, OUT/NAME/ as resnet18
                                       writes OUT (random init, non-trivial BN statistics)

Each writes OUT/weights.pth (and more) and OUT/x.npy, OUT/y.npy.
"""

import json
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from torch_reference import write_npy  # noqa: E402


def write_safetensors(path, tensors):
    kinds = {torch.float32: "F32", torch.int64: "I64"}
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        raw = bytes(t.flatten().view(torch.uint8).tolist())
        header[name] = {"dtype": kinds[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def lenet(out):
    torch.manual_seed(0)
    net = LeNet()
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    for _ in range(5):
        x = torch.randn(16, 1, 28, 28)
        loss = F.cross_entropy(net(x), torch.randint(0, 10, (16,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    sd = net.state_dict()
    assert type(sd).__name__ == "OrderedDict"
    torch.save(sd, os.path.join(out, "weights.pth"))
    write_safetensors(os.path.join(out, "weights.safetensors"), sd)
    # The pre-1.6 format, which netloom refuses with advice.
    torch.save(sd, os.path.join(out, "legacy.pth"), _use_new_zipfile_serialization=False)
    # A training checkpoint as people save them: the state dict inside a bigger dict.
    torch.save({"epoch": 5, "state_dict": sd}, os.path.join(out, "checkpoint.pth"))
    net.eval()
    x = torch.randn(4, 1, 28, 28)
    write_npy(os.path.join(out, "x.npy"), x)
    with torch.no_grad():
        write_npy(os.path.join(out, "y.npy"), net(x))


def resnet18(out):
    torchvision_model("resnet18", out)


def randomise_norms(net):
    """Gives every BatchNorm2d non-trivial statistics and affine parameters (a fresh model's
    are 0, 1, 1, 0, which would hide a swapped mean and variance), every LayerNorm a
    non-trivial scale and shift, and ConvNeXt's layer scales values far from their 1e-6 start
    (which would hide a wrong residual branch)."""
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith("layer_scale"):
                p.uniform_(0.1, 0.5)
        for m in net.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
                m.num_batches_tracked.fill_(7)
    return net


def torchvision_model(name, out):
    import torchvision

    torch.manual_seed(0)
    net = randomise_norms(getattr(torchvision.models, name)(weights=None))
    torch.save(net.state_dict(), os.path.join(out, "weights.pth"))
    net.eval()
    x = torch.randn(2, 3, 64, 64)
    write_npy(os.path.join(out, "x.npy"), x)
    with torch.no_grad():
        write_npy(os.path.join(out, "y.npy"), net(x))


def zoo(out, *names):
    for name in names:
        os.makedirs(os.path.join(out, name), exist_ok=True)
        torchvision_model(name, os.path.join(out, name))


class Evil:
    def __reduce__(self):
        return (os.system, ("touch " + os.path.join(EVIL_OUT, "pwned"),))


EVIL_OUT = ""


def evil(out):
    global EVIL_OUT
    EVIL_OUT = out
    torch.save({"conv1.weight": torch.zeros(6, 1, 5, 5), "payload": Evil()},
               os.path.join(out, "weights.pth"))


if __name__ == "__main__":
    {"lenet": lenet, "resnet18": resnet18, "evil": evil, "zoo": zoo}[sys.argv[1]](*sys.argv[2:])
