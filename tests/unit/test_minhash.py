"""MinHash over character shingles: its estimate follows the exact Jaccard similarity, and its bands meet for texts
that say the same thing and not for texts that do not."""
from hypothesis import given, settings
from hypothesis import strategies as st

from contest import minhash

SAME = ("小区门口停车太难了，建议划出临时停车位，方便居民晚上回家停车。",
        "小区门口停车太难，建议划出临时停车位，方便居民晚上回家停车！")
OTHER = "希望社区食堂的价格再便宜一些，菜的品种多一点。"


def test_shingles_are_two_characters_of_letters_and_digits():
    assert minhash.shingles("停车，难!") == {"停车", "车难"}
    assert minhash.shingles("路") == {"路"}
    assert minhash.shingles("，。") == set()


def test_texts_that_say_the_same_thing_share_bands_and_others_do_not():
    a, b = (minhash.text_bands(t) for t in SAME)
    assert set(a) & set(b)
    assert not set(a) & set(minhash.text_bands(OTHER))
    assert minhash.text_bands("停车") == []  # too short to say anything


@settings(max_examples=30, deadline=None)
@given(st.sets(st.integers(0, 200), min_size=5, max_size=60), st.sets(st.integers(0, 200), min_size=5, max_size=60))
def test_the_estimate_follows_the_exact_jaccard_similarity(left, right):
    a, b = {str(i) for i in left}, {str(i) for i in right}
    estimate = minhash.estimate(minhash.signature(a), minhash.signature(b))
    # 64 permutations: a standard error of at most sqrt(0.25 / 64) = 0.0625; four of them is far outside chance
    assert abs(estimate - minhash.jaccard(a, b)) <= 0.25
    assert minhash.estimate(minhash.signature(a), minhash.signature(a)) == 1.0
