"""Translations: every user-visible string goes through tr(), the template lists them all, and a translation loads."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree

import pytest
from qgis.PyQt.QtCore import QCoreApplication, QTranslator

from landfuse.plugin.algorithms import all_algorithms
from landfuse.plugin.i18n import CONTEXT, tr
from tests.paths import REPO_ROOT

spec = importlib.util.spec_from_file_location("update_template", REPO_ROOT / "i18n" / "update_template.py")
update_template = importlib.util.module_from_spec(spec)
spec.loader.exec_module(update_template)


def test_every_tr_call_passes_one_literal_string():
    assert update_template.untranslatable_calls() == []


def test_the_template_lists_every_translatable_string():
    """Out of date? Run ``python i18n/update_template.py``."""
    assert update_template.TEMPLATE.read_text(encoding="utf-8") == update_template.template(
        update_template.source_strings()
    )
    root = ElementTree.parse(update_template.TEMPLATE).getroot()
    sources = {message.findtext("source") for message in root.iter("message")}
    assert root.find("context/name").text == CONTEXT
    assert {"Run", "Set up the backend…", "Add model from URL or file…", "Get Phi-3…"} <= sources
    assert {algorithm.DISPLAY_NAME for algorithm in all_algorithms()} <= sources  # classify's too


@pytest.mark.skipif(shutil.which("lrelease") is None, reason="needs Qt's lrelease")
def test_a_translation_made_from_the_template_is_used(tmp_path):
    text = update_template.TEMPLATE.read_text(encoding="utf-8")
    german = text.replace('language="en"', 'language="de"').replace(
        '<source>Run</source>\n        <translation type="unfinished"></translation>',
        "<source>Run</source>\n        <translation>Ausführen</translation>",
    )
    (tmp_path / "landfuse_de.ts").write_text(german, encoding="utf-8")
    subprocess.run(["lrelease", str(tmp_path / "landfuse_de.ts")], check=True, capture_output=True)
    translator = QTranslator()
    assert translator.load(str(tmp_path / "landfuse_de.qm"))
    QCoreApplication.installTranslator(translator)
    try:
        assert tr("Run") == "Ausführen" and tr("Cancel") == "Cancel"
    finally:
        QCoreApplication.removeTranslator(translator)
    assert tr("Run") == "Run"


def test_algorithms_have_search_tags():
    tags = {algorithm.name(): algorithm.tags() for algorithm in all_algorithms()}
    assert {"classify", "batch", "explain", "evaluate"} <= set(tags)
    assert all("land cover" in found and len(found) > 4 for found in tags.values())
    assert "Sentinel-1" in tags["classify"] and "confusion matrix" in tags["evaluate"] and "Phi-3" in tags["explain"]
