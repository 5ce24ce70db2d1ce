# The video demo's flow stream: the demo's TSN (tiny 2D ResNet-18, base width 8) on optical flow instead of RGB. A
# clip's 7 flow fields (tools/data/build_rawframes.py --task flow on the 8-frame clips: DIS, denseflow's encoding)
# are stacked as 14 input channels (x1, y1, ..., x7, y7: the two-stream temporal ConvNet's input), one segment.
_base_ = ['./tsn-tiny_8x1_video-demo.py']
model = dict(backbone=dict(in_channels=14), data_preprocessor=dict(mean=[128, 128] * 7, std=[128, 128] * 7))
flow = dict(type='RawframeDataset', data_prefix=dict(img=''), modality='Flow', filename_tmpl='flow_{}_{:05d}.jpg')
sample = dict(type='SampleFrames', clip_len=7, frame_interval=1, num_clips=1)
train_dataloader = dict(dataset=dict(flow, _delete_=True, data_root='data/video_demo_flow', num_classes=2,
                                     ann_file='speed_time_train_flow.txt', pipeline=[
    sample, dict(type='RawFrameDecode'),
    dict(type='MultiScaleCrop', input_size=64, scales=(1, 0.875, 0.75), random_crop=False, max_wh_scale_gap=1),
    dict(type='Resize', scale=(48, 48), keep_ratio=False), dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'), dict(type='PackActionInputs')]))
val_dataloader = dict(dataset=dict(flow, _delete_=True, data_root='data/video_demo_flow', num_classes=2,
                                   ann_file='speed_time_test_flow.txt', test_mode=True, pipeline=[
    dict(sample, test_mode=True), dict(type='RawFrameDecode'), dict(type='CenterCrop', crop_size=64),
    dict(type='Resize', scale=(48, 48), keep_ratio=False), dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')]))
test_dataloader = val_dataloader
