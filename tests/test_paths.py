from harness.paths import cache_dir


def test_cache_dir_follows_hil_then_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HIL_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert cache_dir("models") == tmp_path / "home/.cache/hil/models"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir("models") == tmp_path / "xdg/hil/models"
    monkeypatch.setenv("HIL_CACHE_DIR", str(tmp_path / "hil"))
    assert cache_dir("host") == tmp_path / "hil/host"
    assert (tmp_path / "hil/host").is_dir()
