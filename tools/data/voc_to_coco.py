"""Pascal VOC XML annotations -> one COCO json (mmdet's tools/dataset_converters/pascal_voc.py conventions).

    python tools/data/voc_to_coco.py --ann-dir VOC2012/Annotations --out-json voc12_train.json \
        [--ids VOC2012/ImageSets/Main/train.txt] [--img-prefix JPEGImages] [--classes voc|auto|a,b,c] [--skip-invalid]

Boxes: VOC's 1-based inclusive corners become 0-based [x1 - 1, y1 - 1, x2 - x1, y2 - y1] as in mmdet; 'difficult'
objects become iscrowd=1 (ignored by COCOeval and by training, as VOC's own evaluation ignores them); no
segmentation is written. Categories: ids 1..K in the order of --classes ('voc': the 20 VOC classes; 'auto': the
sorted names found). An unreadable XML, a class not in --classes or a box that is empty or outside the image is
an error naming the file and object index; --skip-invalid skips such objects instead and prints the counts. A
<filename> whose name is not the XML's (a copied annotation) is an error. The json is written to a temporary file
and renamed.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from resbackbones.engine.atomic import atomic_path  # noqa: E402

VOC_CLASSES = ('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow', 'diningtable',
               'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor')


class VocFormatError(ValueError):
    """A VOC XML file is unreadable or holds an invalid object; the message names the file and object."""


def _number(node: ET.Element, tag: str, where: str) -> float:
    child = node.find(tag)
    try:
        return float(child.text)
    except (AttributeError, TypeError, ValueError):
        raise VocFormatError(f'{where}: <{tag}> is missing or not a number') from None


def parse_xml(path: Path) -> dict:
    """``dict(filename, width, height, objects=[dict(name, box=[x1, y1, x2, y2] 1-based, difficult)])``."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as err:
        raise VocFormatError(f'{path}: not a readable XML file ({err})') from None
    size = root.find('size')
    if size is None:
        raise VocFormatError(f'{path}: no <size> element')
    objects = []
    for i, obj in enumerate(root.findall('object')):
        where = f'{path}, object {i}'
        box = obj.find('bndbox')
        if box is None or obj.findtext('name') is None:
            raise VocFormatError(f'{where}: needs <name> and <bndbox>')
        difficult = (obj.findtext('difficult') or '0').strip().lower()
        if difficult not in ('0', '1', 'true', 'false'):
            raise VocFormatError(f'{where}: <difficult> must be 0 or 1; got {difficult!r}')
        objects.append(dict(name=obj.findtext('name').strip(), difficult=int(difficult in ('1', 'true')),
                            box=[_number(box, t, where) for t in ('xmin', 'ymin', 'xmax', 'ymax')]))
    filename = (root.findtext('filename') or f'{path.stem}.jpg').strip()
    if Path(filename).stem != path.stem:
        # mmdet and torchvision take the image from the XML's name; a <filename> copied from another annotation
        # (common after editing in LabelImg) put these boxes on that other image's pixels
        raise VocFormatError(f'{path}: <filename> {filename!r} names another image than the annotation file '
                             f'({path.stem}.*, as mmdet and torchvision read VOC); correct <filename>')
    return dict(filename=filename, width=int(_number(size, 'width', str(path))),
                height=int(_number(size, 'height', str(path))), objects=objects)


def object_problem(obj: dict, box: tuple, cat_id: dict, info: dict) -> tuple[str, str] | None:
    """(kind, message) of what is wrong with one object (0-based ``box``), or None."""
    x1, y1, x2, y2 = box
    if obj['name'] not in cat_id:
        return 'unknown class', f'class {obj["name"]!r} is not in --classes {sorted(cat_id)}'
    if x2 <= x1 or y2 <= y1:
        return 'empty box', f'box {obj["box"]} has no area'
    if x1 < 0 or y1 < 0 or x2 > info['width'] or y2 > info['height']:
        return 'box outside the image', f'box {obj["box"]} is outside the {info["width"]}x{info["height"]} image'
    return None


