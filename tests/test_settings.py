"""Settings fail fast, name the variable, and never reveal secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from base.errors import ConfigError
from base.settings import load_settings


class TestSettings:
    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("HTTP_PORT", "eighty"),
            ("SMTP_PORT", "70000"),
            ("GIT_PROVIDER", "github"),
            ("SMTP_TLS", "perhaps"),
            ("JIRA_WEBHOOK_SECRET", "   "),
            ("LOCAL_PREFECT_DATABASE_URL", "postgresql://u:p@h/prefect"),
            ("WEBHOOK_HANDOFF_SECONDS", "0"),
            ("DATABASE_URL", "postgresql://sdb:p@ss@word@db.internal:5432/sdb"),
            ("LLM_BUDGET_PER_RUN_USD", "-1"),
            ("LLM_BUDGET_PER_DAY_USD", "ten dollars"),
            ("LLM_BUDGET_PER_DAY_USD", "0"),
            ("COST_ALERT_USD", "-0.5"),
            ("LLM_MAX_COMPLETION_TOKENS", "10"),
        ],
    )
    def test_an_invalid_value_fails_with_the_variable_named(
        self, monkeypatch: pytest.MonkeyPatch, name: str, value: str
    ) -> None:
        monkeypatch.setenv(name, value)
        with pytest.raises(ConfigError, match=f"{name}: "):
            load_settings()

    def test_secrets_do_not_appear_when_settings_are_printed(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        secrets = {
            "OPENAI_API_KEY": "sk-live-abc",
            "BITBUCKET_ACCESS_TOKEN": "bbtok-xyz",
            "JIRA_API_TOKEN": "jira-tok",
            "SMTP_PASSWORD": "smtp-pw",
            "API_TOKEN": "api-tok",
            "DATABASE_URL": "postgresql://u:dbpassw0rd@h/db",
            "LOCAL_PREFECT_DATABASE_URL": "postgresql+asyncpg://u:prefectpw@h/prefect",
        }
        for name, value in secrets.items():
            monkeypatch.setenv(name, value)
        settings = load_settings()
        shown = repr(settings) + str(settings) + settings.model_dump_json()
        for value in secrets.values():
            assert value not in shown

    def test_a_password_with_an_unescaped_at_sign_is_refused_without_showing_it(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("DATABASE_URL", "postgresql://sdb:p@ss@word@db.internal:5432/sdb")
        with pytest.raises(ConfigError, match="%40") as refused:
            load_settings()
        assert "ss@word" not in str(refused.value) and "p@ss" not in str(refused.value)

    def test_report_recipients_are_split_on_commas(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("REPORT_EMAIL_TO", "a@x.io, b@x.io,,")
        assert load_settings().report_recipients == ["a@x.io", "b@x.io"]

    def test_values_are_read_from_a_dot_env_file(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.chdir(tmp_path)
        (tmp_path / ".env").write_text("LLM_MODEL=gpt-4.1-mini\nHTTP_PORT=9090\n")
        settings = load_settings()
        assert (settings.llm_model, settings.http_port) == ("gpt-4.1-mini", 9090)


class TestBudgetSettings:
    def test_a_budget_for_an_unpriced_model_is_refused_in_one_line(
            self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("LLM_MODEL", "local-llama")
        monkeypatch.setenv("LLM_BUDGET_PER_DAY_USD", "5")
        with pytest.raises(ConfigError) as refused:
            load_settings()
        message = str(refused.value)
        assert "\n" not in message
        assert "LLM_MODEL local-llama has no price, so a budget cannot be kept" in message

    def test_a_price_file_that_prices_the_model_lets_the_budget_stand(
            self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        prices = tmp_path / "prices.yaml"
        prices.write_text("models:\n  local-llama: {input: 0.1, output: 0.2}\n", "utf-8")
        monkeypatch.setenv("LLM_MODEL", "local-llama")
        monkeypatch.setenv("LLM_BUDGET_PER_RUN_USD", "0.5")
        monkeypatch.setenv("PRICING_FILE", str(prices))
        assert load_settings().llm_budget_per_run_usd == 0.5

    def test_the_alert_webhook_url_is_a_secret_and_must_be_http(
            self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ALERT_WEBHOOK_URL", "ftp://hooks.example/T0/B0/secretpart")
        with pytest.raises(ConfigError) as refused:
            load_settings()
        assert "ALERT_WEBHOOK_URL" in str(refused.value)
        assert "secretpart" not in str(refused.value)
        monkeypatch.setenv("ALERT_WEBHOOK_URL", "https://hooks.example/T0/B0/secretpart")
        settings = load_settings()
        assert "https://hooks.example/T0/B0/secretpart" in settings.secret_values()
        assert "/T0/B0/secretpart" in settings.secret_values()  # as urllib3's debug log has it
        assert "secretpart" not in repr(settings)
