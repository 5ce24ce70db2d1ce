"""tools/demos/video_clips.py and video_temporal.py: labels that need time, splits that cannot leak, goals per seed."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'tools' / 'demos'))
import video_clips as vc  # noqa: E402


@pytest.mark.parametrize('task', list(vc.TASKS))
def test_time_split_is_disjoint_and_classes_share_their_starts(task):
    train = vc.clip_plan(250, task, 'time', 'train', 'bikes')
    test = vc.clip_plan(250, task, 'time', 'test', 'bikes')
    assert max(max(inds) for _, inds, _ in train) < 0.70 * 250 <= 0.75 * 250 <= min(min(i) for _, i, _ in test)
    for plan in (train, test):
        starts = {label: sorted(s for s, _, lab in plan if lab == label) for label in (0, 1)}
        assert starts[0] == starts[1] and len(plan) == 2 * len(starts[0])  # one frame cannot tell the classes apart


def test_labels_are_stride_or_order():
    plan = {label: inds for s, inds, label in vc.clip_plan(100, 'speed', 'time', 'train', 'bikes') if s == 0}
    assert plan == {0: list(range(8)), 1: list(range(0, 32, 4))}
    plan = {label: inds for s, inds, label in vc.clip_plan(100, 'direction', 'time', 'train', 'bikes') if s == 0}
    assert plan == {0: list(range(0, 16, 2)), 1: list(range(14, -1, -2))}


def test_video_split_keeps_the_carphone_copies_together():
    sides = {v: bool(vc.clip_plan(120, 'speed', 'video', 'test', v)) for v in vc.VIDEOS}
    assert sides['carphone_pristine'] and sides['carphone_distorted']
    assert all(bool(vc.clip_plan(120, 'speed', 'video', 'train', v)) != sides[v] for v in vc.VIDEOS)


def test_goals_must_hold_on_every_seed():
    import video_temporal as vt
    results = [dict(model='resnet3d', task='speed', split='time', top1=t) for t in (0.90, 0.86, 0.84)]
    results += [dict(model='tsn', task='speed', split='time', top1=t) for t in (0.50, 0.55, 0.60)]
    lines = vt.verdicts(results)
    assert lines == ['resnet3d speed/time: 0.900, 0.860, 0.840 (goal >= 0.85 on every seed: NOT met)',
                     'tsn speed/time: 0.500, 0.550, 0.600 (goal <= 0.60 on every seed: met)']


def test_the_flow_model_runs_on_flow_built_from_the_clips(tmp_path):
    """The runner builds each list's flow once (tools/data/build_rawframes.py) and points tsn-flow at it."""
    import video_temporal as vt
    from resbackbones.transforms.video.writer import index_frames, write_video
    data = tmp_path / 'video_demo'
    (data / 'clips').mkdir(parents=True)
    for i in range(4):
        write_video(data / 'clips' / f'c{i}.mp4', index_frames(8, 64, 80, seed=i))  # the demo's short side 64
    for part in ('train', 'test'):
        (data / f'speed_time_{part}.txt').write_text(''.join(f'clips/c{i}.mp4 {i % 2}\n' for i in range(4)))
    flow = vt.build_flow(data)
    assert (flow / 'speed_time_train_flow.txt').read_text().splitlines()[1] == 'clips/c1 7 1'  # 8 frames, 7 fields
    result = vt.run_one('tsn-flow', 'speed', 'time', 0, data, tmp_path / 'work', iters=24,  # warmup: 20
                        options={'train_dataloader.num_workers': 0, 'train_dataloader.persistent_workers': False,
                                 'train_dataloader.batch_size': 2})
    assert result['train_clips'] == 4 and 0 <= result['top1'] <= 1


def test_flow_is_rebuilt_when_the_clips_are(tmp_path, monkeypatch):
    # build() rebuilds the clips when their manifest changes; the flow lists, once there, were kept and tsn-flow
    # trained on the old clips' flow
    import video_temporal as vt
    data = tmp_path / 'video_demo'
    data.mkdir()
    (data / 'speed_time_train.txt').write_text('clips/c0.mp4 0\n')
    calls = []

    def fake_build(argv):
        calls.append(argv)
        out = Path(argv[1])
        out.mkdir(exist_ok=True)
        (out / f'{Path(argv[-1]).stem}_flow.txt').write_text(f'flow of {(data / "manifest.json").read_text()}')
    monkeypatch.setattr(vt.build_rawframes, 'main', fake_build)
    (data / 'manifest.json').write_text('{"version": 2}')
    flow = vt.build_flow(data)
    vt.build_flow(data)
    assert len(calls) == 1  # built once for these clips
    (data / 'manifest.json').write_text('{"version": 3}')  # the clips were rebuilt
    vt.build_flow(data)
    assert len(calls) == 2 and (flow / 'speed_time_train_flow.txt').read_text() == 'flow of {"version": 3}'


def test_the_clip_builder_alone_gives_one_line_for_missing_videos(tmp_path, capsys):
    from resbackbones.engine.cli import run_tool
    assert run_tool(vc.main, ['--data-root', str(tmp_path)], prog='video_clips.py') == 2  # was a traceback, exit 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'lacks' in err[0] and 'fetch_data.py videos' in err[0]
