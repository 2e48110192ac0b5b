from __future__ import annotations

import pytest

from augury.endpoints import DEFAULT_LOCALSTACK_URL, DEFAULT_REDIS_URL, Endpoints
from augury.settings import SettingsError


def test_defaults_target_real_aws() -> None:
    ep = Endpoints.from_env({})
    assert ep.localstack_url is None and not ep.is_local
    assert ep.redis_url == DEFAULT_REDIS_URL
    assert ep.region == "us-east-1"
    assert ep.client_kwargs() == {"region_name": "us-east-1"}


def test_localstack_url_switches_every_client_to_localstack() -> None:
    ep = Endpoints.from_env(
        {"AUGURY_LOCALSTACK_URL": "http://127.0.0.1:4600", "AWS_REGION": "eu-west-1"}
    )
    kwargs = ep.client_kwargs()
    assert kwargs["endpoint_url"] == "http://127.0.0.1:4600"
    assert kwargs["region_name"] == "eu-west-1"
    assert kwargs["aws_access_key_id"] == "test"
    client = ep.client("kinesis")
    assert client.meta.endpoint_url == "http://127.0.0.1:4600"
    assert client.meta.region_name == "eu-west-1"


def test_local_defaults_to_localstack() -> None:
    assert Endpoints.local({}).localstack_url == DEFAULT_LOCALSTACK_URL


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"AUGURY_LOCALSTACK_URL": "localhost:4566"}, "AUGURY_LOCALSTACK_URL"),
        ({"AUGURY_LOCALSTACK_URL": "http://127.0.0.1:notaport"}, "AUGURY_LOCALSTACK_URL"),
        ({"AUGURY_REDIS_URL": "http://127.0.0.1:6379"}, "AUGURY_REDIS_URL"),
        ({"AUGURY_REDIS_URL": "redis://"}, "AUGURY_REDIS_URL"),
    ],
)
def test_bad_settings_fail_naming_the_setting(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Endpoints.from_env(env)


def test_unix_socket_redis_is_accepted() -> None:
    assert Endpoints.from_env({"AUGURY_REDIS_URL": "unix:///tmp/r.sock"}).redis_url.startswith(
        "unix:"
    )
