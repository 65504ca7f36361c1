"""Reading: a file or folder becomes an ``XrayImage`` (pixels in [0, 1] and what the header says,
the patient included), or a ``RadiAIError`` that names the file and the problem.

``io.load_image`` reads one file (DICOM via ``dicom_io``, PNG/JPEG/TIFF via ``raster_io``);
``studies.scan`` sorts folders into patients, studies and series from the headers alone.
``display`` turns pixels into what a screen shows (window/level), ``age`` reads the patient's age,
``anonymize`` and ``privacy`` keep patient data out of exports and logs.
"""

from .image import ImageMeta, XrayImage
from .io import load_image
from .studies import ScanResult, list_files, scan

__all__ = ["ImageMeta", "ScanResult", "XrayImage", "list_files", "load_image", "scan"]
