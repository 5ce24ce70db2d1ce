# mmaction2's audio recognizer (recognition_audio/resnet): the core's 2D ResNet-18 on one-channel spectrogram clips
# ('NCTF'), each clip scored by TSNAudioHead (dropout 0.5), clips averaged as probabilities; 11,375,440 parameters
# with 400 classes, as mmaction2's own. Features are not normalised (the default data preprocessor only stacks).
model = dict(
    type='RecognizerAudio',
    backbone=dict(type='ResNet', depth=18, in_channels=1, norm_eval=False),
    cls_head=dict(type='TSNAudioHead', num_classes=400, dropout_ratio=0.5, init_std=0.01, average_clips='prob'),
)
