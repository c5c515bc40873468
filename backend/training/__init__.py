"""Training: random-crop batches, each model's own loss, reference schedules, teacher-then-student."""

from .loop import TrainConfig, TrainResult, load_checkpoint, train

__all__ = ["TrainConfig", "TrainResult", "load_checkpoint", "train"]
