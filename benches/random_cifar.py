"""A CIFAR-10-format folder of random pixels (5,000 training and 500 test samples): data of
CIFAR's shape for timing vgg_small without downloading CIFAR. Shared by the busy-machine
benches (busy.py, quiet_cost.py)."""
import os


def write(folder):
    """Writes data_batch_1.bin and test_batch.bin into `folder` (made) and returns it."""
    os.makedirs(folder)
    for name, n in [("data_batch_1.bin", 5000), ("test_batch.bin", 500)]:
        with open(os.path.join(folder, name), "wb") as f:
            f.write(b"".join(bytes([i % 10]) + os.urandom(3072) for i in range(n)))
    return folder
