"""Sentiment of free text: VADER's compound score (-1 most negative .. +1 most positive),
exactly as ``vaderSentiment``'s ``SentimentIntensityAnalyzer.polarity_scores`` computes it,
with its lexicon and rules, in one pass.

The package lower-cases every word of the text again for each word it scores (its negation
and idiom checks take the whole word list), and rebuilds the text character by character
to look for emojis: most of its time on a comment. Here the words are lower-cased once, a
text without an emoji is left as it is, and only the compound score is worked out; the
rules are the package's, line for line, and ``tests/test_sentiment.py`` holds the result
equal to the package's on thousands of varied comments."""

import string
from functools import cache

from vaderSentiment import vaderSentiment as vader


@cache
def _analyser() -> vader.SentimentIntensityAnalyzer:
    return vader.SentimentIntensityAnalyzer()


@cache
def _emojis() -> frozenset[str]:
    """The characters the package would replace by their emoji description (it looks at
    one character at a time, so only single-character entries ever match)."""
    return frozenset(key for key in _analyser().emojis if len(key) == 1)


_NEGATIONS = frozenset(vader.NEGATE)


def _negated(word: str) -> bool:
    """``vaderSentiment.negated([word])``: one word, looked up in a set."""
    word = word.lower()
    return word in _NEGATIONS or "n't" in word


def sentiment(text: str) -> float:
    """VADER's compound score of ``text``, rounded to 4 places as the package rounds it."""
    analyser = _analyser()
    if not _emojis().isdisjoint(text):
        return float(analyser.polarity_scores(text)["compound"])  # rare: the package's own path
    text = text.strip()
    words = [_strip_punctuation(token) for token in text.split()]
    lower = [word.lower() for word in words]
    cap_differs = vader.allcap_differential(words)
    lexicon = analyser.lexicon
    boosters = vader.BOOSTER_DICT
    last = len(words) - 1
    sentiments: list[float] = []
    for i, low in enumerate(lower):
        if low in boosters or (i < last and low == "kind" and lower[i + 1] == "of"):
            sentiments.append(0)
            continue
        sentiments.append(_valence(lexicon, words, lower, i, cap_differs) if low in lexicon else 0)
    sentiments = analyser._but_check(words, sentiments)
    return float(analyser.score_valence(sentiments, text)["compound"])


def _strip_punctuation(token: str) -> str:
    stripped = token.strip(string.punctuation)
    return token if len(stripped) <= 2 else stripped


def _valence(lexicon: dict[str, float], words: list[str], lower: list[str], i: int, cap_differs: bool) -> float:
    """``SentimentIntensityAnalyzer.sentiment_valence`` for a word of the lexicon."""
    low = lower[i]
    valence = lexicon[low]
    if low == "no" and i != len(words) - 1 and lower[i + 1] in lexicon:
        valence = 0.0
    if (
        (i > 0 and lower[i - 1] == "no")
        or (i > 1 and lower[i - 2] == "no")
        or (i > 2 and lower[i - 3] == "no" and lower[i - 1] in ["or", "nor"])
    ):
        valence = lexicon[low] * vader.N_SCALAR
    if words[i].isupper() and cap_differs:
        valence = valence + vader.C_INCR if valence > 0 else valence - vader.C_INCR
    for start_i in range(0, 3):
        if i > start_i and lower[i - (start_i + 1)] not in lexicon:
            s = vader.scalar_inc_dec(words[i - (start_i + 1)], valence, cap_differs)
            if start_i == 1 and s != 0:
                s = s * 0.95
            if start_i == 2 and s != 0:
                s = s * 0.9
            valence = valence + s
            valence = _negation_check(valence, lower, start_i, i)
            if start_i == 2:
                valence = _special_idioms_check(valence, lower, i)
    return _least_check(lexicon, valence, lower, i)


def _negation_check(valence: float, lower: list[str], start_i: int, i: int) -> float:
    if start_i == 0 and _negated(lower[i - 1]):
        valence = valence * vader.N_SCALAR
    if start_i == 1:
        if lower[i - 2] == "never" and (lower[i - 1] == "so" or lower[i - 1] == "this"):
            valence = valence * 1.25
        elif lower[i - 2] == "without" and lower[i - 1] == "doubt":
            pass
        elif _negated(lower[i - 2]):
            valence = valence * vader.N_SCALAR
    if start_i == 2:
        if (lower[i - 3] == "never" and (lower[i - 2] == "so" or lower[i - 2] == "this")) or (
            lower[i - 1] == "so" or lower[i - 1] == "this"
        ):
            valence = valence * 1.25
        elif lower[i - 3] == "without" and (lower[i - 2] == "doubt" or lower[i - 1] == "doubt"):
            pass
        elif _negated(lower[i - 3]):
            valence = valence * vader.N_SCALAR
    return valence


def _special_idioms_check(valence: float, lower: list[str], i: int) -> float:
    special = vader.SPECIAL_CASES
    onezero = f"{lower[i - 1]} {lower[i]}"
    twoonezero = f"{lower[i - 2]} {lower[i - 1]} {lower[i]}"
    twoone = f"{lower[i - 2]} {lower[i - 1]}"
    threetwoone = f"{lower[i - 3]} {lower[i - 2]} {lower[i - 1]}"
    threetwo = f"{lower[i - 3]} {lower[i - 2]}"
    for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
        if seq in special:
            valence = special[seq]
            break
    if len(lower) - 1 > i:
        zeroone = f"{lower[i]} {lower[i + 1]}"
        if zeroone in special:
            valence = special[zeroone]
    if len(lower) - 1 > i + 1:
        zeroonetwo = f"{lower[i]} {lower[i + 1]} {lower[i + 2]}"
        if zeroonetwo in special:
            valence = special[zeroonetwo]
    for n_gram in (threetwoone, threetwo, twoone):
        if n_gram in vader.BOOSTER_DICT:
            valence = valence + vader.BOOSTER_DICT[n_gram]
    return valence


def _least_check(lexicon: dict[str, float], valence: float, lower: list[str], i: int) -> float:
    if i > 1 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
        if lower[i - 2] != "at" and lower[i - 2] != "very":
            valence = valence * vader.N_SCALAR
    elif i > 0 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
        valence = valence * vader.N_SCALAR
    return valence
