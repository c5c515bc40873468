"""Training presets: each paper's protocol as ``train --preset NAME``, with where it comes from.

A preset sets ``TrainConfig`` fields; options given on the command line win over it, and the preset
wins over the built-in defaults (``DEFAULTS``). ``--model`` may be left out with a preset; one that
names another architecture is an error. Every preset trains the ``paper`` variant (``--variant lite``
gives a quick trial of the same protocol).

- ``cloudseg-official``: the official CloudSeg recipe, from xufangchn/CloudSeg: ``train_SS.py``
  defaults of TeacherNet and StudentNet (Adam, lr 1e-4, no weight decay, ``StepLR(5, 0.5)`` stepped
  from epoch 5 so the rate first halves for epoch 10, 30 epochs, batch 32, 160 px crops),
  ``dataloader.py`` (random crops on a 10 px grid so the 10 m label lines up, no flips; validation on
  the centre crop), ``generic_train.py`` (validation every 2 epochs, best mIoU kept) and the README
  (TeacherNet trained first, on cloud-free optical; the student distils from it). Weights start from
  ImageNet MiT-B4 in the official code: add ``--init-encoder mit_b4.pth``.
- ``edc-paper``: EDC publishes no recipe; its abstract compares with CloudSeg on CloudSeg's data,
  so CloudSeg's official protocol with EDC's own 160 px tile (the paper variant's carrier windows
  of 5 divide its 10 x 10 stage-3 map: no padding).
- ``claire-paper``, ``specsar_former-paper``: neither paper states its optimiser settings; both build
  on SegFormer, whose recipe (mmsegmentation ``segformer_mit-b*_512x512_160k_ade20k``) is used:
  AdamW, lr 6e-5, weight decay 0.01 (0 on normalisation weights), head learning rate x 10, poly
  decay (power 1) after a 1500-iteration linear warm-up, batch 16 (8 GPUs x 2), 512 px crops with
  flips. SegFormer counts 160k iterations: choose ``--epochs`` so that epochs x crops per epoch / 16
  comes near that. SegFormer's random rescaling and photometric distortion are not reproduced.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BadParamsError

#: Built-in values of the options a preset may set (the command line's defaults without a preset).
DEFAULTS = {
    "variant": "lite",
    "epochs": 30,
    "batch_size": 8,
    "crop_size": 128,
    "validate_every": 1,
    "flips": True,
    "val_crop": None,
}


@dataclass(frozen=True)
class Preset:
    """A paper's training protocol: ``TrainConfig`` fields and the source they come from."""

    name: str
    architecture: str
    source: str
    settings: dict


_CLOUDSEG_PROTOCOL = {
    "variant": "paper",
    "optimiser": "adam",
    "lr": 1e-4,
    "weight_decay": 0.0,
    "schedule": "step",
    "epochs": 30,
    "batch_size": 32,
    "crop_size": 160,
    "flips": False,
    "validate_every": 2,
    "val_crop": 160,
    "distill": True,
}
_SEGFORMER_RECIPE = {
    "variant": "paper",
    "optimiser": "adamw",
    "lr": 6e-5,
    "weight_decay": 0.01,
    "norm_weight_decay": 0.0,
    "head_lr_mult": 10.0,
    "schedule": "poly",
    "batch_size": 16,
    "crop_size": 512,
    "flips": True,
}

PRESETS = {
    preset.name: preset
    for preset in (
        Preset(
            "cloudseg-official",
            "cloudseg",
            "xufangchn/CloudSeg train_SS.py, dataloader.py, generic_train.py and README (teacher first)",
            _CLOUDSEG_PROTOCOL,
        ),
        Preset("edc-paper", "edc", "CloudSeg's official protocol (EDC states none), 160 px tile", _CLOUDSEG_PROTOCOL),
        Preset("claire-paper", "claire", "SegFormer's mmsegmentation recipe (CLAIRE states none)", _SEGFORMER_RECIPE),
        Preset(
            "specsar_former-paper",
            "specsar_former",
            "SegFormer's mmsegmentation recipe (SpecSAR-Former states none)",
            _SEGFORMER_RECIPE,
        ),
    )
}


def training_settings(preset: str | None, architecture: str | None, given: dict) -> dict:
    """The architecture and option values of a run: ``DEFAULTS``, then the preset, then ``given`` (not None).

    ``given`` holds the options from the command line (``None`` when not given).
    """
    settings = dict(DEFAULTS)
    if preset is not None:
        if preset not in PRESETS:
            raise BadParamsError(f"unknown preset {preset!r}: expected one of {', '.join(PRESETS)}")
        chosen = PRESETS[preset]
        if architecture not in (None, chosen.architecture):
            raise BadParamsError(
                f"preset {preset} trains {chosen.architecture}, not {architecture}: drop --model or pick the preset "
                f"of {architecture}"
            )
        settings.update(chosen.settings)
        architecture = chosen.architecture
    if architecture is None:
        raise BadParamsError(f"give --model (an architecture) or --preset ({', '.join(PRESETS)})")
    settings.update({key: value for key, value in given.items() if value is not None})
    return {"architecture": architecture, **settings}
