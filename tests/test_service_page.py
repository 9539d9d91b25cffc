"""The supervision-centre page renders live data in headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml

from engine.contract import events as ev
from sim.common.scenario import load_scenario
from sim.hall.world import simulate
from tests.service_process import serving

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "page-supervisor-token-00"
ADMIN = "page-admin-token-000000"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow  # a service process and headless Chromium
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (Debian package `chromium`)")
def test_centre_page_shows_halls_and_alerts(tmp_path: Path) -> None:
    cfg = tmp_path / "service.yaml"
    tokens = [{"token": TOKEN, "role": "supervisor"}, {"token": ADMIN, "role": "admin"}]
    cfg.write_text(yaml.safe_dump({"db": str(tmp_path / "log.db"), "tokens": tokens}))
    with serving(cfg) as url:
        stream = simulate(load_scenario(ROOT / "scenarios" / "smoke.yaml")).events[:1500]
        headers = {"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"}
        for i in range(0, len(stream), 500):
            payload = b"[" + b",".join(ev.encode_event(e) for e in stream[i : i + 500]) + b"]"
            assert (
                httpx.post(url + "/v1/events", content=payload, headers=headers, timeout=10).status_code
                == 202
            )
        shot = tmp_path / "centre.png"
        common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=4000"]
        page = f"{url}/#token={TOKEN}"  # a fragment: never sent to the server
        dom = subprocess.run([*common, "--dump-dom", page], capture_output=True, text=True, timeout=60).stdout
        subprocess.run([*common, f"--screenshot={shot}", "--window-size=1280,900", page],
                       capture_output=True, timeout=60)  # fmt: skip
    assert "live ·" in dom  # the status line after a successful refresh
    assert "H1-D01" in dom  # a department row on the board
    assert "case:H1-" in dom  # a recent alert
    assert shot.exists() and shot.stat().st_size > 10_000
