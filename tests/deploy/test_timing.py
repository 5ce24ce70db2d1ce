"""Side-by-side timing: rounds rotate the start, ratios pair runs of one round, the table shows every variant."""
import pytest

from resbackbones.deploy.timing import interleaved, ratios, table


def test_rotation_and_paired_ratios():
    order = []
    times = interleaved({'a': lambda: order.append('a'), 'b': lambda: order.append('b')}, rounds=2, warmup=1)
    assert order == ['a', 'b', 'a', 'b', 'b', 'a'] and all(len(v) == 2 for v in times.values())
    result = ratios({'ref': [2.0, 4.0, 2.0], 'fast': [1.0, 1.0, 1.0]}, 'ref')
    assert result['fast']['speedup'] == 2.0 and result['fast']['max'] == 4.0 and result['ref']['speedup'] == 1.0
    text = table(result, units=8, unit='img/s', extra={'fast': {'cosine': 0.5}}, reference='ref')
    assert 'fast' in text and '2.00 (2.00-4.00)' in text and '0.50000' in text


def test_bad_arguments():
    with pytest.raises(ValueError, match='rounds must be >= 1'):
        interleaved({'a': lambda: None}, rounds=0)
    with pytest.raises(ValueError, match="reference 'x' was not timed"):
        ratios({'a': [1.0]}, 'x')
