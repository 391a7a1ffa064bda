"""The quickstart's training in PyTorch, for `bench/train_main.ts` (the same rows, the same step).

MLP 784-256-64 with ReLU and L2 normalisation; TripletMarginLoss (margin 0.2, Euclidean distance,
mean over the mined triplets) on the semi-hard triplets of each batch (d(a,p) < d(a,n) < d(a,p) +
margin); m-per-class batches (m = 16) of BATCH rows; Adam, lr 1e-3; torch.set_num_threads(THREADS).

Usage: python3 bench/train_torch.py DIR STEPS BATCH [THREADS], where DIR holds x.f32 (rows of 784
float32) and y.u8 (labels); THREADS defaults to 2. Prints one JSON line: {"torch": version, "threads": n, "ms_per_step": t} (the
first step, which warms up, excluded).
"""

import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

MARGIN = 0.2


def main() -> None:
    folder, steps, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    x = torch.from_numpy(np.fromfile(f"{folder}/x.f32", dtype=np.float32).reshape(-1, 784))
    y = torch.from_numpy(np.fromfile(f"{folder}/y.u8", dtype=np.uint8).astype(np.int64))
    by_class = [np.flatnonzero(y.numpy() == c) for c in range(10)]
    rng = np.random.default_rng(1)
    m = 16
    per_batch = batch // m

    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 64))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def sample():
        classes = rng.choice(10, size=per_batch, replace=per_batch > 10)
        idx = np.concatenate([rng.choice(by_class[c], size=m, replace=False) for c in classes])
        return x[idx], y[idx]

    def step(xb, yb):
        emb = F.normalize(model(xb), dim=1)
        with torch.no_grad():
            d = torch.cdist(emb, emb)
            same = yb[:, None] == yb[None, :]
            eye = torch.eye(len(yb), dtype=torch.bool)
            pos = same & ~eye
            neg = ~same
            # Semi-hard triplets (a, p, n): d(a,p) < d(a,n) < d(a,p) + margin.
            dap = d[:, :, None]
            dan = d[:, None, :]
            mask = pos[:, :, None] & neg[:, None, :] & (dan > dap) & (dan < dap + MARGIN)
            a, p, n = mask.nonzero(as_tuple=True)
        if len(a) == 0:
            loss = emb.sum() * 0
        else:
            ap = (emb[a] - emb[p]).norm(dim=1)
            an = (emb[a] - emb[n]).norm(dim=1)
            loss = F.relu(ap - an + MARGIN).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    step(*sample())
    t0 = time.perf_counter()
    for _ in range(steps):
        step(*sample())
    ms = (time.perf_counter() - t0) * 1000 / steps
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "ms_per_step": ms}))


if __name__ == "__main__":
    main()
