"""Writing a job's output files under temporary names and renaming them only when the job succeeds."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ...common.protocol import temporary_path


@contextmanager
def staged(outputs: dict[str, str | None]) -> Iterator[dict[str, Path | None]]:
    """Temporary paths for ``outputs`` (role -> final path or None).

    On leaving the block normally every temporary file that exists is renamed onto its final path; on
    an exception (error, cancel) they are all deleted and the exception propagates.
    """
    temporaries = {role: temporary_path(path) if path else None for role, path in outputs.items()}
    try:
        yield temporaries
    except BaseException:
        for temporary in temporaries.values():
            if temporary is not None:
                temporary.unlink(missing_ok=True)
        raise
    for role, temporary in temporaries.items():
        if temporary is not None and temporary.exists():
            os.replace(temporary, outputs[role])
