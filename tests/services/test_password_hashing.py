"""New password hashes use werkzeug's scrypt at the production cost unless a config class lowers
it (only TestConfig does); the environment cannot weaken it, and an unknown user's login pays the
same cost as a known one's."""

from __future__ import annotations

from flask import Flask
from werkzeug.security import check_password_hash

from app.config import Config, TestConfig
from app.services import users


def _hash_under(settings: dict) -> str:
    bare = Flask("hashing")
    bare.config.update(settings)
    with bare.app_context():
        return users.hash_password("correct horse")


def test_production_hashes_use_scrypt_at_its_full_cost_and_the_environment_cannot_lower_it(tmp_path):
    settings = Config.from_env({"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1", "PACKLINE_PASSWORD_HASH_METHOD": "x",
                                "PACKLINE_INSTANCE_DIR": str(tmp_path)})
    made = _hash_under(settings)
    assert made.startswith("scrypt:32768:8:1$")
    assert check_password_hash(made, "correct horse") and not check_password_hash(made, "wrong")
    assert users.hash_password("outside any app").startswith("scrypt:32768:8:1$")


def test_the_test_configuration_hashes_at_a_lower_cost_that_still_checks(app):
    made = users.hash_password("correct horse")
    assert TestConfig.PASSWORD_HASH_METHOD == app.config["PASSWORD_HASH_METHOD"] == "scrypt:1024:8:1"
    assert made.startswith("scrypt:1024:8:1$") and check_password_hash(made, "correct horse")


def test_an_unknown_user_is_checked_against_a_hash_of_the_same_cost(app):
    assert users._dummy_hash(users._hash_method()).startswith("scrypt:1024:8:1$")
    assert users._dummy_hash("scrypt").startswith("scrypt:32768:8:1$")
