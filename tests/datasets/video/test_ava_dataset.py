"""AVADataset / AVAKineticsDataset and the AVA file readers on small files in AVA's real formats."""
from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from resbackbones.datasets.video import AVADataset, AVAKineticsDataset, read_labelmap

LINES = ['vid_a,0902,0.1,0.2,0.5,0.9,3,0',
         'vid_a,0902,0.3,0.1,0.8,0.7,1,1',
         'vid_a,0902,0.1,0.2,0.5,0.9,5,0',  # same box as line 1: one entity with actions 3 and 5
         'vid_a,0903,0.3,0.1,0.8,0.7,1,1',
         'vid_b,0902,0.0,0.0,1.0,1.0,80,4']
MMACTION_PBTXT = ''.join(f'item {{\n  name: "action {i}"\n  id: {i}\n}}\n' for i in (1, 3, 5, 80))
OFFICIAL_PBTXT = ''.join(f'label {{\n  name: "action {i}"\n  label_id: {i}\n  label_type: PERSON_MOVEMENT\n}}\n'
                         for i in (1, 3, 5, 80))
PROPOSALS = {'vid_a,0902': np.array([[0.1, 0.1, 0.6, 0.9, 0.95], [0.2, 0.2, 0.3, 0.3, 0.5],
                                     [0.0, 0.1, 0.4, 0.4, 0.92]]),
             'vid_a,0903': np.array([[0.1, 0.1, 0.6, 0.9, 0.4], [0.2, 0.2, 0.3, 0.3, 0.7]])}


def write(path, text: str) -> str:
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


@pytest.fixture
def files(tmp_path):
    """Paths of an annotation csv, a label file, a proposal pickle (pickle.dump of a dict of arrays)."""
    with open(tmp_path / 'proposals.pkl', 'wb') as f:
        pickle.dump(PROPOSALS, f)
    return dict(ann_file=write(tmp_path / 'ann.csv', '\n'.join(LINES) + '\n'),
                label_file=write(tmp_path / 'labels.pbtxt', MMACTION_PBTXT),
                proposal_file=str(tmp_path / 'proposals.pkl'), data_prefix=dict(img=str(tmp_path / 'frames')))


def test_one_sample_per_keyframe_with_entities_merged(files):
    ds = AVADataset(**files)
    assert [ds.get_data_info(i)['img_key'] for i in range(len(ds))] == ['vid_a,0902', 'vid_a,0903', 'vid_b,0902']
    info = ds.get_data_info(0)
    np.testing.assert_array_equal(info['gt_bboxes'], [[0.1, 0.2, 0.5, 0.9], [0.3, 0.1, 0.8, 0.7]])
    assert info['gt_labels'].shape == (2, 81) and info['gt_labels'].dtype == np.float32
    assert np.flatnonzero(info['gt_labels'][0]).tolist() == [3, 5] and np.flatnonzero(info['gt_labels'][1]) == [1]
    assert info['entity_ids'].tolist() == [0, 1]
    assert info['frame_dir'] == os.path.join(files['data_prefix']['img'], 'vid_a')
    assert (info['timestamp'], info['video_id'], info['fps'], info['shot_info']) == (902, 'vid_a', 30, (0, 27000))
    assert (info['timestamp_start'], info['timestamp_end'], info['start_index']) == (900, 1800, 1)
    assert info['filename_tmpl'] == 'img_{:05}.jpg'


def test_exclude_file_drops_listed_keyframes(files, tmp_path):
    ds = AVADataset(**files, exclude_file=write(tmp_path / 'excl.csv', 'vid_a,0903\nvid_b,0901\n'))
    assert [ds.get_data_info(i)['img_key'] for i in range(len(ds))] == ['vid_a,0902', 'vid_b,0902']


