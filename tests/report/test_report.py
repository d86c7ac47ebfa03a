"""The report: HTML rendered in headless Chromium with every table and figure visible; Markdown tables."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import xarray as xr

import microsim
from microsim.report.build import write_report
from tests.engine.test_run import experiment

CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
TARGETS = """targets:
  - {indicator: inpatient_pr_reimbursement_residents, document: 000_55b9bccaf240ac5f.txt, target: 72,
     comparison: at_least, label: Residents' policy-range inpatient reimbursement, label_zh: 居民医保住院报销比例}
  - {indicator: che10, document: assumption (test), target: 1000, comparison: at_most, scenarios: [baseline]}
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> tuple[Path, xr.Dataset]:
    tmp = tmp_path_factory.mktemp("report")
    exp = experiment(tmp, 10_000, households=10_000)
    exp.write_text(exp.read_text() + TARGETS, encoding="utf-8")
    ds = microsim.run(exp)
    return tmp / "out", xr.load_dataset(tmp / "out" / "results.nc")


def test_html_report_renders_in_headless_chromium_with_tables_and_figures(results):
    folder, ds = results
    (html_path,) = write_report(ds, folder, "zh", ("html",))
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1280,2000"):
        opts.add_argument(flag)
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        driver.get(html_path.resolve().as_uri())
        assert driver.execute_script("return document.documentElement.lang") == "zh-CN"
        tables = driver.find_elements("tag name", "table")
        # Headline, targets, cited parameters, indicator definitions.
        assert len(tables) == 4
        assert all(t.is_displayed() and t.size["height"] > 0 for t in tables)
        headline_rows = tables[0].find_elements("css selector", "tbody tr")
        assert len(headline_rows) >= 5
        images = driver.find_elements("tag name", "img")
        # OOP by quintile, protection by scenario, payers by quintile, funds, concentration curves.
        assert [i.find_element("xpath", "..").get_attribute("id") for i in images] == [
            "fig-oop_by_quintile", "fig-protection_by_scenario", "fig-layers_by_quintile",
            "fig-funds_by_scenario", "fig-concentration_curves"]
        for img in images:
            assert img.is_displayed()
            assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 300
        text = driver.find_element("tag name", "body").text
        assert "主要结果" in text and "政策文件目标" in text and "000_55b9bccaf240ac5f.txt" in text
    finally:
        driver.quit()


def test_markdown_report_tables(results):
    folder, ds = results
    (md_path,) = write_report(ds, folder, "en", ("md",))
    text = md_path.read_text(encoding="utf-8")
    tables = re.findall(r"((?:^\|.*\|\n)+)", text, flags=re.M)
    assert len(tables) == 4
    for t in tables:
        lines = t.strip().splitlines()
        widths = {line.count(" | ") for line in lines if not line.startswith("|---")}
        assert len(widths) == 1, "every row has as many cells as the header"
        assert re.match(r"^\|(---:?\|)+$", lines[1])
    headline = tables[0].strip().splitlines()
    assert headline[0].startswith("| Indicator | Unit | National baseline 2023 |")
    # Targets: one row per scenario for the first target, one for the second (baseline only).
    targets = tables[1].strip().splitlines()[2:]
    assert len(targets) == 3
    assert targets[-1].endswith("| yes |")           # CHE at most 1000% is always met
    for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        assert (folder / link).stat().st_size > 10_000
