"""The Python examples in README.md and docs/*.md run as written, and the files the docs name exist.

Every ```python block must compile. Blocks that import something are examples a user copies whole: they run in a
temporary folder holding the files they name, built here in the foreign formats they stand for (torchvision and
timm state dicts, an mmdet checkpoint, our own detector checkpoint), with random weights. Blocks without an import
are config fragments (``pipeline=[...]`` and the like), checked for syntax only.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / 'README.md', *sorted((REPO / 'docs').glob('*.md'))]
BLOCK = re.compile(r'```python\n(.*?)```', re.S)


def _blocks() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for number, match in enumerate(BLOCK.finditer(doc.read_text(encoding='utf-8')), 1):
            found.append((f'{doc.relative_to(REPO)}#{number}', match.group(1)))
    return found


BLOCKS = _blocks()
# Repository paths only: a path inside another checkout ('../mmaction2/configs/x.py') is not ours to check.
PATH = re.compile(r'(?<![\w/.])(?:configs|tools|demo|resbackbones|tests)/[\w/.{},-]+\.(?:py|sh)\b')
RUNNABLE = [(name, code) for name, code in BLOCKS if re.search(r'^\s*(import|from) ', code, re.M)]


def _torchvision_r50(path: Path) -> None:
    import torchvision
    torch.save(torchvision.models.resnet50().state_dict(), path)


def _timm_r50d(path: Path) -> None:
    import timm
    torch.save(timm.create_model('resnet50d', pretrained=False).state_dict(), path)


def _mmdet_mask_rcnn(path: Path) -> None:
    """mmdet's layout: 'state_dict' with 'backbone.'-prefixed ResNet-50 keys plus neck/head keys, and 'meta'."""
    from resbackbones import create_model
    state = {f'backbone.{k}': v for k, v in create_model('resnet50').state_dict().items()}
    state.update({'neck.lateral_convs.0.conv.weight': torch.zeros(256, 256, 1, 1),
                  'roi_head.bbox_head.fc_cls.weight': torch.zeros(81, 1024)})
    torch.save({'state_dict': state, 'meta': {'mmdet_version': '3.3.0'}}, path)


def _our_mask_rcnn(path: Path) -> None:
    from resbackbones.apis import init_detector
    model = init_detector(str(REPO / 'configs/mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'))
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)


def _photo(path: Path) -> None:
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (96, 128, 3), dtype=np.uint8)).save(path)


# Every file an example names, and how to make it. An example naming a file missing here fails with its name.
FILES = {
    'resnet50_torchvision.pth': _torchvision_r50, 'resnet50-torchvision.pth': _torchvision_r50,
    'resnet50-0676ba61.pth': _torchvision_r50, 'resnet50d_timm.pth': _timm_r50d,
    'mask_rcnn_r50_fpn.pth': _mmdet_mask_rcnn, 'ckpt.pth': _our_mask_rcnn, 'image.jpg': _photo,
}


@pytest.mark.parametrize('name, code', BLOCKS, ids=[name for name, _ in BLOCKS])
def test_block_compiles(name, code):
    compile(code, name, 'exec')


@pytest.mark.slow
@pytest.mark.parametrize('name, code', RUNNABLE, ids=[name for name, _ in RUNNABLE])
def test_example_runs(name, code, tmp_path, monkeypatch):
    named = set(re.findall(r"'([\w.-]+\.(?:pth|jpg|png))'", code))
    unknown = named - set(FILES)
    assert not unknown, f'{name} names {sorted(unknown)}: add a maker for each to FILES'
    for file in named:
        FILES[file](tmp_path / file)
    (tmp_path / 'configs').symlink_to(REPO / 'configs')  # examples give config paths from the repository root
    monkeypatch.chdir(tmp_path)
    # Inputs the examples use without defining: RGB images, a 4-channel batch for the U-Net, an RGB video clip.
    namespace = {'__name__': '__doc_example__', 'images': torch.randn(1, 3, 64, 64), 'x': torch.randn(2, 4, 64, 72),
                 'clip': torch.randn(1, 3, 8, 64, 64)}
    with torch.no_grad():
        exec(compile(code, name, 'exec'), namespace)


def _expand(path: str) -> list[str]:
    """Shell brace expansion, as the docs write several files at once: 'a/{b,c}.py' -> ['a/b.py', 'a/c.py']."""
    match = re.search(r'\{([^{}]*)\}', path)
    if not match:
        return [path]
    return [p for part in match[1].split(',') for p in _expand(path[:match.start()] + part + path[match.end():])]


@pytest.mark.parametrize('doc', DOCS, ids=[str(d.relative_to(REPO)) for d in DOCS])
def test_named_scripts_and_configs_exist(doc):
    named = {p for found in PATH.findall(doc.read_text(encoding='utf-8')) for p in _expand(found)}
    missing = sorted(p for p in named if not (REPO / p).exists())
    assert not missing, f'{doc.relative_to(REPO)} names files that do not exist: {missing}'
