"""PoseDataset on annotation pickles in mmaction2's format: splits, per-video skeleton files, box thresholds, and
the bad inputs that must stop with the file and the sample named (a pickle naming code is refused unrun)."""
import os
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

from resbackbones.datasets import PoseDataset
from resbackbones.engine.checkpoint_classes import check_split_classes

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/: pose_fixtures
from pose_fixtures import write_pose_annotations  # noqa: E402


def test_split_selects_its_sequences_and_labels(tmp_path):
    ann = write_pose_annotations(tmp_path / 'ntu.pkl', per_class=3)
    train = PoseDataset(str(ann), split='xsub_train')
    val = PoseDataset(str(ann), split='xsub_val', test_mode=True)
    assert len(train) == len(val) == 6
    assert {train.get_data_info(i)['frame_dir'] for i in range(6)} == {f'xsub_train_S{k:03d}' for k in range(6)}
    info = train.get_data_info(1)
    assert info['label'] == info['gt_label'] == 1 and info['modality'] == 'Pose' and info['start_index'] == 0
    assert info['keypoint'].shape == (1, info['total_frames'], 17, 2)
    assert train.metainfo['classes'] == ('0', '1') and train.get_cat_ids(1) == [1]
    assert len(PoseDataset(str(ann))) == 12  # no split: every annotation


def test_a_split_without_the_top_label_passes_the_runner_class_check(tmp_path):
    """mmaction2's PoseDataset takes no num_classes, so classes come from the labels; a val split lacking the top
    label had fewer and the runner refused it ('labels from there on would stand for other classes')."""
    ann = tmp_path / 'few.pkl'
    people = [dict(frame_dir=f'S{i}', label=label, total_frames=4, img_shape=(32, 32),
                   keypoint=np.zeros((1, 4, 17, 2), np.float32)) for i, label in enumerate((0, 3, 1))]
    ann.write_bytes(pickle.dumps(dict(split=dict(train=['S0', 'S1'], val=['S2']), annotations=people)))
    train, val = PoseDataset(str(ann), split='train'), PoseDataset(str(ann), split='val', test_mode=True)
    assert len(train.metainfo['classes']) == 4 and len(val.metainfo['classes']) == 2
    check_split_classes(train.metainfo, val.metainfo, 'val_dataloader.dataset')  # raised ValueError before


def test_per_video_skeleton_files_and_box_threshold(tmp_path):
    """Kinetics-skeleton: ids and labels in the annotation file, keypoints per video under data_prefix skeleton."""
    (tmp_path / 'kp').mkdir()
    annotations = []
    for k, valid in enumerate((10, 2)):
        ident = f'vid{k}'
        annotations.append(dict(frame_dir=ident, label=k, total_frames=10, img_shape=(64, 64),
                                box_score=np.array([0.9, 0.3, 0.7]), valid={0.5: valid, 0.6: valid, 0.7: valid,
                                                                            0.8: 0, 0.9: 0}))
        with open(tmp_path / 'kp' / f'{ident}.pkl', 'wb') as f:
            pickle.dump(dict(keypoint=np.ones((3, 17, 3), np.float16), frame_inds=np.array([0, 0, 4])), f)
    with open(tmp_path / 'k400.pkl', 'wb') as f:
        pickle.dump(dict(split=dict(train=['vid0', 'vid1']), annotations=annotations), f)
    data = PoseDataset(str(tmp_path / 'k400.pkl'), split='train', box_thr=0.5, valid_ratio=0.5,
                       data_prefix=dict(skeleton=str(tmp_path / 'kp')), num_classes=400)
    assert len(data) == 1  # vid1 has boxes >= 0.5 in 2 of 10 frames
    info = data.get_data_info(0)
    assert info['keypoint'].shape == (3, 17, 3) and info['anno_inds'].tolist() == [True, False, True]
    assert len(data.metainfo['classes']) == 400


def test_a_pickle_that_names_code_is_refused_before_it_runs(tmp_path):
    marker = tmp_path / 'ran'

    class Payload:
        def __reduce__(self):
            return os.makedirs, (str(marker),)

    with open(tmp_path / 'evil.pkl', 'wb') as f:
        pickle.dump(dict(annotations=[Payload()]), f)
    with pytest.raises(ValueError, match=r'evil.pkl: refused to unpickle (posix|nt|os)\.makedirs'):
        PoseDataset(str(tmp_path / 'evil.pkl'))
    assert not marker.exists()


def _write(tmp_path, **changes) -> str:
    kp = np.zeros((1, 5, 17, 2), np.float32)
    item = dict(frame_dir='S001', label=1, img_shape=(8, 8), total_frames=5, keypoint=kp,
                keypoint_score=np.zeros((1, 5, 17), np.float32))
    item.update(changes)
    item = {k: v for k, v in item.items() if v is not None}
    with open(tmp_path / 'ann.pkl', 'wb') as f:
        pickle.dump(dict(split=dict(train=['S001']), annotations=[item]), f)
    return str(tmp_path / 'ann.pkl')


@pytest.mark.parametrize('changes,kwargs,match', [
    (dict(label=3), dict(num_classes=2), r"annotation 0 \('S001'\) has label 3; expected 0..1 \(num_classes=2\)"),
    (dict(label=3), dict(metainfo=dict(classes=('a', 'b'))), r"has label 3; expected 0..1 \(num_classes=2\)"),
    (dict(label=None), {}, r"annotation 0 \('S001'\) has label None"),
    (dict(keypoint=np.zeros((5, 17, 2))), {}, r'keypoint must be a \(persons, frames, joints, 2\) array'),
    # NTU's 3D skeletons passed, then failed in a crop with numpy's broadcast error naming no sample
    (dict(keypoint=np.zeros((1, 5, 17, 3))), {}, r'got \(1, 5, 17, 3\) \(x, y, z skeletons such as NTU 3D'),
    (dict(total_frames=9), {}, 'total_frames=9 but keypoint has 5 frames'),
    (dict(keypoint_score=np.zeros((1, 5, 16))), {}, r'keypoint_score must be \(persons, frames, joints\)'),
    (dict(img_shape=None), {}, 'img_shape .* is missing'),
    ({}, dict(split='xsub_val'), r"split 'xsub_val' is not in .*ann.pkl \(it has: \['train'\]\)"),
    ({}, dict(box_thr=0.4), 'box_thr must be one of'),
    ({}, dict(valid_ratio=0.5), 'valid_ratio needs the box_score and valid fields'),
])
def test_bad_annotations_name_the_file_and_sample(tmp_path, changes, kwargs, match):
    with pytest.raises(ValueError, match=match):
        PoseDataset(_write(tmp_path, **changes), **kwargs)


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothing.pkl does not exist'):
        PoseDataset(str(tmp_path / 'nothing.pkl'))
    (tmp_path / 'text.pkl').write_text('frame_dir label\n')
    with pytest.raises(ValueError, match='text.pkl: not an mmaction2 skeleton annotation pickle'):
        PoseDataset(str(tmp_path / 'text.pkl'))
