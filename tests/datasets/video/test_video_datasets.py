"""VideoDataset / RawframeDataset: mmaction2's list formats, errors naming file and line, skipping bad videos."""
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/: video_fixtures
from video_fixtures import make_videos  # noqa: E402

from resbackbones.datasets import RawframeDataset, VideoDataset  # noqa: E402
from resbackbones.transforms.video import CorruptVideoError, decoder  # noqa: E402

PIPELINE = [dict(type='PyAVInit'), dict(type='SampleFrames', clip_len=4, frame_interval=2, test_mode=True),
            dict(type='PyAVDecode'), dict(type='FormatShape', input_format='NCTHW'), dict(type='PackActionInputs')]


@pytest.fixture(scope='module')
def video_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('video_root')
    (root / 'videos' / 'a').mkdir(parents=True)
    make_videos(root / 'videos' / 'a')
    (root / 'videos' / 'broken.mp4').write_bytes(b'\x00' * 500)
    return root


def write_list(path: Path, lines: list[str]) -> str:
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


def test_video_list_loads_clips_through_the_pipeline(video_root, tmp_path):
    ann = write_list(tmp_path / 'list.txt', ['a/bframes.mp4 1', '', 'a/vfr.mp4 0'])
    ds = VideoDataset(ann, PIPELINE, data_prefix=dict(video=str(video_root / 'videos')), num_classes=3)
    assert len(ds) == 2 and ds.metainfo['classes'] == ('0', '1', '2') and ds.get_cat_ids(0) == [1]
    sample = ds[0]
    assert sample['inputs'].shape == (1, 3, 4, 48, 64) and sample['data_samples']['gt_label'] == 1
    full = decoder.decode_all(video_root / 'videos' / 'a' / 'bframes.mp4')  # 40 frames: centre clip 16, 18, 20, 22
    np.testing.assert_array_equal(sample['inputs'][0].permute(1, 2, 3, 0).numpy(), full[[16, 18, 20, 22]])


def test_multi_class_lines(video_root, tmp_path):
    ann = write_list(tmp_path / 'list.txt', ['a/bframes.mp4 1 4', 'a/vfr.mp4 0'])
    ds = VideoDataset(ann, data_prefix=str(video_root / 'videos'), num_classes=5, multi_class=True)
    assert ds.get_data_info(0)['label'].tolist() == [0, 1, 0, 0, 1] and ds.get_cat_ids(0) == [1, 4]  # multi-hot
    assert ds.get_data_info(1)['label'].dtype == np.float32 and ds.get_cat_ids(1) == [0]


def test_a_delimiter_lets_paths_hold_spaces(video_root, tmp_path):
    """mmaction2's VideoDataset(delimiter=...) was refused with a TypeError from mmengine's BaseDataset."""
    spaced = video_root / 'videos' / 'a' / 'my clip.mp4'
    if not spaced.exists():
        spaced.symlink_to(video_root / 'videos' / 'a' / 'bframes.mp4')
    ann = write_list(tmp_path / 'list.txt', ['a/my clip.mp4, 2', 'a/vfr.mp4,0'])
    ds = VideoDataset(ann, PIPELINE, data_prefix=dict(video=str(video_root / 'videos')), delimiter=',')
    assert ds.get_data_info(0)['filename'] == str(spaced) and ds.get_cat_ids(0) == [2] and ds.get_cat_ids(1) == [0]
    assert ds[0]['inputs'].shape == (1, 3, 4, 48, 64)


@pytest.mark.parametrize('lines, kwargs, message', [
    (['a/bframes.mp4'], {}, r'list.txt, line 1: the line has no label'),
    (['a/bframes.mp4 1', 'a/vfr.mp4 x'], {}, r'line 2: label must be an integer'),
    (['a/bframes.mp4 3'], dict(num_classes=3), r'line 1: label 3 is out of range; expected 0..2'),
    (['a/bframes.mp4 1 2'], {}, r"line 1: 3 fields .* has 2; a path with spaces needs a delimiter"),
    (['a/my clip.mp4 1'], {}, r"line 1: 3 fields \['a/my', 'clip.mp4', '1'\].*delimiter=','"),
    (['a/bframes.mp4 1'], dict(delimiter=''), 'delimiter must be a non-empty string'),
    ([], {}, 'lists no samples'),
    (['a/bframes.mp4 1'], dict(multi_class=True), 'multi_class=True needs num_classes'),
    (['a/bframes.mp4 1'], dict(on_invalid='ignore'), "on_invalid must be one of"),
    # metainfo names were replaced by '0'..'N-1' and never checked against the labels or num_classes
    (['a/bframes.mp4 1'], dict(metainfo=dict(classes=('walk',))), 'line 1: label 1 is out of range; expected 0..0'),
    (['a/bframes.mp4 1'], dict(num_classes=2, metainfo=dict(classes=('a', 'b', 'c'))),
     r"num_classes=2 but metainfo gives 3 classes \['a', 'b', 'c'\]"),
])
def test_bad_lists_name_file_and_line(video_root, tmp_path, lines, kwargs, message):
    ann = write_list(tmp_path / 'list.txt', lines)
    with pytest.raises(ValueError, match=message):
        VideoDataset(ann, data_prefix=str(video_root / 'videos'), **kwargs)


