"""The README's table of what `supsim run` writes names exactly the files a run folder holds."""

from __future__ import annotations

import re
from pathlib import Path

from supsim.experiments.run import run_scenario

ROOT = Path(__file__).resolve().parents[1]


def _readme_run_files() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("`supsim run SCENARIO")
    table = text[start:].split("\n\n")[1]  # the table right after the sentence that introduces it
    return set(re.findall(r"^\| `([^`]+)` \|", table, flags=re.MULTILINE))


def test_readme_lists_every_file_of_a_hall_run(tmp_path: Path) -> None:
    run_scenario(ROOT / "scenarios" / "smoke.yaml", out_dir=tmp_path, progress=False)
    written = {p.name for p in tmp_path.iterdir() if p.is_file()}
    assert _readme_run_files() == written
