"""PyTorch eager side of benches/unet.rs: the common 4-level U-Net (milesial/Pytorch-UNet's
modules, as netloom's `unet` template), the same batch, masks, threads and optimizer.
Usage: unet_step_torch.py THREADS SIZE BATCH WIDTH, then stdin lines "LAYOUT STEPS" (nchw or
cl), each answered with the seconds per step after one warm-up step."""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class DoubleConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.double_conv = nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(cin, cout))

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cin // 2, 2, stride=2)
        self.conv = DoubleConv(cin, cout)

    def forward(self, x1, x2):
        return self.conv(torch.cat([x2, self.up(x1)], dim=1))


class UNet(nn.Module):
    def __init__(self, classes, w):
        super().__init__()
        self.inc = DoubleConv(3, w)
        self.down1, self.down2 = Down(w, 2 * w), Down(2 * w, 4 * w)
        self.down3, self.down4 = Down(4 * w, 8 * w), Down(8 * w, 16 * w)
        self.up1, self.up2 = Up(16 * w, 8 * w), Up(8 * w, 4 * w)
        self.up3, self.up4 = Up(4 * w, 2 * w), Up(2 * w, w)
        self.outc = nn.Conv2d(w, classes, 1)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x = self.down4(x4)
        x = self.up4(self.up3(self.up2(self.up1(x, x4), x3), x2), x1)
        return self.outc(x)


def stepper(layout, size, batch, width):
    torch.manual_seed(0)
    net = UNet(2, width)
    x = torch.rand(batch, 3, size, size)
    y = torch.randint(2, (batch, size, size))
    if layout == "cl":
        net = net.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    net.train()

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        loss.item()

    return step


def main():
    torch.set_num_threads(int(sys.argv[1]))
    size, batch, width = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    steppers = {}
    for line in sys.stdin:
        layout, steps = line.split()
        step = steppers.setdefault(layout, stepper(layout, size, batch, width))
        step()
        t = time.perf_counter()
        for _ in range(int(steps)):
            step()
        print((time.perf_counter() - t) / int(steps), flush=True)


if __name__ == "__main__":
    main()
