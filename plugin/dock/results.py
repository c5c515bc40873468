"""The dock's results panel: the run's trust numbers, a chart of class areas and the explanation, to save or copy."""

from __future__ import annotations

from pathlib import Path

from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QTextDocument
from qgis.PyQt.QtWidgets import (
    QApplication,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..i18n import tr
from ..widgets import ClassAreaChart

MARKDOWN = QTextDocument.MarkdownFeatures(QTextDocument.MarkdownDialectGitHub | QTextDocument.MarkdownNoHTML)


class ResultsPanel(QGroupBox):
    """Summary line, class-area chart and explanation of the last run; Save… and Copy."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(tr("Explanation"), parent)
        self.report: dict = {}
        self.explanation = ""
        self.summary_label = QLabel("")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextFormat(Qt.TextFormat.PlainText)
        self.chart = ClassAreaChart()
        self.chart.setToolTip(tr("Area of each class in the map, in hectares and percent of the valid area."))
        self.explanation_view = QTextBrowser()
        self.explanation_view.setPlaceholderText(tr("Run a classification to read what the map shows."))
        self.explanation_view.setToolTip(
            tr("What the map shows, written by a local language model; every number is checked against the report.")
        )
        self.save_button = QPushButton(tr("Save…"))
        self.save_button.setToolTip(tr("Save the explanation and its summary line as a Markdown file."))
        self.save_button.clicked.connect(self._on_save_clicked)
        self.copy_button = QPushButton(tr("Copy"))
        self.copy_button.setToolTip(tr("Copy the explanation to the clipboard."))
        self.copy_button.clicked.connect(self.copy_explanation)
        save_copy = QHBoxLayout()
        for button in (self.save_button, self.copy_button):
            button.setEnabled(False)
            save_copy.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.chart)
        layout.addWidget(self.explanation_view)
        layout.addLayout(save_copy)

    def show_run(self, report: dict, explanation: str) -> None:
        """Show a finished run: ``report`` is its JSON report, ``explanation`` its Markdown (may be empty)."""
        self.report = report
        self.set_explanation(explanation)
        self.chart.set_classes(report.get("classes", []))
        self.summary_label.setText(report_summary(report))

    def set_explanation(self, text: str) -> None:
        """Show the explanation's Markdown; HTML in it is shown as text, never rendered."""
        self.explanation = text
        self.explanation_view.document().setMarkdown(text, MARKDOWN)
        self.save_button.setEnabled(bool(text))
        self.copy_button.setEnabled(bool(text))

    def _on_save_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, tr("Save explanation"), "explanation.md", tr("Markdown (*.md *.txt)")
        )
        if path:
            self.save_explanation(path)

    def save_explanation(self, path: str) -> None:
        """Write the explanation and the report's summary line to ``path``."""
        Path(path).write_text(f"{self.explanation}\n\n{report_summary(self.report)}\n", encoding="utf-8")

    def copy_explanation(self) -> None:
        QApplication.clipboard().setText(self.explanation)


def report_summary(report: dict) -> str:
    """One line of the report's trust numbers: device, valid, low-confidence and cloud shares."""
    parts = [tr("Device: {device}").format(device=report.get("device", "?"))]
    for key, label in (
        ("valid_share", tr("valid {share:.1f} %")),
        ("mean_confidence", tr("mean confidence {share:.1f} %")),
        ("low_confidence_share", tr("low confidence {share:.1f} %")),
        ("cloud_share", tr("cloud in the optical input {share:.1f} %")),
    ):
        value = report.get(key)
        if value is not None:
            parts.append(label.format(share=100 * float(value)))
    return " · ".join(parts)
