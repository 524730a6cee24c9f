"""The password policy's pure parts: the common-password list and the repetition rule."""
import pytest

from contest.passwords import common_passwords, is_common, is_repetitive


def test_the_vendored_list_is_the_whole_common_password_list():
    words = common_passwords()
    assert len(words) > 19000
    assert {"password123", "aaaaaaaaaa", "qwertyuiop", "woaini1314"} <= words


@pytest.mark.parametrize("password", ["mmmmmmmmmm", "abababababab", "abcabcabca", "1212121212", "abcdefghij",
                                      "9876543210", "aabbaabbaabb"])
def test_repetitive_passwords(password):
    assert is_repetitive(password)


@pytest.mark.parametrize("password", ["correct horse battery", "shanghai-demo", "我爱上海的梧桐树叶", "abcdefghix"])
def test_ordinary_passwords_are_not_repetitive_or_common(password):
    assert not is_repetitive(password) and not is_common(password)
