"""Grades for Canvas and Moodle, read the way each LMS's importer reads them (``fixtures/canvas_importer.py``,
``fixtures/moodle_importer.py``): which student gets which grade in a Canvas course with a hidden, shown or no
Notes column, and in a Moodle course whose roster lacks an identifier; the ungraded left out; the roster's
errors; cells a spreadsheet would run neutralised."""

import csv
import io

import pytest
from fixtures import graded_class, toy_course
from fixtures.canvas_importer import CanvasAssignment, CanvasColumn, CanvasCourse, CanvasStudent, read_canvas
from fixtures.moodle_importer import ImportRefused, MoodleCourse, MoodleItem, MoodleUser, read_moodle

from resnet_course.grader.__main__ import main
from resnet_course.grader.reports import roster
from resnet_course.grader.reports.class_report import render
from resnet_course.grader.reports.class_results import collect
from resnet_course.grader.reports.export import export_rows
from resnet_course.grader.reports.lms_export import LeftOut, canvas_csv, left_out, moodle_csv, safe_cell

ROSTER = """student_id,name,email,sis_id,sis_login_id,canvas_id,section,ignored
ann,Ann Archer,ann@example.edu,S1,ann,101,Monday,x
bob,=HYPERLINK("http://evil"),bob@example.edu,S2,bob,102,Tuesday,x
cy,Cy Young,cy@example.edu,S3,cy,103,Monday,x
"""
# Moodle's usual roster: an ID number for some students only.
ROSTER_WITHOUT_BOBS_ID = ROSTER.replace("bob@example.edu,S2,", "bob@example.edu,,")
NOT_GRADED = "Not graded (this is not a zero): -the kernel died: out of memory"

ANN, BOB, CY = 101, 102, 103
RESNETS, QUIZ = 4242, 4300
ITEM = 7


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """ann: 3 of 3; bob: 2 of 3; cy: could not be graded."""
    root = toy_course.course_copy(tmp_path_factory.mktemp("lms") / "course")
    return graded_class.write(
        root,
        [
            graded_class.Student("ann"),
            graded_class.Student("bob", {"test_add": graded_class.MISTAKES["test_add"][0]}),
            graded_class.Student("cy", graded=False, reason="-the kernel died: out of memory"),
        ],
    )


def export(course, tmp_path, fmt, *options, roster_text=ROSTER):
    """The file ``export --format fmt`` writes, as the LMS receives it (bytes decoded, line ends kept)."""
    (tmp_path / "roster.csv").write_text(roster_text)
    output = tmp_path / f"{fmt}.csv"
    arguments = ["--root", str(course.root), "export", "toy", "--format", fmt, "--roster", str(tmp_path / "roster.csv")]
    assert main([*arguments, "-o", str(output), *options]) == 0
    return output.read_bytes().decode("utf-8")


def table(text):
    return list(csv.reader(io.StringIO(text)))


def canvas_course(notes: str) -> CanvasCourse:
    """Canvas's course: ``notes`` is ``hidden``, ``shown`` or ``none`` (no Notes column); a teaching
    assistant gave cy 1.5 by hand; the teacher noted something on ann."""
    columns = (
        [] if notes == "none" else [CanvasColumn(9, "Notes", hidden=notes == "hidden", content={ANN: "extension"})]
    )
    return CanvasCourse(
        students=[
            CanvasStudent(ANN, "Ann Archer", "S1", "ann"),
            CanvasStudent(BOB, "Bob Baker", "S2", "bob"),
            CanvasStudent(CY, "Cy Young", "S3", "cy"),
        ],
        assignments=[CanvasAssignment(RESNETS, "ResNets", 3.0), CanvasAssignment(QUIZ, "Quiz 1", 10.0)],
        columns=columns,
        scores={(CY, RESNETS): 1.5, (ANN, QUIZ): 9.0},
    )


