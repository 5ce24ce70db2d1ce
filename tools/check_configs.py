"""Will these configs run here? Build each one's model and every data pipeline, without data or training.

    python tools/check_configs.py CONFIG [CONFIG ...] [--load-only]  # e.g. ../mmaction2/configs/recognition/tsn/*.py

For each config (ours; one written for mmaction2, whose runtime load_config adopts; or an insightface arcface_torch
file, which it translates): load it, build the model from ``model`` and each transform of the train / val / test
pipelines (datasets wrapped in ConcatDataset and OmniSource's other loaders too). ``--load-only`` stops after
loading (translating), for configs whose models are too large to build here (a 2M-identity Partial FC holds 4 GB
of class centres).
Prints one line per config, 'ok' or the first failure, then a count. Exit status 0 when every config builds, 1 when
one does not, 2 on a bad argument (a missing file). Building a full-size model takes a second or two on CPU.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mmengine.registry import init_default_scope  # noqa: E402

from resbackbones.engine.cli import ToolParser, run_tool  # noqa: E402
from resbackbones.engine.config import dataset_chain, load_config, model_config  # noqa: E402
from resbackbones.registry import MODELS, TRANSFORMS  # noqa: E402

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def pipelines(cfg) -> list[list[dict]]:
    """Every pipeline the config's data loaders name (those of ConcatDataset's parts, of the datasets that wrappers
    such as CachedDataset hold, and of mmaction2's ``train_cfg.other_loaders``, included)."""
    found = []

    def visit(dataset: dict) -> None:  # parts of a ConcatDataset may be wrappers in turn (RepeatDataset(...))
        for link in dataset_chain(dataset):
            if 'pipeline' in link:
                found.append(link['pipeline'])
            for part in link.get('datasets') or []:
                if isinstance(part, dict):
                    visit(part)

    loaders = [cfg.get(key) or {} for key in LOADERS] + list((cfg.get('train_cfg') or {}).get('other_loaders') or [])
    for loader in loaders:
        visit(loader.get('dataset') or {})
    return found


def check(path: str, load_only: bool = False) -> str:
    """'ok', or the first failure as 'Type: message' (one line)."""
    try:
        cfg = load_config(path)
        if load_only:
            return 'ok'
        init_default_scope(cfg.get('default_scope', 'resbackbones'))
        if 'model' not in cfg:
            raise ValueError('the config has no model (a data-preparation config?)')
        MODELS.build(model_config(cfg))
        for pipeline in pipelines(cfg):
            for step in pipeline:
                TRANSFORMS.build(step)
    except Exception as err:  # any failure to build is the answer for this config
        return f'{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ""}'
    return 'ok'


def main(argv: list[str] | None = None) -> int:
    parser = ToolParser(prog='check_configs.py', description=__doc__.split('\n\n')[0])
    parser.add_argument('configs', nargs='+', help='config files')
    parser.add_argument('--load-only', action='store_true', help='load (translate) only; build nothing')
    args = parser.parse_args(argv)
    missing = [p for p in args.configs if not Path(p).is_file()]
    if missing:
        parser.error(f'config file not found: {missing[0]}')
    failed = 0
    for path in args.configs:
        verdict = check(path, args.load_only)
        failed += verdict != 'ok'
        print(f'{path}: {verdict}', flush=True)
    print(f'{len(args.configs) - failed} of {len(args.configs)} configs {"load" if args.load_only else "build"}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='check_configs.py'))