def test_class_names_given_in_metainfo_are_kept(video_root, tmp_path):
    ann = write_list(tmp_path / 'list.txt', ['a/bframes.mp4 1', 'a/vfr.mp4 0'])
    dataset = VideoDataset(ann, data_prefix=str(video_root / 'videos'), metainfo=dict(classes=('walk', 'run')))
    assert dataset.metainfo == dict(classes=('walk', 'run'))  # was ('0', '1') with classes_from_labels
    assert VideoDataset(ann, data_prefix=str(video_root / 'videos')).metainfo['classes'] == ('0', '1')


def test_missing_list_and_prefix(video_root, tmp_path):
    with pytest.raises(FileNotFoundError, match='ann_file .*nope.txt does not exist'):
        VideoDataset(str(tmp_path / 'nope.txt'))
    ann = write_list(tmp_path / 'list.txt', ['a/bframes.mp4 1'])
    with pytest.raises(FileNotFoundError, match='data_prefix .*elsewhere is not a folder'):
        VideoDataset(ann, data_prefix=str(tmp_path / 'elsewhere'))


def test_corrupt_video_stops_with_its_name_or_is_skipped_and_counted(video_root, tmp_path):
    ann = write_list(tmp_path / 'list.txt', ['a/bframes.mp4 1', 'broken.mp4 0', 'a/vfr.mp4 0'])
    prefix = str(video_root / 'videos')
    strict = VideoDataset(ann, PIPELINE, data_prefix=prefix)
    with pytest.raises(CorruptVideoError, match='cannot read video .*broken.mp4'):
        strict[1]
    lenient = VideoDataset(ann, PIPELINE, data_prefix=prefix, on_invalid='skip')
    assert lenient[1]['data_samples']['filename'].endswith('vfr.mp4')  # the next sample stands in
    assert [Path(p).name for p in lenient.skipped_files] == ['broken.mp4']
    # a test set cannot skip: the stand-in would be scored twice and the bad video not at all
    with pytest.raises(ValueError, match=r"VideoDataset: skipping corrupt files .* with test_mode=True would score"):
        VideoDataset(ann, PIPELINE, data_prefix=prefix, on_invalid='skip', test_mode=True)


def test_missing_or_folder_video_is_skipped_or_named_with_its_line(video_root, tmp_path):
    """Before: a missing file raised FileNotFoundError, which on_invalid='skip' did not catch, and a folder was
    reported as 'not found'."""
    ann = write_list(tmp_path / 'list.txt', ['a/bframes.mp4 1', 'gone.mp4 0', 'a 1', 'a/vfr.mp4 0'])
    prefix = str(video_root / 'videos')
    strict = VideoDataset(ann, PIPELINE, data_prefix=prefix)
    with pytest.raises(FileNotFoundError, match=f'video file not found: .*gone.mp4 .*{ann}, line 2'):
        strict[1]
    with pytest.raises(CorruptVideoError, match=f'cannot read video .*a: it is a directory, not a video file '
                                                f'.*{ann}, line 3'):
        strict[2]
    lenient = VideoDataset(ann, PIPELINE, data_prefix=prefix, on_invalid='skip')
    assert lenient[1]['data_samples']['filename'].endswith('vfr.mp4')  # both bad lines are passed over
    assert [Path(p).name for p in lenient.skipped_files] == ['gone.mp4', 'a']


@pytest.fixture
def rawframes(tmp_path):
    for video, count in (('v1', 6), ('v2', 3)):
        folder = tmp_path / 'frames' / video
        folder.mkdir(parents=True)
        for i in range(1, count + 1):
            Image.fromarray(np.full((8, 10, 3), i * 20, np.uint8)).save(folder / f'img_{i:05}.png')
    return tmp_path


