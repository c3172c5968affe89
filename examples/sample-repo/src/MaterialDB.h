// MaterialDB.h - 재료 코드 정의 (CP949)
#pragma once

namespace sdb {

enum MaterialId {
	MAT_AL6061 = 1,
	MAT_CU101 = 2,
	MAT_SS304 = 3,
	MAT_STEEL1045 = 4,
};

struct MaterialRecord {
	MaterialId id;
	const char* name;
	double density;        // g/cm3
	double yieldStrength;  // MPa
	const char* note;      // 한글 설명
};

const MaterialRecord* FindMaterial(MaterialId id);

}  // namespace sdb
