"""Folding Vietnamese text for search: units, properties, and the search it drives."""

from __future__ import annotations

import random
import re
import unicodedata
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vietnam_provinces import Province as OfficialProvince
from vietnam_provinces import Ward as OfficialWard

from app.text import fold, word_prefix_patterns

# Each base letter and every Vietnamese letter that reads as it without its
# marks, written out by hand rather than derived from Unicode data.
VARIANTS = {
    "a": "aàáảãạăằắẳẵặâầấẩẫậ",
    "e": "eèéẻẽẹêềếểễệ",
    "i": "iìíỉĩị",
    "o": "oòóỏõọôồốổỗộơờớởỡợ",
    "u": "uùúủũụưừứửữự",
    "y": "yỳýỷỹỵ",
    "d": "dđ",
}
CONSONANTS = "bcghklmnpqrstvx"
UNACCENTED = {variant: base for base, variants in VARIANTS.items() for variant in variants}
UNACCENTED |= {variant.upper(): base for variant, base in UNACCENTED.items()}
UNACCENTED |= {c: c for c in CONSONANTS} | {c.upper(): c for c in CONSONANTS}
LETTERS = "".join(sorted(UNACCENTED))

OFFICIAL_WARDS = sorted(OfficialWard.iter_all(), key=lambda w: w.code)


def strip_by_table(text: str) -> str:
    """The expected fold, built from the table above: base letters, single spaces."""
    return " ".join("".join(UNACCENTED[ch] for ch in word) for word in text.split())


def like(value: str, pattern: str) -> bool:
    r"""SQL ``value LIKE pattern ESCAPE '\'``, case-sensitively."""
    regex, chars = [], iter(pattern)
    for ch in chars:
        if ch == "\\":
            regex.append(re.escape(next(chars)))
        elif ch == "%":
            regex.append(".*")
        elif ch == "_":
            regex.append(".")
        else:
            regex.append(re.escape(ch))
    return re.fullmatch("".join(regex), value, flags=re.DOTALL) is not None


def recase(text: str, rng: random.Random) -> str:
    return "".join(ch.upper() if rng.random() < 0.5 else ch.lower() for ch in text)


syllables = st.text(alphabet=LETTERS, min_size=1, max_size=7)
separators = st.text(alphabet=" \t\n\u00a0", min_size=1, max_size=3)


@st.composite
def vietnamese_names(draw: st.DrawFn) -> str:
    words = draw(st.lists(syllables, min_size=1, max_size=5))
    name = words[0]
    for word in words[1:]:
        name += draw(separators) + word
    return draw(st.sampled_from(["", " ", "\t"])) + name + draw(st.sampled_from(["", " "]))


class TestFold:
    @pytest.mark.parametrize(
        ("text", "folded"),
        [
            ("đ", "d"),
            ("Đ", "d"),
            ("Đông Triều", "dong trieu"),
            ("Phường Hạ Long", "phuong ha long"),
            ("Bãi Cháy", "bai chay"),
            ("Ứng Hòa", "ung hoa"),
            ("Quỳnh Lưu", "quynh luu"),
            ("  Phường\t\tBãi   Cháy \n", "phuong bai chay"),
            ("HẠ LONG", "ha long"),
            ("Straße", "strasse"),
            ("Xã Cư M’gar", "xa cu m'gar"),
            ("Xã Chân Mây – Lăng Cô", "xa chan may - lang co"),
            ("", ""),
        ],
    )
    def test_known_cases(self, text: str, folded: str) -> None:
        assert fold(text) == folded

    def test_decomposed_input_folds_like_composed(self) -> None:
        composed = "Phường Hạ Long"
        assert fold(unicodedata.normalize("NFD", composed)) == fold(composed) == "phuong ha long"

    @given(vietnamese_names())
    def test_folded_name_is_ascii_lowercase_and_idempotent(self, name: str) -> None:
        folded = fold(name)
        assert folded.isascii()
        assert folded == folded.lower()
        assert fold(folded) == folded
        assert folded == folded.strip()
        assert "  " not in folded

    @given(vietnamese_names())
    def test_fold_agrees_with_the_hand_written_table(self, name: str) -> None:
        assert fold(name) == strip_by_table(name)

    @given(vietnamese_names(), st.sampled_from(["NFC", "NFD", "NFKC", "NFKD"]))
    def test_fold_ignores_unicode_normal_form(self, name: str, form: Any) -> None:
        assert fold(unicodedata.normalize(form, name)) == fold(name)

    def test_every_official_name_folds_to_ascii(self) -> None:
        names = [p.name for p in OfficialProvince.iter_all()] + [w.name for w in OFFICIAL_WARDS]
        assert len(names) == 34 + 3321
        assert [name for name in names if not fold(name).isascii()] == []