def test_rawframes_start_at_one_and_use_the_template(rawframes):
    ann = write_list(rawframes / 'list.txt', ['v1 6 2', 'v2 3 0'])
    pipeline = [dict(type='SampleFrames', clip_len=4, test_mode=True), dict(type='RawFrameDecode')]
    # positional as mmaction2's (ann_file, pipeline, data_prefix): filename_tmpl took the pipeline
    ds = RawframeDataset(ann, pipeline, dict(img=str(rawframes / 'frames')), filename_tmpl='img_{:05}.png')
    sample = ds[0]  # 6 frames, clip of 4 in the middle: offset 1 -> files 2..5
    assert sample['frame_inds'].tolist() == [2, 3, 4, 5]
    assert [int(f[0, 0, 0]) for f in sample['imgs']] == [40, 60, 80, 100]
    assert ds[1]['frame_inds'].tolist() == [1, 2, 3, 1]  # looped: v2 has 3 frames


def test_rawframe_errors(rawframes):
    ann = write_list(rawframes / 'list.txt', ['v1 6 2', 'v2 x 0'])
    with pytest.raises(ValueError, match=r"line 2: expected 'frame_dir TOTAL_FRAMES LABEL'; 'x' is not a frame"):
        RawframeDataset(ann, data_prefix=str(rawframes / 'frames'))
    ann = write_list(rawframes / 'list.txt', ['v2 5 0'])  # says 5 frames; 3 exist
    ds = RawframeDataset(ann, pipeline=[dict(type='SampleFrames', clip_len=5, test_mode=True),
                                        dict(type='RawFrameDecode')],
                         data_prefix=str(rawframes / 'frames'), filename_tmpl='img_{:05}.png')
    with pytest.raises(CorruptVideoError, match=r'v2: frame 4: image file not found: .*img_00004.png .*line 1'):
        ds[0]
    with pytest.raises(ValueError, match="filename_tmpl for modality='RGB' must format like 'img_"):
        RawframeDataset(ann, filename_tmpl='img_{name}.png')


@pytest.fixture
def flow_frames(tmp_path):
    """One video of 4 flow fields: flow_x_0000i.png = 10 * i + column, flow_y_0000i.png = 100 + i (grey PNGs)."""
    folder = tmp_path / 'flow' / 'v1'
    folder.mkdir(parents=True)
    for i in range(1, 5):
        Image.fromarray((10 * i + np.arange(6)[None].repeat(5, 0)).astype(np.uint8)).save(folder / f'flow_x_{i:05}.png')
        Image.fromarray(np.full((5, 6), 100 + i, np.uint8)).save(folder / f'flow_y_{i:05}.png')
    return tmp_path


def test_flow_fields_stack_per_segment_and_mirror_with_their_motion(flow_frames):
    """mmaction2's TSN flow pipeline: 2 segments of clip_len 2 -> (2, 2 x 2 channels (x1, y1, x2, y2), H, W)."""
    ann = write_list(flow_frames / 'list.txt', ['v1 4 1'])
    pipeline = [dict(type='SampleFrames', clip_len=2, frame_interval=1, num_clips=2, test_mode=True),
                dict(type='RawFrameDecode'), dict(type='Flip', flip_ratio=1.0),
                dict(type='FormatShape', input_format='NCHW'), dict(type='PackActionInputs')]
    ds = RawframeDataset(ann, pipeline=pipeline, data_prefix=dict(img=str(flow_frames / 'flow')), modality='Flow',
                         filename_tmpl='flow_{}_{:05}.png')
    inputs = ds[0]['inputs']
    assert inputs.shape == (2, 4, 5, 6) and ds.get_data_info(0)['modality'] == 'Flow'
    assert inputs[0, :, 0, 0].tolist() == [255 - (10 + 5), 101, 255 - (20 + 5), 102]  # x mirrored and negated
    assert inputs[1, 0, 0].tolist() == [255 - (30 + c) for c in (5, 4, 3, 2, 1, 0)] and inputs[1, 3, 0, 0] == 104


@pytest.mark.parametrize('dataset, kwargs, match', [
    (RawframeDataset, dict(modality='Flow'), r"'img_\{:05\}.jpg' does not give the x and y flow images .* own name"),
    (RawframeDataset, dict(modality='Flow', filename_tmpl='img_{1:05}.png'), 'does not give the x and y flow'),
    (RawframeDataset, dict(modality='Flow', filename_tmpl='flow_{:05d}.png'), "must format like 'flow_"),
    (RawframeDataset, dict(modality='Pose'), r"modality must be one of \('RGB', 'Flow'\)"),
    (VideoDataset, dict(modality='Flow'), r"modality must be one of \('RGB',\)"),
])
def test_flow_settings_that_cannot_work_are_named(flow_frames, dataset, kwargs, match):
    ann = write_list(flow_frames / 'list.txt', ['v1 4 1'])
    with pytest.raises(ValueError, match=match):
        dataset(ann, data_prefix=str(flow_frames / 'flow'), **kwargs)
