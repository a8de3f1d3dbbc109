#!/usr/bin/env python3
"""Rewrites a generated vision CSV in the shape of an export SchoolHealth did not write.

The project's generator writes rows sorted by student with Chinese headers and 5-point acuity. Real
exports come by class, from other systems: this writes the same screenings as UTF-8 with BOM, English
headers (19 columns: a name column the importer ignores), decimal acuity (GB/T 11533 chart lines), LF
line ends, rows in a random order (fixed seed). Synthetic data only: the input is `schoolhealth generate`.

Usage: foreign-export.py IN.csv OUT.csv [SEED]
"""
import csv, math, random, sys

CHART = [0.01, 0.012, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.06, 0.08,
         0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.2, 1.5, 2.0]
HEADER = ["student_id", "name", "sex", "birth_date", "school_code", "grade_code", "class", "screening_date",
          "ucva_right", "ucva_left", "sph_right", "cyl_right", "axis_right", "sph_left", "cyl_left", "axis_left",
          "glasses", "cva_right", "cva_left"]
SOURCE = {  # English column -> the generator's Chinese or English header
    "student_id": ("学籍号", "student_id"), "sex": ("性别", "sex"), "birth_date": ("出生日期", "birth_date"),
    "school_code": ("学校代码", "school_code"), "grade_code": ("年级编号", "grade_code"), "class": ("班级", "class"),
    "screening_date": ("筛查日期", "screening_date"), "ucva_right": ("右眼裸眼视力", "ucva_right"),
    "ucva_left": ("左眼裸眼视力", "ucva_left"), "sph_right": ("右眼球镜", "sph_right"), "cyl_right": ("右眼柱镜", "cyl_right"),
    "axis_right": ("右眼轴位", "axis_right"), "sph_left": ("左眼球镜", "sph_left"), "cyl_left": ("左眼柱镜", "cyl_left"),
    "axis_left": ("左眼轴位", "axis_left"), "glasses": ("戴镜类型", "glasses"), "cva_right": ("右眼矫正视力", "cva_right"),
    "cva_left": ("左眼矫正视力", "cva_left"),
}
ACUITY = {"ucva_right", "ucva_left", "cva_right", "cva_left"}


def decimal(cell):
    """A 5-point value (4.9) as the nearest decimal chart line (0.8); a decimal or empty cell as it is."""
    try:
        v = float(cell)
    except ValueError:
        return cell
    if v < 3.0 or v > 5.3:
        return cell
    d = 10 ** (v - 5)
    line = min(CHART, key=lambda c: abs(c - d))
    return f"{line:.1f}" if line == round(line) else repr(line)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    with open(src, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")   # the generator writes some years as Excel on Chinese Windows does
    import io
    with io.StringIO(text, newline="") as f:
        rows = csv.reader(f)
        head = next(rows)
        where = {name: next(head.index(h) for h in SOURCE[name] if h in head) for name in SOURCE}
        sex = {"1": "M", "2": "F", "男": "M", "女": "F"}
        # (an input column the English layout does not have, e.g. 姓名, is dropped: a name column is written anew)
        out = []
        for n, r in enumerate(rows):
            if len(r) != len(head):
                continue
            cells = []
            for name in HEADER:
                if name == "name":
                    cells.append(f"Student {n:07d}")
                    continue
                v = r[where[name]]
                if name in ACUITY:
                    v = decimal(v)
                elif name == "sex":
                    v = sex.get(v, v)
                cells.append(v)
            out.append(",".join(cells))
    random.Random(seed).shuffle(out)
    with open(dst, "w", encoding="utf-8-sig", newline="\n") as f:
        f.write(",".join(HEADER) + "\n")
        for line in out:
            f.write(line + "\n")
    print(f"{len(out)} rows")


if __name__ == "__main__":
    main()
