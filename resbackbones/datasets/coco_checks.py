"""Validation of COCO annotation files: structural errors raise, degenerate annotations are skipped and counted.

Every message names the file, the image id and the annotation id. Policy (documented in docs/detection.md):
  error always: malformed json, missing 'images'/'annotations'/'categories', duplicate ids, an annotation whose
      image_id is not in 'images' or whose category_id is not in 'categories', a bbox that is not 4 numbers, an
      RLE whose size is not the image's.
  skip and count (or error with on_invalid='error'): zero-area or < 1 px boxes, boxes wholly outside the image,
      'area' <= 0, instances whose polygons all have fewer than 3 points; polygon parts with < 3 points are dropped
      from otherwise valid instances (counted). Boxes partly outside the image are clipped (counted).
"""
from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field


class CocoFormatError(ValueError):
    """The annotation file is not valid COCO; the message names the file, image id and annotation id."""


@dataclass
class Tally:
    """Counts of skipped or repaired annotations by reason, with the first example of each, for one summary line."""

    source: str
    counts: Counter = field(default_factory=Counter)
    first: dict[str, str] = field(default_factory=dict)

    def add(self, reason: str, where: str) -> None:
        self.counts[reason] += 1
        self.first.setdefault(reason, where)

    def summary(self) -> str:
        return '; '.join(f'{n} {reason} (first: {self.first[reason]})' for reason, n in self.counts.items())


def load_coco_json(path: str) -> dict:
    """Read and check the top level of a COCO file; CocoFormatError naming the file otherwise."""
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f'COCO annotation file not found: {path}') from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CocoFormatError(f'{path} is not valid json: {err}') from None
    if not isinstance(data, dict):
        raise CocoFormatError(f'{path}: expected a json object with images/annotations/categories; '
                              f'got a {type(data).__name__}')
    for key in ('images', 'categories'):
        if not isinstance(data.get(key), list):
            raise CocoFormatError(f'{path}: expected a list under {key!r}; got {type(data.get(key)).__name__}')
    if not isinstance(data.setdefault('annotations', []), list):  # test-dev files carry no annotations
        raise CocoFormatError(f"{path}: 'annotations' must be a list")
    _check_ids(data, path)
    return data


def _check_ids(data: dict, path: str) -> None:
    for key, fields in (('images', ('id', 'file_name', 'height', 'width')), ('categories', ('id', 'name')),
                        ('annotations', ('id', 'image_id', 'category_id', 'bbox'))):
        seen = set()
        for i, item in enumerate(data[key]):
            missing = [f for f in fields if not isinstance(item, dict) or f not in item]
            if missing:
                raise CocoFormatError(f'{path}: {key}[{i}] (id {item.get("id") if isinstance(item, dict) else "?"}) '
                                      f'lacks {missing}')
            if item['id'] in seen:
                raise CocoFormatError(f'{path}: {key} id {item["id"]} appears more than once')
            seen.add(item['id'])
        kinds = sorted({type(i).__name__ for i in seen})
        if len(kinds) > 1:  # they are sorted (labels, image order): a bare "'<' not supported" TypeError
            examples = ', '.join(f'{kind} such as {next(repr(i) for i in seen if type(i).__name__ == kind)}'
                                 for kind in kinds)
            raise CocoFormatError(f"{path}: {key} ids mix types ({examples}); give every id of '{key}' one type")
    for i, image in enumerate(data['images']):
        for side in ('height', 'width'):
            value = image[side]
            if isinstance(value, str) and value.strip().isdigit():
                continue  # written as text by some tools: read as its number
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 1 or value != int(value):
                raise CocoFormatError(f'{path}: image id {image["id"]!r}: {side} must be a whole number of pixels '
                                      f'>= 1; got {value!r}')
    images, cats = {im['id'] for im in data['images']}, {c['id'] for c in data['categories']}
    for ann in data['annotations']:
        if ann['image_id'] not in images:
            kinds = {type(i).__name__ for i in images} - {type(ann['image_id']).__name__}
            typed = (f' (an {type(ann["image_id"]).__name__} here, while the images\' ids are '
                     f'{" and ".join(sorted(kinds))}s: 1 and \'1\' are different ids)' if kinds else '')
            raise CocoFormatError(f'{path}: annotation id {ann["id"]} refers to image id {ann["image_id"]!r}, which '
                                  f"is not in 'images'{typed}")
        if ann['category_id'] not in cats:
            raise CocoFormatError(f'{path}: image id {ann["image_id"]}, annotation id {ann["id"]}: category_id '
                                  f'{ann["category_id"]!r} is not in \'categories\' (ids {sorted(cats, key=str)[:20]})')


