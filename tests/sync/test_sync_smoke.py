from __future__ import annotations

from pathlib import Path

from domain.sites.site import SiteMode
from tests.support.sites import JOSE
from tests.support.sync import provisioned_field


def test_smoke(open_store, store_url: str, tmp_path: Path) -> None:
    field = provisioned_field(open_store, store_url, tmp_path)
    outcome = field.sync()
    assert outcome.plan.new_mode is SiteMode.ON_MISSION
    assert field.laptop.sites.mode(field.nurse()).mode is SiteMode.ON_MISSION
    nurse = field.nurse()
    visit = field.laptop.encounters.open(nurse, {"chart_number": "CEN-1", "kind": "outpatient"})
    field.laptop.encounters.set_diagnosis(nurse, visit.number, {"code": "I10X"})
    field.laptop.encounters.finalize(nurse, visit.number)
    field.laptop.patients.register(nurse, {**JOSE, "document_number": "55512345"})
    out2 = field.sync()
    print(out2)
    assert field.laptop.sites.mode(field.nurse()).mode is SiteMode.ON_SITE
    out3 = field.sync()
    print(out3)
    out4 = field.sync()
    print(out4)
    print(field.laptop.sync.history(field.nurse()))
