#!/usr/bin/python3
"""torch_train_reference.py -- trains the same config as `tapegpt train` with PyTorch, on the
same prepared token files, and reports the validation loss on the same validation windows.
Configs with what it does not reproduce (gradient accumulation, dropout, a constant rate, a
stride, pairs, --init) are refused.

Same model (tests/python/torch_gpt.py), nanoGPT init, AdamW with nanoGPT's decay groups, the
warm-up + cosine schedule, gradient clipping, batches of random windows of the training tokens
(its own RNG: the same data, not the same draw), evaluation as tapegpt's: the first
eval_iters*batch_size non-overlapping block_size windows of val.bin.

  /usr/bin/python3 bench/torch_train_reference.py configs/fortunes-char.toml [--threads 2]
"""
import argparse
import json
import math
import os
import sys
import time
import tomllib

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python"))
from torch_gpt import GPT, init_weights, read_tokens  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("config")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max_iters", type=int, default=0, help="override the config's")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    c = tomllib.load(open(a.config, "rb"))
    if a.max_iters:
        c["max_iters"] = a.max_iters
    # What this script does not reproduce is refused, not ignored: the comparison would be unfair.
    for key, plain in (("gradient_accumulation_steps", 1), ("dropout", 0.0), ("decay_lr", True),
                       ("stride", 1), ("pairs", None), ("init", None)):
        if c.get(key, plain) != plain:
            sys.exit(f"torch_train_reference: {a.config}: {key} = {c[key]!r} is not reproduced here "
                     f"(only {key} = {plain!r})")
    torch.manual_seed(c.get("seed", 1337))
    train, vocab = read_tokens(os.path.join(c["dataset"], "train.bin"))
    val, _ = read_tokens(os.path.join(c["dataset"], "val.bin"))
    T, B = c["block_size"], c["batch_size"]
    cfg = dict(vocab_size=c.get("vocab_size", vocab) or vocab, block_size=T, n_layer=c["n_layer"],
               n_head=c["n_head"], n_embd=c["n_embd"], bias=c.get("bias", True),
               attention=c.get("attention", "dense"), attn_window=c.get("attn_window", 128))
    model = GPT(cfg)
    init_weights(model, c["n_layer"])
    decay = [p for p in model.parameters() if p.dim() >= 2]
    nodecay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": c.get("weight_decay", 0.1)},
                             {"params": nodecay, "weight_decay": 0.0}],
                            lr=c["learning_rate"], betas=(c.get("beta1", 0.9), c.get("beta2", 0.95)))
    warmup, decay_iters = c.get("warmup_iters", 100), c.get("lr_decay_iters", 0) or c["max_iters"]
    lr0, min_lr = c["learning_rate"], c.get("min_lr", 6e-5)  # tapegpt train's default

    def lr_at(it):
        if it < warmup:
            return lr0 * (it + 1) / (warmup + 1)
        if it > decay_iters:
            return min_lr
        r = (it - warmup) / (decay_iters - warmup)
        return min_lr + 0.5 * (1 + math.cos(math.pi * r)) * (lr0 - min_lr)

    n_val = c.get("eval_iters", 20) * B
    vx = torch.stack([torch.from_numpy(val[k * T:k * T + T]) for k in range(n_val)])
    vy = torch.stack([torch.from_numpy(val[k * T + 1:k * T + T + 1]) for k in range(n_val)])

    def val_loss():
        model.eval()
        with torch.no_grad():
            losses = [model(vx[i:i + B], vy[i:i + B])[1].item() for i in range(0, n_val, B)]
        model.train()
        return sum(losses) / len(losses)

    grad_clip = c.get("grad_clip", 1.0)
    g = torch.Generator().manual_seed(c.get("seed", 1337))
    t0 = time.time()
    for it in range(c["max_iters"]):
        for grp in opt.param_groups:
            grp["lr"] = lr_at(it)
        ix = torch.randint(0, len(train) - T - 1, (B,), generator=g)
        x = torch.stack([torch.from_numpy(train[i:i + T]) for i in ix.tolist()])
        y = torch.stack([torch.from_numpy(train[i + 1:i + T + 1]) for i in ix.tolist()])
        _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip > 0:  # 0 is "off" in tapegpt; torch's max_norm=0 would zero every gradient
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        opt.step()
    print(json.dumps({"impl": "torch", "config": a.config, "steps": c["max_iters"],
                      "val_loss": round(val_loss(), 4), "train_seconds": round(time.time() - t0, 1)}))


if __name__ == "__main__":
    main()
