"""Side-by-side timing: every round times every run in its own order, ratios pair runs of one round, the table shows
every variant."""
import pytest

from resbackbones.deploy.timing import interleaved, ratios, table


def test_every_round_times_every_run_with_changing_neighbours_and_paired_ratios():
    order = []
    runs = {name: (lambda n=name: order.append(n)) for name in 'abcd'}
    times = interleaved(runs, rounds=12, warmup=1)
    assert order[:4] == list('abcd') and all(len(v) == 12 for v in times.values())
    rounds = [order[4 + 4 * r: 8 + 4 * r] for r in range(12)]
    assert all(sorted(r) == list('abcd') for r in rounds)
    predecessors_of_b = {r[r.index('b') - 1] for r in rounds if r.index('b') > 0}
    assert len(predecessors_of_b) >= 2  # a rotation would put 'a' before 'b' in every round
    again = []
    interleaved({name: (lambda n=name: again.append(n)) for name in 'abcd'}, rounds=12, warmup=1)
    assert again == order  # the same orders on a rerun
    result = ratios({'ref': [2.0, 4.0, 2.0], 'fast': [1.0, 1.0, 1.0]}, 'ref')
    assert result['fast']['speedup'] == 2.0 and result['fast']['max'] == 4.0 and result['ref']['speedup'] == 1.0
    text = table(result, units=8, unit='img/s', extra={'fast': {'cosine': 0.5}}, reference='ref')
    assert 'fast' in text and '2.00 (2.00-4.00)' in text and '0.50000' in text


def test_bad_arguments():
    with pytest.raises(ValueError, match='rounds must be >= 1'):
        interleaved({'a': lambda: None}, rounds=0)
    with pytest.raises(ValueError, match="reference 'x' was not timed"):
        ratios({'a': [1.0]}, 'x')
