"""A seeded fuzz corpus: the real samples in tests/data damaged the ways transfers and disks
damage files (truncated at random and at structure boundaries, bits flipped in headers and in
pixel data, blocks zeroed, chunks moved, DICOM element lengths that lie).

``build_fuzz_corpus(folder, n)`` writes ``n`` files and returns their paths. The same seed
gives the same bytes, so a failure names a file that can be rebuilt.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from pathlib import Path

from .samples import DATA, DICOM

SEED = 20261130


def _sources() -> list[Path]:
    """The real samples, smallest first; the large DICOMs are damaged less often (size)."""
    rasters = sorted((DATA / "kermany" / "images").glob("*.jpeg"))[:6]
    rasters += sorted((DATA / "lung_masks" / "images").glob("*"))[:2]
    rasters += sorted((DATA / "lung_masks" / "masks").glob("*.png"))[:2]
    return rasters + [DICOM["jpeg_baseline"], DICOM["nometa_mono1"], DICOM["j2k_mono1"],
                      DICOM["nih_cardiomegaly"]]


def _jpeg_markers(data: bytes) -> list[int]:
    return [i for i in range(len(data) - 1) if data[i] == 0xFF and 0xC0 <= data[i + 1] <= 0xFE]


def _png_chunks(data: bytes) -> list[int]:
    out, i = [], 8
    while i + 8 <= len(data):
        out.append(i)
        (length,) = struct.unpack(">I", data[i:i + 4])
        i += 12 + length
    return out


def _dicom_offsets(data: bytes) -> tuple[list[int], int]:
    """Offsets of (group, element) tags in the header (little endian, explicit or implicit
    VR, found by scanning for plausible tags) and the offset of the pixel data element."""
    pixel = data.find(b"\xe0\x7f\x10\x00")
    end = pixel if pixel > 0 else min(len(data), 4096)
    tags = [i for i in range(0, end - 4, 2)
            if data[i + 1] == 0 and data[i] in (0x02, 0x08, 0x10, 0x18, 0x20, 0x28)]
    return tags, pixel


def _boundaries(name: str, data: bytes) -> list[int]:
    if data[:3] == b"\xff\xd8\xff":
        return _jpeg_markers(data)
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return _png_chunks(data)
    tags, pixel = _dicom_offsets(data)
    return [132, *tags, *([pixel, pixel + 8, pixel + 12] if pixel > 0 else [])]


def _header_end(data: bytes) -> int:
    if data[:3] == b"\xff\xd8\xff":
        sos = data.find(b"\xff\xda")
        return sos if sos > 0 else min(len(data), 600)
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        idat = data.find(b"IDAT")
        return idat if idat > 0 else 64
    _, pixel = _dicom_offsets(data)
    return pixel if pixel > 0 else min(len(data), 2048)


Mutation = Callable[[random.Random, bytes], bytes]


def truncate_random(rng: random.Random, data: bytes) -> bytes:
    return data[:rng.randrange(1, len(data))]


def truncate_boundary(rng: random.Random, data: bytes) -> bytes:
    cuts = [c for c in _boundaries("", data) if 0 < c < len(data)] or [len(data) // 2]
    return data[:rng.choice(cuts) + rng.choice((0, 1, 2, 4))]


def _flip(rng: random.Random, data: bytes, lo: int, hi: int, n: int) -> bytes:
    buf = bytearray(data)
    for _ in range(n):
        i = rng.randrange(lo, max(lo + 1, hi))
        buf[i] ^= 1 << rng.randrange(8)
    return bytes(buf)


def flip_header(rng: random.Random, data: bytes) -> bytes:
    return _flip(rng, data, 0, _header_end(data), rng.randint(1, 8))


def flip_pixels(rng: random.Random, data: bytes) -> bytes:
    return _flip(rng, data, _header_end(data), len(data), rng.randint(1, 64))


def zero_block(rng: random.Random, data: bytes) -> bytes:
    size = rng.choice((16, 512, 4096))
    at = rng.randrange(0, max(1, len(data) - size))
    return data[:at] + bytes(min(size, len(data) - at)) + data[at + size:]


def move_chunk(rng: random.Random, data: bytes) -> bytes:
    size = rng.randint(64, max(65, len(data) // 8))
    a = rng.randrange(0, max(1, len(data) - size))
    chunk, rest = data[a:a + size], data[:a] + data[a + size:]
    b = rng.randrange(0, len(rest) + 1)
    return rest[:b] + chunk + rest[b:]


def lying_length(rng: random.Random, data: bytes) -> bytes:
    """A length field that lies: a DICOM element's (after its tag, 16 or 32 bits), a PNG
    chunk's, or a JPEG segment's."""
    buf = bytearray(data)
    if data[:3] == b"\xff\xd8\xff":
        at = rng.choice(_jpeg_markers(data) or [2]) + 2
        fmt = ">H"
    elif data[:8] == b"\x89PNG\r\n\x1a\n":
        at, fmt = rng.choice(_png_chunks(data) or [8]), ">I"
    else:
        tags, pixel = _dicom_offsets(data)
        tag = rng.choice(tags + [pixel] * 3 if pixel > 0 else tags or [132])
        vr = data[tag + 4:tag + 6]
        if vr in (b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN"):
            at, fmt = tag + 8, "<I"
        elif vr.isalpha() and vr.isupper():
            at, fmt = tag + 6, "<H"
        else:
            at, fmt = tag + 4, "<I"
    width = struct.calcsize(fmt)
    if at + width > len(buf):
        return truncate_random(rng, data)
    top = 0xFFFF if width == 2 else 0xFFFFFFFF
    value = rng.choice((0, 1, 3, top, top - 1, rng.randrange(top),
                        struct.unpack(fmt, bytes(buf[at:at + width]))[0] * 2 + 1)) & top
    buf[at:at + width] = struct.pack(fmt, value)
    return bytes(buf)


MUTATIONS: list[Mutation] = [truncate_random, truncate_boundary, flip_header, flip_pixels,
                             zero_block, move_chunk, lying_length]


def build_fuzz_corpus(folder: Path, n: int = 1050, seed: int = SEED) -> list[Path]:
    """``n`` damaged copies of the real samples (every mutation on every source, round robin,
    the large DICOMs one time in four), named ``<mutation>-<i>-<source>``."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    sources = [(p, p.read_bytes()) for p in _sources()]
    small = [s for s in sources if len(s[1]) < 500_000]
    out: list[Path] = []
    for i in range(n):
        mutation = MUTATIONS[i % len(MUTATIONS)]
        path, data = rng.choice(sources if i % 4 == 0 else small)
        damaged = mutation(rng, data)
        target = folder / f"{mutation.__name__}-{i:04d}-{path.name[:40]}"
        target.write_bytes(damaged)
        out.append(target)
    return out
