"""The image layer: pixel values and what is shown of them.

- :mod:`.pixels`: stored values to modality values (HU), windows, lookup tables.
- :mod:`.volume`: a series as a :class:`~.volume.Volume` with its geometry.
- :mod:`.presets`: window presets and the header's own windows.
- :mod:`.intensity`: intensity statistics of radiographs (MONOCHROME1 inverted, the
  collimated field, z-scores).
- :mod:`.viewer`: the anywidget viewer (its JavaScript and CSS in ``static/``).
"""
