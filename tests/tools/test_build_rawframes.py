"""tools/data/build_rawframes.py: videos -> RGB and optical-flow rawframes (denseflow's encoding) and their lists,
which mmaction2's flow pipeline then reads."""
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from resbackbones.datasets import RawframeDataset
from resbackbones.engine.cli import run_tool
from resbackbones.transforms.video.optical_flow import encode_flow
from resbackbones.transforms.video.writer import write_video

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'engine'))  # tests/engine: load_tool
from tiny import load_tool  # noqa: E402


def texture_moving_right(frames: int, step: int) -> list[np.ndarray]:
    """A smooth random texture shifted ``step`` pixels to the right per frame (64x64 RGB)."""
    rng, margin = np.random.default_rng(0), step * frames
    base = cv2.GaussianBlur(rng.integers(0, 255, (64, 64 + margin)).astype(np.float32), (0, 0), 2.0)
    base = cv2.normalize(base, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    return [np.repeat(base[:, margin - step * t:margin + 64 - step * t, None], 3, axis=2) for t in range(frames)]


def build(capsys, *args: str) -> str:
    assert run_tool(load_tool('data/build_rawframes').main, list(args), prog='build_rawframes.py') == 0
    return capsys.readouterr().out


def test_denseflow_encoding():
    x, y = encode_flow(np.array([[[0.0, -20.0], [5.0, 30.0]]], np.float32), bound=20)
    assert x.tolist() == [[128, 159]] and y.tolist() == [[0, 255]]  # 255 * (v + 20) / 40, clipped, zero -> 128
    # float32 flow at rounding midpoints: denseflow rounds the double value; float32 arithmetic put some one off
    midpoints = ((np.arange(255) + 0.5) * 40 / 255 - 20).astype(np.float32)
    flow = np.stack([midpoints, midpoints], axis=-1)[None]
    expected = np.rint(255 * (midpoints.astype(np.float64) + 20) / 40).astype(np.uint8)
    np.testing.assert_array_equal(encode_flow(flow, bound=20)[0][0], expected)


@pytest.mark.parametrize('flow_type', ['dis', 'farneback'])
def test_rightward_motion_gives_positive_x_flow(tmp_path, capsys, flow_type):
    (tmp_path / 'src').mkdir()
    write_video(tmp_path / 'src' / 'pan.mp4', texture_moving_right(5, step=2), codec='libx264')
    build(capsys, str(tmp_path / 'src'), str(tmp_path / 'out'), '--level', '1', '--flow-type', flow_type)
    folder = tmp_path / 'out' / 'pan'
    assert len(list(folder.glob('img_*.jpg'))) == 5 and len(list(folder.glob('flow_x_*.jpg'))) == 4
    x = np.asarray(Image.open(folder / 'flow_x_00002.jpg'))[16:48, 16:48]
    y = np.asarray(Image.open(folder / 'flow_y_00002.jpg'))[16:48, 16:48]
    assert abs(np.median(x) - 140.75) <= 2 and abs(np.median(y) - 128) <= 2  # +2 px right: 128 + 2 * 255 / 40


def test_a_video_list_gives_rawframe_and_flow_lists_that_the_flow_pipeline_reads(tmp_path, capsys):
    src = tmp_path / 'videos'
    (src / 'walk').mkdir(parents=True)
    write_video(src / 'walk' / 'a.mp4', texture_moving_right(6, step=1))
    write_video(src / 'walk' / 'b.mp4', texture_moving_right(4, step=3))
    (src / 'broken.mp4').write_bytes(b'not a video')
    ann = tmp_path / 'train_videos.txt'
    ann.write_text('walk/a.mp4 3\nwalk/b.mp4 1\nbroken.mp4 0\n')
    out = build(capsys, str(src), str(tmp_path / 'frames'), '--ann-file', str(ann), '--on-invalid', 'skip')
    assert '2 videos -> ' in out and '(1 skipped)' in out
    assert (tmp_path / 'frames' / 'train_videos_rawframes.txt').read_text() == 'walk/a 6 3\nwalk/b 4 1\n'
    flow_list = tmp_path / 'frames' / 'train_videos_flow.txt'
    assert flow_list.read_text() == 'walk/a 5 3\nwalk/b 3 1\n' and not (tmp_path / 'frames' / 'broken').exists()
    pipeline = [dict(type='SampleFrames', clip_len=2, num_clips=1, test_mode=True), dict(type='RawFrameDecode'),
                dict(type='FormatShape', input_format='NCHW'), dict(type='PackActionInputs')]
    ds = RawframeDataset(str(flow_list), pipeline=pipeline, data_prefix=dict(img=str(tmp_path / 'frames')),
                         filename_tmpl='flow_{}_{:05d}.jpg', modality='Flow')
    sample = ds[1]
    assert sample['inputs'].shape == (1, 4, 64, 64) and sample['data_samples']['gt_label'] == 1
    assert abs(float(sample['inputs'][0, 0].float().median()) - 147.125) <= 2  # b: 3 px right, 128 + 3 * 6.375


def test_bad_videos_stop_the_run_with_their_name_and_resume_skips_finished_folders(tmp_path, capsys):
    src = tmp_path / 'src'
    src.mkdir()
    write_video(src / 'good.mp4', texture_moving_right(3, step=1))
    (src / 'zzz_broken.mp4').write_bytes(b'not a video')
    tool = load_tool('data/build_rawframes').main
    args = [str(src), str(tmp_path / 'out'), '--level', '1', '--task', 'rgb']
    assert run_tool(tool, args, prog='build_rawframes.py') == 2
    assert 'zzz_broken.mp4' in capsys.readouterr().err and not (tmp_path / 'out' / 'zzz_broken').exists()
    (src / 'zzz_broken.mp4').unlink()
    marker = tmp_path / 'out' / 'good' / 'img_00001.jpg'
    marker.write_bytes(b'kept')  # a finished folder is not rewritten with --resume
    assert '1 videos' in build(capsys, *args, '--resume') and marker.read_bytes() == b'kept'


def test_resume_for_another_task_adds_it_and_keeps_the_frames(tmp_path, capsys):
    """Frames built with --task rgb, then --task flow --resume: the folder counted as done and the flow list said
    0 fields for every video, with no flow written."""
    src = tmp_path / 'src'
    src.mkdir()
    write_video(src / 'a.mp4', texture_moving_right(4, step=1))
    (tmp_path / 'list.txt').write_text('a.mp4 0\n')
    common = [str(src), str(tmp_path / 'out'), '--ann-file', str(tmp_path / 'list.txt')]
    build(capsys, *common, '--task', 'rgb')
    build(capsys, *common, '--task', 'flow', '--resume')
    assert (tmp_path / 'out' / 'list_flow.txt').read_text() == 'a 3 0\n'
    names = sorted(p.name for p in (tmp_path / 'out' / 'a').iterdir())
    assert names.count('img_00001.jpg') == 1 and 'flow_x_00003.jpg' in names and len(names) == 4 + 2 * 3


def test_a_one_frame_video_stays_out_of_the_flow_list_and_counts_as_done(tmp_path, capsys):
    """One frame has no flow field: its 'one 0 0' line made RawframeDataset(modality='Flow') refuse the list that
    the tool says comes out ready, and --resume extracted the folder again on every run."""
    src = tmp_path / 'src'
    src.mkdir()
    write_video(src / 'a.mp4', texture_moving_right(3, step=1))
    write_video(src / 'one.mp4', texture_moving_right(1, step=1))
    (tmp_path / 'list.txt').write_text('a.mp4 0\none.mp4 1\n')
    common = [str(src), str(tmp_path / 'out'), '--ann-file', str(tmp_path / 'list.txt')]
    assert run_tool(load_tool('data/build_rawframes').main, common, prog='build_rawframes.py') == 0
    assert 'list_flow.txt: left out 1 video(s) with no flow' in capsys.readouterr().err
    assert (tmp_path / 'out' / 'list_flow.txt').read_text() == 'a 2 0\n'
    assert (tmp_path / 'out' / 'list_rawframes.txt').read_text() == 'a 3 0\none 1 1\n'
    flows = RawframeDataset(str(tmp_path / 'out' / 'list_flow.txt'), filename_tmpl='flow_{}_{:05d}.jpg',
                            modality='Flow')
    assert len(flows) == 1  # the 0 count was refused before
    marker = tmp_path / 'out' / 'one' / 'img_00001.jpg'
    marker.write_bytes(b'kept')
    build(capsys, *common, '--resume')
    assert marker.read_bytes() == b'kept'


@pytest.mark.parametrize('line', ['/abs/a.mp4 0', '../a.mp4 0', 'x/../../a.mp4 0'])
def test_a_list_path_outside_the_source_folder_is_refused_by_line(tmp_path, capsys, line):
    (tmp_path / 'src').mkdir()
    (tmp_path / 'list.txt').write_text('\ufeffok.mp4 0\n' + line + '\n')
    code = run_tool(load_tool('data/build_rawframes').main, [str(tmp_path / 'src'), str(tmp_path / 'out'),
                                                             '--ann-file', str(tmp_path / 'list.txt')],
                    prog='build_rawframes.py')
    err = capsys.readouterr().err
    assert code == 2 and 'list.txt, line 2: ' in err and "without a leading '/' or '..'" in err


def test_lists_are_written_when_every_video_was_skipped(tmp_path, capsys):
    (tmp_path / 'src').mkdir()
    (tmp_path / 'list.txt').write_text('missing.mp4 0\n')
    out = build(capsys, str(tmp_path / 'src'), str(tmp_path / 'out'), '--ann-file', str(tmp_path / 'list.txt'),
                '--on-invalid', 'skip', '--task', 'rgb')
    assert '0 videos' in out and (tmp_path / 'out' / 'list_rawframes.txt').read_text() == '\n'


# The layout of mmaction2's tsn_imagenet-pretrained-r50_8xb32_5x1x3-110e_kinetics400-flow.py, tiny.
FLOW_TSN_FORM = '''default_scope = 'mmaction'
default_hooks = dict(logger=dict(type='LoggerHook', interval=1), checkpoint=dict(type='CheckpointHook', interval=1))
clip_len = 2
model = dict(
    type='Recognizer2D',
    backbone=dict(type='ResNet', depth=18, base_channels=8, in_channels=2 * clip_len, norm_eval=False),
    cls_head=dict(type='TSNHead', num_classes=2, in_channels=64, spatial_type='avg',
                  consensus=dict(type='AvgConsensus', dim=1), dropout_ratio=0.4, init_std=0.01, average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[128, 128] * clip_len, std=[128, 128] * clip_len,
                           format_shape='NCHW'))
dataset_type = 'RawframeDataset'
train_pipeline = [
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=1, num_clips=3),
    dict(type='RawFrameDecode'), dict(type='Resize', scale=(-1, 40)), dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False), dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'), dict(type='PackActionInputs')]
test_pipeline = [
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=1, num_clips=3, test_mode=True),
    dict(type='RawFrameDecode'), dict(type='Resize', scale=(-1, 40)), dict(type='TenCrop', crop_size=32),
    dict(type='FormatShape', input_format='NCHW'), dict(type='PackActionInputs')]
train_dataloader = dict(batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ANN, filename_tmpl='flow_{}_{:05d}.jpg', modality='Flow',
                 data_prefix=dict(img=FRAMES), pipeline=train_pipeline))
test_dataloader = dict(batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ANN, filename_tmpl='flow_{}_{:05d}.jpg', modality='Flow',
                 data_prefix=dict(img=FRAMES), pipeline=test_pipeline, test_mode=True))
test_evaluator = dict(type='AccMetric', metric_options=dict(top_k_accuracy=dict(topk=(1,))))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1)
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.005, momentum=0.9, weight_decay=0.0001))
'''


def test_mmaction2s_flow_tsn_form_trains_and_tests_on_built_flow(tmp_path, capsys):
    src = tmp_path / 'videos'
    for label, step in ((0, 1), (1, 3)):
        (src / str(label)).mkdir(parents=True)
        for i in range(2):
            write_video(src / str(label) / f'{i}.mp4', texture_moving_right(8, step=step + i))
    ann = tmp_path / 'videos.txt'
    ann.write_text(''.join(f'{label}/{i}.mp4 {label}\n' for label in (0, 1) for i in range(2)))
    build(capsys, str(src), str(tmp_path / 'frames'), '--ann-file', str(ann), '--task', 'flow')
    config = tmp_path / 'tsn_flow.py'
    config.write_text(FLOW_TSN_FORM.replace('ANN', repr(str(tmp_path / 'frames' / 'videos_flow.txt')))
                      .replace('FRAMES', repr(str(tmp_path / 'frames'))))
    work = tmp_path / 'work'
    assert run_tool(load_tool('train').main, [str(config), '--work-dir', str(work)], prog='train.py') == 0
    capsys.readouterr()
    assert run_tool(load_tool('test').main, [str(config), str(work / 'epoch_1.pth'), '--work-dir',
                                             str(tmp_path / 'test')], prog='test.py') == 0
    metrics = capsys.readouterr().out.strip().splitlines()[-1]
    assert '"acc/top1"' in metrics


def test_a_folder_of_its_own_frames_past_99999_is_its_own():
    """img_{:05d} grows a digit past 99,999 frames (55 min at 30 fps): a rerun refused such a folder as foreign."""
    frames_only = load_tool('data/build_rawframes').frames_only
    assert frames_only(['img_00001.jpg', 'img_100000.jpg', 'flow_x_123456.jpg'])
    assert not frames_only(['img_00001.jpg', 'notes.txt']) and not frames_only(['img_1.jpg'])
