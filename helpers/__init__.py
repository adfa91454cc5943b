"""Helpers for the DICOM Workbook.

Each submodule has one job; lessons import the one they need, e.g.
``from helpers import data`` or ``from helpers.image.pixels import window``.
Importing :mod:`helpers` itself is cheap: nothing heavy is imported here.
"""

__version__ = "0.1.0"
