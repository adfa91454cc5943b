"""The table layer: the header table (one row per instance) and what is done with it.

- :mod:`.crawl`: runs the file layer over a folder or a list of files on Dask: the
  header table and the errors table.
- :mod:`.hierarchy`: patient > study > series > instance over the header table.
- :mod:`.organize`: files into patient > study > series > instance, from a folder or a
  DICOMDIR, as a tree for lessons.
- :mod:`.cohort`: a crawled cohort into a clean table a model can train on (lesson 5).
- :mod:`.deid`, :mod:`.deid_iod`: de-identification (PS3.15 Annex E) and the IOD
  requirements it keeps.
- :mod:`.write`: a table to CSV or partitioned Parquet, never over other content.
- :mod:`.explore`: exploring a cohort's findings, and real metadata at scale
  (lesson 6).

A module here that needs a file reads it through the file layer (:mod:`helpers.dicom`),
never with pydicom directly; :mod:`.hierarchy` opens none.
"""
