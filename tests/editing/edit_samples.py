"""Generated legacy sources for the editing tests and benchmark (no copied fixtures).

The shapes mimic the product's users: a CP949 C++ material table with Korean
comments, CRLF endings and tab-aligned initialisers, inside a larger file.
"""

from __future__ import annotations

KOREAN_NAMES = (
    "강철", "구리", "알루미늄", "니켈", "아연", "주석", "납", "은", "금", "똠철", "햏석",
)


def material_id(number: int) -> str:
    return f"MAT_ALLOY_{number:03d}"


def material_enum(count: int) -> list[str]:
    lines = ["// 재료 식별자 목록", "enum MaterialId", "{", "\tMAT_NONE = 0,"]
    lines += [f"\t{material_id(n)},\t// {KOREAN_NAMES[n % len(KOREAN_NAMES)]} 계열"
              for n in range(count)]
    return lines + ["\tMAT_COUNT", "};"]


def material_table(count: int) -> list[str]:
    """``static const MaterialInfo kMaterialTable[] = { ... };`` with ``count`` rows."""
    lines = ["// 재료 물성 테이블: 밀도 단위는 g/cm3 (똠, 햏 표기 유지)",
             "static const MaterialInfo kMaterialTable[] =", "{"]
    for n in range(count):
        name = KOREAN_NAMES[n % len(KOREAN_NAMES)]
        density = 1.5 + (n % 97) / 10
        lines.append(f'\t{{ {material_id(n)},\t"{name} {n}호",\t{density:.2f}f }},'
                     f"\t// 비고: {name} 재료")
    return lines + ["};"]


def helper_function(number: int) -> list[str]:
    return [
        f"static int Helper_{number:04d}(int value)",
        "{",
        f"\t// 보조 함수 {number}: 값을 계산합니다",
        f"\treturn value * {number % 13 + 1} + {number % 7};",
        "}",
        "",
    ]


def material_source(*, total_lines: int, table_rows: int = 300) -> list[str]:
    """A C++ file of about ``total_lines`` lines with the enum and table in the middle."""
    head = ["// 재료 관리 모듈 (레거시)", '#include "material.h"', "",
            "struct MaterialInfo", "{", "\tint id;", "\tconst char* name;", "\tfloat density;",
            "};", ""]
    body = material_enum(table_rows) + [""] + material_table(table_rows) + [""]
    filler_count = max(0, (total_lines - len(head) - len(body)) // 6)
    before = [line for n in range(filler_count // 2) for line in helper_function(n)]
    after = [line for n in range(filler_count // 2, filler_count) for line in helper_function(n)]
    return head + before + body + after


def join(lines: list[str], eol: str, *, final_newline: bool = True) -> str:
    return eol.join(lines) + (eol if final_newline else "")
