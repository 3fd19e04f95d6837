"""Tables for the table tests, and scikit-learn's logistic regression on them.

    table_reference.py make OUT.csv      a 2,400-row table: numeric columns (one with missing
                                         values), text columns (one with missing values), a row
                                         ID, a constant, a yes/no target from a logistic model,
                                         and a `fold` column (train/val)
    table_reference.py logistic IN.csv   fits LogisticRegression on the train rows with its own
                                         encoding (pandas: the training mean for missing numbers,
                                         standardised; one-hot text, missing its own value) and
                                         prints the validation accuracy
"""

import sys

import numpy as np


def make(out):
    rng = np.random.default_rng(7)
    n = 2400
    x1 = rng.normal(5, 2, n)
    x2 = rng.normal(-1, 0.5, n)
    x3 = rng.uniform(0, 10, n)
    colour = rng.choice(["red", "green", "blue"], n)
    size = rng.choice(["S", "M", "L", "XL"], n, p=[0.3, 0.3, 0.3, 0.1])
    logit = (0.9 * (x1 - 5) / 2 - 1.5 * (x2 + 1) / 0.5 + 0.2 * (x3 - 5)
             + np.where(colour == "red", 1.5, np.where(colour == "green", -1.0, 0.0))
             + np.where(size == "XL", 1.2, 0.0))
    y = np.where(rng.uniform(size=n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    fold = np.where(rng.uniform(size=n) < 0.25, "val", "train")
    x1s = [f"{v:.5f}" for v in x1]
    for i in rng.choice(n, 150, replace=False):
        x1s[i] = ""
    cs = list(colour)
    for i in rng.choice(n, 80, replace=False):
        cs[i] = "NA"
    with open(out, "w") as f:
        f.write("id,x1,x2,x3,colour,size,constant,y,fold\n")
        for i in range(n):
            f.write(f"{i + 1},{x1s[i]},{x2[i]:.5f},{x3[i]:.5f},{cs[i]},{size[i]},7,{y[i]},{fold[i]}\n")


def logistic(path):
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    df = pd.read_csv(path)
    train, val = df[df.fold == "train"], df[df.fold == "val"]

    def encode(d):
        out = pd.DataFrame(index=d.index)
        for c in ["x1", "x2", "x3"]:
            mean, std = train[c].mean(), train[c].std(ddof=0)
            out[c] = (d[c].fillna(mean) - mean) / std
        for c in ["colour", "size"]:
            column = d[c].fillna("(missing)")
            for v in train[c].fillna("(missing)").unique():
                out[f"{c}={v}"] = (column == v).astype(float)
        return out

    model = LogisticRegression(max_iter=2000).fit(encode(train), train.y)
    print(float((model.predict(encode(val)) == val.y).mean()))


if __name__ == "__main__":
    {"make": make, "logistic": logistic}[sys.argv[1]](*sys.argv[2:])
