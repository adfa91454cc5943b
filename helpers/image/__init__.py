"""The image layer: pixel values and what is shown of them.

- :mod:`.pixels`: stored values to modality values (HU for CT), windows, lookup tables.
- :mod:`.stack`: one series' header rows checked and ordered into a stack with its affine.
- :mod:`.volume`: a series as a :class:`~.volume.Volume` (from header rows) and its planes.
- :mod:`.presets`: window presets and the header's own windows.
- :mod:`.intensity`: intensity statistics of radiographs (MONOCHROME1 inverted, the
  collimated field, z-scores).
- :mod:`.viewer`: the anywidget viewer (its JavaScript and CSS in ``static/``).
"""
