"""Every visible string has both a Chinese and an English text."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from queue_common import i18n

PACKAGES = ("queue_common", "queue_server", "counter_client", "display_board", "ticket_printer")


def _load_all_catalogues() -> None:
    for pkg in PACKAGES:
        try:
            importlib.import_module(f"{pkg}.messages")
        except ModuleNotFoundError as exc:
            if exc.name != f"{pkg}.messages":
                raise


def test_every_message_has_chinese_and_english() -> None:
    _load_all_catalogues()
    missing = [k for k, (zh, en) in i18n.catalogue().items() if not zh.strip() or not en.strip()]
    assert missing == []


def test_switching_language_changes_text() -> None:
    i18n.register({"test.hello": ("你好 {name}", "Hello {name}")})
    i18n.set_language("en")
    assert i18n.tr("test.hello", name="A012") == "Hello A012"
    i18n.set_language("zh")
    assert i18n.tr("test.hello", name="A012") == "你好 A012"


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError):
        i18n.set_language("fr")


def test_all_packages_import_without_side_effects() -> None:
    for pkg in PACKAGES:
        mod = importlib.import_module(pkg)
        for info in pkgutil.iter_modules(mod.__path__):
            assert info.name  # importable names; real imports happen in the app tests
