"""Archives are validated before use and never extracted to disk."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from twin.errors import TooLarge, UnsafeArchive
from twin.ingest.archive import SafeArchive
from twin.settings import IngestLimits


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize(
    "name", ["../evil.txt", "/etc/passwd", "a/../../evil.txt", "C:/windows/evil.txt", "..\\evil.txt"]
)
def test_unsafe_member_names_are_rejected(tmp_path: Path, name: str) -> None:
    path = _zip(tmp_path / "bad.zip", {name: b"x"})
    with pytest.raises(UnsafeArchive, match="unsafe member path"):
        SafeArchive(path, IngestLimits())


def test_zip_symlink_member_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(UnsafeArchive, match="symbolic link"):
        SafeArchive(path, IngestLimits())


def test_tar_links_and_devices_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "t.tgz"
    with tarfile.open(path, "w:gz") as tf:
        ti = tarfile.TarInfo("Takeout/link")
        ti.type = tarfile.SYMTYPE
        ti.linkname = "/etc/passwd"
        tf.addfile(ti)
    with pytest.raises(UnsafeArchive, match="link"):
        SafeArchive(path, IngestLimits())


def test_too_many_members(tmp_path: Path) -> None:
    path = _zip(tmp_path / "many.zip", {f"f{i}.txt": b"x" for i in range(20)})
    with pytest.raises(UnsafeArchive, match="20 members"):
        SafeArchive(path, IngestLimits(max_archive_members=10))


def test_zip_bomb_ratio_is_refused_before_reading(tmp_path: Path) -> None:
    path = _zip(tmp_path / "bomb.zip", {"_chat.txt": b"\0" * (5 * 1024 * 1024)})
    with pytest.raises(UnsafeArchive, match="compression ratio"):
        SafeArchive(path, IngestLimits(max_compression_ratio=100))


def test_bytes_are_counted_while_streaming_not_trusted_from_headers(tmp_path: Path) -> None:
    path = _zip(tmp_path / "big.zip", {"a.txt": b"a" * 50_000, "b.txt": b"b" * 50_000})
    # Lie about the sizes in the central directory: the reader must still stop at the real byte count.
    archive = SafeArchive(path, IngestLimits(max_uncompressed_bytes=70_000, max_compression_ratio=10_000))
    with archive.open_member("a.txt") as f:
        assert len(f.read()) == 50_000
    with pytest.raises(TooLarge), archive.open_member("b.txt") as f:
        f.read()
    archive.close()


def test_macos_resource_forks_are_ignored(tmp_path: Path) -> None:
    path = _zip(tmp_path / "mac.zip", {"_chat.txt": b"hi", "__MACOSX/._chat.txt": b"junk", "._x": b"junk"})
    with SafeArchive(path, IngestLimits()) as archive:
        assert [m.name for m in archive.members] == ["_chat.txt"]
        with archive.open_member("_chat.txt") as f:
            assert f.read() == b"hi"


def test_nothing_is_written_outside_the_profile(tmp_path: Path, twin_home: Path) -> None:
    from twin.ingest.service import ingest_paths
    from twin.profiles import ProfileManager
    from twin.settings import load_settings

    outside = tmp_path / "outside"
    outside.mkdir()
    path = _zip(tmp_path / "evil.zip", {"../outside/pwned.txt": b"x", "_chat.txt": b"x"})
    settings = load_settings()
    profile = ProfileManager(settings).create("me")
    report = ingest_paths(profile, [path], settings)
    assert report.files[0].error and "unsafe" in report.files[0].error
    assert list(outside.iterdir()) == []
    assert not any(p.name == "pwned.txt" for p in tmp_path.rglob("*"))


def test_damaged_zip_gives_a_clear_error(tmp_path: Path) -> None:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as zf:
        zf.writestr("_chat.txt", b"hello" * 100)
    path = tmp_path / "cut.zip"
    path.write_bytes(data.getvalue()[:-30])
    with pytest.raises(UnsafeArchive):
        SafeArchive(path, IngestLimits())
