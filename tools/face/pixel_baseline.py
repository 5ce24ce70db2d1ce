"""The floor a learned face embedding must beat: insightface's 10-fold verification on raw pixels.

    python tools/face/pixel_baseline.py PAIRS.bin [--center-on ROOT [--identities ID ...]] [--pca N]

Each image of the .bin is decoded to grey levels, flattened and L2-normalised, and the pairs are scored with the
same protocol as FaceVerificationMetric (squared distance, threshold from the nine other folds). With --center-on,
the mean image of the identity folders ROOT/<identity>/<image> (e.g. the training identities) is subtracted first,
as an embedding's final BatchNorm centres on its training statistics. --pca N applies insightface's per-fold PCA
(FaceVerificationMetric's pca), to see what that backend gives without any learning. Prints accuracy +- std.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
from typing import Sequence

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from resbackbones.datasets.face import read_bin  # noqa: E402
from resbackbones.datasets.image_folder import IMG_EXTENSIONS  # noqa: E402
from resbackbones.engine.cli import ToolParser, run_tool  # noqa: E402
from resbackbones.evaluation.face_verification import check_pca, verification_scores  # noqa: E402
from resbackbones.transforms.loading import as_color_type  # noqa: E402


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = ToolParser(prog='pixel_baseline.py', description='Verification accuracy of raw pixels on a .bin.')
    parser.add_argument('pairs', help="insightface verification .bin (e.g. tools/face/make_bin.py's)")
    parser.add_argument('--center-on', help='identity folders whose mean image is subtracted (e.g. training set)')
    parser.add_argument('--identities', nargs='+', help='with --center-on: only these identity folders')
    parser.add_argument('--pca', type=int, default=0, help="insightface's per-fold PCA components (0: none)")
    return parser.parse_args(argv)


def grey_pixels(encoded: bytes, where: str) -> np.ndarray:
    try:
        # EXIF orientation applied and 16-bit scaled, as the datasets read images (convert('L') clipped 16-bit)
        return np.asarray(as_color_type(Image.open(io.BytesIO(encoded)), 'grayscale'), dtype=np.float64)
    except OSError as err:
        raise ValueError(f'{where}: not a decodable image ({err})') from None


def folder_mean(root: str, identities: Sequence[str] | None, shape: tuple[int, ...]) -> np.ndarray:
    """Mean grey image over ROOT/<identity>/<image>; every image must have the pairs' ``shape``."""
    if not os.path.isdir(root):
        raise FileNotFoundError(f'--center-on: {root} is not a folder of identity folders')
    unknown = [name for name in identities or () if not os.path.isdir(os.path.join(root, name))]
    if unknown:  # a mistyped identity was skipped, and the centring silently changed
        raise ValueError(f'--identities: {unknown} are not identity folders under {root}')
    total, count = np.zeros(shape), 0
    for name in sorted(os.listdir(root)):
        folder = os.path.join(root, name)
        # hidden entries (macOS '._x.png', '.cache/') are skipped, as the datasets and make_bin.py skip them
        if name.startswith('.') or not os.path.isdir(folder) or (identities and name not in identities):
            continue
        for file in sorted(os.listdir(folder)):
            path = os.path.join(folder, file)
            if file.lower().endswith(IMG_EXTENSIONS) and not file.startswith('.') and os.path.isfile(path):
                with open(path, 'rb') as f:
                    image = grey_pixels(f.read(), path)
                if image.shape != shape:
                    raise ValueError(f'{path}: {image.shape[1]}x{image.shape[0]} pixels, the pairs are '
                                     f'{shape[1]}x{shape[0]}')
                total, count = total + image, count + 1
    if count == 0:
        raise ValueError(f'--center-on: no images under {root}' + (f' for identities {list(identities)}'
                                                                  if identities else ''))
    return total / count


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.identities and not args.center_on:
        raise ValueError('--identities only applies with --center-on')
    images, issame = read_bin(args.pairs)
    pixels = [grey_pixels(b, f'{args.pairs} image {i} (pair {i // 2})') for i, b in enumerate(images)]
    for i, image in enumerate(pixels):
        if image.shape != pixels[0].shape:
            raise ValueError(f'{args.pairs} image {i} (pair {i // 2}) is {image.shape[1]}x{image.shape[0]}, image 0 '
                             f'is {pixels[0].shape[1]}x{pixels[0].shape[0]}: raw pixels need one size')
    flat = np.stack(pixels).reshape(len(pixels), -1)
    if args.center_on:
        flat = flat - folder_mean(args.center_on, args.identities, pixels[0].shape).ravel()
    norms = np.linalg.norm(flat, axis=1, keepdims=True)
    flat = flat / np.where(norms > 0, norms, 1.0)
    scores = verification_scores(flat[0::2], flat[1::2], issame, far_targets=(), pca=check_pca(args.pca, '--pca'))
    centred = f', centred on the mean image of {args.center_on}' if args.center_on else ''
    centred += f', per-fold PCA to {args.pca}' if args.pca else ''
    print(f'raw pixels{centred}: 10-fold accuracy {scores["accuracy"]:.4f} +- {scores["accuracy_std"]:.4f} '
          f'({len(issame)} pairs)')
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='pixel_baseline.py'))
