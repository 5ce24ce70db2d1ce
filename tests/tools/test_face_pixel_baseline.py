"""tools/face/pixel_baseline.py: raw-pixel verification on a .bin, optionally centred on identity folders."""
from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image

from resbackbones.datasets.face import write_bin
from tests.engine.tiny import load_tool

TOOL = load_tool('face/pixel_baseline')


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buffer, format='PNG')
    return buffer.getvalue()


def write_pairs(path, offset: float, flip_flags: bool = False, amplitude: float = 40, pairs: int = 40) -> str:
    """Identities are random 8x8 patterns (+-amplitude around ``offset``); a same pair is two noisy copies of one."""
    rng = np.random.default_rng(0)
    patterns = rng.uniform(-amplitude, amplitude, (6, 8, 8))
    images, same = [], []
    for k in range(pairs):
        a, b = (k % 6, k % 6) if k % 2 == 0 else (k % 6, (k + 1) % 6)
        images += [png(offset + patterns[i] + rng.normal(0, 1, (8, 8))) for i in (a, b)]
        same.append((k % 2 == 0) != flip_flags)
    return write_bin(str(path), images, same)


def accuracy(capsys, argv) -> float:
    assert TOOL.main(argv) == 0
    return float(re.search(r'accuracy ([0-9.]+)', capsys.readouterr().out).group(1))


def test_raw_pixels_separate_distinct_patterns_and_wrong_flags_fail(tmp_path, capsys):
    assert accuracy(capsys, [write_pairs(tmp_path / 'ok.bin', offset=128)]) == 1.0
    assert accuracy(capsys, [write_pairs(tmp_path / 'flipped.bin', offset=128, flip_flags=True)]) <= 0.6


def test_centring_removes_a_shared_offset(tmp_path, capsys):
    # On a bright shared background every raw vector points the same way: distances fall under the 0.01 threshold
    # step. Subtracting the background's mean image brings the patterns back.
    pairs = write_pairs(tmp_path / 'bright.bin', offset=230, amplitude=15)
    for name in ('a', 'b'):
        (tmp_path / 'ref' / name).mkdir(parents=True)
        Image.fromarray(np.full((8, 8), 230, np.uint8)).save(tmp_path / 'ref' / name / '0.png')
    raw = accuracy(capsys, [pairs])
    centred = accuracy(capsys, [pairs, '--center-on', str(tmp_path / 'ref'), '--identities', 'a'])
    assert raw <= 0.75 and centred == 1.0
    # insightface's per-fold PCA centres on the other folds' images, so it removes the offset as well
    assert accuracy(capsys, [pairs, '--pca', '8']) == 1.0
    # hidden entries, as the datasets and make_bin.py skip them: a macOS '._0.png' stopped the run ('not a decodable
    # image'), and a hidden folder's images were averaged in
    (tmp_path / 'ref' / 'b' / '._0.png').write_bytes(b'\x00\x05\x16\x07')
    (tmp_path / 'ref' / '.trash').mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / 'ref' / '.trash' / '0.png')
    mean = TOOL.folder_mean(str(tmp_path / 'ref'), None, (8, 8))
    assert np.allclose(mean, 230)


@pytest.mark.parametrize('case, message', [
    ('mixed_sizes', r'image 3 \(pair 1\) is 9x9, image 0 is 8x8'),
    ('identities_alone', '--identities only applies with --center-on'),
    ('empty_reference', 'no images under'),
    ('reference_size', r'7x7 pixels, the pairs are 8x8'),
    ('negative_pca', '--pca: pca must be an int >= 0'),
    ('unknown_identity', r"--identities: \['zz'\] are not identity folders"),  # skipped: another centring
])
def test_bad_input_names_the_image_or_argument(tmp_path, case, message):
    images = [png(np.zeros((8, 8)))] * 4
    if case == 'mixed_sizes':
        images[3] = png(np.zeros((9, 9)))
    pairs = write_bin(str(tmp_path / 'p.bin'), images, [True, False])
    (tmp_path / 'ref' / 'x').mkdir(parents=True)
    if case == 'reference_size':
        Image.fromarray(np.zeros((7, 7), np.uint8)).save(tmp_path / 'ref' / 'x' / '0.png')
    argv = {'mixed_sizes': [pairs], 'identities_alone': [pairs, '--identities', 'x'],
            'empty_reference': [pairs, '--center-on', str(tmp_path / 'ref')],
            'reference_size': [pairs, '--center-on', str(tmp_path / 'ref')],
            'negative_pca': [pairs, '--pca', '-1'],
            'unknown_identity': [pairs, '--center-on', str(tmp_path / 'ref'), '--identities', 'x', 'zz']}[case]
    with pytest.raises(ValueError, match=message):
        TOOL.main(argv)


def test_16_bit_images_are_scaled_not_clipped():
    deep = (np.arange(64).reshape(8, 8) * 1000).astype(np.uint16)
    buffer = io.BytesIO()
    Image.fromarray(deep).save(buffer, format='PNG')
    assert np.array_equal(TOOL.grey_pixels(buffer.getvalue(), 'x'), deep >> 8)  # convert('L') gave 255 nearly all
