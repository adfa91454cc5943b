"""The table layer: operations on the header table :func:`helpers.crawl.scan`
returns (one row per instance), e.g. :mod:`.hierarchy` (patient > study >
series > instance). Nothing here opens a DICOM file.
"""
