"""Tiny training set-ups shared by the engine and tools tests: a grey ImageFolder and a leaf config over the demo."""
from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO / 'configs' / 'classification' / 'resnet18_digits.py'


def load_tool(name: str) -> ModuleType:
    """tools/NAME.py as a module (tools are scripts, not a package), so tests can call its main()."""
    spec = importlib.util.spec_from_file_location(f'tool_{name.replace("/", "_")}', REPO / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_tool_here(tool: str, capsys, *args) -> str:
    """tools/TOOL.py's main with ``args`` in this interpreter (a fresh one costs seconds of imports; the command
    lines themselves run in the dist_train.sh and tool tests), asserting exit status 0; what it printed."""
    from resbackbones.engine.cli import run_tool

    assert run_tool(load_tool(tool).main, list(map(str, args)), prog=f'{tool}.py') == 0
    return capsys.readouterr().out


def write_image_folder(root: Path, classes: int = 2, per_class: int = 8, size: int = 8, seed: int = 0) -> Path:
    """``root/<class>/<i>.png`` grey images whose brightness pattern depends on the class (learnable)."""
    rng = np.random.default_rng(seed)
    for label in range(classes):
        folder = root / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            img = rng.integers(0, 60, (size, size))
            img[:, label * size // classes:(label + 1) * size // classes] += 150
            Image.fromarray(img.astype(np.uint8)).save(folder / f'{i}.png')
    return root


def write_config(path: Path, data: Path, extra: str = '', max_epochs: int = 3, base: Path = DEMO_CONFIG) -> Path:
    """A leaf config over the demo: width-8 ResNet-18, 4-image batches, no augmentation (deterministic), step lr."""
    path.write_text(f'''
_base_ = [{str(base)!r}]
model = dict(backbone=dict(base_channels=8))
pipeline = [dict(type='LoadImageFromFile', color_type='grayscale'), dict(type='PackInputs')]
train_dataloader = dict(batch_size=4, dataset=dict(data_root={str(data / 'train')!r}, pipeline=pipeline))
val_dataloader = dict(batch_size=8, dataset=dict(data_root={str(data / 'val')!r}, pipeline=pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs={max_epochs})
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[2], gamma=0.1)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(save_best=None))
randomness = dict(seed=0, deterministic=True)
{extra}
''')
    return path


def tiny_setup(tmp: Path, extra: str = '', max_epochs: int = 3) -> Path:
    """Write data (train: 2x8 images, val: 2x4) and a config under ``tmp``; returns the config path."""
    write_image_folder(tmp / 'data' / 'train', per_class=8)
    write_image_folder(tmp / 'data' / 'val', per_class=4, seed=1)
    return write_config(tmp / 'tiny.py', tmp / 'data', extra, max_epochs)
