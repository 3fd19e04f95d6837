"""PyTorch eager side of benches/train_step.rs: the same nets, batch, threads and optimizer.
Usage: train_step_torch.py THREADS (then rounds are requested on stdin). benches/gpu_step.py
imports its nets."""
import copy
import sys
import time

import torch
import torch.nn as nn

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


class BasicBlock(nn.Module):
    """torchvision's ResNet basic block: two 3×3 convolutions and the shortcut."""

    def __init__(self, i, o, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(i, o, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(o)
        self.conv2 = nn.Conv2d(o, o, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(o)
        self.down = None
        if stride != 1 or i != o:
            self.down = nn.Sequential(nn.Conv2d(i, o, 1, stride=stride, bias=False), nn.BatchNorm2d(o))

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + (x if self.down is None else self.down(x)))


def resnet18(classes=10):
    """torchvision.models.resnet18(num_classes=classes), written out (no torchvision needed),
    as `netloom template resnet18` draws it."""
    layers = [nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
              nn.MaxPool2d(3, stride=2, padding=1)]
    i = 64
    for o, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [BasicBlock(i, o, stride), BasicBlock(o, o, 1)]
        i = o
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, classes)]
    return nn.Sequential(*layers)


NETS = {"lenet5": (lambda: lenet5, (64, 1, 28, 28)), "vgg_small": (lambda: vgg_small, (128, 3, 32, 32)),
        "resnet_mini": (ResnetMini, (128, 3, 32, 32)), "resnet18": (resnet18, (128, 3, 64, 64))}
steppers = {}


def stepper(name):
    # "NAME+cl": the same net and data in channels-last, as a user who knows the trick runs it.
    base, _, layout = name.partition("+")
    make, shape = NETS[base]
    net = make()
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


def main():
    """Driven by the Rust bench, one round per request, so the three sides interleave in time:
    each stdin line "NAME STEPS" runs three warm-up steps and STEPS timed steps, and prints the
    seconds per step."""
    torch.set_num_threads(int(sys.argv[1]))
    for line in sys.stdin:
        name, steps = line.split()
        step = steppers.setdefault(name, stepper(name))
        for _ in range(3):
            step()
        t = time.perf_counter()
        for _ in range(int(steps)):
            step()
        print((time.perf_counter() - t) / int(steps), flush=True)


if __name__ == "__main__":
    main()
