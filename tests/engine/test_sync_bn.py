import logging

import pytest
from torch import nn

from resbackbones.engine.sync_bn import count_sync_bn, fallback_sync_bn, sync_bn_fallback_reason


def model():
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.SyncBatchNorm(4), nn.Sequential(nn.SyncBatchNorm(4)), nn.ReLU())


@pytest.mark.parametrize('distributed, device, reason', [
    (False, 'cpu', 'single process'),
    (False, 'cuda', 'single process'),
    (True, 'cpu', 'needs CUDA'),
    (True, 'cuda', None),
])
def test_fallback_only_where_sync_bn_cannot_sync(distributed, device, reason, caplog):
    net = model()
    weight = net[1].weight
    with caplog.at_level(logging.WARNING):
        out = fallback_sync_bn(net, distributed, device, logging.getLogger('sync-bn-test'))
    logged = caplog.text
    if reason is None:
        assert count_sync_bn(out) == 2 and logged == ''
    else:
        assert count_sync_bn(out) == 0
        assert isinstance(out[1], nn.modules.batchnorm._BatchNorm) and out[1].weight is weight  # weights kept
        assert 'converted 2 SyncBatchNorm layer(s) to BatchNorm because' in logged and reason in logged
        assert logged.count('SyncBN fallback') == 1
    assert (sync_bn_fallback_reason(distributed, device) is None) == (reason is None)


def test_no_message_without_sync_bn(caplog):
    net = nn.Sequential(nn.BatchNorm2d(2))
    with caplog.at_level(logging.WARNING):
        assert fallback_sync_bn(net, False, 'cpu', logging.getLogger('sync-bn-test')) is net
    assert caplog.text == ''
