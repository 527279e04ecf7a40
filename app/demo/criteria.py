"""The demo's safe-zone criteria set: 2025's, modelled on Circular 124/2021/TT-BCA."""

from __future__ import annotations

from typing import Any

from app.demo.places import demo_id

YEAR = 2025
CIRCULAR = "Thông tư 124/2021/TT-BCA"
CRITERIA_SET_ID = demo_id("certification-criteria-set", str(YEAR), "1")

# Modelled on the five criteria of Circular 124/2021/TT-BCA for residential areas.
CRITERIA: list[dict[str, Any]] = [
    {
        "code": "TC1",
        "title": "Có đăng ký xây dựng khu dân cư an toàn về ANTT; 100% hộ gia đình ký cam kết",
        "description": "Nghị quyết hội nghị khu dân cư và bản cam kết của từng hộ.",
        "kind": "boolean",
        "required": True,
    },
    {
        "code": "TC2",
        "title": "Thực hiện tốt chủ trương của Đảng, chính sách, pháp luật của Nhà nước "
        "và quy định của địa phương về bảo đảm ANTT",
        "description": "Tuyên truyền, phổ biến pháp luật; hương ước, quy ước được thực hiện.",
        "kind": "boolean",
        "required": True,
    },
    {
        "code": "TC3",
        "title": "Không để xảy ra vụ việc nghiêm trọng về ANTT trong kỳ đánh giá (xâm phạm "
        "an ninh quốc gia, tụ tập đông người gây rối, tội phạm nghiêm trọng, cháy nổ "
        "nghiêm trọng)",
        "description": "Đối chiếu số liệu của Công an phường trong kỳ.",
        "kind": "boolean",
        "required": True,
    },
    {
        "code": "TC4",
        "title": "Kiềm chế, làm giảm tội phạm, tệ nạn xã hội và vi phạm pháp luật so với năm trước",
        "description": "So sánh số vụ phạm pháp hình sự, ma túy, cờ bạc với cùng kỳ.",
        "kind": "score",
        "max_score": 40,
        "pass_score": 20,
        "required": True,
    },
    {
        "code": "TC5",
        "title": "Phong trào Toàn dân bảo vệ an ninh Tổ quốc được duy trì; mô hình tự phòng, "
        "tự quản, tự bảo vệ hoạt động hiệu quả",
        "description": "Tổ tự quản, tổ bảo vệ ANTT, nhóm phòng chống tội phạm "
        "hoạt động thường xuyên.",
        "kind": "score",
        "max_score": 60,
        "pass_score": 30,
        "required": True,
    },
]
PASS_RULE = {"min_total": 70}
