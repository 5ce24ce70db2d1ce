"""Write an insightface verification .bin (pairs of images + same/different flags) from identity folders.

    python tools/face/make_bin.py ROOT [ROOT ...] --out PAIRS.bin [--identities 7 8 9] [--pairs 300] [--seed 0]

Images of each identity are gathered from ROOT/<identity>/ in every ROOT; --pairs same-identity pairs (two
different images) and as many different-identity pairs are drawn with --seed, shuffled together, and written with
their encoded bytes as insightface's .bin (readable by insightface's load_bin and by FaceVerificationDataset).
The shuffle does not promise both kinds in each of the protocol's 10 consecutive folds: with --pairs 30 about one
seed in five gives a fold of one kind, with --pairs 10 or fewer nearly every seed; a few hundred pairs (the
default 300) make it negligible. Two byte-identical files never make a pair (a trivial same pair, or a wrong
different one); how many draws were skipped so is printed. Every image is decoded once first, so a file that is no
image (or a hidden macOS ``._x.png``, skipped) is named here, not when the .bin is read. The digits face demo uses
it to verify on digit classes that training never saw.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
from typing import Sequence

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from resbackbones.datasets.face import write_bin  # noqa: E402
from resbackbones.datasets.image_folder import IMG_EXTENSIONS  # noqa: E402
from resbackbones.engine.cli import ToolParser, run_tool  # noqa: E402
from resbackbones.transforms.loading import read_image  # noqa: E402


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = ToolParser(prog='make_bin.py', description='Identity folders -> insightface verification .bin.')
    parser.add_argument('roots', nargs='+', help='folders of identity folders (ROOT/<identity>/<image>)')
    parser.add_argument('--out', required=True, help='the .bin to write')
    parser.add_argument('--identities', nargs='+', help='identity folder names to draw from (default: all)')
    parser.add_argument('--pairs', type=int, default=300, help='same-identity pairs (as many different ones)')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def gather(roots: Sequence[str], identities: Sequence[str] | None) -> dict[str, list[str]]:
    """identity -> sorted image paths over all roots; errors name a missing root or an identity without images."""
    found: dict[str, list[str]] = {}
    for root in roots:
        if not os.path.isdir(root):
            raise FileNotFoundError(f'{root} is not a folder of identity folders')
        for name in sorted(os.listdir(root)):
            folder = os.path.join(root, name)
            if os.path.isdir(folder) and not name.startswith('.') and (identities is None or name in identities):
                found.setdefault(name, []).extend(  # hidden files (macOS ._x.png) are no images, as for the datasets
                    os.path.join(folder, f) for f in sorted(os.listdir(folder))
                    if f.lower().endswith(IMG_EXTENSIONS) and not f.startswith('.'))
    for name in identities or found:
        if len(found.get(name, [])) < 2:
            raise ValueError(f'identity {name!r} has {len(found.get(name, []))} images in {list(roots)}; a pair '
                             f'needs 2')
    if len(found) < 2:
        raise ValueError(f'need at least 2 identities for different-identity pairs; found {sorted(found)}')
    return found


def draw_pairs(images: dict[str, list[str]], pairs: int, seed: int,
               duplicates: list[tuple[str, str]] | None = None) -> list[tuple[str, str, bool]]:
    """``pairs`` same and ``pairs`` different pairs, shuffled, without repeating a pair.

    Two files with the same bytes never make a pair: as a same pair they verify trivially, as a different pair
    (one image filed under two identities) they are a wrong label. Such draws are appended to ``duplicates``.
    """
    rng, names, seen, out, digests = random.Random(seed), sorted(images), set(), [], {}

    def digest(path: str) -> str:
        if path not in digests:
            with open(path, 'rb') as f:
                digests[path] = hashlib.sha1(f.read()).hexdigest()
        return digests[path]

    for same in (True, False):
        for _ in range(pairs):
            for _attempt in range(1000):
                a, b = (rng.choice(names),) * 2 if same else rng.sample(names, 2)
                pair = (rng.choice(images[a]), rng.choice(images[b]))
                if pair[0] == pair[1] or pair in seen or pair[::-1] in seen:
                    continue
                if digest(pair[0]) != digest(pair[1]):
                    break
                seen.add(pair)  # not drawn again
                if duplicates is not None:
                    duplicates.append(pair)
            else:
                raise ValueError(f'cannot draw {pairs} distinct {"same" if same else "different"}-identity pairs '
                                 f'of different files from {sum(map(len, images.values()))} images; ask for '
                                 'fewer --pairs')
            seen.add(pair)
            out.append((*pair, same))
    rng.shuffle(out)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.pairs < 5:
        raise ValueError(f'--pairs must be >= 5 (10 folds of same and different pairs); got {args.pairs}')
    duplicates: list[tuple[str, str]] = []
    pairs = draw_pairs(gather(args.roots, args.identities), args.pairs, args.seed, duplicates)
    if duplicates:
        print(f'skipped {len(duplicates)} drawn pair(s) of byte-identical files, e.g. {duplicates[0][0]} and '
              f'{duplicates[0][1]}', file=sys.stderr)
    images = []
    for a, b, _ in pairs:
        for path in (a, b):
            read_image(path)  # CorruptImageError naming the file: the .bin would hold bytes nothing can decode
            with open(path, 'rb') as f:
                images.append(f.read())
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_bin(args.out, images, [same for _, _, same in pairs])
    print(f'wrote {len(pairs)} pairs ({args.pairs} same, {args.pairs} different) to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='make_bin.py'))