@pytest.mark.parametrize('thr, max_num, key, boxes, scores', [
    (0.9, 1000, 'vid_a,0902', [[0.1, 0.1, 0.6, 0.9], [0.0, 0.1, 0.4, 0.4]], [0.95, 0.92]),  # scores >= 0.9
    (0.9, 1, 'vid_a,0902', [[0.1, 0.1, 0.6, 0.9]], [0.95]),  # the first num_max_proposals
    (0.9, 1000, 'vid_a,0903', [[0.2, 0.2, 0.3, 0.3]], [0.7]),  # none reaches 0.9: threshold falls to the best
    (0.3, 1000, 'vid_a,0903', [[0.1, 0.1, 0.6, 0.9], [0.2, 0.2, 0.3, 0.3]], [0.4, 0.7]),
    (0.9, 1000, 'vid_b,0902', [[0, 0, 1, 1]], [1]),  # a keyframe the file lacks: the whole frame
])
def test_proposals_as_mmaction2_selects_them(files, thr, max_num, key, boxes, scores):
    ds = AVADataset(**files, person_det_score_thr=thr, num_max_proposals=max_num)
    info = ds.get_data_info([ds.get_data_info(i)['img_key'] for i in range(len(ds))].index(key))
    np.testing.assert_allclose(info['proposals'], boxes)
    np.testing.assert_allclose(info['scores'], scores)


def test_proposals_without_scores_are_kept_in_order(files, tmp_path):
    with open(tmp_path / 'p4.pkl', 'wb') as f:
        pickle.dump({'vid_a,0902': np.array([[0.1, 0.1, 0.5, 0.5], [0.2, 0.2, 0.9, 0.9]])}, f)
    info = AVADataset(**dict(files, proposal_file=str(tmp_path / 'p4.pkl')), num_max_proposals=1).get_data_info(0)
    np.testing.assert_allclose(info['proposals'], [[0.1, 0.1, 0.5, 0.5]])
    assert 'scores' not in info


def test_custom_classes_renumber_and_drop_other_actions(files):
    ds = AVADataset(**files, custom_classes=[5, 1], num_classes=3)
    assert len(ds) == 2  # vid_b's only action (80) is not a custom class
    info = ds.get_data_info(0)  # line 1 (action 3) is dropped, so line 2's box comes first
    np.testing.assert_array_equal(info['gt_bboxes'], [[0.3, 0.1, 0.8, 0.7], [0.1, 0.2, 0.5, 0.9]])
    assert info['gt_labels'].shape == (2, 3)
    assert [np.flatnonzero(row).tolist() for row in info['gt_labels']] == [[2], [1]]  # 1 -> 2, 5 -> 1


def test_videos_and_single_labels(files):
    """MultiSports' form: videos, timestamps counting frames, one action per box with ids from 0."""
    ann = write(os.path.join(os.path.dirname(files['ann_file']), 'ms.csv'),
                'v.mp4,0005,0.1,0.2,0.5,0.9,0,0\nv.mp4,0005,0.3,0.1,0.8,0.7,2,1\n')
    ds = AVADataset(**dict(files, ann_file=ann), use_frames=False, multilabel=False, fps=1, num_classes=3,
                    timestamp_start=1)
    info = ds.get_data_info(0)
    assert info['filename'].endswith('v.mp4') and 'frame_dir' not in info and info['shot_info'] is None
    assert info['gt_labels'].tolist() == [[0], [2]]


@pytest.mark.parametrize('text', [MMACTION_PBTXT, OFFICIAL_PBTXT])
def test_read_labelmap_reads_both_layouts(tmp_path, text):
    labelmap, ids = read_labelmap(write(tmp_path / 'l.pbtxt', text))
    assert ids == {1, 3, 5, 80} and labelmap[1] == {'id': 3, 'name': 'action 3'}


@pytest.mark.parametrize('text, line', [('item {\n  name: "a"\n  id: x\n}\n', 3),
                                        ('item {\n  id: 4\n}\n', 2),
                                        ('item {\n  name: "a"\n  id: 1\n}\nitem {\n  name: "b"\n  id: 1\n}\n', 7)])
def test_read_labelmap_names_the_bad_line(tmp_path, text, line):
    path = write(tmp_path / 'l.pbtxt', text)
    with pytest.raises(ValueError, match=f'{path}, line {line}'):
        read_labelmap(path)


def _pickle(path, obj) -> str:
    with open(path, 'wb') as f:
        pickle.dump(obj, f)
    return str(path)


