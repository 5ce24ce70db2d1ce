"""Are two face images the same identity? Cosine similarity of their embeddings against a threshold.

    python tools/face/verify.py CONFIG CHECKPOINT IMAGE1 IMAGE2 --threshold T [--flip]

Prints the cosine similarity and 'same' or 'different'; exit 0 either way (2 on a bad input). Take T from
FaceVerificationMetric's 'best_threshold' (a cosine similarity) on a verification set of your domain.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from resbackbones.apis.face import embed_faces, init_recognizer  # noqa: E402
from resbackbones.engine.cli import ToolParser, check_checkpoint, run_tool  # noqa: E402


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = ToolParser(prog='verify.py', description='Cosine similarity of two faces, same or different.')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('image1')
    parser.add_argument('image2')
    parser.add_argument('--threshold', type=float, required=True, help='cosine similarity above which: same')
    parser.add_argument('--flip', action=argparse.BooleanOptionalAction, default=None,
                        help="insightface's flip test (image + mirror); default: the config's model.flip_test, as "
                             "tools/test.py embeds (and finds its best threshold)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not -1 <= args.threshold <= 1:
        raise ValueError(f'--threshold is a cosine similarity in [-1, 1]; got {args.threshold}')
    for path in (args.image1, args.image2):
        if not os.path.isfile(path):
            raise FileNotFoundError(f'image not found: {path}')
    model = init_recognizer(args.config, check_checkpoint(args.checkpoint, 'CHECKPOINT'))
    first, second = embed_faces(model, [args.image1, args.image2], flip=args.flip)
    similarity = float(first @ second)
    print(f'cosine similarity {similarity:.4f}: {"same" if similarity >= args.threshold else "different"} '
          f'(threshold {args.threshold})')
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='verify.py'))
