"""PyTorch eager side of benches/zoo.rs: torchvision's models, the same batch, threads and
optimizer. Usage: zoo_step_torch.py THREADS SIZE BATCH, then stdin lines "NAME STEPS" (NAME+cl
for channels-last), each answered with the seconds per step after one warm-up step."""
import copy
import sys
import time

import torch
import torch.nn as nn
import torchvision

steppers = {}


def stepper(name, size, batch):
    base, _, layout = name.partition("+")
    torch.manual_seed(0)
    net = getattr(torchvision.models, base)(num_classes=10)
    x = torch.rand(batch, 3, size, size)
    y = torch.randint(10, (batch,))
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
    torch.set_num_threads(int(sys.argv[1]))
    size, batch = int(sys.argv[2]), int(sys.argv[3])
    for line in sys.stdin:
        name, steps = line.split()
        step = steppers.setdefault(name, stepper(name, size, batch))
        step()
        t = time.perf_counter()
        for _ in range(int(steps)):
            step()
        print((time.perf_counter() - t) / int(steps), flush=True)


if __name__ == "__main__":
    main()
