"""mmaction2's DecordInit / DecordDecode names read with the exact PyAV reader; RawFrameDecode takes its arguments."""
import numpy as np
import pytest

from resbackbones.registry import TRANSFORMS
from resbackbones.transforms.video.decoder import decode_all


@pytest.mark.parametrize('names', [('DecordInit', 'DecordDecode'), ('PyAVInit', 'PyAVDecode')])
@pytest.mark.parametrize('mode', ['accurate', 'efficient'])  # PyAVDecode refused mmaction2's 'efficient'
def test_decord_and_pyav_names_give_the_frames_of_a_full_decode(videos, mode, names):
    path = str(videos['bframes'])
    init = TRANSFORMS.build(dict(type=names[0], io_backend='disk', **(dict(num_threads=1) if 'Decord' in names[0]
                                                                       else {})))
    decode = TRANSFORMS.build(dict(type=names[1], mode=mode))
    results = init(dict(filename=path))
    assert results['total_frames'] == 40 and results['avg_fps'] > 0
    results['frame_inds'] = np.array([0, 13, 7, 39, 39])
    imgs = decode(results)['imgs']
    np.testing.assert_array_equal(imgs, decode_all(path)[[0, 13, 7, 39, 39]])
    assert results['video_reader'] is None  # closed after decoding, as PyAVDecode does


@pytest.mark.parametrize('cfg, message', [
    (dict(type='DecordInit', io_backend='petrel'), "reads local files only \\(io_backend='petrel'\\)"),
    (dict(type='DecordInit', backend_args=dict()), "unexpected arguments \\['backend_args'\\]"),
    (dict(type='DecordDecode', mode='fast'), "mode must be 'accurate' or 'efficient'"),
    (dict(type='PyAVDecode', mode='fast'), "mode='accurate' | 'efficient' are accepted"),
    (dict(type='RawFrameDecode', decoding_backend='nvjpeg'), "decoding_backend 'cv2', 'pillow' or 'turbojpeg'"),
    (dict(type='RawFrameDecode', io_backend='http'), "got io_backend='http'"),
])
def test_arguments_without_a_meaning_here_are_refused_by_name(cfg, message):
    with pytest.raises(ValueError, match=message):
        TRANSFORMS.build(cfg)


def test_rawframe_decode_takes_mmaction2s_arguments():
    transform = TRANSFORMS.build(dict(type='RawFrameDecode', io_backend='disk', decoding_backend='turbojpeg'))
    assert type(transform).__name__ == 'RawFrameDecode'
