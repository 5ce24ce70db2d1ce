"""Guard for transforms that move the image alone: a sample whose annotations are tied to pixel positions must
not go through them, or boxes, masks and maps would describe another image without a word."""
from __future__ import annotations

# 'landmarks': FaceAlign's five points, which it reads in the image's pixels (and uses up)
GEOMETRIC_ANNOTATIONS = ('gt_bboxes', 'gt_masks', 'gt_instance_map', 'gt_seg_map', 'gt_keypoints', 'landmarks')


def refuse_geometric_annotations(results: dict, doing: str) -> None:
    """Raise ValueError naming the image and its pixel-tied annotations, if it has any; ``doing`` says what would
    move the image alone (e.g. "Resize resizes the image alone")."""
    found = [key for key in GEOMETRIC_ANNOTATIONS if results.get(key) is not None]
    if found:
        raise ValueError(f"{doing}, but {results.get('img_path', 'the sample')} carries "
                         f'{found}, which would no longer fit it: use DetResize / DetAlbu for boxes and masks, '
                         'SegAlbu for a segmentation map, and FaceAlign before this step for landmarks')
