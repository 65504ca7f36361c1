"""Window/level for display: default from the file, percentile presets, polarity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .image import XrayImage

#: Presets as (low, high) percentiles of the image's own values, in display polarity. Detector
#: units of CR/DX images are arbitrary (unlike CT Hounsfield units), so fixed numbers would not
#: carry from one machine to another; percentiles do.
PRESETS: dict[str, tuple[float, float]] = {
    "lung": (1.0, 70.0),  # spread the dark (air-filled) range
    "soft tissue": (15.0, 95.0),
    "bone": (45.0, 99.8),  # spread the bright (dense) range
}


@dataclass(frozen=True)
class Window:
    """Linear window in display-polarity units (values negated for MONOCHROME1)."""

    center: float
    width: float

    def moved(self, d_center: float, d_width: float) -> Window:
        """This window shifted by ``d_center`` and widened by ``d_width`` (never below a tiny
        width)."""
        return Window(self.center + d_center, max(self.width + d_width, 1e-6))


def display_values(image: XrayImage) -> np.ndarray:
    """Modality values oriented so that larger means brighter on screen."""
    values = image.values if image.values is not None else image.pixels
    if (image.meta.photometric or "").upper() == "MONOCHROME1":
        return -values
    return values


def stored_scale(image: XrayImage) -> float:
    """Factor from ``values`` to the file's stored units: 1 for DICOM (modality values), the
    top of the bit depth for PNG/JPEG/TIFF/BMP, whose values are kept in [0, 1]."""
    if image.meta.format == "DICOM":
        return 1.0
    return float(2 ** (image.meta.bits_stored or 8) - 1)


def _number(v: float) -> str:
    """An integer when the value is one (stored values usually are), else one decimal."""
    return f"{v:.0f}" if abs(v - round(v)) < 1e-3 else f"{v:.1f}"  # float32 [0, 1] × 255


def value_text(image: XrayImage, x: int, y: int) -> str:
    """The value under the cursor in the file's units: '156' for an 8-bit JPEG, '12560' for
    a 15-bit DICOM (after its modality LUT, e.g. '-612.5' with a fractional rescale)."""
    values = image.values if image.values is not None else image.pixels
    return _number(float(values[y, x]) * stored_scale(image))


def window_text(image: XrayImage, window: Window) -> str:
    """'W 1500  L -600' in the file's units (display polarity undone for MONOCHROME1)."""
    scale = stored_scale(image)
    mono1 = (image.meta.photometric or "").upper() == "MONOCHROME1"
    centre = -window.center if mono1 else window.center
    return f"W {_number(round(window.width * scale, 1))}  L {_number(round(centre * scale, 1))}"


def default_window(image: XrayImage) -> Window:
    """The file's own window (DICOM Window Center/Width), else the full value range."""
    values = display_values(image)
    mono1 = (image.meta.photometric or "").upper() == "MONOCHROME1"
    if image.meta.window is not None and image.values is not image.pixels:
        c, w = image.meta.window
        return Window(-c if mono1 else c, max(w, 1e-6))
    lo, hi = float(values.min()), float(values.max())
    return Window((lo + hi) / 2, max(hi - lo, 1e-6))


def preset_window(image: XrayImage, name: str) -> Window:
    """A named window ("default" = the file's own, "lung", "bone", "soft tissue") for ``image``."""
    if name == "default":
        return default_window(image)
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from default, {', '.join(PRESETS)}")
    values = display_values(image)
    sample = values[:: max(1, values.shape[0] // 512), :: max(1, values.shape[1] // 512)]
    lo, hi = np.percentile(sample, PRESETS[name])
    return Window(float(lo + hi) / 2, max(float(hi - lo), 1e-6))


def apply_window(image: XrayImage, window: Window, invert: bool = False) -> np.ndarray:
    """[0, 1] float32 display image for a window (linear, clipped); ``invert`` flips it."""
    v = display_values(image)
    out = (v - (window.center - window.width / 2)) / window.width
    out = np.clip(out, 0.0, 1.0).astype(np.float32)
    return 1.0 - out if invert else out


#: The overlay colours (RGB) of every face: the viewer, the PDF and the PNG draw with these.
#: The lung contour in green; the boxes in cyan, which stays visible over the heat map's
#: yellow and red.
LUNG_RGB = (80, 220, 120)
BOX_RGB = (0, 230, 255)


def heat_rgba(heat: np.ndarray, opacity: float = 0.5) -> np.ndarray:
    """Colour a [0, 1] heat map (jet colour map, OpenCV) as RGBA uint8; alpha grows with the
    heat so that cold regions leave the radiograph visible. ``opacity`` scales the alpha of the
    hottest region."""
    import cv2

    idx = np.clip(np.round(heat * 255), 0, 255).astype(np.uint8)
    rgba = np.empty((*heat.shape, 4), np.uint8)
    rgba[..., :3] = cv2.applyColorMap(idx, cv2.COLORMAP_JET)[..., ::-1]  # BGR → RGB
    rgba[..., 3] = np.clip(np.round(heat * 255 * float(opacity)), 0, 255).astype(np.uint8)
    return rgba


def thumbnail(image: XrayImage, size: int = 64) -> np.ndarray:
    """A small uint8 preview with the file's default window, longest side ``size``."""
    import cv2

    shown = apply_window(image, default_window(image))
    h, w = shown.shape
    scale = size / max(h, w)
    small = cv2.resize(shown, (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA)
    return np.round(small * 255).astype(np.uint8)
