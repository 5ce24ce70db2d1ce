"""tools/data/voc_to_coco.py: VOC XML to COCO json with mmdet's coordinate and 'difficult' conventions."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
XML = """<annotation><filename>{name}.jpg</filename><size><width>100</width><height>80</height><depth>3</depth></size>
{objects}</annotation>"""
OBJ = ('<object><name>{cls}</name><difficult>{hard}</difficult><bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin>'
       '<xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox></object>')


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('voc_to_coco', REPO / 'tools/data/voc_to_coco.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_voc(root: Path, objects: dict[str, list[tuple]]) -> Path:
    ann = root / 'Annotations'
    ann.mkdir(parents=True, exist_ok=True)
    for name, objs in objects.items():
        body = ''.join(OBJ.format(cls=c, hard=h, b=b) for c, h, b in objs)
        (ann / f'{name}.xml').write_text(XML.format(name=name, objects=body))
    return ann


def test_boxes_classes_and_difficult(tool, tmp_path):
    ann = write_voc(tmp_path, {'a': [('dog', 0, (11, 21, 50, 60)), ('person', 1, (1, 1, 10, 10))],
                               'b': [('cat', 0, (5, 5, 100, 80))]})
    out = tmp_path / 'voc.json'
    assert tool.main(['--ann-dir', str(ann), '--out-json', str(out)]) == 0
    coco = json.loads(out.read_text())
    assert [c['name'] for c in coco['categories']][:3] == ['aeroplane', 'bicycle', 'bird']
    assert len(coco['categories']) == 20
    dog = coco['annotations'][0]
    assert dog['bbox'] == [10.0, 20.0, 39.0, 39.0] and dog['category_id'] == 12 and dog['iscrowd'] == 0
    assert coco['annotations'][1]['iscrowd'] == 1  # difficult: ignored as in VOC's evaluation
    assert coco['images'][0]['file_name'] == 'JPEGImages/a.jpg' and coco['images'][0]['height'] == 80


@pytest.mark.parametrize('obj, match', [(('unicorn', 0, (1, 1, 5, 5)), "class 'unicorn' is not in --classes"),
                                        (('dog', 0, (10, 10, 10, 20)), 'has no area'),
                                        (('dog', 0, (10, 10, 120, 20)), 'outside the 100x80 image')])
def test_bad_objects_name_the_file_or_are_skipped(tool, tmp_path, obj, match):
    ann = write_voc(tmp_path, {'a': [('dog', 0, (11, 21, 50, 60)), obj]})
    with pytest.raises(tool.VocFormatError, match=f'a.xml \\(image id 1\\), object 1: .*{match}'):
        tool.convert(sorted(ann.glob('*.xml')), tool.VOC_CLASSES, 'JPEGImages', False, str(tmp_path / 'o.json'))
    coco = tool.convert(sorted(ann.glob('*.xml')), tool.VOC_CLASSES, 'JPEGImages', True, str(tmp_path / 'o.json'))
    assert len(coco['annotations']) == 1


def test_auto_classes_and_broken_xml(tool, tmp_path):
    ann = write_voc(tmp_path, {'a': [('zebra', 0, (1, 1, 5, 5)), ('ant', 0, (1, 1, 5, 5))]})
    coco = tool.convert(sorted(ann.glob('*.xml')), None, '', False, str(tmp_path / 'o.json'))
    assert [c['name'] for c in coco['categories']] == ['ant', 'zebra']
    (ann / 'b.xml').write_text('<annotation><size>')
    with pytest.raises(tool.VocFormatError, match='b.xml: not a readable XML'):
        tool.convert(sorted(ann.glob('*.xml')), None, '', False, str(tmp_path / 'o.json'))


def test_difficult_words_repeated_ids_and_classes(tool, tmp_path, capsys):
    ann = write_voc(tmp_path, {'a': [('dog', 'true', (11, 21, 50, 60))], 'b': [('cat', 'maybe', (5, 5, 10, 10))]})
    assert tool.parse_xml(ann / 'a.xml')['objects'][0]['difficult'] == 1  # was: invalid literal for int()
    with pytest.raises(tool.VocFormatError, match=r"b.xml, object 0: <difficult> must be 0 or 1; got 'maybe'"):
        tool.parse_xml(ann / 'b.xml')
    ids = tmp_path / 'train.txt'
    cases = [(['--ids', str(ids)], 'a\na\n', "lists ['a'] more than once"),  # image a and its dog twice
             (['--ids', str(ids)], '\n', 'lists no image ids'),  # blamed the annotation folder
             (['--classes', 'dog,cat,dog'], '', "names a class twice")]
    for extra, text, message in cases:
        ids.write_text(text)
        assert tool.main(['--ann-dir', str(ann), '--out-json', str(tmp_path / 'o.json'), *extra]) == 2
        assert message in capsys.readouterr().err


def test_a_filename_of_another_image_is_refused(tool, tmp_path):
    """Two XMLs both naming 000001.jpg: 000002's boxes were written onto 000001's pixels without a word."""
    ann = write_voc(tmp_path, {'000001': [('dog', 0, (1, 1, 5, 5))], '000002': [('cat', 0, (2, 2, 9, 9))]})
    copied = (ann / '000002.xml').read_text().replace('000002.jpg', '000001.jpg')
    (ann / '000002.xml').write_text(copied)
    with pytest.raises(tool.VocFormatError, match=r"000002.xml: <filename> '000001.jpg' names another image"):
        tool.convert(sorted(ann.glob('*.xml')), None, '', False, str(tmp_path / 'o.json'))
    assert not (tmp_path / 'o.json').exists()
    (ann / '000002.xml').write_text(copied.replace('000001.jpg', '000002.png'))  # another extension is fine
    coco = tool.convert(sorted(ann.glob('*.xml')), None, 'JPEGImages', False, str(tmp_path / 'o.json'))
    assert [i['file_name'] for i in coco['images']] == ['JPEGImages/000001.jpg', 'JPEGImages/000002.png']
