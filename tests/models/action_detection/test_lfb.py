"""mmaction2's long-term feature bank: LFBInferHead writes it, LFB reads it back per key frame, FBOHead fuses it.

The references are mmaction2's rules written out (its window arithmetic and randperm draws, its operators); a
session compared these modules with mmaction2 1.2's own on the same weights and seeds (equal to the bit)."""
import pytest
import torch
from mmengine.registry import init_default_scope

from resbackbones.engine.lfb_hook import LFBWriteHook
from resbackbones.models.action_detection import LFB, AVARoIHead, FBOHead, LFBInferHead
from resbackbones.structures import FeatureSpec

C = 8


def _write(folder, mode='train', batches=((('v1,0902', 3), ('v2,0905', 2)), (('v1,0903', 7), ('v1,0902', 1)))):
    """Run an LFBInferHead over fake batches (clips with their RoI counts); the recorded features, per img_key."""
    head = LFBInferHead(str(folder), dataset_mode=mode).eval()
    expected = {}
    for batch in batches:
        rois = torch.cat([torch.tensor([[float(i), 0, 0, 1, 1]]).repeat(n, 1) for i, (_, n) in enumerate(batch)])
        x = torch.randn(len(rois), C, 2, 3, 3)
        assert head(x, None, rois, img_metas=[{'img_key': key} for key, _ in batch]) is x
        pooled = x.mean(2).amax((2, 3)).half()  # temporal avg, spatial max (mmaction2's defaults)
        for row, index in zip(pooled, rois[:, 0].long()):
            expected.setdefault(batch[index][0], []).append(row)
    head.write_bank()
    assert head.all_features == [] and head.all_metadata == []
    return expected


def test_infer_head_writes_the_bank_that_lfb_reads(tmp_path):
    expected = _write(tmp_path)
    bank = torch.load(tmp_path / 'lfb_train.pkl', weights_only=True)
    assert sorted(bank) == ['v1', 'v2'] and sorted(bank['v1']) == [902, 903]
    assert all(isinstance(f, list) and f[0].dtype == torch.float16 for s in bank.values() for f in s.values())
    lfb = LFB(str(tmp_path), max_num_sampled_feat=8, window_size=3, lfb_channels=C, dataset_modes='train', device='cpu')
    for key, feats in expected.items():
        video, second = key.split(',')
        assert torch.equal(lfb.load()[video][int(second)], torch.stack(feats))
    assert len(lfb) == 2


def test_infer_head_records_nothing_in_training_mode(tmp_path):
    head = LFBInferHead(str(tmp_path)).train()
    head(torch.randn(1, C, 1, 2, 2), None, torch.zeros(1, 5), img_metas=[{'img_key': 'v,0900'}])
    assert head.all_features == []


