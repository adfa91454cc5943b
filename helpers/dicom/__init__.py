"""The file layer: from a folder to files (:mod:`.walk`) and from a file to one
header row (:mod:`.header`). Everything above it (tables, images, lessons) reads
DICOM files through these two modules.
"""
