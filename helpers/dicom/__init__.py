"""The file layer: everything that opens a DICOM file.

- :mod:`.walk`: the one safe folder walk (no link to a folder followed).
- :mod:`.header`: the one header reader, a file to one header row.
- :mod:`.dicomio`: read a dataset or its stored pixels with clear errors; write copies
  that never replace a file.
- :mod:`.part10_bytes`: the elements of one Part 10 file read byte by byte
  (``read_elements``), for lessons.
- :mod:`.reading`: the one reading context: how every reader words each failure.
- :mod:`.vr`: parsers for the text VRs a header table holds: AS, DA, PN, DS, IS (PS3.5
  section 6.2).
- :mod:`.errors`: :class:`~.errors.WorkbookError` and its subclasses, the one error
  vocabulary of every layer.

Everything above it (tables, images, lessons) reads DICOM files through these modules.
"""
