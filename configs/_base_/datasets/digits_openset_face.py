# The open-set face protocol on the UCI digits (tools/demos/face_digits.py): digit classes stand in for identities.
# Training sees only digits 0-6 (data/digits/train); verification pairs are drawn only from digits 7-9 (train and
# val images), never seen in training: data/digits_face/pairs_7-9.bin, written by
#   python tools/face/make_bin.py data/digits/train data/digits/val --identities 7 8 9 --pairs 300 --seed 0 \
#       --out data/digits_face/pairs_7-9.bin
# Seven training identities are too few for a margin loss to learn a metric that carries to new ones, so training
# also sees composed identities (HalfComposedFaceDataset): one training digit with the bottom half, the right half,
# or the triangle below a diagonal of another pasted over it; 7 + 4 x 7 x 6 = 175 identities, all from digits 0-6.
# The 8x8 digits are upsampled to 16x16 (room for the IResNet's stride-1 stem and stage strides).
train_pipeline = [  # after composing (the halves are cut at the 8x8 images' pixels)
    dict(type='Resize', size=(16, 16), interpolation='bilinear'),
    dict(type='Albu', transforms=[dict(type='Affine', translate_px=(-2, 2), rotate=(-10, 10), scale=(0.9, 1.1),
                                       p=0.8)]),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromBytes', color_type='grayscale'),
    dict(type='Resize', size=(16, 16), interpolation='bilinear'),
    dict(type='PackInputs', meta_keys=('pair_index', 'pair_side', 'is_same', 'verification_set')),
]
train_dataloader = dict(
    batch_size=64, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='HalfComposedFaceDataset', times=3, cache=True, pipeline=train_pipeline,
                 dataset=dict(type='FaceFolderDataset', data_root='data/digits/train',
                              identities=[str(d) for d in range(7)],
                              pipeline=[dict(type='LoadImageFromFile', color_type='grayscale')])),
)
val_dataloader = dict(
    batch_size=128, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='FaceVerificationDataset', bin_file='data/digits_face/pairs_7-9.bin', pipeline=test_pipeline),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='FaceVerificationMetric', far_targets=(1e-2,))
test_evaluator = val_evaluator
