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
from tests.case_streams import CaseScript
from tests.network_streams import END, hall_stream, network_stream
from tests.service_process import Server, serving

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


XSS = "<img src=x onerror=document.title='pwned'>"


def _chromium(url: str, shot: Path | None = None, size: str = "1280,900") -> str:
    assert CHROMIUM is not None
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000"]
    if shot is not None:
        subprocess.run([*common, f"--screenshot={shot}", f"--window-size={size}", url],
                       capture_output=True, timeout=60)  # fmt: skip
    return subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=60).stdout


@pytest.mark.slow  # a service process and headless Chromium
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (Debian package `chromium`)")
def test_centre_page_drills_into_a_network_and_escapes_what_it_shows(tmp_path: Path) -> None:
    cfg = tmp_path / "service.yaml"
    tokens = [{"token": TOKEN, "role": "supervisor"}, {"token": ADMIN, "role": "admin"}]
    cfg.write_text(yaml.safe_dump({"db": str(tmp_path / "log.db"), "tokens": tokens}))
    server = Server(cfg, args=["--network", str(ROOT / "scenarios" / "county_network.yaml")])
    try:
        server.start()
        stream = network_stream() + hall_stream(XSS, [CaseScript(case_id="X", closed=None)], END)
        headers = {"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"}
        for i in range(0, len(stream), 500):
            payload = b"[" + b",".join(ev.encode_event(e) for e in stream[i : i + 500]) + b"]"
            r = httpx.post(server.url + "/v1/events", content=payload, headers=headers, timeout=10)
            assert r.status_code == 202
        top = _chromium(f"{server.url}/#token={TOKEN}")
        shot = tmp_path / "county.png"
        county = _chromium(f"{server.url}/#token={TOKEN}&unit=HY", shot, "1280,1300")
    finally:
        server.kill()
    assert "live ·" in top and "live ·" in county
    # the root: the county and the hostile hall id, shown as text, never as markup
    assert "惠阳区 (HY)" in top and "&lt;img src=x onerror=document.title='pwned'&gt;" in top
    assert "<img" not in top and "<title>电子监察中心" in top  # the title was not rewritten
    # the county: its breadcrumbs, its own hall and townships by name, the trend, silent halls
    assert ">county_network</button>" in county and "新圩镇 (HY_T03)" in county and "own hall" in county
    assert county.count("<rect") == 24 + 14 and "2025-03-07: 4" in county  # hourly and daily bars
    assert "never" in county and "13 silent &gt; 60 min" in county  # T03, and T04-T15 never heard from
    assert shot.exists() and shot.stat().st_size > 30_000
