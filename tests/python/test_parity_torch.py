#!/usr/bin/python3
"""PyTorch parity: the same GPT on the same weights and batch gives the same logits, loss and
gradient of every parameter (max |diff| <= 1e-4 x the tensor's max magnitude, fp32).

Run by CTest: test_parity_torch.py --tapegpt PATH --workdir DIR (parity_dump sits beside it).
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_gpt import load_checkpoint  # noqa: E402

CONFIGS = {
    "tiny": dict(vocab_size=50, block_size=8, n_layer=2, n_head=2, n_embd=16, batch=2, seq=8),
    "odd": dict(vocab_size=101, block_size=17, n_layer=2, n_head=3, n_embd=72, batch=3, seq=17),
    "nobias": dict(vocab_size=64, block_size=12, n_layer=3, n_head=4, n_embd=32, bias=0,
                   batch=2, seq=12),
    "long_dense": dict(vocab_size=70, block_size=130, n_layer=2, n_head=2, n_embd=24, batch=2,
                       seq=130),
    "dense_local": dict(vocab_size=60, block_size=100, n_layer=4, n_head=2, n_embd=32,
                        attention="dense,local", attn_window=7, batch=2, seq=100),
    "local_w1": dict(vocab_size=40, block_size=20, n_layer=2, n_head=2, n_embd=16,
                     attention="local", attn_window=1, batch=1, seq=20),
}
TOL = 1e-4


def rel_err(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-12))


def check(name, cfg, dump, workdir):
    out = os.path.join(workdir, name)
    os.makedirs(out, exist_ok=True)
    args = [dump, "--out", out]
    for k, v in cfg.items():
        args += ["--" + k, str(v)]
    subprocess.run(args, check=True)
    B, T = cfg["batch"], cfg["seq"]
    ids = torch.from_numpy(np.fromfile(os.path.join(out, "ids.bin"), np.int32).astype(np.int64)).view(B, T)
    tgt = torch.from_numpy(np.fromfile(os.path.join(out, "targets.bin"), np.int32).astype(np.int64)).view(B, T)
    logits_c = np.fromfile(os.path.join(out, "logits.bin"), np.float32)
    loss_c = np.fromfile(os.path.join(out, "loss.bin"), np.float32)
    grads_c = np.fromfile(os.path.join(out, "grads.bin"), np.float32)

    model = load_checkpoint(os.path.join(out, "weights.h5"))
    logits, loss = model(ids, tgt)
    loss.backward()
    failures = []
    worst = {"logits": rel_err(logits_c, logits.detach().numpy().ravel()),
             "loss": rel_err(loss_c, loss.detach().numpy().ravel())}
    params = dict(model.named_parameters())
    at = 0
    for line in open(os.path.join(out, "names.txt")):
        pname, n = line.split()
        n = int(n)
        g = params[pname].grad.numpy().ravel()
        worst["grad " + pname] = rel_err(grads_c[at:at + n], g)
        if "c_attn" in pname:
            # q's and k's gradients can be a few % of v's: each third against its own scale
            # (floored at 1e-3 of the whole, for a layer whose q, k get none: W = 1).
            whole = float(np.max(np.abs(g)))
            for part, (c, t) in zip("qkv", zip(np.split(grads_c[at:at + n], 3), np.split(g, 3))):
                scale = max(float(np.max(np.abs(t))), 1e-3 * whole, 1e-12)
                worst[f"grad {pname}[{part}]"] = float(np.max(np.abs(c - t))) / scale
        at += n
    assert at == grads_c.size, "gradient buffer size mismatch"
    for k, e in worst.items():
        if not e <= TOL:
            failures.append(f"{name}: {k} rel err {e:.2e} > {TOL}")
    top = max(worst.values())
    print(f"{name:12s} loss c++ {loss_c[0]:.6f} torch {loss.item():.6f}  "
          f"max rel err over logits/loss/{len(worst) - 2} grads: {top:.2e}")
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tapegpt", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    torch.manual_seed(0)
    dump = os.path.join(os.path.dirname(args.tapegpt), "tests", "parity_dump")
    failures = []
    for name, cfg in CONFIGS.items():
        failures += check(name, cfg, dump, args.workdir)
    for f in failures:
        print("FAIL", f)
    print(f"{len(CONFIGS) - len({f.split(':')[0] for f in failures})} passed, "
          f"{len({f.split(':')[0] for f in failures})} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
