"""The model registry: architecture name + variant -> model card and ``nn.Module``.

A model module registers its builder with ``@register(name, variants=..., card=...)``:

- the builder is ``builder(card: ModelCard) -> nn.Module``; it reads band counts, class count and
  ``card.variant`` (which selects widths and depths) from the card;
- ``card(variant) -> ModelCard`` returns the variant's default card.

Model modules are imported on first use from ``MODEL_MODULES`` (a module that is not installed
yet is skipped), so importing the registry stays cheap.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from torch import nn

from ...common.card import ModelCard
from ..errors import ModelNotFoundError

#: Modules of ``backend.models`` that register architectures.
MODEL_MODULES = ("cloudseg", "edc", "specsar_former", "claire", "baselines")

Builder = Callable[[ModelCard], nn.Module]
CardFactory = Callable[[str], ModelCard]


@dataclass(frozen=True)
class Registration:
    name: str
    variants: tuple[str, ...]
    builder: Builder
    card: CardFactory


_REGISTRY: dict[str, Registration] = {}
_loaded = False


def register(name: str, *, variants: Sequence[str], card: CardFactory) -> Callable[[Builder], Builder]:
    """Decorator registering ``builder(card) -> nn.Module`` under ``name`` for ``variants``."""

    def decorate(builder: Builder) -> Builder:
        _REGISTRY[name] = Registration(name, tuple(variants), builder, card)
        return builder

    return decorate


def _load_modules() -> None:
    global _loaded
    if _loaded:
        return
    for module in MODEL_MODULES:
        qualified = f"{__package__}.{module}"
        if importlib.util.find_spec(qualified) is not None:
            importlib.import_module(qualified)
    _loaded = True


def _lookup(name: str, variant: str | None = None) -> Registration:
    _load_modules()
    if name not in _REGISTRY:
        valid = ", ".join(sorted(_REGISTRY))
        raise ModelNotFoundError(f"unknown model architecture {name!r}: expected one of {valid}")
    entry = _REGISTRY[name]
    if variant is not None and variant not in entry.variants:
        raise ModelNotFoundError(f"unknown variant {variant!r} of {name}: expected one of {', '.join(entry.variants)}")
    return entry


def list_models() -> list[tuple[str, str]]:
    """Every registered ``(name, variant)`` pair, sorted by name, variants in registration order."""
    _load_modules()
    return [(name, variant) for name in sorted(_REGISTRY) for variant in _REGISTRY[name].variants]


def default_card(name: str, variant: str, **overrides) -> ModelCard:
    """The default card of ``name``/``variant`` with any card field replaced by ``overrides``.

    Example: ``default_card("cloudseg", "lite", optical_bands=(), tile_size=128)``.
    """
    card = _lookup(name, variant).card(variant)
    return dataclasses.replace(card, **overrides) if overrides else card


def build_model(card: ModelCard) -> nn.Module:
    """A freshly initialised model for ``card`` (architecture, variant, bands and classes)."""
    return _lookup(card.architecture, card.variant).builder(card)
