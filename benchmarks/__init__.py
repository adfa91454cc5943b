"""On-demand benchmarks of the workbook's hot paths against the tools a user would pick.

Run everything with ``make benchmarks`` (or, without make,
``PYTHONPATH=.venv/bench-site .venv/bin/python -m benchmarks``); ``--help`` lists the
options (one benchmark, repeat counts, archive and series sizes). Each benchmark
measures the workbook's helper and its peers in the same run, on the same inputs,
interleaving the candidates repeat by repeat, and prints medians and ratios; the
latest figures live in ``benchmarks/README.md``.

Modules, one per benchmark:

- :mod:`.crawl`: header crawl (``helpers.tables.crawl.scan``) against a naive pydicom loop,
  a header-only loop and GDCM's ``gdcm.Scanner``;
- :mod:`.volume`: series to HU (``helpers.image.volume.load_series``) against SimpleITK's
  ``ImageSeriesReader``: time and peak memory;
- :mod:`.window`: window/level update to PNG bytes (``helpers.image.viewer``) against
  ``pydicom.pixels.apply_windowing`` and a matplotlib inline re-render;
- :mod:`.nbval`: the lessons under nbval, per notebook and in total.

Inputs are built in a temporary folder (:mod:`.inputs`); ``data/`` is only read.
Not part of the test suite.
"""
