"""The report categories and the questions each asks: one catalogue for the API and Open311.

Each category is an Open311 service (its code is the ``service_code``); its
questions are the service's attributes. All questions are optional, so a
report never fails for want of an answer; an answer given must fit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Choice:
    """One allowed answer of a list question: its ``key`` and what people read."""

    key: str
    name: str


@dataclass(frozen=True)
class Question:
    """One attribute of a category (Open311: a service attribute)."""

    code: str
    datatype: str  # string, number, text, singlevaluelist
    description: str
    required: bool = False
    datatype_description: str | None = None
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class Category:
    """A report category (Open311: a service)."""

    code: str
    name: str
    description: str
    group: str
    keywords: tuple[str, ...]
    questions: tuple[Question, ...] = ()


_YES_NO = (Choice("yes", "Có"), Choice("no", "Không"), Choice("unknown", "Không rõ"))
SECURITY = "An ninh trật tự"
FIRE = "Phòng cháy chữa cháy"
TRAFFIC = "Trật tự an toàn giao thông"

CATEGORIES: dict[str, Category] = {
    category.code: category
    for category in (
        Category(
            "theft",
            "Trộm cắp, cướp giật",
            "Theft, burglary or snatching of property.",
            SECURITY,
            ("trộm", "cắp", "cướp giật", "theft", "burglary"),
            (
                Question(
                    "stolen_item",
                    "singlevaluelist",
                    "What was taken?",
                    choices=(
                        Choice("motorbike", "Xe máy"),
                        Choice("bicycle", "Xe đạp"),
                        Choice("phone", "Điện thoại"),
                        Choice("cash", "Tiền mặt"),
                        Choice("other", "Khác"),
                    ),
                ),
                Question("in_progress", "singlevaluelist", "Is it happening now?", choices=_YES_NO),
            ),
        ),
        Category(
            "fighting",
            "Đánh nhau, gây rối",
            "Fighting, brawls or disturbance of public order.",
            SECURITY,
            ("đánh nhau", "gây rối", "fighting", "brawl"),
            (
                Question(
                    "weapons",
                    "singlevaluelist",
                    "Are weapons involved?",
                    choices=(
                        Choice("none", "Không có"),
                        Choice("sticks", "Gậy gộc"),
                        Choice("knives", "Dao"),
                        Choice("firearms", "Súng"),
                        Choice("unknown", "Không rõ"),
                    ),
                ),
                Question(
                    "people_involved",
                    "number",
                    "About how many people are involved?",
                    datatype_description="A whole number, 1 to 1000.",
                ),
            ),
        ),
        Category(
            "drugs",
            "Ma túy",
            "Drug dealing or use.",
            SECURITY,
            ("ma túy", "drugs"),
        ),
        Category(
            "gambling",
            "Cờ bạc",
            "Gambling or betting.",
            SECURITY,
            ("cờ bạc", "lô đề", "gambling"),
        ),
        Category(
            "fire_hazard",
            "Nguy cơ cháy nổ",
            "A fire or explosion hazard: gas, wiring, blocked exits, stored fuel.",
            FIRE,
            ("cháy", "nổ", "PCCC", "fire", "hazard"),
            (
                Question(
                    "hazard",
                    "singlevaluelist",
                    "What kind of hazard?",
                    choices=(
                        Choice("gas_leak", "Rò rỉ khí gas"),
                        Choice("electrical", "Chập điện, dây điện"),
                        Choice("blocked_exit", "Lối thoát hiểm bị chặn"),
                        Choice("flammable_storage", "Tích trữ chất dễ cháy"),
                        Choice("open_fire", "Đốt lửa, đốt rác"),
                        Choice("other", "Khác"),
                    ),
                ),
                Question(
                    "people_at_risk", "singlevaluelist", "Are people at risk?", choices=_YES_NO
                ),
            ),
        ),
        Category(
            "suspicious_person",
            "Đối tượng khả nghi",
            "A person or vehicle behaving suspiciously.",
            SECURITY,
            ("khả nghi", "suspicious"),
        ),
        Category(
            "traffic",
            "Trật tự an toàn giao thông",
            "Traffic accidents, obstructions, illegal parking, street racing.",
            TRAFFIC,
            ("giao thông", "tai nạn", "traffic", "accident"),
            (
                Question(
                    "kind",
                    "singlevaluelist",
                    "What happened?",
                    choices=(
                        Choice("accident", "Tai nạn"),
                        Choice("obstruction", "Lấn chiếm lòng đường"),
                        Choice("illegal_parking", "Đỗ xe sai quy định"),
                        Choice("street_racing", "Đua xe"),
                        Choice("other", "Khác"),
                    ),
                ),
                Question("injuries", "singlevaluelist", "Is anyone injured?", choices=_YES_NO),
            ),
        ),
        Category(
            "noise",
            "Gây ồn ào",
            "Noise that disturbs residents, such as loud music or karaoke late at night.",
            SECURITY,
            ("ồn ào", "karaoke", "noise"),
            (
                Question(
                    "time_of_day",
                    "singlevaluelist",
                    "When does it happen?",
                    choices=(
                        Choice("daytime", "Ban ngày"),
                        Choice("night", "Sau 22 giờ"),
                    ),
                ),
            ),
        ),
        Category(
            "other",
            "Khác",
            "Anything else about security and public order.",
            SECURITY,
            ("khác", "other"),
        ),
    )
}

_MAX_TEXT = 500


class AnswerError(ValueError):
    """Answers that do not fit the category's questions; ``problems`` names each."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


def check_answers(category_code: str, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers to ``category_code``'s questions, checked; ``AnswerError`` if any misfit."""
    category = CATEGORIES[category_code]
    questions = {question.code: question for question in category.questions}
    problems: list[tuple[str, str]] = []
    checked: dict[str, Any] = {}
    for code, value in answers.items():
        question = questions.get(code)
        if question is None:
            known = ", ".join(questions) or "none"
            problems.append(
                (code, f"{code!r} is not a question of {category_code} (its questions: {known}).")
            )
            continue
        try:
            checked[code] = _check(question, value)
        except ValueError as error:
            problems.append((code, str(error)))
    for question in category.questions:
        if question.required and question.code not in answers:
            problems.append((question.code, f"{question.code!r} is required."))
    if problems:
        raise AnswerError(problems)
    return checked


def _check(question: Question, value: Any) -> Any:
    if question.datatype == "singlevaluelist":
        keys = [choice.key for choice in question.choices]
        if not isinstance(value, str) or value not in keys:
            raise ValueError(f"{question.code!r} must be one of: {', '.join(keys)}.")
        return value
    if question.datatype == "number":
        number = _number(value)
        if number is None or not 1 <= number <= 1000:
            raise ValueError(f"{question.code!r} must be a whole number from 1 to 1000.")
        return number
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_TEXT:
        raise ValueError(f"{question.code!r} must be text of 1 to {_MAX_TEXT} characters.")
    return value.strip()


def _number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        parsed = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(parsed) or parsed != int(parsed):
        return None
    return int(parsed)
