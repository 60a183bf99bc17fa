"""Train one llama model on one task, evaluate it on the held-out problems, export it.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tools/train/train.py --task add --id add-s \
        --dim 16 --layers 1 --heads 2 --ff 32 --steps 2000 --lr 3e-3 --seed 1 --out tools/train/out

Writes <out>/<id>.bin (float32 tensors in GGUF order) and <out>/<id>.json (how it was made,
held-out accuracy, confidence AUROC, reference logits, greedy answers).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Llama, parameter_count  # noqa: E402
from tasks import EOS, FIRST_BYTE, TASKS, VOCAB_SIZE, encode, heldout, training_batches  # noqa: E402

HELDOUT_N = 500
HELDOUT_SEED = {"add": 9001, "sort": 9002, "sort20": 9003, "mul": 9004, "mix": 9005}
REFERENCE_INPUTS = 3
GREEDY_CHECKS = 8


@torch.no_grad()
def greedy(model: Llama, prompts: np.ndarray, answer_len: int, batch: int = 500):
    """Greedy answers (answer_len tokens then one more, which must be EOS) with each token's probability."""
    toks_out, probs_out = [], []
    for i in range(0, len(prompts), batch):
        x = torch.from_numpy(encode(prompts[i : i + batch]))
        toks, probs = [], []
        for _ in range(answer_len + 1):
            p = model(x)[:, -1].softmax(-1)
            conf, tok = p.max(-1)
            toks.append(tok)
            probs.append(conf)
            x = torch.cat([x, tok[:, None]], 1)
        toks_out.append(torch.stack(toks, 1))
        probs_out.append(torch.stack(probs, 1))
    return torch.cat(toks_out).numpy(), torch.cat(probs_out).numpy()


def decode(tokens) -> str:
    out = []
    for t in tokens:
        if t == EOS:
            break
        out.append(chr(t - FIRST_BYTE) if FIRST_BYTE <= t < FIRST_BYTE + 256 else f"<{t}>")
    return "".join(out)


def auroc(scores: np.ndarray, positive: np.ndarray) -> float | None:
    """Probability that a right answer's score beats a wrong one's (ties count half)."""
    pos, neg = scores[positive], scores[~positive]
    if len(pos) == 0 or len(neg) == 0:
        return None
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def evaluate(model: Llama, task, prompts, answers):
    toks, probs = greedy(model, prompts, task.answer_len)
    want = np.concatenate([answers.astype(np.int64) + FIRST_BYTE, np.full((len(answers), 1), EOS)], 1)
    right = (toks == want).all(1)
    conf = probs.mean(1)
    return right, conf, toks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", required=True, choices=sorted(TASKS))
    ap.add_argument("--id", required=True)
    ap.add_argument("--rung", default="")
    ap.add_argument("--dim", type=int, required=True)
    ap.add_argument("--layers", type=int, required=True)
    ap.add_argument("--heads", type=int, required=True)
    ap.add_argument("--ff", type=int, required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--eval-every", type=int, default=0)
    a = ap.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    task = TASKS[a.task]
    hp, ha = heldout(task, HELDOUT_N, HELDOUT_SEED[task.name])
    model = Llama(VOCAB_SIZE, a.dim, a.layers, a.heads, a.ff, max_len=task.seq_len + 4)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.98), weight_decay=0.01)
    warmup = max(1, a.steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(s, a.steps) / a.steps)))
    )
    first_loss = task.seq_len - task.answer_len - 2  # position predicting the first answer byte
    batches = training_batches(task, a.seed, a.batch, task.key(hp))
    t0 = time.time()
    for step in range(1, a.steps + 1):
        x = torch.from_numpy(next(batches))
        logits = model(x[:, :-1])[:, first_loss:]
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB_SIZE), x[:, first_loss + 1 :].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if a.eval_every and step % a.eval_every == 0:
            model.eval()
            right, _, _ = evaluate(model, task, hp[:200], ha[:200])
            model.train()
            print(f"{a.id} step {step} loss {loss.item():.4f} acc {right.mean():.3f} {time.time() - t0:.0f}s", flush=True)
    seconds = time.time() - t0
    model.eval()

    right, conf, toks = evaluate(model, task, hp, ha)
    ref_x = encode(hp[:REFERENCE_INPUTS], ha[:REFERENCE_INPUTS])
    with torch.no_grad():
        ref_logits = model(torch.from_numpy(ref_x)).numpy()
    result = {
        "id": a.id,
        "task": task.name,
        "rung": a.rung,
        "dims": {"embedding": a.dim, "layers": a.layers, "heads": a.heads, "feedForward": a.ff, "vocab": VOCAB_SIZE},
        "training": {
            "steps": a.steps,
            "batch": a.batch,
            "lr": a.lr,
            "schedule": f"linear warmup {warmup} steps, cosine to 5%",
            "optimizer": "AdamW(betas=(0.9, 0.98), weight_decay=0.01)",
            "seed": a.seed,
            "seconds": round(seconds, 1),
            "torch": torch.__version__,
        },
        "parameters": parameter_count(model),
        "heldout": {
            "problems": int(len(right)),
            "accuracy": float(right.mean()),
            "meanConfidenceRight": float(conf[right].mean()) if right.any() else None,
            "meanConfidenceWrong": float(conf[~right].mean()) if (~right).any() else None,
            "confidenceAuroc": auroc(conf, right),
        },
        "reference": {
            "inputs": ref_x.tolist(),
            "logits": [[[float(f"{v:.7g}") for v in row] for row in seq] for seq in ref_logits],
        },
        "greedy": [
            {"prompt": bytes(hp[i]).decode(), "answer": decode(toks[i]), "tokens": toks[i].tolist(), "meanConfidence": float(conf[i])}
            for i in range(GREEDY_CHECKS)
        ],
        "tensors": [],
    }
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, f"{a.id}.bin"), "wb") as f:
        for name, w in model.gguf_tensors():
            arr = w.detach().numpy().astype("<f4")
            result["tensors"].append({"name": name, "shape": list(arr.shape)})
            f.write(arr.tobytes())
    with open(os.path.join(a.out, f"{a.id}.json"), "w") as f:
        json.dump(result, f)
    h = result["heldout"]
    print(f"{a.id}: {result['parameters']} params, {seconds:.0f}s, held-out accuracy {h['accuracy']:.3f}, AUROC {h['confidenceAuroc']}", flush=True)


if __name__ == "__main__":
    main()
