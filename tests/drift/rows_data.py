"""Seeded generators for the text and embedding drift studies (tests and
benchmarks/rows_drift.py): sentences from topics, vectors from a Gaussian mixture."""

from __future__ import annotations

import numpy as np

SYLLABLES = [a + b for a in "bdfgklmnprstvz" for b in "aeiou"]  # 70 syllables


def vocabulary(size: int = 3000, seed: int = 1234) -> np.ndarray:
    """``size`` distinct pseudo-words of two or three syllables (fixed by ``seed``)."""
    rng = np.random.default_rng(seed)
    words: set[str] = set()
    while len(words) < size:
        k = rng.integers(2, 4)
        words.add("".join(rng.choice(SYLLABLES, k)))
    return np.array(sorted(words))


WORDS = vocabulary()
TOPICS = 5  # topics 0..3 make the reference; topic 4 is the one that arrives
TOPIC_WORDS = 600  # each topic draws from its own 600-word slice (Zipf weights)


def sentences(n: int, rng: np.random.Generator, topic_shift: float = 0.0,
              empty: float = 0.0) -> list[str]:
    """``n`` documents of 5-20 words. Each picks one of topics 0-3 (uniform) and draws its
    words from that topic's slice of ``WORDS`` with Zipf(1.1) weights, plus common words
    shared by all; a share ``topic_shift`` of documents comes from topic 4 instead, and a
    share ``empty`` is the empty string."""
    ranks = np.arange(1, TOPIC_WORDS + 1)
    weights = ranks ** -1.1
    weights /= weights.sum()
    common = WORDS[-200:]
    topic = rng.integers(0, TOPICS - 1, n)
    topic[rng.random(n) < topic_shift] = TOPICS - 1
    lengths = rng.integers(5, 21, n)
    out = []
    for t, k in zip(topic, lengths, strict=True):
        own = WORDS[t * TOPIC_WORDS + rng.choice(TOPIC_WORDS, k, p=weights)]
        shared = common[rng.integers(0, len(common), k // 3)]
        words = np.concatenate([own, shared])
        rng.shuffle(words)
        out.append(" ".join(words.tolist()).capitalize() + ".")
    for i in np.flatnonzero(rng.random(n) < empty):
        out[i] = ""
    return out


def mixture(n: int, dims: int, rng: np.random.Generator, shift_dims: int = 0,
            shift: float = 0.0, components: int = 5, dtype: type = np.float32) -> np.ndarray:
    """``n`` vectors from a Gaussian mixture: ``components`` centres (fixed, N(0, 1) per
    dimension) with unit noise; the first ``shift_dims`` dimensions moved by ``shift`` times
    their standard deviation."""
    centres = np.random.default_rng(99).normal(size=(components, dims))
    x = centres[rng.integers(0, components, n)] + rng.normal(size=(n, dims))
    if shift_dims:
        sd = np.sqrt(2.0)  # centre variance 1 + noise variance 1
        x[:, :shift_dims] += shift * sd
    return x.astype(dtype)
