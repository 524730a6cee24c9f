import pytest

from contest import create_app
from contest.config import ConfigError, load_config


def test_defaults_are_the_embedded_ones(tmp_path, monkeypatch):
    for name in ["CONTEST_DATABASE_URL", "CONTEST_SECRET_KEY", "CONTEST_REDIS_URL", "CONTEST_ENV"]:
        monkeypatch.delenv(name, raising=False)
    config = load_config(str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'contest.sqlite3'}"
    assert config["STORAGE_BACKEND"] == "local"
    assert config["MAIL_BACKEND"] == "log"
    assert config["RATELIMIT_STORAGE_URI"] == "contest-memory://"
    assert config["BABEL_DEFAULT_LOCALE"] == "zh"


def test_a_secret_is_generated_once_and_kept_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("CONTEST_SECRET_KEY", raising=False)
    first = load_config(str(tmp_path))["SECRET_KEY"]
    second = load_config(str(tmp_path))["SECRET_KEY"]
    assert first == second and len(first) >= 40
    assert (tmp_path / "secret_key").read_text().strip() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_refuses_to_start_without_a_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("CONTEST_SECRET_KEY", raising=False)
    monkeypatch.setenv("CONTEST_ENV", "production")
    with pytest.raises(ConfigError):
        load_config(str(tmp_path))
    assert not (tmp_path / "secret_key").exists()


def test_production_refuses_to_start_without_the_sites_address(tmp_path, monkeypatch):
    monkeypatch.delenv("CONTEST_BASE_URL", raising=False)
    monkeypatch.setenv("CONTEST_ENV", "production")
    monkeypatch.setenv("CONTEST_SECRET_KEY", "s3cret-from-the-environment")
    with pytest.raises(ConfigError, match="CONTEST_BASE_URL must be set when CONTEST_ENV=production"):
        load_config(str(tmp_path))
    with pytest.raises(ConfigError, match="CONTEST_BASE_URL"):
        create_app()


@pytest.mark.parametrize("address", ["contest.example.org", "ftp://contest.example.org", "https://",
                                     "https://contest.example.org/?page=1", "https://contest.example.org/#top"])
def test_a_base_url_that_is_not_a_sites_address_is_refused(tmp_path, monkeypatch, address):
    monkeypatch.setenv("CONTEST_BASE_URL", address)
    with pytest.raises(ConfigError, match="CONTEST_BASE_URL"):
        load_config(str(tmp_path))


def test_the_sites_address_defaults_to_the_development_server_outside_production(tmp_path, monkeypatch):
    monkeypatch.delenv("CONTEST_BASE_URL", raising=False)
    monkeypatch.delenv("CONTEST_ENV", raising=False)
    assert load_config(str(tmp_path))["BASE_URL"] == "http://127.0.0.1:5000"
    assert load_config(str(tmp_path), {"CONTEST_ENV": "testing"})["BASE_URL"] == "http://localhost"
    monkeypatch.setenv("CONTEST_BASE_URL", "https://contest.example.org/sub-path/")
    assert load_config(str(tmp_path))["BASE_URL"] == "https://contest.example.org/sub-path"


def test_the_environment_overrides_the_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("CONTEST_ENV", "production")
    monkeypatch.setenv("CONTEST_BASE_URL", "https://contest.example.org")
    monkeypatch.setenv("CONTEST_SECRET_KEY", "s3cret-from-the-environment")
    monkeypatch.setenv("CONTEST_DATABASE_URL", "postgresql+psycopg://db.internal/contest")
    monkeypatch.setenv("CONTEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("CONTEST_STORAGE", "s3")
    monkeypatch.setenv("CONTEST_S3_BUCKET", "contest-images")
    monkeypatch.setenv("CONTEST_MAIL_BACKEND", "smtp")
    monkeypatch.setenv("CONTEST_MAIL_PORT", "2525")
    monkeypatch.setenv("CONTEST_MAX_UPLOAD_MB", "20")
    config = load_config(str(tmp_path))
    assert config["SECRET_KEY"] == "s3cret-from-the-environment"
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db.internal/contest"
    assert config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert config["STORAGE_BACKEND"] == "s3" and config["S3_BUCKET"] == "contest-images"
    assert config["MAIL_BACKEND"] == "smtp" and config["MAIL_PORT"] == 2525
    assert config["MAX_CONTENT_LENGTH"] == 20 * 1024 * 1024
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["BASE_URL"] == "https://contest.example.org"


def test_the_factory_takes_overrides_last(tmp_path):
    app = create_app({"SECRET_KEY": "given", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
                      "TESTING": True})
    assert app.config["SECRET_KEY"] == "given"
    assert app.testing
    assert {"public", "auth", "console", "admin"} <= set(app.blueprints)


def test_connections_are_checked_and_give_up_in_seconds(tmp_path, monkeypatch):
    """A database or a Redis that stops answering must fail a request quickly, not hold it for minutes."""
    monkeypatch.delenv("CONTEST_DATABASE_URL", raising=False)
    sqlite = load_config(str(tmp_path))
    assert sqlite["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True}
    postgresql = load_config(str(tmp_path), {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/contest",
                                             "REDIS_URL": "redis://redis:6379/0"})
    assert postgresql["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True, "connect_args": {"connect_timeout": 5}}
    options = postgresql["RATELIMIT_STORAGE_OPTIONS"]
    assert options["socket_connect_timeout"] == 1 and options["socket_timeout"] == 1
    assert options["retry"].get_retries() == 1
    assert postgresql["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is True
