"""Holiday arrangements as data: the shipped years, user files, local amendments, the fallback.

The 2027 arrangement used here is the hand-written test fixture ``tests/fixtures/holidays/2027.yaml``
(New Year's Day, a Spring Festival week 02-06..02-14, make-up Saturdays 01-30 and 02-20), not
the official one; every expected deadline below is worked out by hand in the comments, on the
default periods 09:00-12:00 and 13:30-17:30 (7 working hours a day).
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.contract.calendar import SHANGHAI, CalendarRangeError, WorkingCalendar
from engine.contract.holidays import (
    HolidayError,
    load_holiday_table,
    parse_arrangement,
    shipped_arrangements,
)
from engine.rules.rulebook import load_rulebook
from engine.service.config import load_config
from sim.common.scenario import load_scenario

H = 3600
DAY = 7 * H
ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "holidays" / "2027.yaml"
SHIPPED = ROOT / "engine" / "contract" / "data" / "holidays"


def sh(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SHANGHAI)


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# -- the shipped years ---------------------------------------------------------------------

# sha256 of the sorted ISO dates of the table the YAML files replaced (cn_calendar.json,
# chinesecalendar 1.11.0, 2004-2026), one date per line: the conversion changed no day.
OLD_HOLIDAYS = (621, "63226a138307502faa2ce9f399ac3309c24576cf9b8861bb6273a82c64b3d51c")
OLD_WORKDAYS = (150, "95b1485049d156a77ba0651b5741fb52d58c3d05498bf247b32fdea53a5d8e84")


def _digest(days: frozenset[date]) -> tuple[int, str]:
    text = "\n".join(sorted(d.isoformat() for d in days))
    return len(days), hashlib.sha256(text.encode()).hexdigest()


def test_shipped_files_equal_the_table_they_replaced() -> None:
    table = load_holiday_table()
    assert (table.first_year, table.last_year) == (2004, 2026)
    assert _digest(table.holidays) == OLD_HOLIDAYS
    assert _digest(table.workdays) == OLD_WORKDAYS


def test_shipped_files_match_chinesecalendar_year_by_year() -> None:
    cc = pytest.importorskip("chinese_calendar")
    for arr in shipped_arrangements():
        days_off = set(arr.days_off())
        assert days_off == {d for d in cc.holidays if d.year == arr.year}, arr.year
        assert set(arr.workdays) == {d for d in cc.workdays if d.year == arr.year}, arr.year


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2023, 12, 30), False),  # a Saturday off under the 2024 notice, filed under 2023
        (date(2024, 2, 4), True),  # Sunday make-up day before the Spring Festival
        (date(2024, 2, 16), False),  # Friday inside the Spring Festival break
        (date(2015, 9, 3), False),  # the 70th anniversary day off (a separate notice)
        (date(2015, 9, 6), True),  # ...and its make-up Sunday
        (date(2019, 5, 3), False),  # Labour Day as adjusted in 2019
        (date(2019, 5, 5), True),
        (date(2020, 1, 31), False),  # the Spring Festival extension of 2020
        (date(2020, 2, 1), False),  # a Saturday no longer worked after the extension
        (date(2026, 2, 23), False),  # Monday, last day of the 2026 Spring Festival
        (date(2026, 2, 28), True),  # Saturday make-up day
        (date(2026, 3, 2), True),
    ],
)
def test_hand_picked_days(day: date, working: bool) -> None:
    assert WorkingCalendar.china().is_working_day(day) is working


def test_every_shipped_file_is_named_for_its_year_and_cites_its_notice() -> None:
    files = sorted(SHIPPED.glob("*.yaml"))
    assert [f.stem for f in files] == [str(y) for y in range(2004, 2027)]
    for f in files:
        arr, problems = parse_arrangement(f.read_text(encoding="utf-8"), f.name)
        assert problems == [] and arr is not None
        assert arr.year == int(f.stem) and not arr.amends
        assert arr.source.startswith(f"国务院办公厅关于{arr.year}年部分节假日安排的通知")
        if any(d.month == 12 and d.day >= 29 for d in (*arr.days_off(), *arr.workdays)):
            assert f"per the {arr.year + 1} notice" in arr.source  # December days of the next notice


# -- the 2027 fixture: deadlines worked by hand ----------------------------------------------


@pytest.fixture(scope="module")
def cal27() -> WorkingCalendar:
    return WorkingCalendar.china(holiday_files=[FIXTURE])


def test_fixture_extends_the_covered_range(cal27: WorkingCalendar) -> None:
    assert (cal27.covered_first, cal27.covered_last) == (date(2004, 1, 1), date(2027, 12, 31))
    assert cal27.coverage() == {
        "covered": "2004..2027",
        "beyond_range": "error",
        "years_assumed": [],
        "years_from_user_files": [2027],
        "holiday_files": [{"name": "2027.yaml", "sha256": hashlib.sha256(FIXTURE.read_bytes()).hexdigest()}],
    }
    assert not cal27.is_working_day(date(2027, 1, 1))  # Friday, New Year's Day
    assert not cal27.is_working_day(date(2027, 2, 10))  # Wednesday in the Spring Festival week
    assert cal27.is_working_day(date(2027, 1, 30)) and cal27.is_working_day(date(2027, 2, 20))  # Saturdays


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # Thu 02-04 10:00: Thu 6 h, Fri 7 h (13); 02-06..02-14 off; Mon 02-15 7 h (20); Tue +1 h
        (sh(2027, 2, 4, 10), 3, sh(2027, 2, 16, 10)),
        # two days: Thu 6 h, Fri 7 h (13), Mon 02-15 +1 h
        (sh(2027, 2, 4, 10), 2, sh(2027, 2, 15, 10)),
        # eight days (the severe threshold of a 3-day item): 56 h = 02-16 10:00 (21) + rest of
        # Tue 6 (27), Wed 34, Thu 41, Fri 48, Sat 02-20 make-up 55, Mon 02-22 +1 h
        (sh(2027, 2, 4, 10), 8, sh(2027, 2, 22, 10)),
        # Fri 02-19 09:00 + 1.5 days: Fri 7 h, then Saturday 02-20 (make-up) 09:00-12:00 and 13:30-14:00
        (sh(2027, 2, 19, 9), 1.5, sh(2027, 2, 20, 14)),
        # Fri 01-29 14:30 + 1 day: Fri 3 h, Sat 01-30 (make-up) 3 h to 12:00, 1 h after 13:30
        (sh(2027, 1, 29, 14, 30), 1, sh(2027, 1, 30, 14, 30)),
        # a deadline straddling the end of the shipped years: Wed 2026-12-30 10:00 + 3 days:
        # Wed 6 h, Thu 12-31 7 h (13); Fri 01-01 off, weekend; Mon 01-04 7 h (20); Tue +1 h
        (sh(2026, 12, 30, 10), 3, sh(2027, 1, 5, 10)),
    ],
)
def test_hand_computed_deadlines(
    cal27: WorkingCalendar, start: datetime, days: float, expected: datetime
) -> None:
    assert cal27.deadline(start, days * DAY) == expected
    assert cal27.working_seconds(start, expected) == days * DAY


def test_without_the_file_2027_is_an_error_naming_the_year_and_the_way_out() -> None:
    cal = WorkingCalendar.china()
    with pytest.raises(CalendarRangeError) as info:
        cal.to_index(sh(2027, 2, 4, 10))
    message = str(info.value)
    assert "2027-02-04" in message and "no holiday arrangement for 2027" in message
    assert "--holidays FILE" in message and "--beyond-range weekdays" in message
    with pytest.raises(CalendarRangeError, match="2027"):  # the straddling deadline
        cal.deadline(sh(2026, 12, 30, 10), 3 * DAY)
    with pytest.raises(CalendarRangeError, match="2027"):
        cal.deadline_many(np.array([cal.to_index(sh(2026, 12, 31, 10))]), np.array([3 * DAY]))


# -- the weekdays fallback -------------------------------------------------------------------


def test_fallback_counts_plain_weekdays_and_records_the_years() -> None:
    cal = WorkingCalendar.china(beyond_range="weekdays")
    assert cal.years_assumed == ()
    assert cal.coverage()["years_assumed"] == []
    # Fri 2027-01-01 counts as a working day: Wed 6 h, Thu 7 h (13), Fri 7 h (20), Mon 01-04 +1 h
    assert cal.deadline(sh(2026, 12, 30, 10), 3 * DAY) == sh(2027, 1, 4, 10)
    assert cal.years_assumed == (2027,)
    cal.is_working_day(date(2029, 6, 1))
    assert cal.years_assumed == (2027, 2028, 2029)  # index differences span the years between
    cal.to_index(sh(2002, 3, 4, 10))
    assert cal.years_assumed == (2002, 2003, 2027, 2028, 2029)
    assert cal.coverage() == {
        "covered": "2004..2026",
        "beyond_range": "weekdays",
        "years_assumed": [2002, 2003, 2027, 2028, 2029],
        "years_from_user_files": [],
        "holiday_files": [],
    }


def test_fallback_batch_paths_record_years_too() -> None:
    cal = WorkingCalendar.china(beyond_range="weekdays")
    cal.to_index_many(np.array([sh(2026, 6, 1).timestamp(), sh(2030, 6, 3, 10).timestamp()]))
    assert cal.years_assumed == (2027, 2028, 2029, 2030)
    cal2 = WorkingCalendar.china(beyond_range="weekdays")
    x = cal2.to_index(sh(2026, 12, 31, 10))
    cal2.from_index_many(np.array([x + 10 * DAY]))
    assert cal2.years_assumed == (2027,)


def test_fallback_has_a_bounded_reach() -> None:
    cal = WorkingCalendar.china(beyond_range="weekdays")
    # Asia/Shanghai kept daylight saving until 1991: the fallback starts where one offset holds
    assert (cal.first, cal.last) == (date(1992, 1, 1), date(2076, 12, 31))
    with pytest.raises(CalendarRangeError, match="2080-01-01 is outside"):
        cal.to_index(sh(2080, 1, 1, 10))
    assert cal.years_assumed == ()  # a refused instant is not counted as assumed


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(2004, 1, 1), max_value=datetime(2026, 12, 31, 23, 59)),
    st.integers(0, 40 * 86400),
)
def test_fallback_changes_nothing_inside_the_covered_years(a: datetime, gap: int) -> None:
    plain, fallback = WorkingCalendar.china(), WorkingCalendar.china(beyond_range="weekdays")
    t0 = a.replace(microsecond=0, tzinfo=SHANGHAI)  # whole seconds: where the index is exact
    t1 = min(t0 + timedelta(seconds=gap), sh(2026, 12, 31, 23, 59))
    assert fallback.working_seconds(t0, t1) == plain.working_seconds(t0, t1)
    assert fallback.is_working_time(t0) == plain.is_working_time(t0)
    assert fallback.years_assumed == ()


# -- user files, overrides, local amendments ----------------------------------------------------

ONE_DAY_2026 = """year: 2026
source: "a corrected 2026 arrangement (test)"
holidays:
  - [2026-03-02, 2026-03-02]
