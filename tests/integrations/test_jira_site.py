"""The settings choose Jira Cloud or Data Center, and refuse what would sign in wrongly."""

from __future__ import annotations

import pytest

from base.errors import ConfigError
from base.settings import Settings
from integrations.jira_site import JiraCloud, JiraDataCenter, jira_site

BASE = "https://jira.example.com"


@pytest.fixture(autouse=True)
def no_jira_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("JIRA_BASE_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PERSONAL_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def settings(**values: str) -> Settings:
    """These values over the environment (its Jira names removed), validated as at start."""
    return Settings.model_validate({"jira_base_url": BASE, **values})


class TestJiraSite:
    def test_email_and_api_token_are_jira_cloud_on_rest_v3(self) -> None:
        site = jira_site(settings(jira_email="bot@example.com", jira_api_token="tok"))
        assert site == JiraCloud(BASE, "bot@example.com", "tok") and site.api_version == "3"

    def test_a_personal_access_token_is_data_center_on_rest_v2(self) -> None:
        site = jira_site(settings(jira_personal_access_token="pat-123"))
        assert site == JiraDataCenter(BASE, "pat-123") and site.api_version == "2"
        assert site.auth_headers() == {"Authorization": "Bearer pat-123"}

    def test_an_empty_token_as_compose_passes_it_is_unset(self) -> None:
        site = jira_site(settings(jira_personal_access_token="", jira_email="bot@example.com",
                                  jira_api_token="tok"))
        assert isinstance(site, JiraCloud)

    @pytest.mark.parametrize(("values", "named"), [
        ({"jira_personal_access_token": "pat", "jira_api_token": "tok"}, "not both"),
        ({"jira_email": "bot@example.com"}, "JIRA_API_TOKEN"),
        ({"jira_api_token": ""}, "JIRA_PERSONAL_ACCESS_TOKEN"),
    ], ids=["both", "no token", "empty token"])
    def test_missing_or_contradictory_settings_are_named(
        self, values: dict[str, str], named: str
    ) -> None:
        with pytest.raises(ConfigError, match=named):
            jira_site(settings(**values))

    def test_no_base_url_is_named(self) -> None:
        with pytest.raises(ConfigError, match="JIRA_BASE_URL"):
            jira_site(Settings.model_validate({"jira_personal_access_token": "pat"}))

    def test_the_token_is_masked_like_every_secret(self) -> None:
        assert "pat-secret-9" in settings(jira_personal_access_token="pat-secret-9").secret_values()

    def test_the_token_never_prints(self) -> None:
        site = JiraDataCenter(BASE, "pat-secret-9")
        assert "pat-secret-9" not in repr(site) and "pat-secret-9" not in repr(settings(
            jira_personal_access_token="pat-secret-9"))
