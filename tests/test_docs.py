"""The API reference (docs/api.rst) lists every public name of every subpackage."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import spectral_sheaf

API = Path(__file__).resolve().parents[1] / "docs" / "api.rst"
SUBPACKAGES = sorted(m.name for m in pkgutil.iter_modules(spectral_sheaf.__path__)
                     if m.ispkg and not m.name.startswith("_"))


def _sections() -> dict[str, tuple[set[str], set[str]]]:
    """Per ``currentmodule``: its autosummary entries, and the names its prose quotes."""
    out: dict[str, tuple[set[str], set[str]]] = {}
    module = None
    for line in API.read_text().splitlines():
        if m := re.match(r"\.\. currentmodule:: (\S+)$", line):
            module = m.group(1)
            out.setdefault(module, (set(), set()))
        elif module is not None:
            entries, quoted = out[module]
            if m := re.match(r"   ([A-Za-z_]\w*)$", line):
                entries.add(m.group(1))
            quoted.update(re.findall(r"``([A-Za-z_]\w*)``", line))
    return out


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_api_reference_lists_every_public_name(name):
    module = importlib.import_module(f"spectral_sheaf.{name}")
    entries, quoted = _sections().get(module.__name__, (set(), set()))
    # prose may stand in for an entry only for constants (no docstring of their own)
    constants = {n for n in quoted if n in module.__all__
                 and not callable(getattr(module, n))}
    missing = sorted(set(module.__all__) - entries - constants)
    assert not missing, f"docs/api.rst does not list {missing} of {module.__name__}"
    stale = sorted(entries - set(module.__all__))
    assert not stale, f"docs/api.rst lists {stale}, which {module.__name__} does not export"
