"""mmaction2's audio config forms (recognition_audio/resnet: RecognizerAudio on a 2D ResNet-18 with in_channels=1;
recognition_audio/audioonly: on ResNetAudio R50, its list without file endings and suffix='.npy'; TSNAudioHead,
AudioDataset of .npy spectrograms, LoadAudioFeature / SampleFrames / AudioFeatureSelector / FormatAudioShape) train
and test with tools/train.py and tools/test.py (tiny: base widths 8 and 4, 32 x 16 features)."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest


sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'engine'))  # tests/engine: tiny
from tiny import run_tool_here as run  # noqa: E402

AUDIO_FORM = '''default_scope = 'mmaction'
default_hooks = dict(logger=dict(type='LoggerHook', interval=1), checkpoint=dict(type='CheckpointHook', interval=1))
env_cfg = dict(dist_cfg=dict(backend='nccl'))
model = dict(
    type='RecognizerAudio',
    backbone=BACKBONE,
    cls_head=dict(type='TSNAudioHead', num_classes=2, in_channels=IN_CHANNELS, dropout_ratio=0.5, init_std=0.01,
                  average_clips='prob'))
dataset_type = 'AudioDataset'
data_root = DATA_ROOT
train_pipeline = [
    dict(type='LoadAudioFeature'),
    dict(type='SampleFrames', clip_len=16, frame_interval=1, num_clips=1),
    dict(type='AudioFeatureSelector', fixed_length=32),
    dict(type='FormatAudioShape', input_format='NCTF'),
    dict(type='PackActionInputs')]
test_pipeline = [
    dict(type='LoadAudioFeature'),
    dict(type='SampleFrames', clip_len=16, frame_interval=1, num_clips=3, test_mode=True),
    dict(type='AudioFeatureSelector', fixed_length=32),
    dict(type='FormatAudioShape', input_format='NCTF'),
    dict(type='PackActionInputs')]
train_dataloader = dict(
    batch_size=4, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file='list.txt', pipeline=train_pipeline, data_root=data_root,
                 data_prefix=dict(audio='features')SUFFIX))
test_dataloader = dict(
    batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file='list.txt', pipeline=test_pipeline, data_root=data_root,
                 data_prefix=dict(audio='features')SUFFIX, test_mode=True))
test_evaluator = dict(type='AccMetric', metric_options=dict(top_k_accuracy=dict(topk=(1, ))))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1)
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001),
                     clip_grad=dict(max_norm=40, norm_type=2))
'''


@pytest.mark.parametrize('backbone, channels, suffix', [
    ("dict(type='ResNet', depth=18, in_channels=1, norm_eval=False, base_channels=8)", 64, ''),
    ("dict(type='ResNetAudio', depth=50, pretrained=None, in_channels=1, norm_eval=False, base_channels=4)", 128,
     '.npy'),
])
def test_audio_config_trains_and_tests_on_spectrogram_features(tmp_path, capsys, backbone, channels, suffix):
    rng = np.random.default_rng(0)
    (tmp_path / 'features').mkdir()
    lines = []
    for k in range(8):  # class 0 has its energy in the low bins, class 1 in the high ones
        spectrogram = rng.random((100, 16)).astype(np.float32)
        spectrogram[:, :8] += 2 if k % 2 == 0 else 0
        np.save(tmp_path / 'features' / f'v{k}.npy', spectrogram)
        lines.append(f"v{k}{'' if suffix else '.npy'} 60 {k % 2}")  # audioonly's lists name ids, its config suffix
    (tmp_path / 'list.txt').write_text('\n'.join(lines) + '\n')
    config = tmp_path / 'tsn_r18_audio_tiny.py'
    form = AUDIO_FORM.replace('DATA_ROOT', repr(str(tmp_path))).replace('BACKBONE', backbone)
    form = form.replace('IN_CHANNELS', str(channels)).replace('SUFFIX', f', suffix={suffix!r}' if suffix else '')
    config.write_text(form)
    trained = run('train', capsys, str(config), '--work-dir', str(tmp_path / 'work'))
    assert "running it here with default_scope 'mmaction' -> 'resbackbones'" in trained
    tested = run('test', capsys, str(config), str(tmp_path / 'work' / 'epoch_1.pth'), '--work-dir',
                 str(tmp_path / 'test'))
    metrics = json.loads(tested.strip().splitlines()[-1])
    assert set(metrics) == {'acc/top1', 'acc/mean1'} and 0 <= metrics['acc/top1'] <= 1
