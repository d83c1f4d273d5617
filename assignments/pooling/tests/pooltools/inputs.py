"""Deterministic inputs for the tests and notebook checks.

The values are made from integer arithmetic only (no random-number stream, no libm call), so
they are bit-for-bit the same on every machine and numpy version: an expected value stored
for them in expected.npz is found again (see expected.py).
"""

import numpy as np

_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constant of Fibonacci hashing


def _hash(n, seed):
    """n pseudo-random uint64 values from the counter 0..n-1 and the seed (a splitmix64 round)."""
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps around, as intended
        z = np.arange(n, dtype=np.uint64) + np.uint64(seed) * _MULT + _MULT
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def pool_param(ph, pw, stride, pad=0):
    """The CS231n pool_param dict: pool_height, pool_width, stride, pad."""
    return {"pool_height": ph, "pool_width": pw, "stride": stride, "pad": pad}


def distinct(shape, offset=0.0, seed=0):
    """float64 array of the values offset + 0, 1, ..., size-1 in a shuffled order: no ties, 1 apart."""
    size = int(np.prod(shape))
    order = np.argsort(_hash(size, seed + sum(shape)), kind="stable")
    return order.reshape(shape).astype(np.float64) + offset


def spread(shape, seed=0):
    """float64 array of bell-shaped values in (-2, 2), mean 0, standard deviation about 0.58.

    Each value is the sum of four uniform 16-bit draws, scaled: exact in float64.
    """
    size = int(np.prod(shape))
    bits = _hash(size, 1000 + seed + sum(shape))
    total = sum((bits >> np.uint64(16 * k)) & np.uint64(0xFFFF) for k in range(4)).astype(np.float64)
    return (total / 65536.0 - 2.0).reshape(shape)
