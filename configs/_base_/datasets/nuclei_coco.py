# Nuclei instances as COCO (stardist's img2d/mask2d): `python tools/demos/nuclei_maskrcnn.py` fetches the image
# (tools/data/fetch_data.py nuclei: columns 0-383 train, 384-511 held out) and converts each part with
# tools/data/instance_to_coco.py into data/nuclei_coco/{train,val}.json. One grey channel; random 192x192 crops,
# flips, 90-degree turns and brightness/contrast jitter for training; the whole held-out strip for testing.
data_root = 'data/nuclei_coco/'
# InstanceMap: the 102 non-overlapping masks kept as one label map, so each crop moves one plane, not 102 (docs/data.md)
load_pipeline = [dict(type='LoadImageFromFile', color_type='grayscale'),
                 dict(type='LoadDetAnnotations', with_mask=True), dict(type='InstanceMap')]
train_pipeline = [
    dict(type='DetAlbu', transforms=[
        dict(type='RandomCrop', height=192, width=192),
        dict(type='HorizontalFlip', p=0.5), dict(type='VerticalFlip', p=0.5), dict(type='RandomRotate90', p=0.5),
        dict(type='RandomBrightnessContrast', brightness_limit=0.2, contrast_limit=0.2, p=0.5)]),
    dict(type='PackDetInputs'),
]
test_pipeline = [dict(type='LoadImageFromFile', color_type='grayscale'), dict(type='PackDetInputs')]
# CachedDataset: the image and its masks are decoded once in the loader worker, then cropped and flipped afresh at
# every access (24.7 ms per sample uncached, 1.8 ms cached; docs/data.md); its data root is
# train_dataloader.dataset.dataset.data_root.
train_dataloader = dict(
    batch_size=2, num_workers=1, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='CachedDataset', pipeline=train_pipeline,
                 dataset=dict(type='CocoDataset', data_root=data_root, ann_file='train.json', pipeline=load_pipeline)))
val_dataloader = dict(
    batch_size=1, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='CocoDataset', data_root=data_root, ann_file='val.json', test_mode=True,
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric', metric=['bbox', 'segm'])
test_evaluator = val_evaluator
