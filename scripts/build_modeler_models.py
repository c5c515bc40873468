"""Write the graphical-modeler models shipped in resources/models/ (run when the algorithms' parameters change).

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/build_modeler_models.py

- ``classify_and_explain.model3``: Classify land cover -> Explain a land-cover report.
- ``classify_and_evaluate.model3``: Classify land cover -> Evaluate a land-cover map against reference labels.
"""

from __future__ import annotations

import sys
from pathlib import Path

from qgis.core import (
    QgsApplication,
    QgsProcessing,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterRasterLayer,
)
from qgis.PyQt.QtCore import QPointF

ROOT = Path(__file__).resolve().parent.parent
GROUP = "LandFuse workflows"


def start_qgis() -> QgsApplication:
    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    from landfuse.plugin.provider import LandFuseProvider

    LandFuseProvider().register()
    return app


def add_input(model: QgsProcessingModelAlgorithm, definition, x: float) -> None:
    component = QgsProcessingModelParameter(definition.name())
    component.setPosition(QPointF(x, 60))
    model.addModelParameter(definition, component)


def child(algorithm_id: str, child_id: str, description: str, x: float, y: float, sources: dict, outputs: dict):
    """A child step: ``sources`` maps parameter -> source; ``outputs`` maps output -> model output name.

    Model outputs default to temporary files, so every one may be left out (batch, qgis_process).
    """
    step = QgsProcessingModelChildAlgorithm(algorithm_id)
    step.setChildId(child_id)
    step.setDescription(description)
    step.setPosition(QPointF(x, y))
    for name, source in sources.items():
        step.addParameterSources(name, [source])
    model_outputs = {}
    for name, label in outputs.items():
        output = QgsProcessingModelOutput(label)
        output.setChildId(child_id)
        output.setChildOutputName(name)
        output.setDefaultValue(QgsProcessing.TEMPORARY_OUTPUT)
        output.setPosition(QPointF(x + 200, y + 60 * (len(model_outputs) + 1)))
        model_outputs[label] = output
    step.setModelOutputs(model_outputs)
    return step


def classify_step():
    param = QgsProcessingModelChildParameterSource.fromModelParameter
    skip = QgsProcessingModelChildParameterSource.fromStaticValue(None)
    return child(
        "landfuse:classify",
        "classify",
        "Classify land cover",
        300,
        200,
        {
            "OPTICAL": param("optical"),
            "SAR": param("sar"),
            "MODEL": param("model"),
            "MODEL_FILE": param("model_file"),
            "EXPLANATION": skip,
        },
        {"OUTPUT": "Land cover", "CONFIDENCE": "Confidence", "REPORT": "Report"},
    )


def base_model(name: str, title: str, help_text: str) -> QgsProcessingModelAlgorithm:
    from landfuse.plugin.algorithms.classify import DEMO_MODELS

    model = QgsProcessingModelAlgorithm(title, GROUP, "landfuseworkflows")
    model.setName(title)
    add_input(model, QgsProcessingParameterRasterLayer("optical", "Optical layer"), 100)
    add_input(model, QgsProcessingParameterRasterLayer("sar", "SAR layer"), 300)
    add_input(
        model, QgsProcessingParameterEnum("model", "Model", list(DEMO_MODELS), False, DEMO_MODELS[0], False, True), 500
    )
    model_file = QgsProcessingParameterFile(
        "model_file", "Model file (overrides Model)", QgsProcessingParameterFile.File, optional=True
    )
    model_file.setFileFilter("LandFuse models (*.onnx *.pt)")
    add_input(model, model_file, 700)
    model.setHelpContent({"ALG_DESC": help_text, "ALG_CREATOR": "LandFuse"})
    return model


def classify_and_explain() -> QgsProcessingModelAlgorithm:
    model = base_model(
        "classify_and_explain",
        "Classify and explain",
        "Classifies land cover from an optical and a SAR layer, then writes a plain-language explanation.",
    )
    model.addChildAlgorithm(classify_step())
    explain = child(
        "landfuse:explain",
        "explain",
        "Explain the report",
        600,
        350,
        {"REPORT": QgsProcessingModelChildParameterSource.fromChildOutput("classify", "REPORT")},
        {"OUTPUT": "Explanation"},
    )
    model.addChildAlgorithm(explain)
    return model


def classify_and_evaluate() -> QgsProcessingModelAlgorithm:
    model = base_model(
        "classify_and_evaluate",
        "Classify and evaluate",
        "Classifies land cover from an optical and a SAR layer, then scores the map against reference labels.",
    )
    add_input(model, QgsProcessingParameterRasterLayer("reference", "Reference labels"), 900)
    model.addChildAlgorithm(classify_step())
    evaluate = child(
        "landfuse:evaluate",
        "evaluate",
        "Evaluate against the reference",
        600,
        350,
        {
            "CLASS_MAP": QgsProcessingModelChildParameterSource.fromChildOutput("classify", "OUTPUT"),
            "REFERENCE": QgsProcessingModelChildParameterSource.fromModelParameter("reference"),
        },
        {"OUTPUT": "Metrics", "PLOT": "Confusion matrix"},
    )
    model.addChildAlgorithm(evaluate)
    return model


def main() -> int:
    app = start_qgis()
    folder = ROOT / "resources" / "models"
    folder.mkdir(parents=True, exist_ok=True)
    for name, build in (
        ("classify_and_explain", classify_and_explain),
        ("classify_and_evaluate", classify_and_evaluate),
    ):
        model = build()
        model.updateDestinationParameters()
        path = folder / f"{name}.model3"
        if not model.toFile(str(path)):
            raise SystemExit(f"could not write {path}")
        print(f"wrote {path}")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