def moodle_course() -> MoodleCourse:
    """Moodle's course: bob has no ID number; cy was given 1.5 by hand after the failed grading."""
    return MoodleCourse(
        users=[
            MoodleUser(11, "ann", "ann@example.edu", "S1"),
            MoodleUser(12, "bob", "bob@example.edu", ""),
            MoodleUser(13, "cy", "cy@example.edu", "S3"),
        ],
        items=[MoodleItem(ITEM, "ResNets", module="Assignment"), MoodleItem(8, "Quiz 1", module="Quiz")],
        grades={("cy", ITEM): 1.5},
    )


# ------------------------------------------------------------------------------------------------ Canvas


@pytest.mark.parametrize("notes", ["hidden", "shown", "none"])
def test_canvas_gives_each_graded_student_their_grade_whatever_the_courses_notes_column(course, tmp_path, notes):
    text = export(course, tmp_path, "canvas", "--lms-name", "ResNets", "--canvas-assignment-id", str(RESNETS))
    lms = canvas_course(notes)
    upload = read_canvas(text, lms)
    assert upload.new_assignments == []
    assert upload.grades == {RESNETS: {ANN: "3", BOB: "2"}}
    assert upload.scores_after(lms) == {(ANN, RESNETS): 3.0, (BOB, RESNETS): 2.0, (CY, RESNETS): 1.5, (ANN, QUIZ): 9.0}
    assert upload.notes == {}, "the teacher's notes are not touched"
    assert upload.points_possible == {RESNETS: "3"}
    assert upload.unknown_students == []


def test_canvas_notes_go_right_after_section_into_a_shown_notes_column(course, tmp_path):
    text = export(course, tmp_path, "canvas", "--lms-name", "ResNets", "--canvas-notes", "--ungraded", "blank")
    assert table(text)[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Notes", "ResNets"]
    lms = canvas_course("shown")
    upload = read_canvas(text, lms)
    assert upload.new_assignments == []
    # --ungraded blank: a blank grade against the assistant's 1.5 is a change, and it clears it.
    assert upload.grades == {RESNETS: {ANN: "3", BOB: "2", CY: None}}
    assert upload.scores_after(lms)[(CY, RESNETS)] is None
    # The Notes column takes the comment, and replaces what each listed student had in it.
    assert upload.notes == {"Notes": {ANN: None, CY: NOT_GRADED}}


def test_canvas_notes_in_a_course_whose_notes_column_is_hidden_are_offered_as_a_new_assignment(course, tmp_path):
    """Why README says --canvas-notes is for a course whose Notes column is shown."""
    text = export(course, tmp_path, "canvas", "--lms-name", "ResNets", "--canvas-notes")
    upload = read_canvas(text, canvas_course("hidden"))
    assert upload.new_assignments == ["Notes"]
    assert upload.grades[RESNETS] == {ANN: "3", BOB: "2"}


def test_canvas_matches_the_column_by_id_then_by_title_else_offers_a_new_assignment(course, tmp_path):
    lms = canvas_course("shown")
    by_title = read_canvas(export(course, tmp_path, "canvas", "--lms-name", "ResNets"), lms)
    assert by_title.grades == {RESNETS: {ANN: "3", BOB: "2"}}
    wrong_id = export(course, tmp_path, "canvas", "--lms-name", "ResNets", "--canvas-assignment-id", "999")
    assert read_canvas(wrong_id, lms).new_assignments == ["ResNets"]
    renamed = read_canvas(export(course, tmp_path, "canvas", "--lms-name", "ResNets v2"), lms)
    assert renamed.new_assignments == ["ResNets v2"]
    assert renamed.grades == {"new: ResNets v2": {ANN: "3", BOB: "2"}}


def test_canvas_file_leaves_out_the_ungraded_and_says_so_with_the_points_possible(course, tmp_path, capsys):
    text = export(course, tmp_path, "canvas", "--lms-name", "ResNets", "--canvas-assignment-id", str(RESNETS))
    assert text.endswith("\r\n")
    header, points, ann, bob = table(text)
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "ResNets (4242)"]
    assert points == ["Points Possible", "", "", "", "", "3"]
    assert ann == ["Ann Archer", "101", "S1", "ann", "Monday", "3"]
    assert bob == ['\'=HYPERLINK("http://evil")', "102", "S2", "bob", "Tuesday", "2"]
    out, err = capsys.readouterr()
    assert out == f"wrote {tmp_path / 'canvas.csv'} (canvas)\n"
    assert err == (
        "Points Possible in the file: 3; the Canvas assignment's points must be 3\n"
        "left out, could not be graded (1; Canvas keeps their grade):\n"
        "  cy: -the kernel died: out of memory\n"
    )


