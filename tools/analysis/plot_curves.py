"""Plot training curves from mmengine's json scalar log: train loss per iteration, val accuracy per epoch.

    python tools/analysis/plot_curves.py WORK_DIR_OR_JSON [--keys loss acc/top1] [--out curves.png]

WORK_DIR may be a training work_dir (the newest <timestamp>/vis_data/scalars.json is used) or a vis_data
folder. mmengine writes one json object per line: training lines carry 'iter' (and 'step' = iter); validation
lines carry the metrics and 'step' = epoch, or iteration where the logger has ``log_metric_by_epoch=False`` (this
project's iteration-based schedule sets it; with mmengine's default every validation of such a run reads step 0).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the headless backend)
from matplotlib.ticker import MaxNLocator  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout too
from resbackbones.engine.atomic import save_figure  # noqa: E402


def find_log(path: Path) -> Path:
    """The json log named by ``path``: the file itself, or the newest scalars json below a work_dir."""
    if not path.exists():
        raise FileNotFoundError(f'{path} does not exist; give a work_dir or a vis_data/*.json log')
    if path.is_file():
        return path
    logs = sorted(path.glob('scalars.json')) or sorted(path.glob('*/vis_data/scalars.json')) \
        or sorted(path.glob('vis_data/scalars.json')) or sorted(path.glob('*/vis_data/*.json'))
    if not logs:
        raise FileNotFoundError(f'no vis_data/scalars.json under {path}; has a training run with LoggerHook '
                                f'written its json log there?')
    return max(logs, key=lambda p: p.stat().st_mtime)


def read_scalars(log: Path) -> list[dict]:
    """One dict per non-blank line of ``log``; ValueError names the line that is not a json object."""
    records = []
    for lineno, line in enumerate(log.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f'{log}, line {lineno}: not a json object ({err.msg})') from None
        if not isinstance(record, dict) or 'step' not in record:
            raise ValueError(f"{log}, line {lineno}: expected a json object with a 'step', as mmengine writes")
        records.append(record)
    return records


def series(records: list[dict], key: str) -> tuple[str, list[float], list[float]]:
    """(x label, xs, ys) of ``key``: per iteration on training lines ('iter' present), else per validation 'step'
    (epochs or iterations, ``validation_unit``).
    A key on both kinds of line (mmengine logs ``time`` and ``data_time`` in training and in validation) is drawn
    from the training lines: mixed, iterations and validation epochs shared one axis and one line."""
    rows = [r for r in records if isinstance(r.get(key), (int, float))]
    if not rows:
        keys = sorted({k for r in records for k in r} - {'step', 'iter', 'epoch'})
        raise ValueError(f'key {key!r} is in no line of the log; keys there: {keys}')
    train = [r for r in rows if 'iter' in r]
    if train:
        label = 'iteration' if len(train) == len(rows) else 'iteration (training lines only)'
        return label, [r['iter'] for r in train], [float(r[key]) for r in train]
    return f'{validation_unit(records)} (validation step)', [r['step'] for r in rows], [float(r[key]) for r in rows]


def validation_unit(records: list[dict]) -> str:
    """What a validation line's 'step' counts: epochs when the training lines carry an 'epoch' (an epoch-based
    run), iterations when they do not (``log_metric_by_epoch=False``: mDice was drawn at 'epoch 200')."""
    train = [r for r in records if 'iter' in r]
    if not train:
        return 'step'
    return 'epoch' if any('epoch' in r for r in train) else 'iteration'


NOT_METRICS = {'step', 'epoch', 'iter', 'time', 'data_time', 'lr', 'memory', 'eta'}


def default_keys(records: list[dict]) -> list[str]:
    """'loss' and the first metric of the first validation line (a classifier's 'accuracy/top1', a recognizer's
    'acc/top1', a U-Net's 'mDice' ...): a fixed 'accuracy/top1' failed on every run but classification."""
    validation = next((r for r in records if 'iter' not in r and set(r) - NOT_METRICS), None)
    return ['loss'] + ([next(k for k in validation if k not in NOT_METRICS)] if validation else [])


def plot_curves(log: Path, keys: list[str] | None, out: Path) -> Path:
    """Write one panel per key (None: :func:`default_keys`) to the PNG ``out`` (atomically) and return its path."""
    records = read_scalars(log)
    keys = keys or default_keys(records)
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 4), squeeze=False)
    for ax, key in zip(axes[0], keys):
        xlabel, xs, ys = series(records, key)
        ax.plot(xs, ys, marker='o' if len(xs) < 30 else None)
        ax.set(xlabel=xlabel, ylabel=key, title=key)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    fig.suptitle(str(log), fontsize=8)
    fig.tight_layout()
    save_figure(fig, str(out), dpi=100)
    return out


def main(argv: list[str] | None = None) -> int:
    """CLI: errors print one line and exit 2 (as argparse does)."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('path', type=Path, help='work_dir, vis_data folder or json log')
    parser.add_argument('--keys', nargs='+', help="default: 'loss' and the log's first validation metric")
    parser.add_argument('--out', type=Path, help='PNG to write (default: curves.png beside the log)')
    args = parser.parse_args(argv)
    try:
        log = find_log(args.path)
        out = args.out or log.parent / 'curves.png'
        if out.exists() and out.resolve() == log.resolve():  # the log itself was replaced by the picture
            raise ValueError(f'--out {out} is the log being read; give another name')
        if out.suffix.lower() != '.png':  # a .pdf or .svg name got PNG bytes
            raise ValueError(f'--out {out}: the picture is a PNG; give a name ending in .png')
        out = plot_curves(log, args.keys, out)
    except (OSError, ValueError) as err:
        print(f'plot_curves.py: error: {err}', file=sys.stderr)
        return 2
    print(f'read {log}; wrote {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
