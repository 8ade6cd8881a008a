import os
import stat

import pytest

from backend.settings import SettingsError, load_secret_key, settings_from_env


def test_defaults_are_safe():
    settings = settings_from_env({})
    assert settings.host == "127.0.0.1"
    assert settings.cors_origins == []
    assert "*" not in settings.allowed_hosts
    assert settings.database_url_resolved().startswith("sqlite:///")


def test_environment_variables_are_read_and_lists_split():
    settings = settings_from_env(
        {"FIELDBOOK_PORT": "9000", "FIELDBOOK_CORS_ORIGINS": "https://a.example, https://b.example", "OTHER": "x"}
    )
    assert settings.port == 9000
    assert settings.cors_origins == ["https://a.example", "https://b.example"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FIELDBOOK_PORT", "eighty"),
        ("FIELDBOOK_PORT", "70000"),
        ("FIELDBOOK_LOG_LEVEL", "chatty"),
        ("FIELDBOOK_WORKERS", "0"),
    ],
)
def test_a_bad_value_names_the_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        settings_from_env({name: value})


def test_secret_key_is_generated_once_and_private(tmp_path):
    settings = settings_from_env({}, data_dir=str(tmp_path))
    first = load_secret_key(settings)
    assert len(first) >= 48 and load_secret_key(settings) == first
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600


def test_a_short_configured_secret_is_refused(tmp_path):
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        load_secret_key(settings_from_env({"FIELDBOOK_SECRET_KEY": "short"}, data_dir=str(tmp_path)))
