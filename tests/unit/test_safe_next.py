import pytest

from contest.security import safe_next


@pytest.mark.parametrize("target", ["/", "/account/profile", "/admin/users?q=a&page=2", "/console/3/#calls"])
def test_local_paths_are_kept(target):
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [None, "", "//evil.example", "//evil.example/path", "https://evil.example/", "http:/evil.example",
     "/\\evil.example", "\\\\evil.example", "javascript:alert(1)", "evil.example", " //evil.example",
     "/\tevil", "///evil.example"],
)
def test_anything_that_could_leave_the_site_is_dropped(target):
    assert safe_next(target) is None
