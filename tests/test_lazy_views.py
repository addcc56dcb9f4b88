"""What a command loads (issue 19, point 4): the views' table holds every projection's name and
version (application/lazy_views.py), the event modules' table the module of every topic and the
stored enums are registered when an event first holds one (application/app.py), and ``whoami``
on a store whose views are caught up imports no projection and no clinical, pharmacy or billing
code."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
from enum import Enum
from pathlib import Path

import pytest
from eventsourcing.persistence import JSONTranscoder, TranscodingNotRegisteredError
from eventsourcing.utils import _topic_cache

import domain
import projections
from application.app import APPLICATION_NAME, EVENT_MODULES, BrigadaApplication, stored_enums
from application.lazy_views import VIEWS, LazyProjection, all_projections
from domain.clinical.encounter import EncounterKind
from domain.vocabulary import DocumentType
from projections.base import InMemoryViews, Projection
from tests.support.installed import run_installed

PASSWORD = "a-long-password-1234"


def test_the_table_names_each_projection_with_its_version_in_catch_up_order() -> None:
    loaded = all_projections(InMemoryViews([]))
    assert [(p.name, p.version) for p in loaded] == [(v.name, v.version) for v in VIEWS]
    assert len({v.name for v in VIEWS}) == len(VIEWS)
    for found in pkgutil.walk_packages(projections.__path__, "projections."):
        importlib.import_module(found.name)
    defined = {cls.name for cls in subclasses(Projection) if "name" in vars(cls)}
    assert defined == {v.name for v in VIEWS}


def subclasses(cls: type) -> set[type[Projection]]:
    found: set[type[Projection]] = set(cls.__subclasses__())
    return found.union(*(subclasses(sub) for sub in found))


def test_a_lazy_projection_imports_its_class_when_more_than_its_name_and_version_is_read() -> None:
    view = next(v for v in VIEWS if v.name == "patients")
    lazy = LazyProjection(view, InMemoryViews([]))
    assert (lazy.name, lazy.version) == ("patients", view.version)
    assert lazy.topics == type(lazy.loaded).topics
    assert lazy.key_fields == ("patient_id",)


def test_a_table_line_whose_version_differs_from_its_class_is_refused_when_it_loads() -> None:
    view = next(v for v in VIEWS if v.name == "patients")
    stale = type(view)(view.name, view.version + 1, view.target)
    with pytest.raises(RuntimeError, match="update the table"):
        _ = LazyProjection(stale, InMemoryViews([])).topics


def test_the_event_modules_table_names_the_module_of_every_topic() -> None:
    for found in pkgutil.walk_packages(domain.__path__, "domain."):
        importlib.import_module(found.name)
    modules: dict[str, set[str]] = {}
    for topic, obj in list(_topic_cache.items()):
        # (a test may define events of its own: only the domain's are the table's business)
        if topic.startswith(f"{APPLICATION_NAME}.") and not obj.__module__.startswith("tests."):
            modules.setdefault(topic.split(".")[1], set()).add(obj.__module__)
    assert {name: {module} for name, module in EVENT_MODULES.items()} == modules


def fresh_transcoder() -> JSONTranscoder:
    app = BrigadaApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    assert isinstance(app.mapper.transcoder, JSONTranscoder)
    return app.mapper.transcoder


def enum_names(transcoder: JSONTranscoder) -> set[str]:
    return {name for name in dict(transcoder.names) if name.startswith("enum:")}


def test_a_stored_enum_is_encoded_and_decoded_by_a_transcoder_that_registered_none_yet() -> None:
    transcoder = fresh_transcoder()
    assert enum_names(transcoder) == set()
    value = {"kind": EncounterKind.OUTPATIENT, "document": DocumentType.CC}
    data = transcoder.encode(value)
    assert b'{"_type_":"enum:EncounterKind","_data_":"outpatient"}' in data
    assert transcoder.decode(data) == value
    assert fresh_transcoder().decode(data) == value  # names first met when decoding


def test_every_stored_enum_is_registered_when_one_is_missing_and_no_other_enum() -> None:
    class NotStored(Enum):
        A = "a"

    transcoder = fresh_transcoder()
    with pytest.raises(TranscodingNotRegisteredError):
        transcoder.encode(NotStored.A)
    with pytest.raises(TranscodingNotRegisteredError):
        transcoder.decode(b'{"_type_":"enum:NotStored","_data_":"a"}')
    assert enum_names(transcoder) == {f"enum:{e.__name__}" for e in stored_enums()}
    assert len(stored_enums()) == len(enum_names(transcoder))  # no two share a name


WHOAMI_MODULES = """
import sys
from cli.main import cli
code = cli.main(["--store", sys.argv[1], "whoami", "--json"], standalone_mode=False)
loaded = sorted(
    m for m in sys.modules
    if m.startswith(("projections.", "application.clinical", "application.pharmacy",
                     "application.billing", "domain.clinical", "domain.pharmacy.prescription",
                     "domain.billing.service_voucher"))
)
print(code, loaded)
"""


@pytest.mark.store
def test_whoami_on_a_caught_up_store_imports_no_projection_and_no_other_contexts_code(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "BRIGADA_HOME": str(tmp_path / "home"), "BRIGADA_CONFIG": str(tmp_path / "none")}
    env.pop("BRIGADA_STORE", None)
    url = f"sqlite:///{tmp_path / 'central.db'}"
    for args in (
        ["init", "--central", "--password-stdin"],
        ["login", "admin", "--password-stdin"],
        ["site", "register", "BRG01", "--name", "Uno", "--action", "patients"],  # its events decoded
    ):
        done = run_installed("--store", url, *args, env=env, cwd=tmp_path, input=f"{PASSWORD}\n")
        assert done.returncode == 0, done.stderr
    done = subprocess.run(
        [sys.executable, "-c", WHOAMI_MODULES, url],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert '"user": "admin"' in done.stdout
    assert done.stdout.splitlines()[-1] == "0 ['projections.base']", done.stdout
