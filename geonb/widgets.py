"""ipywidgets apps for the notebooks. Output room: wires controls to functions in ``plots``,
``patches`` and ``prediction``; holds no science of its own.

Shared module: the patch-size explorer and the prediction viewer live here, each in its own section.
"""

from __future__ import annotations
