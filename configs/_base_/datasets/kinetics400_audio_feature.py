# Kinetics-400 audio features for audio recognition (mmaction2's lists: 'path.npy TOTAL_FRAMES LABEL', each file a
# (time, 80) log-mel spectrogram of a video; placeholder paths): a 64-frame window of the video picks the matching
# stretch of spectrogram, cut or padded to 128 rows. Videos without audio have no file and stop the run, unless
# LoadAudioFeature(missing='pad') is set (mmaction2 pads silently).
dataset_type = 'AudioDataset'
data_root = 'data/kinetics400'
pipeline = [dict(type='LoadAudioFeature'), dict(type='SampleFrames', clip_len=64, frame_interval=1, num_clips=1),
            dict(type='AudioFeatureSelector'), dict(type='FormatAudioShape', input_format='NCTF'),
            dict(type='PackActionInputs')]
val_pipeline = [pipeline[0], dict(pipeline[1], test_mode=True), *pipeline[2:]]
train_dataloader = dict(
    batch_size=320, num_workers=4, persistent_workers=True, sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file='kinetics400_train_list_audio_features.txt', pipeline=pipeline,
                 data_root=data_root, data_prefix=dict(audio='audio_features_train')))
val_dataloader = dict(
    batch_size=320, num_workers=4, persistent_workers=True, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file='kinetics400_val_list_audio_features.txt', pipeline=val_pipeline,
                 data_root=data_root, data_prefix=dict(audio='audio_features_val'), test_mode=True))
test_dataloader = dict(
    batch_size=1, num_workers=4, persistent_workers=True, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file='kinetics400_val_list_audio_features.txt', pipeline=val_pipeline,
                 data_root=data_root, data_prefix=dict(audio='audio_features_val'), test_mode=True))
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
