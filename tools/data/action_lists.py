"""Official action-recognition split files -> mmaction2 video lists (`relative/path.ext LABEL`, labels from 0).

    python tools/data/action_lists.py ucf101 ANNOTATION_DIR OUT_DIR [--split 1]
    python tools/data/action_lists.py hmdb51 SPLIT_DIR OUT_DIR [--split 1]
    python tools/data/action_lists.py kinetics CSV [CSV ...] OUT_DIR [--ext .mp4]

- UCF-101 (ucfTrainTestlist/): classInd.txt (`1 ApplyEyeMakeup`), trainlist0N.txt (`Class/v_..._g08_c01.avi 1`,
  1-based) and testlist0N.txt (paths only: the label comes from the class folder). Writes
  ucf101_{train,val}_split_N_videos.txt, mmaction2's names.
- HMDB-51 (testTrainMulti_7030_splits/): `<class>_test_splitN.txt` per class, lines `video.avi 1|2|0` (1 train,
  2 test, 0 unused); classes in sorted order, the same in every split. Writes hmdb51_{train,val}_split_N_videos.txt.
- Kinetics csv (`label,youtube_id,time_start,time_end,split[,is_cc]`): one list per csv, videos named
  `<label with _ for spaces>/<youtube_id>_<start:06d>_<end:06d><ext>` as mmaction2's download script; classes are
  the sorted labels of all csvs given (give train and validate together). Writes <csv stem>_videos.txt +
  classes.txt.
A malformed line stops with the file and line number; outputs are written atomically.
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from resbackbones.engine.atomic import atomic_path  # noqa: E402
from resbackbones.engine.cli import run_tool  # noqa: E402


def _lines(path: Path) -> list[tuple[int, str]]:
    if not path.is_file():
        raise FileNotFoundError(f'{path} does not exist')
    try:
        text = path.read_text(encoding='utf-8-sig')
    except UnicodeDecodeError as err:
        raise ValueError(f'{path} is not UTF-8 text: {err}') from None
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(str(path)) as tmp:
        Path(tmp).write_text('\n'.join(lines) + '\n')


def ucf101(ann_dir: Path, split: int) -> dict[str, list[str]]:
    """{file name: lines} of one UCF-101 split."""
    classes, where = {}, ann_dir / 'classInd.txt'
    for n, line in _lines(where):
        parts = line.split()
        if len(parts) != 2 or not parts[0].isdigit():
            raise ValueError(f"{where}, line {n}: expected 'INDEX ClassName'; got {line!r}")
        if parts[1] in classes or int(parts[0]) - 1 in classes.values():
            raise ValueError(f'{where}, line {n}: {line!r} repeats a class name or index already listed (two '
                             f'classes would share a label)')
        classes[parts[1]] = int(parts[0]) - 1
    if sorted(classes.values()) != list(range(len(classes))):
        raise ValueError(f'{where}: class indices must run 1..{len(classes)} without gaps; got '
                         f'{sorted(i + 1 for i in classes.values())}')
    out, seen = {}, {}  # video -> (file, line) where it was first listed
    for part, name in (('train', f'trainlist{split:02d}.txt'), ('val', f'testlist{split:02d}.txt')):
        lines = []
        for n, line in _lines(ann_dir / name):
            path, *label = line.split()
            if path in seen:  # twice in training weighs it double; in both lists, the test scores training data
                raise ValueError(f'{ann_dir / name}, line {n}: {path} is listed already ({seen[path]})')
            seen[path] = f'{name}, line {n}'
            folder = path.split('/')[0]
            if folder not in classes or len(label) > 1 or (label and (not label[0].isdigit() or
                                                                      int(label[0]) - 1 != classes[folder])):
                raise ValueError(f'{ann_dir / name}, line {n}: {line!r} does not match classInd.txt (class folder '
                                 f'{folder!r}, index {label[0] if label else "none"})')
            lines.append(f'{path} {classes[folder]}')
        out[f'ucf101_{part}_split_{split}_videos.txt'] = lines
    return out


def hmdb51(split_dir: Path, split: int) -> dict[str, list[str]]:
    """{file name: lines} of one HMDB-51 split. Labels index the classes of every split's files, sorted, so that
    they are the same in all three splits; a class lacking this split's file is an error (a label shift else)."""
    suffix = f'_test_split{split}.txt'
    names = sorted({p.name[:-len(suffix)] for p in split_dir.glob('*_test_split[123].txt')})
    if not any(split_dir.glob(f'*{suffix}')):
        raise FileNotFoundError(f'{split_dir} has no *{suffix} files (HMDB-51 testTrainMulti_7030_splits)')
    lacking = [name for name in names if not (split_dir / f'{name}{suffix}').is_file()]
    if lacking:
        raise FileNotFoundError(f'{split_dir}: classes {lacking[:5]} have split files of other splits but no '
                                f'<class>{suffix}; every class needs one per split (labels would shift otherwise)')
    out = {f'hmdb51_{part}_split_{split}_videos.txt': [] for part in ('train', 'val')}
    for label, name in enumerate(names):
        path = split_dir / f'{name}{suffix}'
        for n, line in _lines(path):
            parts = line.split()
            if len(parts) != 2 or parts[1] not in ('0', '1', '2'):
                raise ValueError(f"{path}, line {n}: expected 'video.avi 0|1|2'; got {line!r}")
            if parts[1] != '0':
                out[f'hmdb51_{"train" if parts[1] == "1" else "val"}_split_{split}_videos.txt'].append(
                    f'{name}/{parts[0]} {label}')
    return out