# ------------------------------------------------------------------------------------------------ Moodle


def test_moodle_maps_the_file_by_itself_and_gives_each_student_their_grade(course, tmp_path, capsys):
    text = export(course, tmp_path, "moodle", "--lms-name", "Assignment: ResNets", roster_text=ROSTER_WITHOUT_BOBS_ID)
    assert table(text)[0] == ["Email address", "Assignment: ResNets (Real)", "Assignment: ResNets (Feedback)"]
    lms = moodle_course()
    assert read_moodle(text, lms) == {("ann", ITEM): 3.0, ("bob", ITEM): 2.0, ("cy", ITEM): 1.5}
    assert lms.feedback == {("ann", ITEM): "", ("bob", ITEM): ""}
    err = capsys.readouterr().err
    assert err.startswith("grades out of 3; the Moodle grade item's maximum grade must be 3\n")
    assert "  cy: -the kernel died: out of memory\n" in err


def by_hand(text):
    """The mapping a teacher picks when Moodle does not map a column: grades and feedback to ResNets."""
    header = table(text)[0]
    identity = ("ID number", "Email address")
    return {h: f"feedback_{ITEM}" if "feedback" in h.lower() else str(ITEM) for h in header if h not in identity}


def test_moodle_never_credits_a_students_grade_to_the_row_above(course, tmp_path):
    text = export(course, tmp_path, "moodle", "--lms-name", "Assignment: ResNets", roster_text=ROSTER_WITHOUT_BOBS_ID)
    assert read_moodle(text, moodle_course(), by_hand(text)) == {
        ("ann", ITEM): 3.0,
        ("bob", ITEM): 2.0,
        ("cy", ITEM): 1.5,
    }


