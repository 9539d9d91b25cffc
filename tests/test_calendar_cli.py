"""``supsim calendar``, ``--holidays`` / ``--beyond-range`` on the commands, and what outputs report.

The 2027 arrangement is the test fixture ``tests/fixtures/holidays/2027.yaml`` (not the
official one): Spring Festival week 02-06..02-14, make-up Saturdays 01-30 and 02-20.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from supsim.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "holidays" / "2027.yaml"
RULEBOOK = ROOT / "scenarios" / "rulebooks" / "default.yaml"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- printing a year ---------------------------------------------------------------------------


def test_calendar_prints_a_year_with_marks_and_the_covered_range(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "calendar", "2026")
    assert code == 0
    assert "2026    (holiday arrangements cover 2004..2026)" in out
    assert "          1* 2* 3* 4+" in out  # Jan 1-3 off, Sunday Jan 4 a make-up day
    assert "16*17*18*19*20*21*22*" in out  # the Spring Festival week
    assert "legend: * holiday (day off)   + make-up working day" in out
    assert "make-up working days: 01-04 Sun, 02-14 Sat, 02-28 Sat, 05-09 Sat, 09-20 Sun, 10-10 Sat" in out
    assert "working days in 2026: 248" in out  # 261 weekdays - 19 weekdays off + 6 make-up days
    assert "国办发明电〔2025〕7号" in out


def test_calendar_of_an_uncovered_year_says_how_to_add_it(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "calendar", "2027")
    assert (
        code == 1
        and "no holiday arrangement for 2027" in out
        and "`supsim calendar 2027 --holidays FILE`" in out
    )
    assert "--beyond-range" not in out  # a flag of the counting commands, which `calendar` does not take
    code, out, _ = run_cli(capsys, "calendar", "2027", "--holidays", str(FIXTURE))
    assert code == 0 and "cover 2004..2027" in out and "TEST FIXTURE" in out
    assert " 8* 9*10*11*12*13*14*" in out and "15 16 17 18 19 20+21" in out


def test_calendar_without_a_year_lists_the_covered_years(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "calendar", "--holidays", str(FIXTURE.parent))
    assert code == 0 and out.startswith("holiday arrangements cover 2004..2027")
    assert "  2026  shipped" in out and f"  2027  {FIXTURE.parent / '2027.yaml'}" in out


# -- checking files ------------------------------------------------------------------------------

HEAD = 'year: 2027\nsource: "test"\n'
BAD_FILES = {
    # kind: (text, line, message)
    "make-up day on a weekday": (
        HEAD + "holidays: []\nworkdays:\n  - 2027-02-19\n",
        5,
        "make-up working day 2027-02-19 is a Friday, not a weekend day",
    ),
    "overlapping ranges": (
        HEAD + "holidays:\n  - [2027-02-06, 2027-02-10]\n  - [2027-02-09, 2027-02-14]\n",
        5,
        "range [2027-02-09, 2027-02-14] overlaps the range [2027-02-06, 2027-02-10] before it",
    ),
    "ranges out of order": (
        HEAD + "holidays:\n  - [2027-05-01, 2027-05-03]\n  - [2027-02-06, 2027-02-14]\n",
        5,
        "range [2027-02-06, 2027-02-14] is out of order",
    ),
    "range ending before it starts": (
        HEAD + "holidays:\n  - [2027-02-14, 2027-02-06]\n",
        4,
        "range [2027-02-14, 2027-02-06] ends before it starts",
    ),
    "date outside its year": (
        HEAD + "holidays:\n  - [2027-01-01, 2027-01-01]\nworkdays:\n  - 2026-12-26\n",
        6,
        "make-up working day 2026-12-26 is not in 2027",
    ),
    "day both off and working": (
        HEAD + "holidays:\n  - [2027-02-06, 2027-02-14]\nworkdays:\n  - 2027-01-30\n  - 2027-02-13\n",
        7,
        "2027-02-13 is both a holiday and a make-up working day",
    ),
    "make-up day listed twice": (
        HEAD + "workdays:\n  - 2027-01-30\n  - 2027-01-30\n",
        5,
        "make-up working day 2027-01-30 is listed twice",
    ),
    "unknown field": (
        HEAD + "holiday:\n  - [2027-01-01, 2027-01-01]\n",
        1,
        "Object contains unknown field `holiday`",
    ),
    "quoted date": (HEAD + 'workdays:\n  - "2027-01-30"\n', 4, "write dates unquoted"),
    "a datetime instead of a date": (HEAD + "workdays:\n  - 2027-01-30 09:00:00\n", 4, "Expected `date`"),
    "malformed YAML": (HEAD + "holidays: [2027-01-01\n", 4, "malformed YAML"),
    "year out of bounds": ('year: 99999\nsource: "x"\n', 1, "`$.year`"),
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_check_rejects_each_kind_of_bad_file_with_its_line(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, line, message = BAD_FILES[kind]
    path = tmp_path / "2027.yaml"
    path.write_text(text, encoding="utf-8")
    code, out, _ = run_cli(capsys, "calendar", "--check", str(path))
    assert code == 1, out
    assert f"{path}:{line}: " in out and message in out, out


def test_check_accepts_good_files_and_checks_how_they_combine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(
        capsys, "calendar", "--check", str(FIXTURE), str(ROOT / "engine/contract/data/holidays")
    )
    assert code == 0, out
    assert f"{FIXTURE}: ok (arrangement for 2027: 10 days off, 2 make-up working days)" in out
    (tmp_path / "2029.yaml").write_text(HEAD.replace("2027", "2029"), encoding="utf-8")
    code, out, _ = run_cli(capsys, "calendar", "--check", str(tmp_path / "2029.yaml"))
    assert code == 1 and "no arrangement for 2027, 2028 between 2004 and 2029" in out


def test_check_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "calendar", "2026", "--check", str(FIXTURE))[0] == 2
    with pytest.raises(SystemExit) as info:
        main(["calendar", "--check"])
    assert info.value.code == 2
    capsys.readouterr()


# -- run: the fallback and the files reach metrics.json and the summary ------------------------


def _scenario_2027(tmp_path: Path) -> Path:
    text = (ROOT / "scenarios" / "smoke.yaml").read_text(encoding="utf-8")
    text = text.replace("start: 2025-03-03", "start: 2027-02-01").replace("days: 14", "days: 7")
    text = text.replace("rulebook: rulebooks/default.yaml", f"rulebook: {RULEBOOK}")
    path = tmp_path / "y2027.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_run_in_2027_needs_a_file_or_the_fallback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = _scenario_2027(tmp_path)
    code, out, err = run_cli(capsys, "run", str(scenario), "--out", str(tmp_path / "r0"), "-q")
    assert code == 2 and "2027" in err and "--beyond-range weekdays" in err
    assert not (tmp_path / "r0").exists()

    code, out, err = run_cli(capsys, "validate", str(scenario))
    assert code == 2 and "--beyond-range weekdays" in err  # the hint names flags validate takes
    code, out, _ = run_cli(capsys, "validate", str(scenario), "--holidays", str(FIXTURE))
    assert code == 0 and out == f"{scenario}: ok (smoke)\n"
    code, out, _ = run_cli(
        capsys, "run", str(scenario), "--out", str(tmp_path / "r1"), "-q", "--beyond-range", "weekdays"
    )
    assert code == 0
    metrics = json.loads((tmp_path / "r1" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["calendar"] == {
        "covered": "2004..2026",
        "beyond_range": "weekdays",
        "years_assumed": [2027],
        "years_from_user_files": [],
        "holiday_files": [],
    }
    summary = (tmp_path / "r1" / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith(
        "> Calendar: holiday arrangements cover 2004..2026; with `beyond_range: weekdays`"
    )
    assert "(years assumed: 2027)" in summary and "(years assumed: 2027)" in out

    code, _, _ = run_cli(
        capsys, "run", str(scenario), "--out", str(tmp_path / "r2"), "-q", "--holidays", str(FIXTURE)
    )
    assert code == 0
    metrics = json.loads((tmp_path / "r2" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["calendar"]["years_assumed"] == [] and metrics["calendar"]["years_from_user_files"] == [
        2027
    ]
    assert metrics["calendar"]["covered"] == "2004..2027"


def test_report_says_the_fallback_was_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from reports.render.report.html import render_markdown
    from reports.render.report.model import build_report

    scenario = _scenario_2027(tmp_path)
    assert main(["run", str(scenario), "--out", str(tmp_path / "r"), "-q", "--beyond-range", "weekdays"]) == 0
    capsys.readouterr()
    md = render_markdown(build_report([tmp_path / "r"], scenarios=(scenario,)))
    assert "with `beyond_range: weekdays` the years outside count as plain Monday-Friday weeks" in md
    assert "(years assumed: 2027)" in md


# -- detect: hand-computed alerts on a hand-written 2027 stream --------------------------------

STREAM = [
    '{"kind":"item.published","hall_id":"H1","item_id":"X1","department_id":"H1-D01","name":"item",'
    '"promised_days":3,"fee_standard":0.0,"event_id":"ref-item-X1","ts":"2027-02-01T00:00:00+08:00"}',
    '{"kind":"case.submitted","hall_id":"H1","case_id":"C1","department_id":"H1-D01","item_id":"X1",'
    '"channel":"window","case_type":"promised","applicant":"A","event_id":"C1.01","ts":"2027-02-04T09:55:00+08:00"}',
    '{"kind":"case.accepted","hall_id":"H1","case_id":"C1","department_id":"H1-D01","item_id":"X1",'
    '"staff_id":"S1","case_type":"promised","window_id":"W1","event_id":"C1.02","ts":"2027-02-04T10:00:00+08:00"}',
    '{"kind":"source.heartbeat","source_id":"H1-approvals","hall_id":"H1","event_id":"hb-1",'
    '"ts":"2027-02-24T17:30:00+08:00"}',
]


@pytest.fixture
def stream(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(STREAM) + "\n", encoding="utf-8")
    # a clock-fault window wide enough for the sparse hand-written stream (not what is tested here)
    (tmp_path / "rb.yaml").write_text("max_future: 100000000\n", encoding="utf-8")
    return path


def _alert_times(path: Path) -> dict[str, str]:
    return {a["rule"]: a["ts"] for a in map(json.loads, path.read_text(encoding="utf-8").splitlines())}


def test_detect_counts_deadlines_on_the_fixture_arrangement(
    stream: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = stream.with_name("alerts.jsonl")
    rb = str(stream.with_name("rb.yaml"))
    code, out, _ = run_cli(capsys, "detect", str(stream), "--rulebook", rb, "--holidays", str(FIXTURE))
    assert code == 0 and "arrangements for 2027 come from user holiday files" in out
    # accepted Thu 02-04 10:00, 3 working days of 7 h: Thu 6 h, Fri 7 h, festival 02-06..02-14,
    # Mon 02-15 7 h, Tue +1 h; warning one day earlier; severe at 8 days (with Saturday 02-20 worked)
    assert _alert_times(out_file) == {
        "deadline.warning": "2027-02-15T10:00:00+08:00",
        "deadline.overdue": "2027-02-16T10:00:00+08:00",
        "deadline.severe": "2027-02-22T10:00:00+08:00",
    }


def test_detect_fallback_is_announced(stream: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rb = str(stream.with_name("rb.yaml"))
    code, out, _ = run_cli(capsys, "detect", str(stream), "--rulebook", rb, "--beyond-range", "weekdays")
    assert code == 0 and "(years assumed: 2027)" in out
    # plain weekdays: Thu 6 h, Fri 7 h, Mon 02-08 7 h, Tue 02-09 +1 h
    assert _alert_times(stream.with_name("alerts.jsonl"))["deadline.overdue"] == "2027-02-09T10:00:00+08:00"


# -- the service: /v1/stats and /metrics -----------------------------------------------------


@pytest.fixture
def service(tmp_path: Path) -> Iterator[object]:
    from starlette.testclient import TestClient

    from engine.service.app import create_app
    from engine.service.auth import TokenSpec
    from engine.service.config import ServiceCalendar, ServiceConfig

    config = ServiceConfig(
        db=str(tmp_path / "log.db"),
        tokens=[TokenSpec(token="admin-token-000000", role="admin")],
        calendar=ServiceCalendar(beyond_range="weekdays"),
    )
    with TestClient(create_app(config)) as client:
        yield client


def test_service_reports_the_fallback(service: object) -> None:
    from starlette.testclient import TestClient

    assert isinstance(service, TestClient)
    headers = {"Authorization": "Bearer admin-token-000000", "Content-Type": "application/json"}
    deadline = time.monotonic() + 5
    while service.get("/readyz").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.01)
    later = STREAM[3].replace("2027-02-24T17:30", "2027-02-04T10:30")  # moves the watermark past acceptance
    body = "[" + ",".join([*STREAM[:3], later]) + "]"
    assert service.post("/v1/events", content=body, headers=headers).status_code == 202
    deadline = time.monotonic() + 5
    stats = service.get("/v1/stats", headers=headers).json()
    while stats["calendar"]["years_assumed"] != [2027] and time.monotonic() < deadline:
        time.sleep(0.02)
        stats = service.get("/v1/stats", headers=headers).json()
    assert stats["calendar"] == {
        "covered": "2004..2026",
        "beyond_range": "weekdays",
        "years_assumed": [2027],
        "years_from_user_files": [],
        "holiday_files": [],
    }
    metrics = service.get("/metrics", headers=headers).text
    assert "supsim_calendar_beyond_range_weekdays 1" in metrics
    assert 'supsim_calendar_year_assumed{year="2027"} 1' in metrics
    assert 'supsim_calendar_covered_year{bound="last"} 2026' in metrics


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "s.yaml"],
        ["validate", "s.yaml"],
        ["detect", "e.jsonl"],
        ["serve"],
        ["sweep", "s.yaml", "--grid", "g.yaml"],
        ["calibrate", "s.yaml", "--targets", "t.yaml"],
        ["plan", "s.yaml", "--target", "wait_p90<=15min", "--vary", "windows=1..2"],
    ],
)
def test_every_counting_command_takes_the_calendar_flags(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from supsim.cli.calendar import calendar_override
    from supsim.cli.main import build_parser

    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.yaml").write_text(FIXTURE.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "b.yaml").write_text(
        "year: 2028\nsource: test\nholidays:\n  - [2028-01-03, 2028-01-03]\n", encoding="utf-8"
    )
    args = build_parser().parse_args(
        [*argv, "--holidays", "a.yaml", "--holidays", "dir", "--beyond-range", "weekdays"]
    )
    assert args.holidays == ["a.yaml", "dir"] and args.beyond_range == "weekdays"
    override = calendar_override(args)
    assert override is not None and [Path(p).name for p in override.holidays] == ["a.yaml", "dir"]
    assert all(Path(p).is_absolute() for p in override.holidays)
    assert calendar_override(build_parser().parse_args(argv)) is None


def test_a_bad_holidays_file_is_named_as_the_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not as the scenario's ``$.calendar.holidays``: the scenario never named that file."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("year: 2026\nsource: test\nholidays:\n  - [2026-13-01, 2026-13-02]\n", encoding="utf-8")
    scenario = ROOT / "scenarios" / "smoke.yaml"
    code, _, err = run_cli(capsys, "run", str(scenario), "--out", str(tmp_path / "r"), "--holidays", str(bad))
    assert code == 2 and not (tmp_path / "r").exists()
    assert err.splitlines()[0] == "supsim: error: --holidays: cannot use the holiday files"
    assert f"{bad}:4:" in err and "2026-13-01 is not a date" in err
    assert "$.calendar" not in err


def test_plan_prints_the_fallback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = _scenario_2027(tmp_path)
    argv = [
        "plan",
        str(scenario),
        "--target",
        "wait_p90<=15min",
        "--vary",
        "windows=5..5",
        "--replications",
        "1",
    ]
    code, out, _ = run_cli(capsys, *argv, "--out", str(tmp_path / "p"), "--beyond-range", "weekdays")
    assert code == 0 and "(years assumed: 2027)" in out


def test_run_says_when_the_rulebooks_calendar_is_not_the_one_it_counts_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``run`` counts on the scenario's calendar; a rulebook's ``calendar:`` section is detect's. Before:
    ignored without a word, so the same rulebook gave 4 alerts under run and 0 under detect."""
    from supsim.experiments.run import run_scenario

    smoke = ROOT / "scenarios" / "smoke.yaml"
    book = tmp_path / "rb.yaml"
    book.write_text("calendar:\n  extra_holidays: [2025-03-04]\n", encoding="utf-8")
    with caplog.at_level("WARNING", logger="supsim.experiments.run"):
        run_scenario(smoke, out_dir=tmp_path / "a", rulebook=RULEBOOK, progress=False)
        assert caplog.records == []
        run_scenario(smoke, out_dir=tmp_path / "b", rulebook=book, progress=False)
    assert [r.getMessage() for r in caplog.records] == [
        f"{book}: `calendar:` is not used by run (the scenario's is); detect uses it"
    ]
