"""FaceRecognizer: insightface checkpoints give insightface's embeddings; it trains; errors name what is wrong."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from resbackbones.registry import MODELS
from resbackbones.weights.insightface import load_insightface

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared insightface reference
from insightface_reference import InsightfaceIResNet  # noqa: E402


def _recognizer(embedding_dim: int = 32, input_size=(112, 112), **kwargs):
    return MODELS.build(dict(type='FaceRecognizer', backbone=dict(type='IResNet', depth=18, base_channels=16),
                             num_classes=10, input_size=input_size, embedding=dict(embedding_dim=embedding_dim),
                             **kwargs))


@torch.no_grad()
def test_insightface_checkpoint_gives_its_embeddings(tmp_path, randomise):
    reference = randomise(InsightfaceIResNet(width=16, embedding=32))
    path = tmp_path / 'backbone.pth'
    torch.save(reference.state_dict(), path)
    model = _recognizer()
    report = load_insightface(model, str(path))
    assert report.source == 'insightface' and report.checkpoint == str(path) and not report.ignored
    faces = torch.rand(3, 3, 112, 112)
    torch.testing.assert_close(model.eval()(faces), reference(faces))


@torch.no_grad()
def test_base_config_normalises_uint8_faces_as_insightface(tmp_path, randomise):
    """The configs' data_preprocessor on the loader's uint8 RGB crops gives what insightface's verification feeds
    its network: ((img / 255) - 0.5) / 0.5."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(Path(__file__).resolve().parents[2] / 'configs/_base_/models/arcface_iresnet50.py'))
    cfg.model.backbone.update(depth=18, base_channels=16)
    cfg.model.embedding.embedding_dim = 32
    model = MODELS.build(cfg.model).eval()
    reference = randomise(InsightfaceIResNet(width=16, embedding=32))
    torch.save(reference.state_dict(), tmp_path / 'backbone.pth')
    load_insightface(model, str(tmp_path / 'backbone.pth'))
    faces = torch.randint(0, 256, (2, 3, 112, 112), dtype=torch.uint8)
    batch = model.data_preprocessor(dict(inputs=list(faces), data_samples=None), False)
    torch.testing.assert_close(model(batch['inputs']), reference(((faces / 255) - 0.5) / 0.5), rtol=1e-4, atol=1e-4)


def test_the_report_counts_the_embedding_layers_and_is_logged_once(tmp_path, randomise):
    """The backbone's report alone, logged before the embedding loaded, called bn2/fc/features ignored; with
    strict=False a file without 'features' loaded with no missing key and no warning."""
    import logging

    from mmengine.logging import MMLogger
    state = randomise(InsightfaceIResNet(width=16, embedding=32)).state_dict()
    torch.save(state, tmp_path / 'whole.pth')
    torch.save({k: v for k, v in state.items() if not k.startswith('features.')}, tmp_path / 'no_features.pth')
    models = _recognizer(), _recognizer()  # built first: the registry logs as it builds
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = records.append
    logger = MMLogger.get_current_instance()  # where print_log(logger='current') writes
    logger.addHandler(handler)
    try:
        whole = load_insightface(models[0], str(tmp_path / 'whole.pth'))
        logged = [r.getMessage() for r in records]
        assert whole.loaded == len(state) and not whole.missing  # every tensor: backbone and embedding layers
        assert len(logged) == 1 and logged[0].startswith('Loaded ') and 'ignored' not in logged[0]
        records.clear()
        partial = load_insightface(models[1], str(tmp_path / 'no_features.pth'), strict=False)
    finally:
        logger.removeHandler(handler)
    assert partial.missing == ['embedding.features.bias', 'embedding.features.running_mean',
                               'embedding.features.running_var', 'embedding.features.weight']
    assert [r.levelno for r in records] == [logging.INFO, logging.WARNING]
    assert 'partial load from' in records[1].getMessage()


def test_an_embedding_that_does_not_fit_is_refused_and_nothing_changes(tmp_path):
    path = tmp_path / 'backbone.pth'
    torch.save(InsightfaceIResNet(width=16, embedding=32).state_dict(), path)
    model = _recognizer(embedding_dim=64)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=r'embedding layers do not fit.*fc.weight: checkpoint \(32, 6272\) vs model '
                                         r'\(64, 6272\).*not changed'):
        load_insightface(model, str(path))
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_training_separates_identities():
    torch.manual_seed(0)
    model = MODELS.build(dict(type='FaceRecognizer', backbone=dict(type='IResNet', depth=18, base_channels=8),
                              num_classes=4, input_size=(32, 32), embedding=dict(embedding_dim=16),
                              margin_head=dict(type='CosFaceHead', scale=16.0)))
    prototypes = torch.rand(4, 3, 32, 32)
    labels = torch.arange(4).repeat(4)
    faces = prototypes[labels] + 0.1 * torch.randn(16, 3, 32, 32)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    first = None
    for _ in range(25):
        loss = model(faces, labels, mode='loss')['loss']
        first = loss.item() if first is None else first
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.5 * first
    predictions = model.eval()(faces, labels, mode='predict')
    embeddings = torch.stack([p['embedding'] for p in predictions])
    torch.testing.assert_close(embeddings.norm(dim=1), torch.ones(16))
    assert [p['gt_label'] for p in predictions] == labels.tolist()
    same = (embeddings @ embeddings.T)[labels[:, None] == labels[None, :]].mean()
    other = (embeddings @ embeddings.T)[labels[:, None] != labels[None, :]].mean()
    assert same > other + 0.2  # identities cluster


