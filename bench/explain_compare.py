"""Which heat map is the model's own? Candidate explanations compared by a deletion test.

Usage: python bench/explain_compare.py [--n 80] [--out bench/explain_compare.json]

On pneumonia images of the shipped classifier's validation split (``patient_split`` of the
shared Kermany table, fraction 0.1, seed 20261123: images the model never trained on), every
candidate map is computed on the model's input (the lung view at 160 px, before
standardisation) and measured:

- **deletion**: blur (Gaussian, ``explain.BLUR_SIGMA`` = 5 % of the side) the 15 % of the image
  where the map is highest; the drop in the pneumonia log-odds (log (1 − p(normal)) / p(normal))
  against blurring 15 % chosen by smooth random fields (white noise smoothed by a Gaussian of
  7.5 % of the side, its top 15 %; 3 draws per image, the same for every candidate). Reported:
  median over images of drop / mean random drop ("ratio"), the ratio of the medians, and the
  share of images where the map's drop beats every random draw.
- **insertion**: the image blurred everywhere but those 15 % (restored sharp); the rise of the
  log-odds over the fully blurred image, against the same random regions.
- **mass on lungs**: the map's mass inside the U-Net lung mask over the lungs' share of the image
  (1 = chance); **peak in lungs**: the share of images whose map maximum lies inside the mask.
- **extra ms**: median wall time to compute the map on this machine (LiteRT, all perturbed
  inputs in one batched invocation).

Writes the per-candidate table to ``--out`` (JSON) and prints it as Markdown.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from radiai_core.analysis.explain import (
    BLUR_SIGMA,
    BatchRunner,
    LungLayout,
    Occlusion,
    blurred,
    drops_to_map,
    grid_masks,
    log_odds,
    perturbed,
    standardise,
)
from radiai_core.analysis.models import load_models
from radiai_core.analysis.pipeline import Analyzer
from radiai_core.analysis.preprocess import Resize
from radiai_core.reading.io import load_image
from radiai_core.training.datasets import patient_split, read_table
from radiai_core.training.faithfulness import (
    FIELD_SIGMA,
    FRACTION,
    RANDOM_DRAWS,
    Faithfulness,
    deletion_insertion,
    summary,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = Path("/work/shared/data/kermany/index.csv")
Map = Callable[[np.ndarray, list[int], float], np.ndarray]


class CoarseToFine:
    """A 3 × 3 occlusion grid, then the ``refine`` cells with the largest drops split into
    quadrants (two batched invocations); per-pixel drop per area, the finest region winning."""

    def __init__(self, runner: BatchRunner, refine: int) -> None:
        self.runner, self.refine = runner, refine
        self.coarse = grid_masks(runner.size, 0.34, 0.33)
        self.passes = len(self.coarse) + 4 * refine

    def __call__(self, x: np.ndarray, targets: list[int], base: float) -> np.ndarray:
        fill = blurred(x)
        s = log_odds(self.runner.probabilities(standardise(perturbed(x, self.coarse, fill))),
                     targets)
        drops = base - s
        density = np.tensordot(drops / self.coarse.sum(axis=(1, 2)), self.coarse, axes=(0, 0))
        fine = []
        for i in np.argsort(-drops)[:self.refine]:
            ys, xs = np.nonzero(self.coarse[i])
            y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
            my, mx = (y0 + y1) // 2, (x0 + x1) // 2
            for a, b, c, d in ((y0, my, x0, mx), (y0, my, mx, x1), (my, y1, x0, mx),
                               (my, y1, mx, x1)):
                m = np.zeros_like(self.coarse[0])
                m[a:b, c:d] = 1.0
                fine.append(m)
        fine_m = np.stack(fine)
        s2 = log_odds(self.runner.probabilities(standardise(perturbed(x, fine_m, fill))),
                      targets)
        for m, d in zip(fine_m, base - s2, strict=True):
            density[m > 0] = d / m.sum()
        heat = cv2.GaussianBlur(density.astype(np.float32), (0, 0), 0.08 * max(x.shape))
        heat = np.maximum(heat, 0.0)
        return (heat / heat.max()).astype(np.float32) if heat.max() > 0 else heat


class Rise:
    """RISE-style random masks (Petsiuk et al. 2018) with blur as the removal: ``n`` masks of a
    ``cells`` × ``cells`` binary grid (p = 0.5), upsampled bilinearly with a random shift;
    the map is the mean log-odds drop of the masks that cover each pixel (weighted by cover)."""

    def __init__(self, runner: BatchRunner, n: int, cells: int = 6, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        h, w = runner.size
        ch, cw = int(np.ceil(h / cells)), int(np.ceil(w / cells))
        masks = []
        for _ in range(n):
            grid = (rng.random((cells, cells)) < 0.5).astype(np.float32)
            up = cv2.resize(grid, ((cells + 1) * cw, (cells + 1) * ch),
                            interpolation=cv2.INTER_LINEAR)
            dy, dx = rng.integers(0, ch), rng.integers(0, cw)
            masks.append(up[dy:dy + h, dx:dx + w])
        self.masks = np.stack(masks)
        self.runner, self.passes = runner, n

    def __call__(self, x: np.ndarray, targets: list[int], base: float) -> np.ndarray:
        s = log_odds(self.runner.probabilities(standardise(perturbed(x, self.masks,
                                                                     blurred(x)))), targets)
        d = base - s  # centred: blurring half the image can raise the score everywhere
        return drops_to_map(d - d.mean(), self.masks, 0.03 * max(x.shape))


class ProbabilityOcclusion(Occlusion):
    """Occlusion scored by the drop in probability instead of log-odds (same passes)."""

    def __call__(self, x: np.ndarray, targets: list[int], base: float) -> np.ndarray:
        probs = self.runner.probabilities(standardise(perturbed(x, self.masks, blurred(x))))
        p = probs[:, targets].sum(axis=1)
        p0 = 1.0 / (1.0 + np.exp(-base))
        return drops_to_map(p0 - p, self.masks, self.smooth * max(x.shape))


def product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two maps multiplied, scaled to a maximum of 1."""
    p = a * b
    return (p / p.max()).astype(np.float32) if p.max() > 0 else p


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=80, help="pneumonia validation images")
    ap.add_argument("--csv", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=ROOT / "bench/explain_compare.json")
    ap.add_argument("--round", type=int, default=1,
                    help="1: the first comparison; 2: the lung-aware layouts against the best "
                         "of round 1; 3: the chosen layout with two passes fewer")
    args = ap.parse_args()
    analyzer = Analyzer(load_models())
    clf = analyzer.models.classifier
    neg = clf.labels.index(clf.negative_label)
    targets = [i for i in range(len(clf.labels)) if i != neg]
    runner = BatchRunner(clf.folder / clf.manifest["runtime"]["litert"])
    size = runner.size
    resize = Resize(*size)
    val = patient_split(read_table(args.csv), 0.1, 20261123)[1]
    pneumonia = sorted((s for s in val if s.label != clf.negative_label), key=lambda s: s.path)
    pick = np.random.default_rng(20261203).permutation(len(pneumonia))[:args.n]
    samples = [pneumonia[i] for i in sorted(pick)]

    occ4 = Occlusion(runner, 0.25, 0.25)
    occ3 = Occlusion(runner, 0.34, 0.33)
    candidates: dict[str, tuple[int, Callable[..., np.ndarray]]] = {
        "Grad-CAM, last feature map (10x10; shipped before)": (0, None),
        "occlusion blur 54 px / 53 px (3x3)": (occ3.passes, occ3),
        "occlusion blur 80 px / 40 px (3x3 overlapping)": (9, Occlusion(runner, 0.5, 0.25)),
        "occlusion blur 40 px / 40 px (4x4)": (occ4.passes, occ4),
        "occlusion blur 40x53 px (4 rows x 3 columns)": (12, Occlusion(runner, (0.25, 0.34),
                                                                       (0.25, 0.33))),
        "occlusion blur 53x40 px (3 rows x 4 columns)": (12, Occlusion(runner, (0.34, 0.25),
                                                                       (0.33, 0.25))),
        "occlusion blur 40 px (4x4), light smoothing": (16, Occlusion(runner, 0.25, 0.25,
                                                                       smooth=0.0625)),
        "occlusion mean fill 40 px / 40 px (4x4)": (16, Occlusion(runner, 0.25, 0.25, "mean")),
        "occlusion blur 40 px (4x4), probability drop": (
            16, ProbabilityOcclusion(runner, 0.25, 0.25)),
        "occlusion blur 64 px / 32 px (4x4 overlapping)": (16, Occlusion(runner, 0.4, 0.2)),
        "occlusion blur 48 px / 28 px (5x5 overlapping)": (25, Occlusion(runner, 0.3, 0.175)),
        "occlusion blur 32 px / 16 px (9x9, the issue's reference)": (
            81, Occlusion(runner, 0.2, 0.1)),
        "coarse-to-fine 3x3 + 1 cell refined": (13, CoarseToFine(runner, 1)),
        "coarse-to-fine 3x3 + 2 cells refined": (17, CoarseToFine(runner, 2)),
        "RISE 16 masks": (16, Rise(runner, 16)),
        "RISE 32 masks": (32, Rise(runner, 32)),
        "occlusion 4x4 x Grad-CAM (product)": (16, None),
        "occlusion 3x3 x Grad-CAM (product)": (9, None),
    }
    if args.round == 2:
        candidates = {
            "Grad-CAM, last feature map (10x10; shipped before)": (0, None),
            "occlusion blur 40 px (4x4), light smoothing": (16, Occlusion(runner, 0.25, 0.25,
                                                                           smooth=0.0625)),
            "occlusion blur 40 px (4x4), no smoothing": (16, Occlusion(runner, 0.25, 0.25,
                                                                        smooth=0.0)),
            "lung layout: 4x3 grid on the lung box + 4 outer bands": (
                16, LungLayout(runner, 4, 3)),
            "lung layout: 3x4 grid on the lung box + 4 outer bands": (
                16, LungLayout(runner, 3, 4)),
            "lung layout: 6 lung zones + rest of the lung box + 4 outer bands": (
                11, LungLayout(runner, zones=True)),
        }
    if args.round == 3:
        candidates = {
            "lung layout: 3x4 grid on the lung box + 4 outer bands": (16, LungLayout(runner, 3, 4)),
            "lung layout: 3x4 grid on the lung box + 2 outer regions (above+below, sides)": (
                14, LungLayout(runner, 3, 4, bands=2)),
        }
    names = list(candidates)
    rows: dict[str, list[dict[str, float]]] = {k: [] for k in names}
    faith: dict[str, list[Faithfulness]] = {}
    t_start = time.perf_counter()
    for n_done, s in enumerate(samples):
        image = load_image(s.path)
        m = analyzer.measure(image)
        x = resize(m.view.pixels)
        lungs = cv2.resize(m.mask.astype(np.uint8), (size[1], size[0]),
                           interpolation=cv2.INTER_NEAREST).astype(bool)
        base = float(log_odds(m.probs[None], targets)[0])
        label = max(targets, key=lambda i: m.probs[i])
        maps: dict[str, np.ndarray] = {}
        ms: dict[str, float] = {}
        for name, (_, fn) in candidates.items():
            t0 = time.perf_counter()
            if fn is None and name.startswith("Grad-CAM"):
                cam = clf.cam(m.feats, label)
                heat = np.clip(cv2.resize(cam, (size[1], size[0]),
                                          interpolation=cv2.INTER_CUBIC), 0, 1)
            elif fn is None:
                heat = product(maps["occlusion blur 40 px / 40 px (4x4)" if "4x4" in name
                                    else "occlusion blur 54 px / 53 px (3x3)"],
                               maps[names[0]])
            elif isinstance(fn, LungLayout):
                heat = fn(x, targets, base, lungs=lungs)
            else:
                heat = fn(x, targets, base)
            ms[name] = (time.perf_counter() - t0) * 1000
            maps[name] = heat
        if args.round == 1:
            ms["occlusion 4x4 x Grad-CAM (product)"] += ms["occlusion blur 40 px / 40 px (4x4)"]
            ms["occlusion 3x3 x Grad-CAM (product)"] += ms["occlusion blur 54 px / 53 px (3x3)"]
        # one batch for every test input of this image, the same random regions for all
        tests = deletion_insertion(
            x, maps, lambda b: log_odds(runner.probabilities(standardise(b)), targets),
            np.random.default_rng(int(n_done) + 1))
        share = float(lungs.mean())
        for k in names:
            heat, ft = maps[k], tests[k]
            total = float(heat.sum())
            peak = np.unravel_index(int(np.argmax(heat)), heat.shape)
            rows[k].append({
                "drop": ft.drop, "random_drop": float(np.mean(ft.random_drops)),
                "beats_all": ft.beats_random, "gain": ft.gain,
                "random_gain": float(np.mean(ft.random_gains)),
                "gain_beats_all": ft.gain_beats_random,
                "concentration": (float(heat[lungs].sum() / total) / share
                                  if total > 0 and share > 0 else float("nan")),
                "peak_in_lungs": bool(lungs[peak]) if total > 0 else False,
                "ms": ms[k], "called": bool(1 - m.probs[neg] >= clf.threshold)})
        faith.update({k: faith.get(k, []) + [tests[k]] for k in names})
        print(f"{n_done + 1}/{len(samples)} {Path(s.path).name} "
              f"({time.perf_counter() - t_start:.0f} s)", flush=True)

    table = {}
    for k in names:
        r = rows[k]
        table[k] = {"passes": candidates[k][0], **summary(faith[k]),
                    "median_concentration": float(np.nanmedian([v["concentration"] for v in r])),
                    "peak_in_lungs": float(np.mean([v["peak_in_lungs"] for v in r])),
                    "median_ms": float(statistics.median(v["ms"] for v in r))}
    out = {"images": len(samples), "split": "patient_split(kermany index.csv, 0.1, 20261123) "
           "validation, pneumonia images", "fraction": FRACTION, "random_draws": RANDOM_DRAWS,
           "blur_sigma": BLUR_SIGMA, "field_sigma": FIELD_SIGMA,
           "model": clf.info.to_dict(), "candidates": table,
           "per_image": rows}
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print("| heat map | passes | deletion ratio (median) | ratio of medians | beats every "
          "random draw | insertion gain vs random (medians) | insertion beats every random "
          "draw | mass on lungs vs share | peak in lungs | extra ms |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for k, v in table.items():
        print(f"| {k} | {v['passes']} | {v['deletion_ratio_median']:.2f}x | "
              f"{v['deletion_ratio_of_medians']:.2f}x | "
              f"{v['deletion_beats_every_random']:.0%} | {v['median_gain']:.2f} vs "
              f"{v['median_random_gain']:.2f} | {v['insertion_beats_every_random']:.0%} | "
              f"{v['median_concentration']:.2f}x | {v['peak_in_lungs']:.0%} | "
              f"{v['median_ms']:.0f} |")


if __name__ == "__main__":
    main()
