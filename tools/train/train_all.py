"""Retrain every fixture model: `npm run train` (this, then tools/gguf/export-trained.ts).

Writes the held-out problem files straight into tests/fixtures/trained/, and each model's
weights, metrics and PyTorch reference logits into tools/train/out/ for the exporter.
Runs two trainings side by side, one thread each (fastest on 2 cores).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from tasks import TASKS, heldout  # noqa: E402
from train import HELDOUT_N, HELDOUT_SEED  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
WORK = os.path.join(HERE, "out")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "trained")

# Three rungs per task. "s" is limited by its size, not by training length: the narrower
# models plateau (see README, "Trained task models").
MODELS = [
    dict(id="add-s", task="add", rung="s", dim=32, layers=2, heads=2, ff=128, steps=3000, lr=5e-3, seed=1),
    dict(id="add-m", task="add", rung="m", dim=48, layers=2, heads=4, ff=192, steps=3000, lr=3e-3, seed=1),
    dict(id="add-l", task="add", rung="l", dim=64, layers=2, heads=4, ff=256, steps=2500, lr=3e-3, seed=1),
    dict(id="sort-s", task="sort", rung="s", dim=8, layers=1, heads=2, ff=32, steps=3000, lr=5e-3, seed=1),
    dict(id="sort-m", task="sort", rung="m", dim=12, layers=1, heads=2, ff=24, steps=3000, lr=5e-3, seed=1),
    dict(id="sort-l", task="sort", rung="l", dim=32, layers=2, heads=2, ff=128, steps=3000, lr=3e-3, seed=1),
    # Answers of 20 tokens, longer than the edge's 16-token commit window.
    dict(id="sort20-s", task="sort20", rung="s", dim=12, layers=1, heads=2, ff=24, steps=3000, lr=5e-3, seed=1),
    dict(id="sort20-m", task="sort20", rung="m", dim=16, layers=1, heads=2, ff=32, steps=3000, lr=5e-3, seed=1),
    dict(id="sort20-l", task="sort20", rung="l", dim=24, layers=2, heads=2, ff=96, steps=3000, lr=5e-3, seed=1),
    dict(id="mul-s", task="mul", rung="s", dim=16, layers=2, heads=2, ff=64, steps=3000, lr=5e-3, seed=1),
    dict(id="mul-m", task="mul", rung="m", dim=32, layers=2, heads=1, ff=128, steps=3000, lr=5e-3, seed=1),
    dict(id="mul-l", task="mul", rung="l", dim=48, layers=2, heads=4, ff=192, steps=4000, lr=5e-3, seed=1),
    # A small rung that learns the copying and not the addition: its confidence shows which half it cannot do.
    dict(id="mix-s", task="mix", rung="s", dim=16, layers=2, heads=2, ff=64, steps=3000, lr=5e-3, seed=1),
    dict(id="mix-m", task="mix", rung="m", dim=24, layers=2, heads=2, ff=96, steps=3000, lr=5e-3, seed=1),
    dict(id="mix-l", task="mix", rung="l", dim=48, layers=2, heads=4, ff=192, steps=3000, lr=3e-3, seed=1),
]


def run(m: dict) -> None:
    args = [sys.executable, os.path.join(HERE, "train.py"), "--out", WORK]
    for k, v in m.items():
        args += [f"--{k}", str(v)]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    subprocess.run(args, check=True, env=env)


def main() -> None:
    # `train_all.py sort-s sort-m` retrains only those; the others' exports in tools/train/out stay.
    only = set(sys.argv[1:])
    os.makedirs(WORK, exist_ok=True)
    os.makedirs(FIXTURES, exist_ok=True)
    tasks = []
    for t in TASKS.values():
        p, a = heldout(t, HELDOUT_N, HELDOUT_SEED[t.name])
        problems = [{"prompt": bytes(x).decode(), "answer": bytes(y).decode()} for x, y in zip(p, a)]
        name = f"heldout-{t.name}.json"
        with open(os.path.join(FIXTURES, name), "w") as f:
            f.write("[\n" + ",\n".join(json.dumps(q) for q in problems) + "\n]\n")
        tasks.append({"name": t.name, "description": t.description, "heldout": name, "problems": len(problems), "seed": HELDOUT_SEED[t.name]})
    plan = {
        "format": {
            "prompt": "a /v1/completions prompt: the model sees [BOS=1] + tokenize(prompt) = [1, 3 + byte, ...] (no leading ▁: add_space_prefix is false)",
            "answer": "the answer's bytes, then EOS (2); trained with loss on the answer and EOS only",
            "heldout": "never used in training: training batches drop any problem whose prompt matches a held-out one",
            "confidence": "meanConfidence = mean over the answer tokens and EOS of the greedy token's probability",
            "accuracy": "heldout.accuracy: PyTorch greedy decoding over all held-out problems, right = the exact answer then EOS; confidenceAuroc = AUROC of meanConfidence for right vs wrong",
            "reference": "reference-<id>.json: PyTorch logits [input][position][token] for held-out prompts + answers + EOS, and greedy answers; tests/trained/exactness.test.ts compares them with node-llama-cpp",
        },
        "tasks": tasks,
        "models": [{"id": m["id"]} for m in MODELS],
    }
    with open(os.path.join(WORK, "plan.json"), "w") as f:
        json.dump(plan, f, indent=2)
    todo = [m for m in MODELS if not only or m["id"] in only]
    # Longest first, so the two lanes finish together.
    todo.sort(key=lambda m: -(m["dim"] ** 2 * m["layers"] * m["steps"]))
    t0 = time.time()
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(run, todo))
    print(f"trained {len(todo)} models in {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()
