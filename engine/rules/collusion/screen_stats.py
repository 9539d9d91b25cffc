"""Statistical screens for bid rigging: pure formulas over the bids of one tender.

Why screens: traces (same machine, same bond account) catch careless rings; a careful ring
leaves only its *prices*, and cartels distort the distribution of bids in known ways
(Imhof, Huber & Imhof 2019; García Rodríguez et al. 2022): the losing cover bids cluster
(low coefficient of variation, high kurtosis) and the designated winner sits apart from them
(large relative distance). The same formulas serve the engine's screen rule and the
real-data evaluation in ``reports``, so what is validated on proven cartels is exactly what
the engine runs.

Definitions (bids of one tender sorted ascending, ``b1`` the lowest):

* ``CV``   sample standard deviation (ddof=1) / mean
* ``SPD``  (b_max − b1) / b1, the spread
* ``DIFFP`` (b2 − b1) / b1, the percentage difference between the two lowest
* ``RD``   (b2 − b1) / standard deviation (ddof=1) of the losing bids (Imhof's relative distance)
* ``KURT``, ``SKEW`` bias-corrected excess kurtosis and skewness (as ``scipy.stats`` with
  ``bias=False``)
* ``KS``   Kolmogorov–Smirnov statistic of the bids rescaled to [0, 1] by min and max,
  against Uniform(0, 1)

Two variants of the relative distance (Imhof, Karagök & Rutz 2018), used by the real-data
evaluation and not by the engine's combined score:

* ``RDNOR`` (b2 − b1) / the mean gap between adjacent bids, (b_max − b1) / (n − 1)
* ``RDALT`` (b2 − b1) / the mean gap between adjacent losing bids, (b_max − b2) / (n − 2)

Both measure the same "winner apart from the covers" as ``RD`` but against gaps rather than
a standard deviation, so one outlying cover moves them less.

A screen that is undefined for the tender (too few bids, zero spread) is ``nan``; callers
decide what a missing screen means. Only numpy is used, so the engine stays free of scipy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    "SCREEN_NAMES",
    "cv",
    "diffp",
    "ks_uniform",
    "kurtosis",
    "rd",
    "rd_alt",
    "rd_nor",
    "screens",
    "skewness",
    "spd",
]

#: The seven screens, in the order of :func:`screens`.
SCREEN_NAMES: tuple[str, ...] = ("CV", "SPD", "DIFFP", "RD", "KURT", "SKEW", "KS")

Bids = Sequence[float] | npt.NDArray[np.float64]
_NAN = float("nan")


def _sorted(bids: Bids | Iterable[float]) -> npt.NDArray[np.float64]:
    return np.sort(np.asarray(list(bids) if not isinstance(bids, np.ndarray) else bids, dtype=np.float64))


def cv(bids: Bids) -> float:
    b = _sorted(bids)
    if b.size < 2 or b.mean() == 0:
        return _NAN
    if b[-1] == b[0]:  # equal bids: exactly 0, not the float noise of a computed sd (1.5e-16)
        return 0.0
    return float(b.std(ddof=1) / b.mean())


def spd(bids: Bids) -> float:
    b = _sorted(bids)
    if b.size < 2 or b[0] == 0:
        return _NAN
    return float((b[-1] - b[0]) / b[0])


def diffp(bids: Bids) -> float:
    b = _sorted(bids)
    if b.size < 2 or b[0] == 0:
        return _NAN
    return float((b[1] - b[0]) / b[0])


def rd(bids: Bids) -> float:
    """Imhof's relative distance; needs at least two losing bids with some spread."""
    b = _sorted(bids)
    if b.size < 3:
        return _NAN
    if b[-1] == b[1]:  # equal losing bids (identical covers): no spread, whatever sd's noise says
        return _NAN
    sd = float(b[1:].std(ddof=1))
    return float((b[1] - b[0]) / sd)


def rd_nor(bids: Bids) -> float:
    """(b2 − b1) over the mean adjacent gap of all bids; needs three bids with some spread."""
    b = _sorted(bids)
    if b.size < 3 or b[-1] == b[0]:
        return _NAN
    return float((b[1] - b[0]) / ((b[-1] - b[0]) / (b.size - 1)))


def rd_alt(bids: Bids) -> float:
    """(b2 − b1) over the mean adjacent gap of the losing bids; needs spread among them."""
    b = _sorted(bids)
    if b.size < 3 or b[-1] == b[1]:
        return _NAN
    return float((b[1] - b[0]) / ((b[-1] - b[1]) / (b.size - 2)))


def _moments(b: npt.NDArray[np.float64]) -> tuple[float, float, float]:
    d = b - b.mean()
    return float((d**2).mean()), float((d**3).mean()), float((d**4).mean())


def skewness(bids: Bids) -> float:
    """Adjusted Fisher–Pearson skewness G1 (``scipy.stats.skew(bias=False)``)."""
    b = _sorted(bids)
    n = b.size
    if n < 3 or b[-1] == b[0]:  # equal bids have no shape; m2 would be noise, not 0
        return _NAN
    m2, m3, _ = _moments(b)
    if m2 == 0:
        return _NAN
    return float(math.sqrt(n * (n - 1)) / (n - 2) * m3 / m2**1.5)


def kurtosis(bids: Bids) -> float:
    """Bias-corrected excess kurtosis G2 (``scipy.stats.kurtosis(bias=False)``)."""
    b = _sorted(bids)
    n = b.size
    if n < 4 or b[-1] == b[0]:
        return _NAN
    m2, _, m4 = _moments(b)
    if m2 == 0:
        return _NAN
    return float(((n * n - 1) * m4 / m2**2 - 3 * (n - 1) ** 2) / ((n - 2) * (n - 3)))


def ks_uniform(bids: Bids) -> float:
    """KS statistic of the min–max rescaled bids against Uniform(0, 1)."""
    b = _sorted(bids)
    n = b.size
    if n < 2 or b[-1] == b[0]:
        return _NAN
    x = (b - b[0]) / (b[-1] - b[0])
    i = np.arange(1, n + 1, dtype=np.float64)
    return float(max((i / n - x).max(), (x - (i - 1) / n).max()))


def screens(bids: Bids) -> dict[str, float]:
    """All seven screens of one tender, keyed by :data:`SCREEN_NAMES`."""
    b = _sorted(bids)
    return {
        "CV": cv(b),
        "SPD": spd(b),
        "DIFFP": diffp(b),
        "RD": rd(b),
        "KURT": kurtosis(b),
        "SKEW": skewness(b),
        "KS": ks_uniform(b),
    }