def test_moodle_id_number_missing_for_a_student_refuses_and_writes_nothing(course, tmp_path, capsys):
    (tmp_path / "roster.csv").write_text(ROSTER_WITHOUT_BOBS_ID)
    output = tmp_path / "moodle.csv"
    arguments = [
        "--root",
        str(course.root),
        "export",
        "toy",
        "--format",
        "moodle",
        "--roster",
        str(tmp_path / "roster.csv"),
    ]
    assert main([*arguments, "--moodle-id", "idnumber", "-o", str(output)]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("error: roster lacks sis_id for: 'bob'; Moodle would give a row without it")
    assert out == ""
    assert not output.exists() and list(tmp_path.iterdir()) == [tmp_path / "roster.csv"]


def test_moodle_id_number_as_the_identity_column(course, tmp_path):
    text = export(course, tmp_path, "moodle", "--lms-name", "Assignment: ResNets", "--moodle-id", "idnumber")
    assert [row[0] for row in table(text)] == ["ID number", "S1", "S2"]
    lms = moodle_course()
    lms.users[1].idnumber = "S2"
    assert read_moodle(text, lms) == {("ann", ITEM): 3.0, ("bob", ITEM): 2.0, ("cy", ITEM): 1.5}


def test_moodle_ungraded_blank_clears_the_grade_moodle_had(course, tmp_path):
    text = export(course, tmp_path, "moodle", "--lms-name", "Assignment: ResNets", "--ungraded", "blank")
    lms = moodle_course()
    assert read_moodle(text, lms) == {("ann", ITEM): 3.0, ("bob", ITEM): 2.0, ("cy", ITEM): None}
    assert lms.feedback[("cy", ITEM)] == NOT_GRADED


def test_moodle_aborts_the_whole_import_for_an_unknown_user_or_a_grade_that_is_not_a_number(course, tmp_path):
    text = export(course, tmp_path, "moodle", "--lms-name", "Assignment: ResNets")
    lms = moodle_course()
    lms.users = lms.users[:1]
    with pytest.raises(ImportRefused, match="usermappingerror"):
        read_moodle(text, lms)
    bad = text.replace("bob@example.edu,2,", "bob@example.edu,'=2,")
    with pytest.raises(ImportRefused, match="badgrade"):
        read_moodle(bad, moodle_course())


# ------------------------------------------------------------------------------- both, and the roster


def test_left_out_lists_the_ungraded_with_their_reason_and_the_class_report_shows_them(course):
    rows = export_rows(course, "toy")
    assert left_out(rows) == [LeftOut("cy", "-the kernel died: out of memory")]
    assert left_out(rows, "blank") == []
    assert '<p id="lms-left-out">' in render(collect(course, "toy"))
    canvas = canvas_csv(rows, _roster(), "ResNets")
    assert [line[0] for line in table(canvas.text)] == [
        "Student",
        "Points Possible",
        "Ann Archer",
        '\'=HYPERLINK("http://evil")',
    ]
    assert (canvas.left_out, canvas.points_possible) == (left_out(rows), 3.0)
    moodle = moodle_csv(rows, _roster(), "ResNets", ungraded="blank")
    assert [line[0] for line in table(moodle.text)] == [
        "Email address",
        "ann@example.edu",
        "bob@example.edu",
        "cy@example.edu",
    ]
    assert moodle.left_out == []


def _roster():
    return {
        line["student_id"]: roster.RosterEntry(**{k: line[k] for k in roster.COLUMNS})
        for line in csv.DictReader(io.StringIO(ROSTER))
    }


def test_options_for_the_other_lms_are_refused(course, tmp_path, capsys):
    (tmp_path / "roster.csv").write_text(ROSTER)
    arguments = ["--root", str(course.root), "export", "toy", "--roster", str(tmp_path / "roster.csv")]
    assert main([*arguments, "--format", "canvas", "--moodle-id", "email"]) == 2
    assert main([*arguments, "--format", "moodle", "--canvas-notes"]) == 2
    assert capsys.readouterr().err == (
        "error: --moodle-id does not apply to --format canvas\n"
        "error: --canvas-notes does not apply to --format moodle\n"
    )


def test_two_students_with_one_moodle_identity_are_refused(course):
    entries = _roster()
    entries["bob"] = roster.RosterEntry("bob", email="ANN@example.edu")
    with pytest.raises(roster.RosterError, match="same email to: 'ann' and 'bob'"):
        moodle_csv(export_rows(course, "toy"), entries, "ResNets")


def test_csv_stays_the_default_export(course, capsys):
    assert main(["--root", str(course.root), "export", "toy"]) == 0
    assert capsys.readouterr().out.startswith("student_id,assignment,status,reason,score")


def test_a_student_missing_from_the_roster_is_a_clear_error(course, tmp_path, capsys):
    (tmp_path / "roster.csv").write_text(ROSTER.replace("bob,", "zed,", 1))
    arguments = [
        "--root",
        str(course.root),
        "export",
        "toy",
        "--format",
        "canvas",
        "--roster",
        str(tmp_path / "roster.csv"),
    ]
    assert main(arguments) == 2
    assert capsys.readouterr().err.startswith("error: 1 graded student(s) missing from the roster: 'bob'")
    with pytest.raises(roster.RosterError, match="lacks email or sis_id for: 'ann'"):
        roster.lookup({"ann": roster.RosterEntry("ann")}, ["ann"], needed=("email|sis_id",))
    with pytest.raises(roster.RosterError, match="no roster at"):
        roster.load(tmp_path / "nowhere.csv")
    (tmp_path / "bad.csv").write_text("id,name\nann,Ann\n")
    with pytest.raises(roster.RosterError, match="no 'student_id' column"):
        roster.load(tmp_path / "bad.csv")


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
