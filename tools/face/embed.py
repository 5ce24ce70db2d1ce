"""Embed face images with a trained FaceRecognizer: images or folders -> an .npz of paths and embeddings.

    python tools/face/embed.py CONFIG CHECKPOINT INPUT [INPUT ...] --out embeddings.npz [--flip]

INPUT: aligned face crops or folders of them (searched recursively). The .npz holds 'paths' (N,) and 'embeddings'
(N, D), L2-normalised (dot products are cosine similarities), written atomically, and what made them: 'config' and
'checkpoint' (absolute paths), 'checkpoint_sha256' and 'flip', since embeddings of two models, or with and without
the flip test, are not comparable and nothing in the numbers says which they came from.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
from typing import Sequence

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from resbackbones.apis.face import embed_faces, init_recognizer, list_images  # noqa: E402
from resbackbones.engine.atomic import atomic_path, ensure_writable_dir  # noqa: E402
from resbackbones.engine.cli import ToolParser, check_checkpoint, run_tool  # noqa: E402


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = ToolParser(prog='embed.py', description='Face images -> embeddings (.npz).')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('inputs', nargs='+', help='images or folders of aligned face crops')
    parser.add_argument('--out', required=True, help='.npz to write (paths, embeddings)')
    parser.add_argument('--flip', action=argparse.BooleanOptionalAction, default=None,
                        help="insightface's flip test (image + mirror); default: the config's model.flip_test, as "
                             "tools/test.py embeds (and finds its best threshold)")
    return parser.parse_args(argv)


def file_sha256(path: str) -> str:
    """Hex sha256 of the file at ``path``, read in 1 MiB pieces (checkpoints reach hundreds of MB)."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for piece in iter(lambda: f.read(1 << 20), b''):
            digest.update(piece)
    return digest.hexdigest()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out if args.out.endswith('.npz') else f'{args.out}.npz'
    if args.out.endswith(os.sep) or os.path.isdir(args.out) or os.path.isdir(out):
        raise IsADirectoryError(f'--out {args.out} is a folder; give a file name, e.g. '
                                f'{os.path.join(args.out, "embeddings.npz")}')
    ensure_writable_dir(os.path.dirname(os.path.abspath(out)), '--out folder')  # before the work, not after it
    model = init_recognizer(args.config, check_checkpoint(args.checkpoint, 'CHECKPOINT'))
    paths = list_images(args.inputs)
    flip = model.flip_test if args.flip is None else args.flip
    embeddings = embed_faces(model, paths, flip=flip)
    with atomic_path(out) as tmp, open(tmp, 'wb') as f:
        np.savez(f, paths=np.array(paths), embeddings=embeddings, config=np.array(os.path.abspath(args.config)),
                 checkpoint=np.array(os.path.abspath(args.checkpoint)),
                 checkpoint_sha256=np.array(file_sha256(args.checkpoint)), flip=np.array(flip))
    print(f'wrote {len(paths)} embeddings of width {embeddings.shape[1]} to {out}')
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='embed.py'))
