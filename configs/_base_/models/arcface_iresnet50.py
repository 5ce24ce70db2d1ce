# ArcFace recognizer (insightface's r50): IResNet-50 -> BN, FC to a 512-d embedding -> ArcFace margin head (s=64,
# m=0.5) over the training identities. The embedding FC is sized from the backbone's feature specs and input_size;
# aligned 112x112 RGB faces normalised to [-1, 1] as insightface does. Set num_classes to your identity count.
model = dict(
    type='FaceRecognizer',
    backbone=dict(type='IResNet', depth=50),
    num_classes=10572,  # CASIA-WebFace; MS1MV3 has 93431
    input_size=(112, 112),
    embedding=dict(embedding_dim=512, dropout=0.0),
    margin_head=dict(type='ArcFaceHead', scale=64.0, margin=0.5),
    data_preprocessor=dict(type='ImgDataPreprocessor', mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5]),
)