def convert(xml_files: Sequence[Path], classes: Sequence[str] | None, img_prefix: str, skip_invalid: bool,
            out_json: str) -> dict:
    """Write the COCO json for ``xml_files``; ``classes`` None means the sorted names found. Returns the dict."""
    parsed = [(p, parse_xml(p)) for p in xml_files]
    if classes is None:
        classes = sorted({o['name'] for _, x in parsed for o in x['objects']})
    cat_id = {name: i + 1 for i, name in enumerate(classes)}
    coco = dict(images=[], annotations=[], categories=[dict(id=i, name=n) for n, i in cat_id.items()])
    skipped: Counter = Counter()
    for image_id, (path, info) in enumerate(parsed, start=1):
        coco['images'].append(dict(id=image_id, file_name=os.path.join(img_prefix, info['filename']),
                                   width=info['width'], height=info['height']))
        for i, obj in enumerate(info['objects']):
            x1, y1, x2, y2 = (v - 1 for v in obj['box'])
            problem = object_problem(obj, (x1, y1, x2, y2), cat_id, info)
            if problem:
                if not skip_invalid:
                    raise VocFormatError(f'{path} (image id {image_id}), object {i}: {problem[1]}; pass '
                                         '--skip-invalid to skip such objects')
                skipped[problem[0]] += 1
                continue
            coco['annotations'].append(dict(
                id=len(coco['annotations']) + 1, image_id=image_id, category_id=cat_id[obj['name']],
                bbox=[x1, y1, x2 - x1, y2 - y1], area=(x2 - x1) * (y2 - y1), iscrowd=int(obj['difficult'] == 1),
                segmentation=[]))
    Path(out_json).resolve().parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(str(out_json)) as tmp, open(tmp, 'w') as f:
        json.dump(coco, f)
    note = f'; skipped {dict(skipped)}' if skipped else ''
    print(f'wrote {out_json}: {len(coco["images"])} images, {len(coco["annotations"])} objects, '
          f'{len(classes)} classes{note}')
    return coco


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--ann-dir', required=True, type=Path, help='folder of VOC XML files')
    parser.add_argument('--ids', type=Path, help='ImageSets list of image ids (default: every XML in --ann-dir)')
    parser.add_argument('--out-json', required=True)
    parser.add_argument('--img-prefix', default='JPEGImages', help='prefix of file_name (relative to data_prefix)')
    parser.add_argument('--classes', default='voc', help="'voc', 'auto' or comma-separated names")
    parser.add_argument('--skip-invalid', action='store_true')
    args = parser.parse_args(argv)
    try:
        if args.ids:
            ids = [line.split()[0] for line in args.ids.read_text(encoding='utf-8-sig').splitlines() if line.strip()]
            repeated = sorted({i for i in ids if ids.count(i) > 1})
            if repeated:  # the image and its objects would be written twice
                raise ValueError(f'--ids {args.ids} lists {repeated[:5]} more than once')
            if not ids:
                raise ValueError(f'--ids {args.ids} lists no image ids')
            files = [args.ann_dir / f'{i}.xml' for i in ids]
        else:
            files = sorted(args.ann_dir.glob('*.xml'))
        if not files:
            raise ValueError(f'no XML files in {args.ann_dir}')
        classes = VOC_CLASSES if args.classes == 'voc' else None if args.classes == 'auto' \
            else [c.strip() for c in args.classes.split(',') if c.strip()]
        if classes is not None and len(set(classes)) != len(classes):
            raise ValueError(f'--classes {args.classes!r} names a class twice (category ids would skip one)')
        convert(files, classes, args.img_prefix, args.skip_invalid, args.out_json)
    except (ValueError, OSError) as err:
        print(f'voc_to_coco.py: error: {err}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
