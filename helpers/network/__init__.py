"""The network layer: archives started on this machine and the DICOM clients that talk
to them (lesson 8). It sits above ``helpers.dicom`` and ``helpers.tables``: what it
fetches becomes the same header table a crawl makes.

- :mod:`.servers`: pynetdicom's qrscp and Orthanc as child processes (context managers).
- :mod:`.dimse`: associations, C-ECHO, C-STORE, C-FIND, C-GET, C-MOVE (pynetdicom).
- :mod:`.dicomweb`: QIDO-RS, WADO-RS, STOW-RS (dicomweb-client), DICOM JSON to rows.
- :mod:`.errors`: the documented errors, each naming the server and the rule.
"""