def _reference_window(seconds, timestamp, window_size, k, channels):
    """mmaction2's LFB.sample_long_term_features, written out."""
    start = timestamp - (window_size // 2)
    out = torch.zeros(window_size, k, channels)
    for idx, sec in enumerate(range(start, start + window_size)):
        if sec in seconds:
            feat = seconds[sec]
            out[idx, :feat.shape[0]] = feat[torch.randperm(feat.shape[0])[:k]]
    return out.reshape(-1, channels)


@pytest.mark.parametrize('window_size, k', [(5, 2), (4, 3), (1, 1)])
def test_window_sampling_draws_as_mmaction2(tmp_path, window_size, k):
    seconds = {s: torch.randn(n, C) for s, n in ((898, 1), (899, 4), (900, 2), (902, 5), (903, 3))}
    torch.save({'vid': {s: list(f.unbind()) for s, f in seconds.items()}}, tmp_path / 'lfb_val.pkl')
    lfb = LFB(str(tmp_path), max_num_sampled_feat=k, window_size=window_size, lfb_channels=C, dataset_modes=['val'],
              device='cpu')
    for timestamp in (900, 901, 903, 1000):
        torch.manual_seed(timestamp)
        ours = lfb[f'vid,{timestamp:04d}']
        torch.manual_seed(timestamp)
        assert torch.equal(ours, _reference_window(seconds, timestamp, window_size, k, C))
        assert ours.shape == (window_size * k, C)


def _fbo_head(folder, kind, **fbo):
    torch.save({'v': {900: torch.randn(3, C), 901: torch.randn(1, C)}}, folder / 'lfb_train.pkl')
    lfb_cfg = dict(lfb_prefix_path=str(folder), max_num_sampled_feat=2, window_size=3, lfb_channels=C,
                   dataset_modes=('train',), device='cpu')
    fbo_cfg = {**dict(type=kind, st_feat_channels=C, lt_feat_channels=C, latent_channels=4, num_st_feat=1,
                      num_lt_feat=6), **fbo}
    return FBOHead(lfb_cfg, fbo_cfg).eval()


@pytest.mark.parametrize('kind', ['avg', 'max'])
def test_pooling_operators_append_the_pooled_bank(tmp_path, kind):
    head = _fbo_head(tmp_path, kind)
    x, rois = torch.randn(2, C, 2, 3, 3), torch.tensor([[0., 0, 0, 1, 1], [0, 0, 0, 1, 1]])
    torch.manual_seed(0)
    out = head(x, None, rois, img_metas=[{'img_key': 'v,0901'}])
    torch.manual_seed(0)
    bank = torch.stack([head.lfb['v,0901'], head.lfb['v,0901']])  # (R, L, C), drawn in RoI order
    pooled = bank.mean(1) if kind == 'avg' else bank.amax(1)
    assert out.shape == (2, 2 * C, 1, 1, 1)
    assert torch.allclose(out[:, :C, 0, 0, 0], x.mean(2).amax((2, 3)))
    assert torch.allclose(out[:, C:, 0, 0, 0], pooled)


def test_non_local_operator_as_mmaction2_computes_it(tmp_path):
    head = _fbo_head(tmp_path, 'non_local', num_non_local_layers=1)
    fbo, layer = head.fbo, head.fbo.non_local_layer_1
    x, rois = torch.randn(1, C, 1, 2, 2), torch.zeros(1, 5)
    torch.manual_seed(1)
    out = head(x, None, rois, img_metas=[{'img_key': 'v,0900'}])
    torch.manual_seed(1)
    lt = head.lfb['v,0900'].t()  # (C, L)
    st = x.amax((2, 3, 4))[0]  # (C,)
    conv = lambda m, v: m.weight.flatten(1) @ v + (m.bias[:, None] if v.dim() == 2 else m.bias)  # noqa: E731
    st_l, lt_l = conv(fbo.st_feat_conv, st), conv(fbo.lt_feat_conv, lt)  # eval: no dropout
    theta, phi, g = conv(layer.st_feat_conv.conv, st_l), conv(layer.lt_feat_conv.conv, lt_l), conv(
        layer.global_conv.conv, lt_l)
    attn = (theta @ phi / 4 ** 0.5).softmax(-1)  # (L,)
    mixed = g @ attn  # (latent,)
    normed = torch.relu(torch.nn.functional.layer_norm(mixed.view(4, 1, 1, 1), (4, 1, 1, 1), layer.ln.weight,
                                                       layer.ln.bias))
    expected = st_l + conv(layer.out_conv.conv, normed.flatten())
    assert out.shape == (1, C + 4, 1, 1, 1)
    assert torch.allclose(out[0, :C].flatten(), st) and torch.allclose(out[0, C:].flatten(), expected, atol=1e-5)


MMACTION2_KEYS = [f'fbo.{k}' for k in ('st_feat_conv.weight', 'st_feat_conv.bias', 'lt_feat_conv.weight',
                                        'lt_feat_conv.bias')] + [
    f'fbo.non_local_layer_{i}.{k}' for i in (1, 2) for k in (
        'st_feat_conv.conv.weight', 'st_feat_conv.conv.bias', 'lt_feat_conv.conv.weight', 'lt_feat_conv.conv.bias',
        'global_conv.conv.weight', 'global_conv.conv.bias', 'ln.weight', 'ln.bias', 'out_conv.conv.weight',
        'out_conv.conv.bias')]


def test_state_dict_keys_are_mmaction2s(tmp_path):
    """The keys of mmaction2 1.2's FBOHead(non_local, two layers), in its order."""
    assert list(_fbo_head(tmp_path, 'non_local').state_dict()) == MMACTION2_KEYS
    assert list(_fbo_head(tmp_path, 'max').state_dict()) == []


def test_roi_head_checks_the_fbo_channels_and_passes_samples(tmp_path):
    head = AVARoIHead(dict(type='SingleRoIExtractor3D', output_size=2),
                      dict(type='BBoxHeadAVA', background_class=True, in_channels=C + 4, num_classes=3, topk=1),
                      shared_head=_fbo_head(tmp_path, 'non_local'))
    head.bind([FeatureSpec('layer4', C, 16)])
    logits = head.eval()(torch.randn(1, C, 2, 4, 4), torch.tensor([[0., 0, 0, 32, 32]]), [{'img_key': 'v,0900'}])
    assert logits.shape == (1, 3)
    with pytest.raises(ValueError, match='st_feat_channels=8, but the RoI features have 16 channels'):
        head.bind([FeatureSpec('layer4', 2 * C, 16)])


def test_hook_writes_the_banks_of_the_model(tmp_path):
    init_default_scope('resbackbones')
    model = torch.nn.Sequential(LFBInferHead(str(tmp_path / 'bank'), dataset_mode='val').eval())
    model[0](torch.randn(1, C, 1, 2, 2), None, torch.zeros(1, 5), img_metas=[{'img_key': 'v,0900'}])
    LFBWriteHook().after_test_epoch(type('Runner', (), {'model': model})())
    assert list(torch.load(tmp_path / 'bank' / 'lfb_val.pkl', weights_only=True)['v']) == [900]


@pytest.mark.parametrize('make, error, message', [
    (lambda p: LFB(str(p / 'nowhere'), device='cpu').load(), FileNotFoundError, 'lfb_prefix_path .*nowhere does not'),
    (lambda p: LFB(str(p), dataset_modes=('test',), device='cpu').load(), FileNotFoundError, 'lfb_test.pkl does not'),
    (lambda p: LFB(str(p), device='tpu'), ValueError, "device must be one of"),
    (lambda p: LFB(str(p), window_size=0), ValueError, 'window_size must be a positive integer'),
    (lambda p: _fbo_head(p, 'max').lfb['w,0900'], KeyError, "video 'w' is not in the bank"),
    (lambda p: _fbo_head(p, 'max').lfb['0900'], KeyError, "img_key must be 'video_id,second'"),
    (lambda p: _fbo_head(p, 'sum'), ValueError, "fbo_cfg.type must be one of"),
    (lambda p: _fbo_head(p, 'non_local', num_lt_feat=5), ValueError, 'num_lt_feat=5 must match the bank'),
    (lambda p: LFBInferHead(str(p), spatial_pool_type='min'), ValueError, "spatial_pool_type must be 'avg' or 'max'"),
    (lambda p: LFBInferHead(str(p)).eval()(torch.randn(1, C, 1, 1, 1), None, torch.zeros(1, 5), img_metas=[{}]),
     ValueError, "data sample 0 has no 'img_key'"),
])
def test_bad_input_is_named(tmp_path, make, error, message):
    with pytest.raises(error, match=message):
        make(tmp_path)


def test_a_file_the_safe_unpickler_refuses_is_named(tmp_path):
    import pickle
    (tmp_path / 'lfb_train.pkl').write_bytes(pickle.dumps({'v': {900: object()}}))
    with pytest.raises(ValueError, match='cannot read bank file .*lfb_train.pkl with weights_only=True'):
        LFB(str(tmp_path), dataset_modes='train', device='cpu').load()


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the message where CUDA is absent')
def test_gpu_bank_without_cuda_is_named(tmp_path):
    _write(tmp_path)
    with pytest.raises(RuntimeError, match="device='gpu' but CUDA is not available"):
        LFB(str(tmp_path), dataset_modes='train', lfb_channels=C).load()
