"""The sentiment score is VADER's, exactly: the one-pass scorer against the package's own
``polarity_scores`` on thousands of varied comments built from the lexicon and every rule's
trigger words (negations, boosters, "but", "kind of", "least", idioms, capitals, emphasis,
emoticons and emojis)."""

import random

from vaderSentiment import vaderSentiment as vader

from feedback_intake.rules.sentiment import sentiment

NEUTRAL = ["the", "nurse", "appointment", "I", "was", "at", "my", "GP", "receptionist", "it", "so", "this", "or"]
RULE_WORDS = [
    "but", "BUT", "kind", "of", "least", "at", "very", "no", "nor", "never", "without", "doubt", "isn't",
    "don't", "not", "NOT", "cannot", "sort", "kinda", "extremely", "barely", "the shit", "bad ass", "yeah right",
    "cut the mustard", "kiss of death", "hand to mouth", "back handed", "blow smoke", "upper hand",
]  # fmt: skip
EMPHASIS = ["!", "!!", "!!!!!", "?", "??", "????", ".", ",", ":)", ":(", "😁", "💔", "👍🏽"]


def comments(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    lexicon = sorted(vader.SentimentIntensityAnalyzer().lexicon)
    boosters = sorted(vader.BOOSTER_DICT)
    special = sorted(vader.SPECIAL_CASES)
    out = []
    for _ in range(n):
        words = []
        for _ in range(rng.randint(1, 24)):
            pool = rng.choices([lexicon, boosters, special, RULE_WORDS, NEUTRAL, EMPHASIS], [4, 2, 1, 3, 5, 1])[0]
            word = rng.choice(pool)
            shape = rng.random()
            if shape < 0.1:
                word = word.upper()
            elif shape < 0.15:
                word = word.capitalize()
            elif shape < 0.25:
                word += rng.choice(EMPHASIS)
            words.append(word)
        out.append(rng.choice([" ", "  ", "\t"]).join(words) + rng.choice(["", ".", "!", "!!", "??", " "]))
    return out


def test_the_score_is_vaders_exactly_on_varied_comments() -> None:
    package = vader.SentimentIntensityAnalyzer()
    texts = comments(6000, seed=19)
    differing = [(t, sentiment(t), package.polarity_scores(t)["compound"]) for t in texts]
    differing = [d for d in differing if d[1] != d[2]]
    assert differing == []
    # The corpus exercises the rules: a fair share of scores are negative, positive and zero.
    scores = [sentiment(t) for t in texts]
    assert min(scores) < -0.5 < 0.5 < max(scores)
    assert sum(s == 0 for s in scores) > 100


def test_comments_as_patients_write_them() -> None:
    package = vader.SentimentIntensityAnalyzer()
    for text in [
        "The receptionist was rude and I waited two hours for my appointment",
        "Wonderful, kind nurse who explained everything clearly",
        "Not bad at all, but the wait was VERY long!!!",
        "The GP was kind of helpful I guess... at least she listened",
        "Never so well looked after 😁",
        "",
        "   ",
    ]:
        assert sentiment(text) == package.polarity_scores(text)["compound"]
