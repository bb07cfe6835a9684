"""Grades for Canvas and Moodle: column by column for a small class with an ungradable
submission, the roster's errors, and cells a spreadsheet would run neutralised."""

import csv
import io

import pytest
from fixtures import graded_class, toy_course

from resnet_course.grader import roster
from resnet_course.grader.__main__ import main
from resnet_course.grader.export import export_rows
from resnet_course.grader.lms_export import canvas_csv, moodle_csv, safe_cell

ROSTER = """student_id,name,email,sis_id,sis_login_id,canvas_id,section,ignored
ann,Ann Archer,ann@example.edu,S1,ann,101,Monday,x
bob,=HYPERLINK("http://evil"),bob@example.edu,S2,bob,102,Tuesday,x
cy,Cy Young,cy@example.edu,S3,cy,103,Monday,x
"""


@pytest.fixture
def course(tmp_path):
    root = toy_course.course_copy(tmp_path / "course")
    (root / "roster.csv").write_text(ROSTER)
    return graded_class.write(
        root,
        [
            graded_class.Student("ann"),
            graded_class.Student("bob", {"test_add": graded_class.MISTAKES["test_add"][0]}),
            graded_class.Student("cy", graded=False, reason="-the kernel died: out of memory"),
        ],
    )


def table(text):
    return list(csv.reader(io.StringIO(text)))


def test_canvas_columns_points_possible_row_and_no_zero_for_the_ungraded(course):
    text = canvas_csv(export_rows(course, "toy"), roster.load(course.root / "roster.csv"), "ResNets", "4242")
    assert text.endswith("\r\n")
    header, points, ann, bob, cy = table(text)
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "ResNets (4242)", "Notes"]
    assert points == ["Points Possible", "", "", "", "", "3", ""]
    assert ann == ["Ann Archer", "101", "S1", "ann", "Monday", "3", ""]
    assert bob == ['\'=HYPERLINK("http://evil")', "102", "S2", "bob", "Tuesday", "2", ""]
    assert cy == [
        "Cy Young",
        "103",
        "S3",
        "cy",
        "Monday",
        "",
        "Not graded (this is not a zero): -the kernel died: out of memory",
    ]


def test_moodle_columns_and_feedback_for_the_ungraded(course):
    text = moodle_csv(export_rows(course, "toy"), roster.load(course.root / "roster.csv"), "ResNets")
    header, ann, bob, cy = table(text)
    assert header == ["ID number", "Email address", "ResNets", "ResNets feedback"]
    assert ann == ["S1", "ann@example.edu", "3", ""]
    assert bob == ["S2", "bob@example.edu", "2", ""]
    assert cy == ["S3", "cy@example.edu", "", "Not graded (this is not a zero): -the kernel died: out of memory"]


def test_cli_writes_the_lms_files_and_keeps_csv_the_default(course, tmp_path, capsys):
    assert main(["--root", str(course.root), "export", "toy", "--format", "moodle", "-o", str(tmp_path / "m.csv")]) == 0
    assert table((tmp_path / "m.csv").read_text())[0][:2] == ["ID number", "Email address"]
    assert capsys.readouterr().out == f"wrote {tmp_path / 'm.csv'} (moodle)\n"
    assert main(["--root", str(course.root), "export", "toy", "--format", "canvas", "--lms-name", "ResNets"]) == 0
    assert capsys.readouterr().out.startswith("Student,ID,SIS User ID,SIS Login ID,Section,ResNets,")
    assert main(["--root", str(course.root), "export", "toy"]) == 0
    assert capsys.readouterr().out.startswith("student_id,assignment,status,reason,score")


def test_a_student_missing_from_the_roster_is_a_clear_error(course, capsys):
    (course.root / "roster.csv").write_text(ROSTER.replace("cy,Cy Young", "zed,Zed"))
    assert main(["--root", str(course.root), "export", "toy", "--format", "canvas"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: 1 graded student(s) missing from the roster: 'cy'")
    with pytest.raises(roster.RosterError, match="lacks email or sis_id for: 'ann'"):
        roster.lookup({"ann": roster.RosterEntry("ann")}, ["ann"], needed=("email|sis_id",))
    with pytest.raises(roster.RosterError, match="no roster at"):
        roster.load(course.root / "nowhere.csv")
    (course.root / "bad.csv").write_text("id,name\nann,Ann\n")
    with pytest.raises(roster.RosterError, match="no 'student_id' column"):
        roster.load(course.root / "bad.csv")


def test_formula_cells_are_neutralised():
    assert [safe_cell(v) for v in ("=1+1", "+1", "-2", "@SUM(A1)", "\tx", "plain", "3")] == [
        "'=1+1",
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "\\tx",
        "plain",
        "3",
    ]
