"""Bad arguments fail with a ValueError that names the argument and what is allowed."""
import pytest

from resbackbones.registry import MODELS


@pytest.mark.parametrize('kwargs, message', [
    (dict(depth=42), 'depth must be one of'),
    (dict(depth=18, out_indices=(4,)), 'out_indices'),
    (dict(depth=18, out_indices=()), 'out_indices'),
    (dict(depth=18, strides=(1, 2)), 'strides needs one entry per stage'),
    (dict(depth=18, dilations=(1, 1, 1)), 'dilations needs one entry per stage'),
    (dict(depth=18, in_channels=0), 'in_channels must be an integer >= 1'),
    # widths from multiplier arithmetic (64 * 0.5) failed deep in torch; 0 built and failed in forward
    (dict(depth=50, groups=-2), 'groups must be an integer >= 1; got -2'),
    (dict(depth=18, stem_channels=16.0), 'stem_channels must be an integer >= 1'),
    (dict(depth=18, stem_channels=1, deep_stem=True), 'stem_channels must be an integer >= 2 (the deep stem halves'),
    (dict(depth=18, stem_act_cfg=dict(inplace=False)), 'act_cfg type must be one of'),  # a bare KeyError: 'type'
    (dict(depth=18, style='tf'), "style must be one of ['pytorch', 'caffe']"),
    (dict(depth=18, norm_cfg=dict(type='XN')), 'norm_cfg type must be one of'),
    (dict(depth=18, norm_cfg=dict(type='GN', num_groups=3)), 'num_groups=3 must divide'),
    (dict(depth=18, norm_cfg=dict(type='GN', num_groups=0)), 'num_groups must be an integer >= 1; got 0'),  # modulo 0
    (dict(depth=18, num_stages=5), 'num_stages must be one of'),
    (dict(depth=18, frozen_stages=5), 'frozen_stages must be an integer in'),
    (dict(depth=18, frozen_stages=1.5), 'frozen_stages must be an integer in [-1, 4]; got 1.5'),  # TypeErrors before
    (dict(depth=18, frozen_stages=None), 'frozen_stages must be an integer in'),
    (dict(depth=18, strides=(1, 0, 2, 2)), 'strides must be integers >= 1, one per stage; got (1, 0, 2, 2)'),
    (dict(depth=18, strides=(1, 2.0, 2, 2)), 'strides must be integers >= 1'),  # failed in forward, in conv2d
    (dict(depth=18, dilations=(1, 1, 0, 1)), 'dilations must be integers >= 1'),
    (dict(depth=18, out_indices=(1.0,)), 'out_indices must be a non-empty subset'),
    (dict(depth=50, base_width=0), 'base_width must be an integer >= 1'),  # built a 665M-parameter ResNeXt
    (dict(depth=18, drop_path_rate=-0.5), 'drop_path_rate must be in [0, 1)'),  # silently no drop path
    (dict(depth=18, deep_stem=True, small_stem=True), 'deep_stem and small_stem are exclusive'),
    (dict(depth=18, stem_pool_stride='two'), "stem_pool_stride must be an integer >= 1 or None or 'auto'"),
    (dict(depth=50, dcn=dict(type='DCNv3'), stage_with_dcn=(True,) * 4), "dcn['type']"),
    (dict(depth=50, conv_cfg=dict(type='Conv4d')), 'conv type must be one of'),
    (dict(depth=18, fused_channels=(4, -1, 0, 0)), 'fused_channels must be integers >= 0'),
    (dict(depth=18, fused_channels=(4, 0)), 'fused_channels needs one entry per stage'),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=None) as err:
        MODELS.build(dict(type='ResNet', base_channels=8, **kwargs))
    assert message in str(err.value)


def test_resnext_needs_bottlenecks():
    with pytest.raises(ValueError, match='depth must be one of \\[50, 101, 152\\]'):
        MODELS.build(dict(type='ResNeXt', depth=18, groups=32))


def test_unknown_named_model_suggests_close_names():
    import resbackbones
    with pytest.raises(ValueError, match="did you mean \\['resnet50'"):
        resbackbones.create_model('resnet05')


@pytest.mark.parametrize('model, shape', [(dict(type='ResNet', depth=18, in_channels=1), (1, 3, 32, 32)),
                                          (dict(type='ResNet3d', depth=18, in_channels=3), (1, 1, 4, 32, 32))])
def test_inputs_of_another_channel_count_name_the_setting(model, shape):
    """A grey model fed RGB images failed in conv2d with torch's message, which names no setting to change."""
    import torch
    with pytest.raises(ValueError, match=r"takes \d-channel inputs \(in_channels\) and got \d channels.*color_type"):
        MODELS.build(dict(model, base_channels=8))(torch.zeros(shape))


def test_pretrained_true_or_false_as_timm_users_pass_it():
    import resbackbones
    assert resbackbones.create_model('resnet18', pretrained=False) is not None  # random weights, as None
    with pytest.raises(ValueError, match='pretrained=True\\): give the path of a local checkpoint .*nothing is '
                                         'downloaded'):
        resbackbones.create_model('resnet18', pretrained=True)


@pytest.mark.parametrize('kwargs, message', [
    # init_cfg only acts in init_weights(), which create_model never calls: random weights without a word (and with
    # pretrained= as well, a later init_weights() replaced those weights)
    (dict(init_cfg=dict(type='Pretrained', checkpoint='a.pth')), "init_cfg is for configs .* pretrained='PATH'"),
    (dict(pretrained=''), 'pretrained is an empty string'),  # 'checkpoint . is not a file'
    (dict(num_classes=True), r'num_classes must be an integer >= 1; got True'),  # torch's empty() TypeError
])
def test_create_model_names_what_it_would_not_do(kwargs, message):
    import resbackbones
    with pytest.raises(ValueError, match=message):
        resbackbones.create_model('resnet18', **kwargs)


def test_list_models_names_a_pattern_that_is_not_a_string():
    import resbackbones
    with pytest.raises(ValueError, match="pattern must be a string such as 'resnet\\*'; got None"):
        resbackbones.list_models(None)


@pytest.mark.parametrize('name, kwargs', [('resnet50d', dict(avg_down=False)), ('resnet50c', dict(deep_stem=False))])
def test_a_variants_fixed_flag_given_otherwise_names_the_variant(name, kwargs):
    # "ResNet.__init__() got multiple values for keyword argument 'avg_down'", though it was given once
    import resbackbones
    with pytest.raises(ValueError, match=r"ResNetV1[cd] fixes .*; got .*: use type='ResNet'"):
        resbackbones.create_model(name, **kwargs)
    assert resbackbones.create_model(name, **{k: not v for k, v in kwargs.items()}) is not None  # the same value


@pytest.mark.parametrize('base_channels', [32.0, 0, True])
def test_base_channels_must_be_a_positive_int(base_channels):
    # a width from multiplier arithmetic (64 * 0.5) failed deep in torch; 0 built and failed in forward
    with pytest.raises(ValueError, match=f'base_channels must be an integer >= 1; got {base_channels!r}'):
        MODELS.build(dict(type='ResNet', depth=18, base_channels=base_channels))
