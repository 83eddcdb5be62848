"""A module that is imported on first use, so a screen can name a service without paying for it at startup.

    pipeline = LazyModule("crm_tui.services.sales.pipeline")   # nothing imported yet
    ...
    pipeline.board_summary(session=s)                    # imported here, in the worker thread

The services pull in SQLAlchemy and the models (~0.4 s); the first paint must not wait for them.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}{' (loaded)' if self._module else ''}>"