class TestWordPrefixPatterns:
    def test_patterns_match_at_the_start_and_after_a_space(self) -> None:
        assert word_prefix_patterns("Hạ  LONG") == ("ha long%", "% ha long%")

    def test_wildcards_and_escape_are_escaped(self) -> None:
        assert word_prefix_patterns("50%_\\x") == ("50\\%\\_\\\\x%", "% 50\\%\\_\\\\x%")

    @given(
        key=st.lists(st.text(alphabet="abch %_\\", min_size=1, max_size=5), max_size=4).map(
            " ".join
        ),
        query=st.text(alphabet="abcHẠ %_\\", min_size=1, max_size=6),
    )
    def test_like_match_means_a_word_starts_with_the_query(self, key: str, query: str) -> None:
        # Only the query's literal text counts: % and _ typed by a user are not wildcards.
        at_start, after_space = word_prefix_patterns(query)
        matched = like(key, at_start) or like(key, after_space)
        wanted = fold(query)
        assert matched == (key.startswith(wanted) or f" {wanted}" in key)

    @given(ward=st.sampled_from(OFFICIAL_WARDS), data=st.data())
    def test_any_word_aligned_slice_of_a_ward_name_matches_it(
        self, ward: OfficialWard, data: st.DataObject
    ) -> None:
        words = ward.name.split()
        start = data.draw(st.integers(0, len(words) - 1))
        stop = data.draw(st.integers(start + 1, len(words)))
        query = " ".join(words[start:stop])
        query = query[: data.draw(st.integers(1, len(query)))]  # a prefix of the last word
        query = data.draw(st.sampled_from([query, fold(query), query.upper()]))
        at_start, after_space = word_prefix_patterns(query)
        key = fold(ward.name)
        assert like(key, at_start) or like(key, after_space)


SAMPLE_WARDS = random.Random(20251001).sample(OFFICIAL_WARDS, 20)


class TestWardSearch:
    @pytest.mark.parametrize("ward", SAMPLE_WARDS, ids=lambda w: f"{int(w.code):05d}")
    async def test_recased_folded_name_finds_the_ward(
        self, client: httpx.AsyncClient, ward: OfficialWard
    ) -> None:
        code = f"{int(ward.code):05d}"
        province_code = f"{int(ward.province_code):02d}"
        query = recase(fold(ward.name), random.Random(ward.code))
        response = await client.get(
            "/api/v1/wards", params={"q": query, "province_code": province_code, "limit": 200}
        )
        assert response.status_code == 200
        assert code in {w["code"] for w in response.json()["items"]}

    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(ward=st.sampled_from(OFFICIAL_WARDS), seed=st.integers(0, 2**16))
    async def test_any_ward_is_found_by_its_recased_name_with_or_without_marks(
        self, client: httpx.AsyncClient, ward: OfficialWard, seed: int
    ) -> None:
        # Read-only: the test transaction is shared by the examples harmlessly.
        rng = random.Random(seed)
        name = rng.choice([ward.name, fold(ward.name)])
        response = await client.get(
            "/api/v1/wards",
            params={"q": recase(name, rng), "province_code": f"{int(ward.province_code):02d}"},
        )
        assert response.status_code == 200
        assert f"{int(ward.code):05d}" in {w["code"] for w in response.json()["items"]}
