"""Service-time distributions in scenarios: lognormal (default), exponential, gamma, empirical.

The draws are checked against each distribution's mean and coefficient of variation on a
large seeded sample (tolerances several standard errors wide); the scenario file rejects a
field the chosen distribution does not take, naming the file and the field.
"""

from __future__ import annotations

import math
from pathlib import Path

import msgspec
import numpy as np
import pytest
import yaml
from test_scenario import _base, _fails

from sim.common.scenario import load_scenario
from sim.common.scenario_types import Service, ServiceTime
from sim.hall.draws import draw_service
from sim.queueing.staffing import desk_demand

N = 200_000


def _stats(d: ServiceTime) -> tuple[float, float]:
    x = draw_service(np.random.default_rng(3), d, 60.0, N) / 60.0
    return float(x.mean()), float(x.std() / x.mean())


@pytest.mark.parametrize(
    ("spec", "cv"),
    [
        (ServiceTime(median=12, sigma=0.5), math.sqrt(math.exp(0.25) - 1)),
        (ServiceTime(dist="exponential", mean=12), 1.0),
        (ServiceTime(dist="gamma", mean=12, shape=4), 0.5),  # Erlang-4
        (ServiceTime(dist="gamma", mean=12, shape=1), 1.0),  # the exponential
    ],
)
def test_draws_have_the_distributions_mean_and_spread(spec: ServiceTime, cv: float) -> None:
    mean, got_cv = _stats(spec)
    assert mean == pytest.approx(spec.expected, rel=5 * cv / math.sqrt(N) + 1e-3)
    assert got_cv == pytest.approx(cv, rel=0.02)


def test_empirical_resamples_the_observed_values() -> None:
    spec = ServiceTime(dist="empirical", values=[4.0, 4.0, 10.0, 30.0])
    x = draw_service(np.random.default_rng(3), spec, 60.0, N)
    assert set(np.unique(x)) == {240.0, 600.0, 1800.0}
    assert float(x.mean()) / 60 == pytest.approx(spec.expected, rel=0.01)
    assert float((x == 240.0).mean()) == pytest.approx(0.5, abs=0.01)


def test_the_lognormal_default_draws_as_before() -> None:
    """The call every shipped scenario makes: ``rng.lognormal(log(median·scale), sigma)``."""
    got = draw_service(np.random.default_rng(5), ServiceTime(median=12), 60.0, 1000)
    want = np.random.default_rng(5).lognormal(math.log(720.0), 0.5, size=1000)
    assert np.array_equal(got, want)


@pytest.mark.parametrize(
    ("spec", "path", "reason"),
    [
        ({"median": 12, "mean": 12}, "acceptance_minutes", "`mean` does not apply to dist `lognormal`"),
        (
            {"dist": "exponential", "median": 12},
            "acceptance_minutes",
            "`median` does not apply to dist `exponential` (it takes `mean`)",
        ),
        ({"dist": "gamma", "mean": 12}, "acceptance_minutes", "`shape` is required for dist `gamma`"),
        ({"dist": "exponential"}, "acceptance_minutes", "`mean` is required for dist `exponential`"),
        ({"dist": "empirical", "values": [0, 0]}, "acceptance_minutes", "at least one positive duration"),
        ({"dist": "weibull", "mean": 3}, "acceptance_minutes.dist", "Invalid enum value 'weibull'"),
    ],
)
def test_a_bad_service_time_names_the_file_and_field(
    tmp_path: Path, spec: dict[str, object], path: str, reason: str
) -> None:
    data = _base()
    data.setdefault("service", {})["acceptance_minutes"] = spec
    _fails(tmp_path, data, f"$.service.{path}", reason)


def test_the_planner_sees_the_worlds_exponential_windows(tmp_path: Path) -> None:
    """``supsim plan`` draws the window demand as the world does, whatever the distribution."""
    data = _base()
    service = data.setdefault("service", {})
    service["acceptance_minutes"] = {"dist": "exponential", "mean": 12}
    service["instant_minutes"] = {"dist": "exponential", "mean": 6}
    file = tmp_path / "expo.yaml"
    file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    demand = desk_demand(load_scenario(file), seed=1)
    walk_in = np.concatenate([np.asarray(d.service) for d in demand])
    assert walk_in.size > 200
    # A mixture of exponentials (means 12 and 12 + 6 minutes): CV near 1, far from the lognormal's 0.53.
    cv = float(walk_in.std() / walk_in.mean())
    assert 0.75 < cv < 1.2


def test_the_planning_docs_example_is_a_valid_service_section() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "planning.md").read_text(encoding="utf-8")
    block = text.split("## Service-time distributions", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    service = msgspec.convert(yaml.safe_load(block)["service"], Service)
    assert {d.dist for d in msgspec.structs.astuple(service) if isinstance(d, ServiceTime)} == {
        "lognormal",
        "exponential",
        "gamma",
        "empirical",
    }
