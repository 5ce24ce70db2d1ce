"""load_restricted: foreign pickles read without running code; the forms mmengine and Python 2 write load."""
import pickle

import numpy as np
import pytest

from resbackbones.datasets.restricted_pickle import NUMPY_ARRAYS, load_restricted

ALLOWED = NUMPY_ARRAYS | {('builtins', 'set'), ('builtins', 'dict'), ('builtins', 'list')}


@pytest.mark.parametrize('protocol', [2, 4, 5])
def test_arrays_scalars_and_sets_load_at_every_protocol(tmp_path, protocol):
    """mmengine.dump and mmcv.dump pickle with protocol 2: its arrays rebuild their bytes through _codecs.encode and
    its set is named __builtin__.set; both were refused, so skeleton and proposal files written that way failed."""
    content = dict(keypoint=np.arange(6, dtype=np.float16).reshape(1, 3, 2), score=np.float64(0.5),
                   names=np.array(['a', 'bc']), split={'x', 'y'})
    path = tmp_path / 'a.pkl'
    path.write_bytes(pickle.dumps(content, protocol=protocol))
    loaded = load_restricted(str(path), ALLOWED, 'an annotation file', 'arrays and sets')
    np.testing.assert_array_equal(loaded['keypoint'], content['keypoint'])
    assert loaded['score'] == 0.5 and list(loaded['names']) == ['a', 'bc'] and loaded['split'] == {'x', 'y'}


def test_code_is_still_refused_and_a_broken_array_names_the_file(tmp_path):
    class Payload:
        def __reduce__(self):
            import os
            return os.system, ('true',)
    evil = tmp_path / 'evil.pkl'
    evil.write_bytes(pickle.dumps([Payload()], protocol=2))
    with pytest.raises(ValueError, match=r'evil.pkl: refused to unpickle (posix|nt|os)\.system'):
        load_restricted(str(evil), ALLOWED, 'an annotation file', 'arrays')
    data = pickle.dumps(np.zeros(4, np.float32), protocol=2)
    short = tmp_path / 'short.pkl'
    short.write_bytes(data.replace(np.zeros(4, np.float32).tobytes(), b'\0' * 12))  # 3 floats' bytes for 4
    with pytest.raises(ValueError, match=r'short.pkl: not an annotation file'):
        load_restricted(str(short), ALLOWED, 'an annotation file', 'arrays')
