"""The calibration table as text: one line per published figure beside the simulation, then the NRMSE.

The figures and their verdicts are :mod:`reports.evaluation.calibration.table`'s;
:func:`calibration_table` is the one call the pipeline needs to print the table after a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reports.evaluation.calibration.metrics import Figures, market_run_figures, market_scale, run_dir_figures
from reports.evaluation.calibration.table import CalibrationResult, calibrate_figures
from reports.evaluation.calibration.targets import load_targets
from reports.render.text_table import with_header
from sim.common.scenario import load_scenario
from sim.market.scenario import is_market_file, load_market_scenario

__all__ = ["calibration_table", "render_calibration"]


def _fmt(x: float | None) -> str:
    if x is None:
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.4f}"


def _fmt_band(x: float) -> str:
    """Bands of rates near 1 are tiny (±0.00005): two significant digits, not four decimals."""
    return f"{x:.2g}" if 0 < x < 0.01 else _fmt(x)


def render_calibration(result: CalibrationResult) -> str:
    """Fixed-width text: one line per figure, then the NRMSE."""
    head = ("figure", "basis", "published", "target", "simulated [95 % CI]", "rel. error", "band", "ok")
    rows = []
    for r in result.rows:
        sim = _fmt(r.mean) if r.ci is None else f"{_fmt(r.mean)} [{_fmt(r.ci[0])}, {_fmt(r.ci[1])}]"
        rel = "n/a" if r.rel_error is None else f"{100 * r.rel_error:+.1f} %"
        ok = "-" if r.within is None else ("yes" if r.within else "NO")
        basis = r.basis if r.bound == "equal" else f"{r.basis}, {r.bound.replace('_', ' ')}"
        rows.append((r.id, basis, _fmt(r.published), _fmt(r.target), sim, rel, f"±{_fmt_band(r.band)}", ok))
    text = [
        f"calibration of {result.scenario} against {result.place} ({result.replications} replication"
        f"{'s' if result.replications != 1 else ''})",
        *with_header(head, rows, right=range(2, len(head))),
    ]
    nrmse = "n/a" if result.nrmse is None else f"{result.nrmse:.4f}"
    verdict = "every figure within tolerance" if result.all_within else "some figures outside tolerance"
    text.append(f"NRMSE over {sum(r.mean is not None for r in result.rows)} figures: {nrmse} ({verdict})")
    return "\n".join(text)


def calibration_table(
    scenario_path: str | Path, targets_path: str | Path, runs: Sequence[Path | Figures]
) -> str:
    """The calibration table of finished runs (run folders or figure dicts) of one scenario.

    ``targets_path`` may end in ``#tag`` to select figures. This is what ``supsim run``
    prints after its own table when the scenario names targets.
    """
    targets = load_targets(targets_path)
    if is_market_file(scenario_path):
        market = load_market_scenario(scenario_path)
        figures = [market_run_figures(r) if isinstance(r, Path) else r for r in runs]
        return render_calibration(calibrate_figures(market, targets, figures, scale=market_scale(market)))
    scenario = load_scenario(scenario_path)
    figures = [run_dir_figures(r, scenario) if isinstance(r, Path) else r for r in runs]
    return render_calibration(calibrate_figures(scenario, targets, figures))
