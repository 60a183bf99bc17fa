"""Task generators with known right answers.

Every problem is a prompt string and an answer string of ASCII characters. The model
sees them exactly as the agent serves a `/v1/completions` request:

    [BOS=1, prompt bytes..., answer bytes..., EOS=2]

where byte b is token 3 + b: the fixtures' GGUF sets add_space_prefix false, so
node-llama-cpp's tokenize adds no leading "▁" (259), and a space would become 259, so
prompts have no spaces. Loss is taken on the answer bytes and EOS only.
"""
from __future__ import annotations

import numpy as np

BOS, EOS, SPACE, FIRST_BYTE = 1, 2, 259, 3
VOCAB_SIZE = 262


class Task:
    name: str
    description: str
    prompt_len: int
    answer_len: int

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """n problems as (prompt bytes [n, prompt_len], answer bytes [n, answer_len]) uint8 arrays."""
        raise NotImplementedError

    def key(self, prompts: np.ndarray) -> np.ndarray:
        """An integer identity of each prompt, to keep held-out problems out of training."""
        digits = prompts[:, self.digit_positions].astype(np.int64) - ord("0")
        return digits @ (10 ** np.arange(digits.shape[1], dtype=np.int64))

    def bytes_key(self, prompts: np.ndarray) -> np.ndarray:
        """The prompt's bytes as its identity, for prompts the digit key cannot tell apart."""
        return np.ascontiguousarray(prompts).view(f"S{self.prompt_len}")[:, 0]

    digit_positions: list[int]

    @property
    def seq_len(self) -> int:
        return 1 + self.prompt_len + self.answer_len + 1


class Addition(Task):
    name = "add"
    description = 'Three-digit addition: "%03d+%03d=" -> the sum as four zero-padded digits, e.g. "047+958=" -> "1005".'
    prompt_len = 8
    answer_len = 4
    digit_positions = [0, 1, 2, 4, 5, 6]

    def sample(self, rng, n):
        a = rng.integers(0, 1000, n)
        b = rng.integers(0, 1000, n)
        prompts = np.array([f"{x:03d}+{y:03d}=".encode() for x, y in zip(a, b)], dtype="S8")
        answers = np.array([f"{x + y:04d}".encode() for x, y in zip(a, b)], dtype="S4")
        return _bytes(prompts, 8), _bytes(answers, 4)


class Sort(Task):
    name = "sort"
    description = 'Sorting ten digits: "sort:3819402751=" -> the same digits in ascending order, "0112345789".'
    prompt_len = 16
    answer_len = 10
    digit_positions = list(range(5, 15))

    def sample(self, rng, n):
        d = rng.integers(0, 10, (n, 10), dtype=np.uint8)
        prompts = np.empty((n, 16), dtype=np.uint8)
        prompts[:, :5] = np.frombuffer(b"sort:", dtype=np.uint8)
        prompts[:, 5:15] = d + ord("0")
        prompts[:, 15] = ord("=")
        answers = np.sort(d, axis=1) + ord("0")
        return prompts, answers.astype(np.uint8)


class SortTwenty(Task):
    name = "sort20"
    description = (
        'Sorting twenty digits: "sort:38194027518640273519=" -> the same digits in ascending order, '
        '"00111223344556778899" (20 answer tokens, more than the edge\'s 16-token commit window).'
    )
    prompt_len = 26
    answer_len = 20

    def sample(self, rng, n):
        d = rng.integers(0, 10, (n, 20), dtype=np.uint8)
        prompts = np.empty((n, 26), dtype=np.uint8)
        prompts[:, :5] = np.frombuffer(b"sort:", dtype=np.uint8)
        prompts[:, 5:25] = d + ord("0")
        prompts[:, 25] = ord("=")
        answers = np.sort(d, axis=1) + ord("0")
        return prompts, answers.astype(np.uint8)

    def key(self, prompts):
        # Twenty digits overflow an int64.
        return self.bytes_key(prompts)


class Multiplication(Task):
    name = "mul"
    description = 'Three-digit by one-digit multiplication: "mul:%03d*%d=" -> the product as four zero-padded digits, e.g. "mul:374*8=" -> "2992".'
    prompt_len = 10
    answer_len = 4
    digit_positions = [4, 5, 6, 8]

    def sample(self, rng, n):
        a = rng.integers(0, 1000, n)
        b = rng.integers(0, 10, n)
        prompts = np.array([f"mul:{x:03d}*{y:d}=".encode() for x, y in zip(a, b)], dtype="S10")
        answers = np.array([f"{x * y:04d}".encode() for x, y in zip(a, b)], dtype="S4")
        return _bytes(prompts, 10), _bytes(answers, 4)


class Mixed(Task):
    name = "mix"
    description = (
        'Half addition, half copying, by the first letter: "a:047+958=" -> the sum, "1005"; '
        '"c:047+958=" -> the first number as four digits, "0047". A small model can learn the copying alone.'
    )
    prompt_len = 10
    answer_len = 4

    def sample(self, rng, n):
        a = rng.integers(0, 1000, n)
        b = rng.integers(0, 1000, n)
        add = rng.random(n) < 0.5
        prompts = np.array([f"{'a' if s else 'c'}:{x:03d}+{y:03d}=".encode() for x, y, s in zip(a, b, add)], dtype="S10")
        answers = np.array([f"{x + y if s else x:04d}".encode() for x, y, s in zip(a, b, add)], dtype="S4")
        return _bytes(prompts, 10), _bytes(answers, 4)

    def key(self, prompts):
        # The letter is part of the identity: "a:" and "c:" with the same numbers are different problems.
        return self.bytes_key(prompts)


def _bytes(arr: np.ndarray, width: int) -> np.ndarray:
    return np.frombuffer(arr.tobytes(), dtype=np.uint8).reshape(-1, width)


TASKS: dict[str, Task] = {t.name: t for t in (Addition(), Sort(), SortTwenty(), Multiplication(), Mixed())}


def encode(prompts: np.ndarray, answers: np.ndarray | None = None) -> np.ndarray:
    """Token ids [n, len]: BOS, prompt bytes, then (if given) answer bytes and EOS."""
    n = prompts.shape[0]
    parts = [np.full((n, 1), BOS), prompts.astype(np.int64) + FIRST_BYTE]
    if answers is not None:
        parts += [answers.astype(np.int64) + FIRST_BYTE, np.full((n, 1), EOS)]
    return np.concatenate(parts, axis=1).astype(np.int64)


def heldout(task: Task, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n distinct held-out problems from their own seed."""
    rng = np.random.default_rng(seed)
    p, a = task.sample(rng, n * 2)
    _, first = np.unique(task.key(p), return_index=True)
    keep = np.sort(first)[:n]
    return p[keep], a[keep]


def training_batches(task: Task, seed: int, batch: int, heldout_keys: np.ndarray):
    """Endless batches of problems, none of them held out."""
    rng = np.random.default_rng(seed)
    banned = np.asarray(heldout_keys)
    while True:
        p, a = task.sample(rng, batch + batch // 4)
        ok = ~np.isin(task.key(p), banned)
        p, a = p[ok][:batch], a[ok][:batch]
        yield encode(p, a)
