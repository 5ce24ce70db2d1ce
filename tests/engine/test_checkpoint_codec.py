import enum
import io
from collections import Counter, OrderedDict

import numpy as np
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.logging import HistoryBuffer, MessageHub

from resbackbones.engine import checkpoint_codec as codec
from resbackbones.engine.checkpoint_codec import decode, decode_checkpoint, encode, encode_checkpoint


class Colour(enum.IntEnum):
    RED = 3


class Stage(str, enum.Enum):
    TRAIN = 'train'


class Tag(str):
    def __str__(self) -> str:
        return 'a tag'


def safe_round_trip(obj):
    """torch.save then torch.load with weights_only=True (what the runner does), then decode."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return decode(torch.load(buffer, weights_only=True))


def refused_by_weights_only(obj) -> bool:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    try:
        torch.load(buffer, weights_only=True)
    except Exception:
        return True
    return False


def history(*values) -> HistoryBuffer:
    buf = HistoryBuffer()
    for v in values:
        buf.update(v)
    return buf


@pytest.mark.parametrize('value, expected', [
    (np.float64(0.25), 0.25),
    (np.int64(7), 7),
    (np.float32(1.5), 1.5),
    (Colour.RED, 3),
    (Stage.TRAIN, 'train'),  # was saved as 'Stage.TRAIN'
    (Tag('x'), 'x'),
    (ConfigDict(a=np.float64(1.0)), {'a': 1.0}),
    ((np.int64(1), 'x'), (1, 'x')),
    ({'eta': np.float64(2.0), 'ids': [np.int64(4)]}, {'eta': 2.0, 'ids': [4]}),
])
def test_numpy_and_subclassed_scalars_become_plain(value, expected):
    assert refused_by_weights_only(value)  # the reason this codec exists
    out = safe_round_trip(encode(value))
    assert out == expected
    assert type(out) is type(expected)


@pytest.mark.parametrize('array', [np.arange(4, dtype=np.int64), np.linspace(0, 1, 3), np.zeros((2, 2), np.float32),
                                   np.array([True, False]), np.array([1 + 2j], np.complex64)])
def test_numeric_arrays_round_trip_with_dtype(array):
    out = safe_round_trip(encode(array))
    assert isinstance(out, np.ndarray) and out.dtype == array.dtype
    np.testing.assert_array_equal(out, array)


@pytest.mark.parametrize('values', [(1.0,), (0.5, np.float64(2.0), 3)])
def test_history_buffer_round_trips(values):
    buf = history(*values)
    assert refused_by_weights_only({'b': buf})
    out = safe_round_trip(encode({'b': buf}))['b']
    assert isinstance(out, HistoryBuffer)
    np.testing.assert_array_equal(out.data[0], buf.data[0])
    np.testing.assert_array_equal(out.data[1], buf.data[1])
    assert out.max_length == buf.max_length and out.mean() == pytest.approx(buf.mean())


def test_message_hub_state_survives_and_loads():
    hub = MessageHub.get_instance('codec-test')
    hub.update_scalar('train/loss', 0.5)
    hub.update_scalar('train/loss', np.float64(0.25))
    hub.update_info('eta', np.float64(12.0))
    hub.update_info('keep_ckpt_ids', [1, 2])
    checkpoint = {'message_hub': hub.state_dict(), 'meta': {'seed': 0}}
    encode_checkpoint(checkpoint)
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)
    decode_checkpoint(loaded)
    restored = MessageHub.get_instance('codec-test-restored')
    restored.load_state_dict(loaded['message_hub'])
    assert restored.get_scalar('train/loss').current() == 0.25
    assert restored.get_scalar('train/loss').mean() == pytest.approx(0.375)
    assert restored.get_info('eta') == 12.0 and restored.get_info('keep_ckpt_ids') == [1, 2]


def test_state_dict_passes_through_unchanged():
    state = torch.nn.BatchNorm2d(2).state_dict()
    assert encode(state) is state  # same object: keeps _metadata (BN version) and costs nothing
    out = safe_round_trip(encode({'state_dict': state}))['state_dict']
    assert out._metadata == state._metadata and torch.equal(out['running_var'], state['running_var'])


@pytest.mark.parametrize('value', [Counter({4: 1, 6: 1}), OrderedDict(a=1), {1, 2}, torch.Size([2, 3])])
def test_allowed_containers_keep_their_type(value):
    out = safe_round_trip(encode(value))
    assert out == value and type(out) is type(value)


def test_unknown_object_is_saved_as_repr_with_a_warning(monkeypatch):
    class Opaque:
        def __repr__(self):
            return '<opaque>'

    messages = []
    monkeypatch.setattr(codec, 'print_log', lambda msg, **kwargs: messages.append(msg))
    out = encode({'meta': {'thing': Opaque()}}, 'checkpoint')
    assert out == {'meta': {'thing': '<opaque>'}}
    assert len(messages) == 1 and "checkpoint['meta']['thing']" in messages[0] and 'Opaque' in messages[0]


@pytest.mark.parametrize('key, expected', [
    (np.int64(0), 0), (Colour.RED, 3), ((np.int32(1), 'a'), (1, 'a')),
    (np.datetime64('2026-12-06'), 'datetime.date(2026, 12, 6)'),  # its item() is a date: refused too
])
def test_dict_keys_are_encoded_too(key, expected):
    # a numpy or enum key passed through, and every later checkpoint of the run was unreadable
    value = {'class_counts': {key: 8}}
    assert refused_by_weights_only(value)
    out = safe_round_trip(encode(value))
    assert out == {'class_counts': {expected: 8}} and type(next(iter(out['class_counts']))) is type(expected)


def test_a_datetime64_value_is_saved_as_its_repr():
    assert safe_round_trip(encode({'when': np.datetime64('2026-12-06')})) == {'when': 'datetime.date(2026, 12, 6)'}
