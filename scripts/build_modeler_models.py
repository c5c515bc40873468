"""Write the graphical-modeler models shipped in resources/models/ (run when the algorithms' parameters change).

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/build_modeler_models.py

- ``classify_and_explain.model3``: Classify land cover -> Explain a land-cover report.
- ``classify_and_evaluate.model3``: Classify land cover -> Evaluate a land-cover map against reference labels.
- ``train_classify_assess_explain.model3``: Train from reference data -> Classify land cover (processing area,
  polygons) -> Assess accuracy and estimate areas -> Explain the report with the assessment as facts; every
  parameter of the analyst (bands included) is a model input.
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
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
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


def add_input(model: QgsProcessingModelAlgorithm, definition, x: float, y: float = 60) -> None:
    component = QgsProcessingModelParameter(definition.name())
    component.setPosition(QPointF(x, y))
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


def train_classify_assess_explain() -> QgsProcessingModelAlgorithm:
    """Train from reference data -> classify the processing area -> assess -> explain, every input exposed."""
    from landfuse.plugin.algorithms.classify import DEFAULT_MMU_HECTARES, DEVICES
    from landfuse.plugin.algorithms.train import ARCHITECTURES, DEFAULT_MINUTES, VARIANTS

    title = "Train, classify, assess and explain"
    model = QgsProcessingModelAlgorithm(title, GROUP, "landfuseworkflows")
    model.setName(title)
    points_or_polygons = [QgsProcessing.TypeVectorPoint, QgsProcessing.TypeVectorPolygon]
    double, integer = QgsProcessingParameterNumber.Double, QgsProcessingParameterNumber.Integer
    inputs = [
        QgsProcessingParameterRasterLayer("optical", "Optical layer"),
        QgsProcessingParameterString(
            "optical_band_names", "Optical band names (comma-separated; empty: all)", None, False, True
        ),
        QgsProcessingParameterRasterLayer("sar", "SAR layer"),
        QgsProcessingParameterString(
            "sar_band_names", "SAR band names (comma-separated; empty: all)", None, False, True
        ),
        QgsProcessingParameterFeatureSource("reference", "Training reference features", points_or_polygons),
        QgsProcessingParameterField("class_field", "Training class field", None, "reference"),
        QgsProcessingParameterEnum(
            "architecture", "Architecture", list(ARCHITECTURES), False, ARCHITECTURES[0], False, True
        ),
        QgsProcessingParameterEnum("variant", "Variant", list(VARIANTS), False, VARIANTS[0], False, True),
        QgsProcessingParameterNumber("minutes", "Training time budget (minutes)", double, DEFAULT_MINUTES, False, 0.05),
        QgsProcessingParameterNumber("epochs", "Training epochs (0: until the time budget ends)", integer, 0, True, 0),
        QgsProcessingParameterEnum("device", "Device", list(DEVICES), False, "auto", False, True),
        QgsProcessingParameterExtent("extent", "Processing extent (empty: whole layer)", None, True),
        QgsProcessingParameterFeatureSource(
            "mask", "Processing area mask (polygons)", [QgsProcessing.TypeVectorPolygon], None, True
        ),
        QgsProcessingParameterNumber(
            "mmu", "Minimum mapping unit of the polygons (hectares)", double, DEFAULT_MMU_HECTARES, False, 0.0
        ),
        QgsProcessingParameterFeatureSource("assessment", "Assessment reference features", points_or_polygons),
        QgsProcessingParameterField("assessment_field", "Assessment class field", None, "assessment"),
        QgsProcessingParameterBoolean("stratified", "The assessment points are a stratified random sample", True),
    ]
    for index, definition in enumerate(inputs):
        add_input(model, definition, 100 + 180 * (index % 6), 60 + 70 * (index // 6))
    param = QgsProcessingModelChildParameterSource.fromModelParameter
    output = QgsProcessingModelChildParameterSource.fromChildOutput
    train = child(
        "landfuse:train",
        "train",
        "Train from the reference features",
        200,
        330,
        {
            "OPTICAL": param("optical"),
            "OPTICAL_BAND_NAMES": param("optical_band_names"),
            "SAR": param("sar"),
            "SAR_BAND_NAMES": param("sar_band_names"),
            "REFERENCE": param("reference"),
            "CLASS_FIELD": param("class_field"),
            "ARCHITECTURE": param("architecture"),
            "VARIANT": param("variant"),
            "MINUTES": param("minutes"),
            "EPOCHS": param("epochs"),
            "DEVICE": param("device"),
            "EXTENT": param("extent"),
            "MASK": param("mask"),
        },
        {"OUTPUT_MODEL": "Model file", "REPORT": "Training report", "CURVES": "Training curves"},
    )
    classify = child(
        "landfuse:classify",
        "classify",
        "Classify the processing area",
        450,
        460,
        {
            "OPTICAL": param("optical"),
            "OPTICAL_BAND_NAMES": param("optical_band_names"),
            "SAR": param("sar"),
            "SAR_BAND_NAMES": param("sar_band_names"),
            "MODEL_FILE": output("train", "MODEL_FILE"),
            "DEVICE": param("device"),
            "EXTENT": param("extent"),
            "MASK": param("mask"),
            "MMU": param("mmu"),
            "EXPLANATION": QgsProcessingModelChildParameterSource.fromStaticValue(None),
        },
        {"OUTPUT": "Land cover", "REPORT": "Report", "VECTOR": "Land cover polygons"},
    )
    assess = child(
        "landfuse:assess",
        "assess",
        "Assess accuracy and estimate areas",
        700,
        590,
        {
            "CLASS_MAP": output("classify", "OUTPUT"),
            "REFERENCE": param("assessment"),
            "CLASS_FIELD": param("assessment_field"),
            "STRATIFIED": param("stratified"),
        },
        {"OUTPUT": "Assessment", "HTML": "Assessment report"},
    )
    explain = child(
        "landfuse:explain",
        "explain",
        "Explain the map and its accuracy",
        950,
        720,
        {"REPORT": output("classify", "REPORT"), "METRICS": output("assess", "OUTPUT")},
        {"OUTPUT": "Explanation"},
    )
    for step in (train, classify, assess, explain):
        model.addChildAlgorithm(step)
    model.setHelpContent(
        {
            "ALG_DESC": "Trains a model from your reference features, classifies the processing area (extent and/or "
            "polygon mask) into a class map and polygons, assesses the map against your assessment features "
            "(area-adjusted estimates for a stratified random sample) and explains the map with the assessment's "
            "numbers as facts.",
            "ALG_CREATOR": "LandFuse",
        }
    )
    return model


def main() -> int:
    app = start_qgis()
    folder = ROOT / "resources" / "models"
    folder.mkdir(parents=True, exist_ok=True)
    for name, build in (
        ("classify_and_explain", classify_and_explain),
        ("classify_and_evaluate", classify_and_evaluate),
        ("train_classify_assess_explain", train_classify_assess_explain),
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
