"""PyTorch eager side of benches/train_step.rs: the same nets, batch, threads and optimizer.
Usage: train_step_torch.py THREADS (then rounds are requested on stdin)."""
import copy
import sys
import time

import torch
import torch.nn as nn

threads = int(sys.argv[1])
torch.set_num_threads(threads)
torch.manual_seed(0)

lenet5 = nn.Sequential(
    nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def block(i, o):
    return [nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU()]


vgg_small = nn.Sequential(
    *block(3, 32), *block(32, 32), nn.MaxPool2d(2), nn.Dropout(0.25),
    *block(32, 64), *block(64, 64), nn.MaxPool2d(2), nn.Dropout(0.25),
    *block(64, 128), nn.MaxPool2d(2), nn.Flatten(),
    nn.Linear(128 * 16, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10))

class ResnetMini(nn.Module):
    """examples/resnet_mini.json: a stem and two residual stages, the second downsampling."""

    def __init__(self):
        super().__init__()
        shapes = [(3, 16, 3, 1), (16, 16, 3, 1), (16, 16, 3, 1), (16, 32, 3, 2), (32, 32, 3, 1), (16, 32, 1, 2)]
        self.convs = nn.ModuleList(nn.Conv2d(i, o, k, stride=s, padding=k // 2, bias=False) for i, o, k, s in shapes)
        self.bns = nn.ModuleList(nn.BatchNorm2d(o) for _, o, _, _ in shapes)
        self.fc = nn.Linear(32, 10)

    def cb(self, i, x):
        return self.bns[i](self.convs[i](x))

    def forward(self, x):
        x = torch.relu(self.cb(0, x))
        x = torch.relu(self.cb(2, torch.relu(self.cb(1, x))) + x)
        x = torch.relu(self.cb(4, torch.relu(self.cb(3, x))) + self.cb(5, x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


NETS = {"lenet5": (lenet5, (64, 1, 28, 28)), "vgg_small": (vgg_small, (128, 3, 32, 32)),
        "resnet_mini": (ResnetMini(), (128, 3, 32, 32))}
steppers = {}


def stepper(name):
    # "NAME+cl": the same net and data in channels-last, as a user who knows the trick runs it.
    base, _, layout = name.partition("+")
    net, shape = NETS[base]
    x = torch.rand(shape)
    y = torch.randint(10, (shape[0],))
    if layout == "cl":
        net = copy.deepcopy(net).to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    net.train()

    def step():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        loss.item()

    return step


# Driven by the Rust bench, one round per request, so the three sides interleave in time:
# each stdin line "NAME STEPS" runs three warm-up steps and STEPS timed steps, and prints the
# seconds per step.
for line in sys.stdin:
    name, steps = line.split()
    step = steppers.setdefault(name, stepper(name))
    for _ in range(3):
        step()
    t = time.perf_counter()
    for _ in range(int(steps)):
        step()
    print((time.perf_counter() - t) / int(steps), flush=True)