@pytest.mark.parametrize('samples, named', [
    ([dict(gt_label=3), dict(gt_label=12, img_source='train.rec, record 41')], 'train.rec, record 41 has label 12'),
    (dict(gt_label=[12, 3], img_path=['ids/p9/0.png', 'ids/p1/0.png']), 'ids/p9/0.png has label 12'),
    ([dict(gt_label=3), dict(gt_label=-1)], 'sample 1 of the batch has label -1'),
])
def test_a_label_past_num_classes_names_its_image(samples, named):
    """The dataset need not know num_classes (mmaction2- or arcface_torch-style configs do not give it): the
    model, which does, names the image whose label is no identity of it."""
    with pytest.raises(ValueError, match=f'FaceRecognizer: {named}, not a class in \\[0, 10\\) '
                                         r'\(num_classes=10 in the model; 1 such in this batch\)'):
        _recognizer(input_size=(32, 32))(torch.rand(2, 3, 32, 32), samples, mode='loss')


@pytest.mark.parametrize('input_size', [(0, 0), (-8, 112), (112,), (112, 112, 3), (112.0, 112.0), '112'])
def test_a_bad_input_size_is_named(input_size):
    # (0, 0) built a 0-wide embedding FC; others failed deep inside with TypeError / IndexError
    with pytest.raises(ValueError, match=r'FaceRecognizer: input_size must be \(H, W\) of positive ints'):
        _recognizer(input_size=input_size)


def test_one_int_is_a_square_input_size():
    assert _recognizer(input_size=64).input_size == (64, 64)


def test_images_of_another_size_than_configured_are_named():
    with pytest.raises(ValueError, match=r'sized for \(7, 7\) feature maps .* got \(4, 4\)'):
        _recognizer()(torch.rand(1, 3, 64, 64))


def test_base_config_builds_insightfaces_r50():
    from mmengine.config import Config
    cfg = Config.fromfile(str(Path(__file__).resolve().parents[2] / 'configs/_base_/models/arcface_iresnet50.py'))
    model = MODELS.build(cfg.model)
    assert model.embedding.fc.in_features == 512 * 7 * 7 and model.margin_head.weight.shape == (10572, 512)
    backbone_and_embedding = sum(p.numel() for n, p in model.named_parameters() if not n.startswith('margin_head'))
    assert backbone_and_embedding == 43_590_848  # insightface's iresnet50


def test_arcface_configs_are_arcface_torchs():
    from mmengine.config import Config
    configs = Path(__file__).resolve().parents[2] / 'configs/arcface'
    r50 = Config.fromfile(str(configs / 'iresnet50_8xb128_ms1mv2_arcface.py'))
    assert r50.train_dataloader.batch_size == 128 and r50.auto_scale_lr.base_batch_size == 1024
    # arcface_torch's train_v2: PolynomialLRWarmup's default power 1; weight decay 5e-4 (ms1mv2), 1e-4 (glint360k)
    assert r50.optim_wrapper.optimizer.lr == 0.1 and r50.param_scheduler[0].power == 1.0
    assert r50.optim_wrapper.optimizer.weight_decay == 5e-4
    assert r50.train_cfg.max_epochs == 20 and r50.train_dataloader.dataset.type == 'FaceRecDataset'
    model = MODELS.build(r50.model)
    assert type(model.margin_head).__name__ == 'PartialFCHead' and model.margin_head.weight.shape == (85742, 512)
    assert model.flip_test and (model.margin_head.m2, model.margin_head.m3) == (0.5, 0.0)
    glint = Config.fromfile(str(configs / 'iresnet100_8xb128_glint360k_arcface.py'))
    assert glint.model.backbone.depth == 100 and glint.model.num_classes == 360232
    assert glint.train_dataloader.dataset.data_root == 'data/glint360k' and glint.train_dataloader.dataset.num_classes \
        == 360232
    assert glint.optim_wrapper.optimizer.weight_decay == 1e-4


def test_flip_test_sums_the_mirrored_embedding():
    torch.manual_seed(0)
    model = _recognizer(input_size=(32, 32)).eval()
    faces = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        plain = torch.stack([p['embedding'] for p in model(faces, mode='predict')])
        model.flip_test = True
        flipped = torch.stack([p['embedding'] for p in model(faces, mode='predict')])
        want = torch.nn.functional.normalize(model(faces) + model(faces.flip(-1)))
    torch.testing.assert_close(flipped, want)
    assert not torch.allclose(plain, flipped)


def test_verification_batches_carry_pair_tags_not_labels():
    model = _recognizer(input_size=(32, 32)).eval()
    tags = {'pair_index': [0, 0], 'pair_side': [0, 1], 'is_same': [True, True]}  # mmengine's collated form
    with torch.no_grad():
        preds = model(torch.rand(2, 3, 32, 32), tags, mode='predict')
    assert [(p['pair_index'], p['pair_side'], p['is_same']) for p in preds] == [(0, 0, True), (0, 1, True)]
    assert 'gt_label' not in preds[0]


@torch.no_grad()
def test_predict_without_pair_tags_or_labels_gives_embeddings():
    """A verification pipeline whose PackInputs dropped the pair tags was a bare KeyError 'gt_label' in the model;
    the embeddings now reach the metric, whose message names the missing meta_keys."""
    from resbackbones.evaluation import FaceVerificationMetric
    model = _recognizer().eval()
    preds = model.predict(torch.rand(2, 3, 112, 112), [dict(img_path='a.png'), dict(img_path='b.png')])
    assert [sorted(p) for p in preds] == [['embedding'], ['embedding']]
    with pytest.raises(ValueError, match="PackInputs keeps those meta_keys"):
        FaceVerificationMetric().process({}, preds)
