"""The noisy presence detector: true presence per frame in, detections and confidences out.

Why a two-state Markov error process: real video analytics do not err frame by frame
independently; a head turned away, glare or a passer-by produce *bursts* of wrong
verdicts. Each error source is an alternating renewal process (good runs, bad runs with
geometric lengths), which is the two-state Markov chain at frame resolution, with the
long-run bad share and the mean bad-run length as parameters. Three sources:

* *misses* while someone is present, bad share ``1 - tpr``, mean burst ``burst_seconds``;
* *false positives* while the seat is empty, bad share ``fpr``, same burst length;
* *occlusions*, rare long misses (``occlusion_rate`` per hour, lognormal length).

Everything is vectorised with numpy and drawn from the generator passed in, so the
per-frame mode reaches millions of detections per second and a seed fixes every frame.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from sim.common.sections.cameras import DetectorSpec

__all__ = ["Frames", "burst_mask", "change_points", "detect_frames", "occlusion_mask"]

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float32]
Frames = tuple[BoolArray, FloatArray]


def burst_mask(n: int, share: float, mean_len: float, rng: np.random.Generator) -> BoolArray:
    """``n`` frames of a two-state Markov chain with long-run bad ``share`` and mean bad run ``mean_len``."""
    if n <= 0 or share <= 0.0:
        return np.zeros(max(n, 0), dtype=np.bool_)
    if share >= 1.0:
        return np.ones(n, dtype=np.bool_)
    mean_bad = max(mean_len, 1.0)
    mean_good = mean_bad * (1.0 - share) / share
    k = int(n / (mean_good + mean_bad) * 1.3) + 8
    lengths = np.empty(0, dtype=np.int64)
    while lengths.sum() < n:
        good = rng.geometric(min(1.0, 1.0 / mean_good), k)
        bad = rng.geometric(min(1.0, 1.0 / mean_bad), k)
        lengths = np.concatenate([lengths, np.stack([good, bad], axis=1).ravel()])
    # Start at a random phase of the first good run, so frame 0 is not always a fresh run.
    lengths[0] = max(1, int(lengths[0] * rng.random()))
    states = np.zeros(lengths.size, dtype=np.bool_)
    states[1::2] = True
    return np.repeat(states, lengths)[:n]


def occlusion_mask(
    n: int, per_frame: float, median: float, sigma: float, rng: np.random.Generator
) -> BoolArray:
    """Rare long occlusions: Poisson starts (``per_frame``), lognormal lengths in frames."""
    mask = np.zeros(max(n, 0), dtype=np.bool_)
    if n <= 0 or per_frame <= 0.0:
        return mask
    count = int(rng.poisson(per_frame * n))
    starts = rng.integers(0, n, size=count)
    lengths = np.maximum(1, rng.lognormal(np.log(median), sigma, size=count)).astype(np.int64)
    if count == 0:
        return mask
    diff = np.zeros(n + 1, dtype=np.int64)
    np.add.at(diff, starts, 1)
    np.add.at(diff, np.minimum(starts + lengths, n), -1)
    return np.cumsum(diff[:n]) > 0


def detect_frames(present: BoolArray, spec: DetectorSpec, rng: np.random.Generator) -> Frames:
    """Per-frame verdicts and confidences for a true-presence sequence sampled at ``spec.fps``.

    A correct verdict has confidence ~ Beta(8, 2) (mean 0.8); a wrong one ~ Beta(3, 3)
    (mean 0.5), so a minimum confidence removes part of the flicker, not all of it.
    """
    n = int(present.size)
    fps = spec.fps
    miss = burst_mask(n, 1.0 - spec.tpr, spec.burst_seconds * fps, rng)
    false_pos = burst_mask(n, spec.fpr, spec.burst_seconds * fps, rng)
    occl = occlusion_mask(
        n,
        spec.occlusion_rate / (3600.0 * fps),
        spec.occlusion_seconds.median * fps,
        spec.occlusion_seconds.sigma,
        rng,
    )
    detected = np.where(present, ~(miss | occl), false_pos)
    correct = detected == present
    conf = np.where(correct, rng.beta(8.0, 2.0, n), rng.beta(3.0, 3.0, n)).astype(np.float32)
    return detected, conf


def change_points(detected: BoolArray) -> npt.NDArray[np.int64]:
    """Frame indices where the verdict differs from the previous frame (frame 0 included)."""
    if detected.size == 0:
        return np.empty(0, dtype=np.int64)
    flips = np.flatnonzero(detected[1:] != detected[:-1]) + 1
    return np.concatenate([np.zeros(1, dtype=np.int64), flips.astype(np.int64)])
