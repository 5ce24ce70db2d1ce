"""tools/data/instance_to_coco.py: label images become COCO json whose masks decode back to the same objects."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('instance_to_coco', REPO / 'tools/data/instance_to_coco.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_pair(tmp_path: Path, dtype=np.uint16, peak: int = 200) -> tuple[Path, Path, np.ndarray]:
    labels = np.zeros((40, 50), np.uint16)
    labels[5:15, 5:20] = 3       # a rectangle
    labels[20:35, 30:45] = 7     # another
    labels[38, 0] = 9            # a single pixel
    image = (labels > 0).astype(dtype) * peak
    Image.fromarray(image).save(tmp_path / 'img.tif')
    Image.fromarray(labels).save(tmp_path / 'lab.tif')
    return tmp_path / 'img.tif', tmp_path / 'lab.tif', labels


@pytest.mark.parametrize('fmt', ['rle', 'polygon'])
def test_masks_decode_back_to_the_objects(tool, tmp_path, fmt):
    img, lab, labels = write_pair(tmp_path)
    coco = tool.convert([str(img)], [str(lab)], str(tmp_path / 'out.json'), fmt=fmt, category='nucleus')
    assert json.loads((tmp_path / 'out.json').read_text()) == coco
    assert coco['categories'][0]['name'] == 'nucleus' and len(coco['annotations']) == 3
    first = coco['annotations'][0]
    assert first['bbox'] == [5.0, 5.0, 15.0, 10.0] and first['area'] == 150
    for ann, value in zip(coco['annotations'], (3, 7, 9)):
        seg = ann['segmentation']
        if fmt == 'rle':
            decoded = mask_utils.decode(dict(seg, counts=seg['counts'].encode()))
        else:  # along the pixels' edges: cv2's contours through the border pixels' centres lost half a pixel a side
            assert isinstance(seg, list)
            decoded = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(seg, 40, 50)))
        np.testing.assert_array_equal(decoded, labels == value)
    png = np.asarray(Image.open(tmp_path / coco['images'][0]['file_name']))
    assert png.dtype == np.uint8 and png.max() == 200


def test_a_failed_rewrite_keeps_the_previous_files_and_no_temporaries(tool, tmp_path, monkeypatch):
    img, lab, _ = write_pair(tmp_path)
    out = tmp_path / 'out' / 'o.json'
    first = tool.convert([str(img)], [str(lab)], str(out))
    before = {p.name: p.read_bytes() for p in out.parent.rglob('*') if p.is_file()}

    def dump_half_then_fail(obj, f):
        f.write(json.dumps(obj)[:20])
        raise OSError('disk full')
    monkeypatch.setattr(tool.json, 'dump', dump_half_then_fail)
    with pytest.raises(OSError, match='disk full'):
        tool.convert([str(img)], [str(lab)], str(out))
    after = {p.name: p.read_bytes() for p in out.parent.rglob('*') if p.is_file()}
    assert after == before and json.loads(out.read_text()) == first  # no half file, no hidden temporary left


def test_crop_and_min_area(tool, tmp_path):
    img, lab, _ = write_pair(tmp_path)
    coco = tool.convert([str(img)], [str(lab)], str(tmp_path / 'o.json'), crop=(10, 0, 50, 40), min_area=2)
    assert coco['images'][0]['width'] == 40 and len(coco['annotations']) == 2  # the pixel at x=0 is cut away
    assert coco['annotations'][0]['bbox'] == [0.0, 5.0, 10.0, 10.0]  # the first object keeps its visible part


def test_errors_name_the_files(tool, tmp_path):
    img, lab, _ = write_pair(tmp_path, peak=1000)
    with pytest.raises(ValueError, match='img.tif: values 0..1000 do not fit in 8 bits'):
        tool.convert([str(img)], [str(lab)], str(tmp_path / 'o.json'))
    assert tool.main(['--images', str(img), '--labels', str(lab), '--out-json', str(tmp_path / 'o.json'),
                      '--normalize', 'percentile']) == 0
    with pytest.raises(ValueError, match='must pair up'):
        tool.convert([str(img)], [], str(tmp_path / 'o.json'))
    assert not (tmp_path / 'o.json.tmp').exists()


def test_stacks_and_float_images_are_refused_and_a_bad_pair_leaves_no_png(tool, tmp_path):
    img, lab, labels = write_pair(tmp_path)
    pages = [Image.fromarray(labels), Image.fromarray(labels)]
    pages[0].save(tmp_path / 'stack.tif', save_all=True, append_images=pages[1:])
    with pytest.raises(ValueError, match=r'stack.tif holds 2 pages \(a stack\)'):  # page 2 was dropped silently
        tool.convert([str(img)], [str(tmp_path / 'stack.tif')], str(tmp_path / 'a' / 's.json'))
    Image.fromarray((labels > 0).astype(np.float32) * 0.8).save(tmp_path / 'float.tif')
    with pytest.raises(ValueError, match=r'float.tif: float32 values 0..0.8 are not whole 8-bit levels'):
        tool.convert([str(tmp_path / 'float.tif')], [str(lab)], str(tmp_path / 'a' / 'f.json'))  # was all black
    Image.fromarray(labels[:20]).save(tmp_path / 'small.tif')
    with pytest.raises(ValueError, match='must match'):
        tool.convert([str(img), str(img)], [str(lab), str(tmp_path / 'small.tif')], str(tmp_path / 'a' / 'p.json'))
    assert not (tmp_path / 'a').exists()  # the first pair's PNG used to be written before the second failed
    done = tool.convert([str(img)], [str(lab)], str(tmp_path / 'new' / 'folder' / 'x.json'))  # folder made
    assert len(done['images']) == 1 and (tmp_path / 'new' / 'folder' / 'images' / 'x_img_1.png').is_file()


def test_polygons_of_round_and_touching_objects_rasterise_back(tool):
    """Discs, and pixels that meet only at a corner, come back through pycocotools as the same pixels (holes are
    filled: the outer outline only)."""
    yy, xx = np.mgrid[:40, :50]
    disc = ((yy - 20) ** 2 + (xx - 24) ** 2 <= 12 ** 2).astype(np.uint8)
    chequer = np.zeros((40, 50), np.uint8)
    chequer[10:14, 10:14] = np.indices((4, 4)).sum(0) % 2 == 0
    for mask in (disc, chequer):
        decoded = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(tool.polygons(mask), 40, 50)))
        np.testing.assert_array_equal(decoded, mask)


@pytest.mark.parametrize('mode', ['P', 'CMYK'])
def test_palette_and_cmyk_images_keep_their_colours(tool, tmp_path, mode):
    # their raw arrays were written: palette indices as grey levels 0 and 1, CMYK as transparent cyan RGBA
    _, lab, _ = write_pair(tmp_path)
    rgb = np.zeros((40, 50, 3), np.uint8)
    rgb[:, :25] = (255, 0, 0)
    rgb[:, 25:] = (0, 0, 255)
    image = Image.fromarray(rgb).convert(mode) if mode == 'CMYK' else Image.fromarray(rgb).quantize(2)
    image.save(tmp_path / ('img.tif' if mode == 'CMYK' else 'img.png'))
    img = tmp_path / ('img.tif' if mode == 'CMYK' else 'img.png')
    coco = tool.convert([str(img)], [str(lab)], str(tmp_path / 'out.json'))
    png = Image.open(tmp_path / coco['images'][0]['file_name'])
    assert png.mode == 'RGB'
    np.testing.assert_array_equal(np.asarray(png), np.asarray(Image.open(img).convert('RGB')))
    assert tuple(np.asarray(png)[0, 0]) == (255, 0, 0)


def test_an_output_that_is_an_input_is_refused_before_writing(tool, tmp_path):
    img, lab, _ = write_pair(tmp_path)
    before = lab.read_bytes()
    with pytest.raises(ValueError, match=r'lab\.tif is one of the inputs'):  # it became the json
        tool.convert([str(img)], [str(lab)], str(lab))
    assert lab.read_bytes() == before