@pytest.mark.parametrize('change, message', [
    (dict(ann='vid_a,0902,0.1,0.2,0.5,0.9,3\n'), r'ann.csv, line 1: expected 8 fields'),
    (dict(ann='vid_a,0902,0.1,0.2,0.5,0.9,3,0\nvid_a,09x2,0.1,0.2,0.5,0.9,3,0\n'), r'ann.csv, line 2: expected'),
    (dict(ann='vid_a,0902,0.1,0.2,0.5,0.9,81,0\n'), r'ann.csv, line 1: action 81 is outside 0..80'),
    (dict(custom_classes=[0, 3], num_classes=3), 'must not contain 0'),
    (dict(custom_classes=[3, 5], num_classes=4), 'len\\(custom_classes\\) \\+ 1 = 3'),
    (dict(custom_classes=[3, 7], num_classes=3), r'custom_classes \[7\] are not ids of .*labels.pbtxt'),
    (dict(custom_classes=[3, 3], num_classes=3), r'custom_classes repeats ids \[3\]'),  # column 2 never positive
    (dict(person_det_score_thr=1.5), 'person_det_score_thr must be in'),
])
def test_bad_input_is_named(files, change, message):
    change = dict(change)
    if 'ann' in change:
        change['ann_file'] = write(os.path.join(os.path.dirname(files['ann_file']), 'ann.csv'), change.pop('ann'))
    with pytest.raises(ValueError, match=message):
        AVADataset(**dict(files, **change)).get_data_info(0)


@pytest.mark.parametrize('proposals, message', [
    ({'vid_a,0902': np.array([[0.1, 0.1, 1.5, 0.9, 0.95]])}, r"bad.pkl: proposals of 'vid_a,0902' must be relative"),
    ({'vid_a,0902': np.array([[0.1, 0.1, 0.9]])}, r"bad.pkl: proposals of 'vid_a,0902' must be an \(n, 4\) or"),
    ([np.zeros((1, 4))], r'bad.pkl: an AVA proposal pickle holds a dict'),
])
def test_bad_proposals_are_named(files, tmp_path, proposals, message):
    with pytest.raises(ValueError, match=message):
        AVADataset(**dict(files, proposal_file=_pickle(tmp_path / 'bad.pkl', proposals))).get_data_info(0)


class Evil:
    def __reduce__(self):
        return (os.system, ('echo pwned',))


def test_proposal_pickle_cannot_run_code(files, tmp_path):
    with pytest.raises(ValueError, match='refused to unpickle'):
        AVADataset(**dict(files, proposal_file=_pickle(tmp_path / 'evil.pkl', {'vid_a,0902': Evil()})))


@pytest.mark.parametrize('key', ['ann_file', 'label_file', 'proposal_file', 'exclude_file'])
def test_missing_file_is_named(files, tmp_path, key):
    kwargs = dict(files, custom_classes=[1, 3], num_classes=3, **{key: str(tmp_path / 'nope.txt')})
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        AVADataset(**kwargs)


def test_ava_kinetics_clips_keep_their_own_seconds_and_proposal_ids(files, tmp_path):
    ann = write(tmp_path / 'ak.csv', 'vid_aaaaaaa,0902,0.1,0.2,0.5,0.9,3,0\n'
                                     'yt_id_with_0010_0020,0012,0.1,0.2,0.5,0.9,5,0\n')
    props = _pickle(tmp_path / 'ak.pkl', {'yt_id_with,0012': np.array([[0.2, 0.2, 0.4, 0.4, 0.99]])})
    ds = AVAKineticsDataset(ann_file=ann, exclude_file=None, pipeline=[], label_file=files['label_file'],
                            proposal_file=props, data_prefix=files['data_prefix'])
    ava, kin = ds.get_data_info(0), ds.get_data_info(1)
    assert (ava['timestamp_start'], ava['timestamp_end'], ava['shot_info'], ava['start_index']) == (900, 1800,
                                                                                                   (1, 27001), 0)
    assert (kin['timestamp_start'], kin['timestamp_end'], kin['shot_info']) == (10, 20, (1, 301))
    np.testing.assert_allclose(kin['proposals'], [[0.2, 0.2, 0.4, 0.4]])
    np.testing.assert_allclose(ava['proposals'], [[0, 0, 1, 1]])
