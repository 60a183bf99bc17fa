"""Logits from PyTorch for a GGUF fixture, for the exactness test.

    /usr/bin/python3 tools/train/reference.py MODEL.gguf '[[1, 259, 51, ...], ...]'

Loads the F32 llama GGUF into model.Llama (the same module training used) and prints
{"logits": [input][position][vocab]} as JSON. Only reads GGUF; writing is the TypeScript
writer's job (tools/gguf/gguf-writer.ts).
"""
from __future__ import annotations

import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Llama  # noqa: E402

_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


def read_gguf(path: str) -> tuple[dict, dict[str, np.ndarray]]:
    data = open(path, "rb").read()
    pos = 0

    def take(fmt: str):
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return vals[0]

    def string() -> str:
        nonlocal pos
        n = take("Q")
        s = data[pos : pos + n].decode()
        pos += n
        return s

    def value(t: int):
        if t == 8:
            return string()
        if t == 9:
            et, n = take("I"), take("Q")
            return [value(et) for _ in range(n)]
        return take(_SCALARS[t])

    assert data[:4] == b"GGUF" and struct.unpack_from("<I", data, 4)[0] == 3
    pos = 8
    n_tensors, n_kv = take("Q"), take("Q")
    meta = {}
    for _ in range(n_kv):
        k = string()
        meta[k] = value(take("I"))
    infos = []
    for _ in range(n_tensors):
        name = string()
        ne = [take("Q") for _ in range(take("I"))]
        ttype, off = take("I"), take("Q")
        assert ttype == 0, f"{name}: only F32 tensors are supported"
        infos.append((name, ne, off))
    align = meta.get("general.alignment", 32)
    base = (pos + align - 1) // align * align
    tensors = {}
    for name, ne, off in infos:
        count = int(np.prod(ne))
        arr = np.frombuffer(data, dtype="<f4", count=count, offset=base + off)
        tensors[name] = arr.reshape(list(reversed(ne))).copy()
    return meta, tensors


def load(path: str) -> Llama:
    meta, tensors = read_gguf(path)
    d = meta["llama.embedding_length"]
    model = Llama(
        tensors["token_embd.weight"].shape[0],
        d,
        meta["llama.block_count"],
        meta["llama.attention.head_count"],
        meta["llama.feed_forward_length"],
        max_len=256,
    )
    with torch.no_grad():
        for name, p in model.gguf_tensors():
            p.copy_(torch.from_numpy(tensors[name]))
    return model.eval()


def main() -> None:
    torch.set_num_threads(1)
    model = load(sys.argv[1])
    inputs = json.loads(sys.argv[2])
    with torch.no_grad():
        logits = [model(torch.tensor([seq]))[0].tolist() for seq in inputs]
    json.dump({"logits": logits}, sys.stdout)


if __name__ == "__main__":
    main()
