"""Counter-based random numbers: every draw is a pure function of its address.

A draw is addressed by (experiment seed, replicate, purpose, entity id, k) and
computed with the Philox4x32-10 bijection (Salmon et al., "Parallel random
numbers: as easy as 1, 2, 3", SC 2011). Nothing is carried from one draw to the
next, so a household's draws do not depend on which chunk, worker or scheduler
computes it, every scenario sees the same draws (common random numbers), and
replicates differ only in their replicate number.

Takes: integers. Gives: uniforms on the open interval (0, 1) and standard
normals, from numba functions that kernels call inline.

Address layout (all collision-free):
  key     = seed (64 bits, split into two 32-bit words)
  counter = (entity low 32 bits, entity high 32 bits, k, stream)
  stream  = purpose << 20 | replicate   (purpose < 4096, replicate < 2**20)
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

MASK32 = np.uint64(0xFFFFFFFF)
_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)
_SHIFT32 = np.uint64(32)
_TWO_POW_52 = 4503599627370496.0

MAX_REPLICATES = 1 << 20
MAX_PURPOSE = 1 << 12


def stream_id(purpose: int, replicate: int) -> np.uint64:
    """The counter word that names one purpose within one replicate."""
    if not 0 <= purpose < MAX_PURPOSE:
        raise ValueError(f"purpose {purpose} outside [0, {MAX_PURPOSE})")
    if not 0 <= replicate < MAX_REPLICATES:
        raise ValueError(f"replicate {replicate} outside [0, {MAX_REPLICATES})")
    return np.uint64((purpose << 20) | replicate)


def seed_key(seed: int) -> np.uint64:
    """The experiment seed as the 64-bit Philox key (negative seeds are refused)."""
    if not 0 <= seed < 2**64:
        raise ValueError(f"seed {seed} outside [0, 2**64)")
    return np.uint64(seed)


_GOLDEN = 0x9E3779B97F4A7C15
_MASK64 = (1 << 64) - 1


def year_key(seed: int, offset: int) -> int:
    """The seed of the illness draws of the simulated year `offset` years after the first: the
    experiment seed itself for the first year (so a one-year projection is a plain run), a
    splitmix64 mix of (seed, offset) for later years, so every year's illnesses are new
    draws while people (drawn with the experiment seed) stay the same."""
    if offset == 0:
        return seed
    if not 0 < offset < 1 << 16:
        raise ValueError(f"year offset {offset} outside [0, 65536)")
    z = (seed + offset * _GOLDEN) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


@nb.njit(nb.types.UniTuple(nb.uint64, 4)(nb.uint64, nb.uint64, nb.uint64, nb.uint64),
         cache=True, nogil=True, inline="always")
def philox4x32(key: np.uint64, stream: np.uint64, entity: np.uint64, k: np.uint64):
    """Philox4x32-10 of counter (entity lo, entity hi, k, stream) under key."""
    c0 = entity & MASK32
    c1 = entity >> _SHIFT32
    c2 = k & MASK32
    c3 = stream & MASK32
    k0 = key & MASK32
    k1 = key >> _SHIFT32
    for _ in range(10):
        p0 = _M0 * c0
        p1 = _M1 * c2
        hi0 = p0 >> _SHIFT32
        lo0 = p0 & MASK32
        hi1 = p1 >> _SHIFT32
        lo1 = p1 & MASK32
        c0 = hi1 ^ c1 ^ k0
        c1 = lo1
        c2 = hi0 ^ c3 ^ k1
        c3 = lo0
        k0 = (k0 + _W0) & MASK32
        k1 = (k1 + _W1) & MASK32
    return c0, c1, c2, c3


@nb.njit(nb.float64(nb.uint64, nb.uint64), cache=True, nogil=True, inline="always")
def _to_open_unit(a: np.uint64, b: np.uint64) -> float:
    """52 random bits from two 32-bit words, mapped to the open interval (0, 1).

    (bits + 0.5) / 2**52 lies in [2**-53, 1 - 2**-53], both exactly representable,
    so the result is never 0 or 1 and logarithms and quantiles stay finite.
    """
    bits = ((a >> np.uint64(6)) << np.uint64(26)) | (b >> np.uint64(6))
    return (float(bits) + 0.5) / _TWO_POW_52


@nb.njit(nb.types.UniTuple(nb.float64, 2)(nb.uint64, nb.uint64, nb.uint64, nb.uint64),
         cache=True, nogil=True)
def uniform_pair(key, stream, entity, k):
    """Two independent uniforms on (0, 1) for draw address (entity, k)."""
    c0, c1, c2, c3 = philox4x32(key, stream, entity, k)
    return _to_open_unit(c0, c1), _to_open_unit(c2, c3)


@nb.njit(nb.float64(nb.uint64, nb.uint64, nb.uint64, nb.uint64), cache=True, nogil=True)
def uniform(key, stream, entity, k):
    """One uniform on (0, 1) for draw address (entity, k)."""
    c0, c1, _, _ = philox4x32(key, stream, entity, k)
    return _to_open_unit(c0, c1)


# Acklam's rational approximation of the standard normal quantile, refined by
# one Halley step against math.erfc: absolute error below 1e-12 for u in
# [1e-10, 1 - 1e-10], and below 1e-8 at the extremes the generator can reach.
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
      1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
      6.680131188771972e01, -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
      -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
      3.754408661907416e00)


@nb.njit(nb.float64(nb.float64), cache=True, nogil=True)
def normal_quantile(u: float) -> float:
    """Standard normal quantile of u in (0, 1)."""
    if u < 0.02425:
        q = math.sqrt(-2.0 * math.log(u))
        x = (((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / \
            ((((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0)
    elif u > 1.0 - 0.02425:
        q = math.sqrt(-2.0 * math.log(1.0 - u))
        x = -(((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / \
            ((((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0)
    else:
        q = u - 0.5
        r = q * q
        x = (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q / \
            (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0)
    e = 0.5 * math.erfc(-x / math.sqrt(2.0)) - u
    d = e * math.sqrt(2.0 * math.pi) * math.exp(x * x / 2.0)
    return x - d / (1.0 + x * d / 2.0)


@nb.njit(nb.float64(nb.uint64, nb.uint64, nb.uint64, nb.uint64), cache=True, nogil=True)
def normal(key, stream, entity, k):
    """One standard normal for draw address (entity, k), by inversion."""
    return normal_quantile(uniform(key, stream, entity, k))


@nb.njit(cache=True, nogil=True)
def uniforms(key: np.uint64, stream: np.uint64, entities: np.ndarray, k: int) -> np.ndarray:
    """Uniform draw k of every entity in `entities` (vectorised helper)."""
    out = np.empty(entities.size, dtype=np.float64)
    kk = np.uint64(k)
    for i in range(entities.size):
        out[i] = uniform(key, stream, np.uint64(entities[i]), kk)
    return out
