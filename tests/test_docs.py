import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
READERS = (
    r"\.(?:string|choice|boolean|integer|seconds|ratio|url|string_map|status_codes"
    r"|table|array_of_tables)"
)


def configuration_keys() -> set[str]:
    keys: set[str] = set()
    for module in ("config.py", "conditions.py"):
        source = (REPO / "statuspage" / module).read_text(encoding="utf-8")
        keys.update(re.findall(READERS + r'\(\s*"(\w+)"', source))
    keys.update({"body_contains", "body_not_contains", "value"})
    return keys


def test_every_setting_is_documented() -> None:
    documented = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = sorted(key for key in configuration_keys() if f"`{key}`" not in documented)
    assert missing == []


def test_settings_were_found() -> None:
    assert {"timeout", "dsn", "json_path", "expected_status"} <= configuration_keys()


def test_every_postgres_signal_is_documented() -> None:
    from statuspage.thresholds import POSTGRES_SIGNALS

    documented = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = sorted(name for name in POSTGRES_SIGNALS if f"| `{name}` |" not in documented)
    assert missing == []