def kinetics(csvs: list[Path], ext: str) -> dict[str, list[str]]:
    """{file name: lines} per csv, plus classes.txt."""
    rows, stems = {}, {}
    for path in csvs:
        if not path.is_file():
            raise FileNotFoundError(f'{path} does not exist')
        if path.stem in stems:
            raise ValueError(f'{stems[path.stem]} and {path} would both be written as {path.stem}_videos.txt; '
                             f'rename one')
        stems[path.stem] = path
        with open(path, newline='', encoding='utf-8-sig') as f:
            reader = csv.DictReader(f)
            need = {'label', 'youtube_id', 'time_start', 'time_end'}
            if not need <= set(reader.fieldnames or ()):
                raise ValueError(f'{path}: expected a header with {sorted(need)}; got {reader.fieldnames}')
            rows[path] = [(reader.line_num, dict(row, label=(row['label'] or '').strip())) for row in reader]
    labels = sorted({row['label'] for table in rows.values() for _, row in table})
    index = {label: i for i, label in enumerate(labels)}
    out = {'classes.txt': labels}
    first_seen: dict[str, str] = {}  # clip file -> 'csv, line N' where it was first listed
    for path, table in rows.items():
        lines, repeated, shared = [], [], []
        for n, row in table:
            try:
                start, end = int(float(row['time_start'])), int(float(row['time_end']))
            except (TypeError, ValueError):
                raise ValueError(f'{path}, line {n}: time_start/time_end must be numbers; got '
                                 f"{row['time_start']!r}, {row['time_end']!r}") from None
            if not row['youtube_id'] or not row['label']:
                raise ValueError(f'{path}, line {n}: empty label or youtube_id')
            folder = row['label'].replace(' ', '_')
            clip = f"{folder}/{row['youtube_id']}_{start:06d}_{end:06d}{ext}"
            if clip in first_seen:
                # a row listed twice weighs its clip double in training; one in two splits is scored on
                # training data. Kinetics' own csvs hold a few such rows, so they are kept out and counted
                (repeated if first_seen[clip].startswith(f'{path},') else shared).append(f'line {n}: {clip} '
                                                                                        f'({first_seen[clip]})')
                continue
            first_seen[clip] = f'{path}, line {n}'
            lines.append(f'{clip} {index[row["label"]]}')
        for kind, found in (('listed twice in it', repeated), ('listed in an earlier csv too', shared)):
            if found:
                print(f'{path}: {len(found)} row(s) {kind}, left out, e.g. {found[0]}', file=sys.stderr)
        out[f'{path.stem}_videos.txt'] = lines
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='action_lists.py', description=__doc__.split('\n\n')[0])
    sub = parser.add_subparsers(dest='dataset', required=True)
    for name in ('ucf101', 'hmdb51'):
        p = sub.add_parser(name)
        p.add_argument('source', type=Path)
        p.add_argument('out_dir', type=Path)
        p.add_argument('--split', type=int, default=1, choices=(1, 2, 3))
    p = sub.add_parser('kinetics')
    p.add_argument('csvs', type=Path, nargs='+')
    p.add_argument('out_dir', type=Path)
    p.add_argument('--ext', default='.mp4')
    args = parser.parse_args(argv)
    if args.dataset == 'kinetics':
        lists = kinetics(args.csvs, args.ext)
        existing = args.out_dir / 'classes.txt'
        if existing.is_file() and existing.read_text().splitlines() != lists['classes.txt']:
            # the lists written before number their labels by the old classes.txt: they would read as other classes
            raise ValueError(f'{existing} lists other classes than these csvs give ({len(lists["classes.txt"])}); '
                             'give every split\'s csv in one run, or write to another out_dir')
    else:
        lists = (ucf101 if args.dataset == 'ucf101' else hmdb51)(args.source, args.split)
    for name, lines in lists.items():
        _write(args.out_dir / name, lines)
        print(f'{args.out_dir / name}: {len(lines)} lines')
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='action_lists.py'))
