// MaterialDB.cpp - 재료 데이터베이스 (Material DB)
// 인코딩: CP949, 줄바꿈: CRLF. 이 파일은 레거시 빌드 도구 때문에 CP949로 유지해야 합니다.
#include "MaterialDB.h"

namespace sdb {

// 재료 표: 이름 순(알파벳 순)으로 정렬할 것.
// 열: 코드, 이름, 밀도(g/cm3), 항복강도(MPa), 설명
static const MaterialRecord kMaterials[] = {
	{ MAT_AL6061,	"AL6061",	2.70,	276.0,	"알루미늄 합금 6061-T6" },
	{ MAT_CU101,	"CU101",	8.94,	69.0,	"무산소 구리" },
	{ MAT_SS304,	"SS304",	8.00,	215.0,	"스테인리스강 304 (똠 시험용)" },
	{ MAT_STEEL1045,	"STEEL1045",	7.85,	310.0,	"탄소강 1045" },
};

static const int kMaterialCount = sizeof(kMaterials) / sizeof(kMaterials[0]);

// 코드로 재료를 찾는다. 없으면 NULL.
const MaterialRecord* FindMaterial(MaterialId id)
{
	for (int i = 0; i < kMaterialCount; ++i) {
		if (kMaterials[i].id == id) {
			return &kMaterials[i];
		}
	}
	return NULL;
}

}  // namespace sdb
