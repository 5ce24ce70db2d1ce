# As the ArcFace variant, with a plain linear softmax classifier: the control without normalisation or margin.
_base_ = ['./iresnet-tiny_digits-openset_arcface.py']
model = dict(margin_head=dict(_delete_=True, type='SoftmaxHead'))