workdays: []
"""

LOCAL_2026 = """year: 2026
source: "a province's extra day off and a day its halls open (test)"
amends: true
holidays:
  - [2026-03-09, 2026-03-09]
workdays:
  - 2026-10-05
"""


def test_a_user_file_replaces_the_shipped_year(tmp_path: Path) -> None:
    cal = WorkingCalendar.china(holiday_files=[write(tmp_path, "fix.yaml", ONE_DAY_2026)])
    assert not cal.is_working_day(date(2026, 3, 2))
    assert cal.is_working_day(date(2026, 10, 1))  # the shipped National Day holiday is gone
    assert cal.is_working_day(date(2025, 10, 1)) is False  # other years untouched


def test_a_local_amendment_adds_to_the_year(tmp_path: Path) -> None:
    cal = WorkingCalendar.china(holiday_files=[write(tmp_path, "guangdong.yaml", LOCAL_2026)])
    assert not cal.is_working_day(date(2026, 3, 9))  # the province's extra day off
    assert cal.is_working_day(date(2026, 10, 5))  # a national holiday its halls work
    assert not cal.is_working_day(date(2026, 10, 6))  # the rest of the national arrangement stays
    table = load_holiday_table([tmp_path])
    assert table.user_years() == [2026] and next(p.origin for p in table.origins[2026]) == "shipped"


def test_combining_errors_name_the_year_and_the_files(tmp_path: Path) -> None:
    y28 = write(tmp_path / "a", "2028.yaml", 'year: 2028\nsource: "test"\n')
    with pytest.raises(HolidayError, match=r"no arrangement for 2027 between 2004 and 2028"):
        load_holiday_table([y28])
    local_27 = write(tmp_path / "b", "local.yaml", 'year: 2027\nsource: "test"\namends: true\n')
    with pytest.raises(HolidayError, match=r"local\.yaml: amends 2027, which has no arrangement"):
        load_holiday_table([local_27])
    twice = write(tmp_path / "c", "again.yaml", FIXTURE.read_text(encoding="utf-8"))
    with pytest.raises(HolidayError, match=r"again\.yaml: a second whole arrangement for 2027"):
        load_holiday_table([FIXTURE, twice])
    (tmp_path / "empty").mkdir()
    with pytest.raises(HolidayError, match="holds no"):
        load_holiday_table([tmp_path / "empty"])
    with pytest.raises(HolidayError, match="cannot read"):
        load_holiday_table([tmp_path / "missing.yaml"])


def test_a_bad_file_names_its_line(tmp_path: Path) -> None:
    bad = write(
        tmp_path,
        "2027.yaml",
        'year: 2027\nsource: "x"\nholidays:\n  - [2027-01-01, 2027-01-01]\n  - [2027-02-06, 2028-02-14]\n',
    )
    with pytest.raises(HolidayError) as info:
        WorkingCalendar.china(holiday_files=[bad])
    assert f"{bad}:5: holiday 2028-02-14 is not in 2027" in str(info.value)


# -- paths in files are relative to the file that names them -----------------------------------


def test_scenario_rulebook_and_service_config_resolve_holiday_paths(tmp_path: Path) -> None:
    folder = tmp_path / "conf"
    write(folder / "holidays", "2027.yaml", FIXTURE.read_text(encoding="utf-8"))
    smoke = (ROOT / "scenarios" / "smoke.yaml").read_text(encoding="utf-8")
    smoke = (
        smoke.replace("start: 2025-03-03", "start: 2027-03-01")
        .replace("  holidays: china", "  holidays: [holidays/2027.yaml]")
        .replace("rulebook: rulebooks/default.yaml", f"rulebook: {ROOT / 'scenarios/rulebooks/default.yaml'}")
    )
    scenario = load_scenario(write(folder, "s.yaml", smoke))
    assert scenario.build_calendar().covered_last == date(2027, 12, 31)

    rb = load_rulebook(
        write(folder, "rb.yaml", "calendar:\n  holidays: [holidays]\n  beyond_range: weekdays\n")
    )
    cal = rb.build_calendar()
    assert cal.covered_last == date(2027, 12, 31) and cal.beyond_range == "weekdays"

    config = load_config(write(folder, "service.yaml", "calendar: {holidays: [holidays/2027.yaml]}\n"))
    assert config.calendar.holidays == [str(folder / "holidays/2027.yaml")]
    assert config.calendar.beyond_range is None


def test_a_scenario_beyond_the_covered_years_is_refused_with_the_way_out(tmp_path: Path) -> None:
    from sim.common.scenario import ScenarioError

    smoke = (ROOT / "scenarios" / "smoke.yaml").read_text(encoding="utf-8")
    path = write(tmp_path, "late.yaml", smoke.replace("start: 2025-03-03", "start: 2026-12-24"))
    with pytest.raises(
        ScenarioError, match=r"`\$\.days` - the run ends on 2027-01-07.*--beyond-range weekdays"
    ):
        load_scenario(path)


def test_time_of_day_periods_still_apply_on_make_up_days(cal27: WorkingCalendar) -> None:
    assert cal27.is_working_time(sh(2027, 2, 20, 10)) and not cal27.is_working_time(sh(2027, 2, 20, 12, 30))
    assert cal27.next_working_start(datetime.combine(date(2027, 2, 13), time(10), SHANGHAI)) == sh(
        2027, 2, 15, 9
    )


@pytest.mark.parametrize(
    ("bad", "line", "reason"),
    [("2012-13-07", 4, "month must be in 1..12"), ("2012-02-30", 4, "day is out of range for month")],
)
def test_a_date_that_does_not_exist_names_the_file_and_line(bad: str, line: int, reason: str) -> None:
    """YAML reads a date-shaped value as a date; an impossible one was a traceback."""
    text = f"year: 2012\nsource: test\nholidays:\n  - [2012-10-01, {bad}]\nworkdays: []\n"
    arr, problems = parse_arrangement(text, "h.yaml")
    assert arr is None
    assert [(p.line, p.message) for p in problems] == [(line, f"{bad} is not a date ({reason})")]