def check_box(ann: dict, height: int, width: int, where: str) -> tuple[list[float] | None, str | None, bool]:
    """(xyxy box clipped to the image, reason it is invalid or None, whether it was clipped)."""
    bbox = ann['bbox']
    if (not isinstance(bbox, (list, tuple)) or len(bbox) != 4
            or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in bbox)):
        raise CocoFormatError(f'{where}: bbox must be 4 finite numbers [x, y, w, h]; got {bbox!r}')
    x, y, w, h = bbox
    area = ann.get('area', 1)
    if isinstance(area, bool) or not isinstance(area, (int, float)) or not math.isfinite(area):
        raise CocoFormatError(f'{where}: area must be a finite number (pixels); got {area!r}')
    if w < 1 or h < 1 or area <= 0:
        return None, 'boxes of zero area or under 1 px', False
    x1, y1, x2, y2 = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
    if x2 - x1 <= 0 or y2 - y1 <= 0:
        return None, 'boxes wholly outside the image', False
    return [x1, y1, x2, y2], None, (x1, y1, x2, y2) != (x, y, x + w, y + h)


def check_polygon_values(polygon: list, height: int, width: int, where: str) -> None:
    """CocoFormatError unless every coordinate is a finite number within the image's size of the image (polygons
    may overhang it a little, not by more than its size)."""
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in polygon):
        raise CocoFormatError(f'{where}: polygon coordinates must be finite numbers; got {polygon[:8]}'
                              f'{" ..." if len(polygon) > 8 else ""}')
    span = max(height, width)
    far = [v for v in polygon if not -span <= v <= 2 * span]
    if far:
        raise CocoFormatError(f'{where}: polygon coordinate {far[0]} lies far outside the {width}x{height} image')


def rle_string_counts(counts: str) -> list[int]:
    """The run lengths of a compressed COCO RLE string (pycocotools' rleFrString: 5 bits per character, offset 48,
    0x20 continues, 0x10 the sign, each count after the second stored as the difference to the one two before)."""
    runs: list[int] = []
    i = 0
    while i < len(counts):
        value, shift, more = 0, 0, True
        while more:
            if i >= len(counts):
                raise ValueError('the string ends inside a count')
            c = ord(counts[i]) - 48
            value |= (c & 0x1f) << (5 * shift)
            more = bool(c & 0x20)
            i, shift = i + 1, shift + 1
            if not more and c & 0x10:
                value |= -1 << (5 * shift)
        runs.append(value + runs[-2] if len(runs) > 2 else value)
    return runs


def check_rle_counts(counts, pixels: int, where: str) -> None:
    """CocoFormatError unless the RLE's runs (a list, or pycocotools' compressed string) are non-negative and cover
    the image's ``pixels`` exactly: other counts loaded as a wrong or empty mask without a word."""
    if isinstance(counts, (bytes, str)):
        try:
            runs = rle_string_counts(counts.decode('ascii') if isinstance(counts, bytes) else counts)
        except (ValueError, UnicodeDecodeError) as err:
            raise CocoFormatError(f'{where}: RLE counts string is not pycocotools\' format ({err})') from err
    elif isinstance(counts, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in counts):
        runs = counts
    else:
        raise CocoFormatError(f"{where}: RLE needs 'counts', a list of run lengths or pycocotools' string; got "
                              f'{type(counts).__name__}')
    if any(v < 0 for v in runs) or sum(runs) != pixels:
        raise CocoFormatError(f'{where}: RLE counts cover {sum(runs)} pixels (negative runs: '
                              f'{any(v < 0 for v in runs)}); the image has {pixels}')


def check_segmentation(seg, height: int, width: int, where: str) -> tuple[object, str | None, int]:
    """(segmentation with bad polygon parts removed, reason it is invalid or None, number of parts dropped)."""
    if seg is None or seg == []:  # box-only annotations (e.g. converted from VOC): no mask
        return None, None, 0
    if isinstance(seg, dict):  # RLE
        if list(seg.get('size', [])) != [height, width]:
            raise CocoFormatError(f'{where}: RLE size {seg.get("size")} is not the image size [{height}, {width}]')
        check_rle_counts(seg.get('counts'), height * width, where)
        return seg, None, 0
    if not isinstance(seg, list):
        raise CocoFormatError(f'{where}: segmentation must be a list of polygons or an RLE dict; '
                              f'got {type(seg).__name__}')
    if all(isinstance(v, (int, float)) for v in seg):  # [x1, y1, ...]: one polygon not nested, as some tools write
        seg = [seg]
    if len(seg) >= 3 and all(isinstance(p, list) and len(p) == 2 and all(isinstance(v, (int, float)) for v in p)
                             for p in seg):  # labelme / shapely style: read as parts of one point, 'too short'
        return None, 'polygons given as [x, y] point pairs (COCO polygons are flat: [[x1, y1, x2, y2, ...]])', 0
    good = [p for p in seg if isinstance(p, list) and len(p) >= 6 and len(p) % 2 == 0]
    for polygon in good:  # pycocotools crashes the process on NaN, None or huge values (segfault, or all memory)
        check_polygon_values(polygon, height, width, where)
    if not good:
        return None, 'instances whose polygons all have fewer than 3 points', 0
    return good, None, len(seg) - len(good)
