"""LeNet-5 on Fashion-MNIST for one epoch, as a PyTorch user writes it: the plain-script side
of benches/lenet_epoch.py. The same network, data, preprocessing (per-channel standardisation
fitted on the training set), optimizer (Adam, lr 0.002), batch (64) and threads as
`netloom train examples/lenet5.json --epochs 1`, then the test-set accuracy.
Usage: lenet_epoch_torch.py FOLDER THREADS [loader|slices] [EPOCHS]: batches from a DataLoader
over a TensorDataset (the tutorial way, the default) or sliced from a shuffled index by hand
(faster); one epoch unless EPOCHS says more."""
import gzip
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = np.frombuffer(data[4:4 + 4 * data[3]], dtype=">u4")
    return torch.from_numpy(np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * data[3]).reshape(dims).copy())


folder, threads = sys.argv[1], int(sys.argv[2])
how = sys.argv[3] if len(sys.argv) > 3 else "loader"
epochs = int(sys.argv[4]) if len(sys.argv) > 4 else 1
torch.set_num_threads(threads)
torch.manual_seed(0)
train_x = idx(f"{folder}/train-images-idx3-ubyte.gz").float().div(255).unsqueeze(1)
train_y = idx(f"{folder}/train-labels-idx1-ubyte.gz").long()
test_x = idx(f"{folder}/t10k-images-idx3-ubyte.gz").float().div(255).unsqueeze(1)
test_y = idx(f"{folder}/t10k-labels-idx1-ubyte.gz").long()
mean, std = train_x.mean(), train_x.std()
train_x, test_x = (train_x - mean) / std, (test_x - mean) / std

net = nn.Sequential(
    nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
opt = torch.optim.Adam(net.parameters(), lr=0.002)
net.train()
for epoch in range(epochs):
    if how == "loader":
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(train_x, train_y), batch_size=64,
                                             shuffle=True)
    else:
        order = torch.randperm(len(train_y))
        loader = ((train_x[b], train_y[b]) for b in order.split(64))
    total, correct, seen = 0.0, 0, 0
    for i, (x, y) in enumerate(loader):
        opt.zero_grad()
        out = net(x)
        loss = F.cross_entropy(out, y)
        loss.backward()
        opt.step()
        total += loss.item() * len(y)
        correct += (out.argmax(1) == y).sum().item()
        seen += len(y)
net.eval()
with torch.no_grad():
    acc = sum((net(test_x[i:i + 256]).argmax(1) == test_y[i:i + 256]).sum().item()
              for i in range(0, len(test_y), 256)) / len(test_y)
print(f"train loss {total / seen:.4f} acc {correct / seen:.4f}, test accuracy {acc:.4f}")
