# As the ArcFace variant, with the CosFace head (additive cosine margin).
_base_ = ['./iresnet-tiny_digits-openset_arcface.py']
model = dict(margin_head=dict(_delete_=True, type='CosFaceHead', scale=16.0, margin=0.2))
