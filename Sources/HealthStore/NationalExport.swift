internal import HealthStorage
internal import GRDB
public import HealthCore

extension Store {
    /// What a national upload of `school` for `schoolYear` is written from: each student's fitness test of the
    /// year (when `fitness`) and latest vision screening of the year at the school (when `vision`), ordered by
    /// grade, class and student. A student with only one of the two is there with the other nil.
    public func nationalRecords(school: String, schoolYear: Int, fitness: Bool, vision: Bool) throws(StoreError) -> [NationalRecord] {
        try run { db in
            var records: [String: NationalRecord] = [:]
            if fitness {
                let rows = try Row.fetchCursor(db, sql: """
                    SELECT student_id, grade, class_code, class_name, sex, birth_date, exempt, status, missing, height_mm, weight_x10,
                           vital_capacity, run_50m_x10, standing_long_jump_x10, sit_and_reach_x10, shuttle_50x8, rope_skip, run_800m,
                           run_1000m, sit_up, pull_up
                    FROM fitness_test WHERE school_code = ? AND school_year = ?
                    """, arguments: [school, schoolYear])
                while let r = try rows.next() {
                    var record = NationalRecord(studentID: r["student_id"], grade: r["grade"], classCode: r["class_code"], className: r["class_name"],
                                                sex: r["sex"], birthDate: r["birth_date"])
                    var f = NationalRecord.Fitness(exempt: (r["exempt"] as Int) != 0, status: r["status"], missing: r["missing"])
                    f.heightMM = r["height_mm"]; f.weightX10 = r["weight_x10"]; f.vitalCapacity = r["vital_capacity"]
                    f.run50mX10 = r["run_50m_x10"]; f.standingLongJumpX10 = r["standing_long_jump_x10"]; f.sitAndReachX10 = r["sit_and_reach_x10"]
                    f.shuttle50x8 = r["shuttle_50x8"]; f.ropeSkip = r["rope_skip"]; f.run800m = r["run_800m"]; f.run1000m = r["run_1000m"]
                    f.sitUp = r["sit_up"]; f.pullUp = r["pull_up"]
                    record.fitness = f
                    records[record.studentID] = record
                }
            }
            if vision {
                // The latest screening of the year: rows come in date order, a later one replaces an earlier.
                let rows = try Row.fetchCursor(db, sql: """
                    SELECT student_id, screening_date, grade, class_code, class_name, sex, birth_date, glasses, orthok,
                           ucva_r_x10, ucva_l_x10, sph_r_mdpt, cyl_r_mdpt, axis_r, sph_l_mdpt, cyl_l_mdpt, axis_l
                    FROM vision_screening WHERE school_code = ? AND school_year = ? ORDER BY student_id, screening_date
                    """, arguments: [school, schoolYear])
                while let r = try rows.next() {
                    let id: String = r["student_id"]
                    var record = records[id] ?? NationalRecord(studentID: id, grade: r["grade"], classCode: r["class_code"], className: r["class_name"],
                                                               sex: r["sex"], birthDate: r["birth_date"])
                    var v = NationalRecord.Vision(screeningDate: r["screening_date"])
                    v.ucvaRight = r["ucva_r_x10"]; v.ucvaLeft = r["ucva_l_x10"]
                    v.sphereRight = r["sph_r_mdpt"]; v.cylinderRight = r["cyl_r_mdpt"]; v.axisRight = r["axis_r"]
                    v.sphereLeft = r["sph_l_mdpt"]; v.cylinderLeft = r["cyl_l_mdpt"]; v.axisLeft = r["axis_l"]
                    let glasses: Int? = r["glasses"], orthok: Int? = r["orthok"]
                    // An ortho-k wearer by the glasses column or the yes/no column; a known other kind of glasses is a no.
                    if glasses == GlassesType.orthokeratology.rawValue || orthok == 1 { v.orthok = true }
                    else if orthok == 0 || [GlassesType.none, .frame, .contactLens].map(\.rawValue).contains(glasses ?? -1) { v.orthok = false }
                    record.vision = v
                    records[id] = record
                }
            }
            return records.values.sorted {
                ($0.grade, $0.classCode ?? "", $0.className ?? "", $0.studentID) < ($1.grade, $1.classCode ?? "", $1.className ?? "", $1.studentID)
            }
        }
    }
}
