"""mmaction2's long-term feature bank configs (detection/lfb) in their form through tools/test.py and tools/train.py:
an LFBInferHead config tested over the train annotations writes lfb_train.pkl (no hook named in the config:
SafeRunner adds it), then an FBOHead ('non_local') config trains and validates reading it (the validation seconds
of the same videos find their neighbours' features in the window); the trained model then tests reading the same
bank from an lmdb database (device='lmdb')."""
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'engine'))  # tests/engine: tiny
from test_mmaction2_ava_form import AVA_FORM, _write_ava  # noqa: E402
from tiny import run_tool_here as run  # noqa: E402

INFER = '''dict(type='LFBInferHead', lfb_prefix_path=ROOT + '/lfb', dataset_mode=MODE, use_half_precision=True)'''
FBO = '''dict(type='FBOHead',
    lfb_cfg=dict(lfb_prefix_path=ROOT + '/lfb', max_num_sampled_feat=2, window_size=6, lfb_channels=64,
                 dataset_modes=('train',), device=DEVICE),
    fbo_cfg=dict(type='non_local', st_feat_channels=64, lt_feat_channels=64, latent_channels=16, num_st_feat=1,
                 num_lt_feat=12, num_non_local_layers=2, st_feat_dropout_ratio=0.2, lt_feat_dropout_ratio=0.2,
                 pre_activate=True))'''
ON_SPLIT = '''
test_dataloader = dict(val_dataloader, dataset=dict(val_dataloader['dataset'], ann_file=f'{root}/MODE.csv'))
test_evaluator = dict(val_evaluator, ann_file=f'{root}/MODE.csv')
'''


def _config(path: Path, root: Path, shared: str, in_channels: int, mode: str = '') -> Path:
    text = AVA_FORM.replace('topk=(1, 2))),', f'topk=(1, 2)), shared_head={shared}),')
    text = text.replace('in_channels=64, num_classes=4', f'in_channels={in_channels}, num_classes=4')
    text = (text + (ON_SPLIT if mode else '')).replace('MODE', mode).replace('ROOT', repr(str(root)))
    path.write_text(text)
    return path


def test_bank_inferred_then_read_in_training(tmp_path, capsys):
    from mmengine.registry import init_default_scope

    from resbackbones.engine import load_config
    from resbackbones.registry import MODELS

    _write_ava(tmp_path)
    infer = _config(tmp_path / 'infer_train.py', tmp_path, INFER.replace('MODE', "'train'"), 64, 'train')
    init_default_scope('resbackbones')
    torch.manual_seed(0)
    model = MODELS.build(load_config(str(infer)).model)
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, tmp_path / 'recognizer.pth')
    run('test', capsys, infer, tmp_path / 'recognizer.pth', '--work-dir', tmp_path / 'infer')
    train_bank = torch.load(tmp_path / 'lfb' / 'lfb_train.pkl', weights_only=True)
    assert {v: sorted(s) for v, s in train_bank.items()} == {v: list(range(902, 907)) for v in ('clip_a', 'clip_b')}
    assert [len(train_bank[v][902]) for v in ('clip_a', 'clip_b')] == [2, 1]  # one feature per proposal
    assert train_bank['clip_a'][902][0].shape == (64,) and train_bank['clip_a'][902][0].dtype == torch.float16

    fbo = FBO.replace('DEVICE', "'cpu'")
    trained = run('train', capsys, _config(tmp_path / 'lfb_nl.py', tmp_path, fbo, 64 + 16), '--work-dir',
                  tmp_path / 'work')
    assert 'loss_action_cls' in trained and 'mAP/overall' in trained

    on_lmdb = _config(tmp_path / 'lfb_nl_lmdb.py', tmp_path, FBO.replace('DEVICE', "'lmdb'"), 64 + 16)
    tested = run('test', capsys, on_lmdb, tmp_path / 'work' / 'epoch_1.pth', '--work-dir', tmp_path / 'test_lmdb')
    assert 'mAP/overall' in tested and (tmp_path / 'lfb' / 'lmdb' / 'data.mdb').is_file()


def test_the_bank_is_written_before_a_failing_metric(tmp_path):
    # the bank was written when the epoch ended, after the metric: a mistyped label file lost the inference pass
    import pytest
    from mmengine.registry import init_default_scope

    from resbackbones.engine import load_config
    from resbackbones.engine.cli import run_tool
    from resbackbones.registry import MODELS
    from tiny import load_tool

    _write_ava(tmp_path)
    infer = _config(tmp_path / 'infer_train.py', tmp_path, INFER.replace('MODE', "'train'"), 64, 'train')
    infer.write_text(infer.read_text() + "\ntest_evaluator = dict(test_evaluator, "
                                         "label_file=test_evaluator['label_file'] + '.typo')\n")
    init_default_scope('resbackbones')
    torch.manual_seed(0)
    torch.save({'state_dict': MODELS.build(load_config(str(infer)).model).state_dict(), 'meta': {}},
               tmp_path / 'recognizer.pth')
    with pytest.raises(FileNotFoundError, match='.typo'):
        run_tool(load_tool('test').main, [str(infer), str(tmp_path / 'recognizer.pth'), '--work-dir',
                                          str(tmp_path / 'infer')], prog='test.py')
    bank = torch.load(tmp_path / 'lfb' / 'lfb_train.pkl', weights_only=True)
    assert sorted(bank) == ['clip_a', 'clip_b']
