"""The pandas side of `cargo bench --bench table`: read the CSV, standardise its feature
columns with the mean and deviation of the first 80 % of the rows, as float32; prints the
seconds taken and the process's peak memory."""

import resource
import sys
import time

import pandas as pd

start = time.perf_counter()
df = pd.read_csv(sys.argv[1])
x = df.iloc[:, :-1]
train = x.iloc[: int(len(x) * 0.8)]
mean, std = train.mean(), train.std(ddof=0)
z = ((x - mean) / std).to_numpy(dtype="float32")
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(f"{seconds} {peak} {z.shape[0]}")
