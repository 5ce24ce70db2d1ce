# mmaction2's audio-only recognizer (recognition_audio/audioonly): ResNetAudio R50 (Xiao et al. 2020; 32 base
# channels, a factorised 9x9 stem, time / frequency factorised middle convs in the first two stages) on one-channel
# spectrogram clips ('NCTF'), each clip scored by TSNAudioHead (dropout 0.5), clips averaged as probabilities;
# 5,905,728 backbone parameters, as mmaction2's own.
model = dict(
    type='RecognizerAudio',
    backbone=dict(type='ResNetAudio', depth=50, pretrained=None, in_channels=1, norm_eval=False),
    cls_head=dict(type='TSNAudioHead', num_classes=400, dropout_ratio=0.5, init_std=0.01, average_clips='prob'),
)
