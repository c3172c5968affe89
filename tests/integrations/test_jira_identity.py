"""Who the agent is in Jira, asked of the Jira stand-in's /myself (Cloud: accountId; Data
Center: name and key), once per process and site; JIRA_ACCOUNT_ID saves the call."""

from __future__ import annotations

from base.settings import Settings
from integrations import jira_identity
from standins.jira import JiraStandin


def _myself_calls(server: JiraStandin) -> int:
    return sum(r.path.endswith("/myself") for r in server.requests)


def test_cloud_names_the_agent_by_account_id_and_asks_once() -> None:
    with JiraStandin("agent@example.com", "tok-cloud-1") as server:
        settings = Settings.from_values({"JIRA_BASE_URL": server.base_url,
                                         "JIRA_EMAIL": "agent@example.com",
                                         "JIRA_API_TOKEN": "tok-cloud-1"})
        first = jira_identity.agent_ids(settings)
        again = jira_identity.agent_ids(settings)
    assert first == again == {server.user["accountId"]}
    assert _myself_calls(server) == 1


def test_data_center_names_the_agent_by_name_and_key() -> None:
    with JiraStandin(personal_access_token="pat-dc-1") as server:
        settings = Settings.from_values({"JIRA_BASE_URL": server.base_url,
                                         "JIRA_PERSONAL_ACCESS_TOKEN": "pat-dc-1"})
        ids = jira_identity.agent_ids(settings)
    assert ids == {server.user["name"], server.user["key"]}


def test_a_configured_account_id_needs_no_call() -> None:
    with JiraStandin("agent@example.com", "tok-cloud-2") as server:
        settings = Settings.from_values({"JIRA_BASE_URL": server.base_url,
                                         "JIRA_EMAIL": "agent@example.com",
                                         "JIRA_API_TOKEN": "tok-cloud-2",
                                         "JIRA_ACCOUNT_ID": "557058:configured"})
        assert jira_identity.agent_ids(settings) == {"557058:configured"}
    assert _myself_calls(server) == 0
