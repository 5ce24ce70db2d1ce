"""Detect objects in one image with a config and checkpoint, and save a picture of the result (mmdet's demo).

    python demo/image_demo.py IMAGE CONFIG [--weights CKPT] [--torchvision-weights TV_CKPT [--class-ids-from ANN]]
                              [--out-file result.png] [--score-thr 0.3] [--device cpu]

--weights takes a checkpoint written by tools/train.py; --torchvision-weights a torchvision detection state dict
(e.g. the published maskrcnn_resnet50_fpn COCO weights, with --class-ids-from instances_val2017.json to keep the
80 COCO classes). Prints one line per detection above the threshold: class, score and box.
"""
from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout too
from resbackbones.apis import inference_detector, init_detector  # noqa: E402
from resbackbones.engine.cli import ToolParser, run_tool  # noqa: E402
from resbackbones.visualization import draw_det_sample  # noqa: E402
from resbackbones.weights.torchvision_detection import load_torchvision_detection  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = ToolParser(prog='image_demo.py', description=__doc__.split('\n\n')[0])
    parser.add_argument('image')
    parser.add_argument('config')
    parser.add_argument('--weights', help='checkpoint from tools/train.py')
    parser.add_argument('--torchvision-weights', help='torchvision detection state dict')
    parser.add_argument('--class-ids-from', help='COCO json whose category ids select torchvision predictor rows')
    parser.add_argument('--out-file', default='result.png')
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args(argv)
    if not os.path.isfile(args.image):
        parser.error(f'image not found: {args.image}')
    if os.path.exists(args.out_file) and os.path.samefile(args.out_file, args.image):
        parser.error(f'--out-file {args.out_file} is the input image; give another name')
    model = init_detector(args.config, args.weights, device=args.device)
    if not hasattr(model, 'roi_heads'):  # its predictions are no detections: an AttributeError after the work
        raise ValueError(f"{args.config}: model.type is {model.cfg.model.get('type')!r}; this demo draws "
                         f"detections (FasterRCNN, MaskRCNN)")
    if args.torchvision_weights:
        ids = None
        if args.class_ids_from:
            with open(args.class_ids_from) as f:
                ids = sorted(c['id'] for c in json.load(f)['categories'])
        load_torchvision_detection(model, args.torchvision_weights, class_ids=ids)
    sample = inference_detector(model, args.image)
    # the checkpoint's classes (what it was trained on), else the config's
    classes = (getattr(model, 'dataset_meta', None) or {}).get('classes') or \
        model.cfg.get('test_dataloader', {}).get('dataset', {}).get('metainfo', {}).get('classes')
    pred = sample.pred_instances
    for box, score, label in zip(pred.bboxes.tolist(), pred.scores.tolist(), pred.labels.tolist()):
        if score >= args.score_thr:
            name = classes[label] if classes else str(label)
            print(f'{name:<16} {score:.3f}  [{", ".join(f"{v:.1f}" for v in box)}]')
    print(f'saved {draw_det_sample(args.image, sample, args.out_file, classes, args.score_thr)}')
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='image_demo.py'))
