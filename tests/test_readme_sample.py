"""The README's sample of how `make demo` ends is the demo's real table: its columns are the
master notebook's exercises and every score is out of the course's maximum (scores themselves
change with grading and are not checked here; tests/test_demo.py checks them on a real run). The slow
test compares a real run's ending (``demo-ending.txt``) with the sample the same way."""

import pytest

from resnet_course.grader.reports.class_results import ClassResults, terminal_summary
from resnet_course.grader.reports.export import GradeRow
from resnet_course.grader.reports.tables import format_table
from resnet_course.instructor import readme_sample
from resnet_course.instructor.demo import ENDING_FILE, ending


@pytest.fixture(scope="module")
def readme_sample_text(repo_root):
    return readme_sample.sample((repo_root / "README.md").read_text())


def test_the_readme_sample_has_the_demo_tables_columns(readme_sample_text):
    header, rows = readme_sample.table_lines(readme_sample_text)
    assert readme_sample.columns(header) == readme_sample.expected_columns(readme_sample.master_notebook())
    assert rows


def test_every_score_in_the_readme_sample_is_out_of_the_courses_maximum(readme_sample_text):
    header, rows = readme_sample.table_lines(readme_sample_text)
    found = readme_sample.maximums(readme_sample_text)
    assert len(found) == len(rows) + 1, "a score per row and the summary's mean"
    assert set(found) == {readme_sample.master_maximum(readme_sample.master_notebook())}


@pytest.mark.slow
def test_a_real_demo_ends_with_the_readme_samples_columns_and_maximum(demo_root, readme_sample_text):
    ending_text = (demo_root / ENDING_FILE).read_text()
    assert ending_text.splitlines()[0] == readme_sample_text.splitlines()[0]
    header, rows = readme_sample.table_lines(ending_text)
    readme_header, readme_rows = readme_sample.table_lines(readme_sample_text)
    assert readme_sample.columns(header) == readme_sample.columns(readme_header)
    assert len(rows) == len(readme_rows)
    assert set(readme_sample.maximums(ending_text)) == set(readme_sample.maximums(readme_sample_text))


def test_a_pasted_demo_ending_reads_back_as_the_demo_wrote_it():
    master = readme_sample.master_notebook()
    exercises = readme_sample.expected_columns(master)[3:-2]
    maximum = readme_sample.master_maximum(master)
    rows = [
        GradeRow("ann", "resnets", "graded", "graded normally", maximum, maximum, dict.fromkeys(exercises, 1.0), 9, []),
        GradeRow("bob", "resnets", "could not be graded", "not JSON  at all", 0, maximum, {}, 0.4, []),
    ]
    summary = terminal_summary(ClassResults("resnets", rows, [], []))
    text = ending(format_table(rows), summary, [("grades", "g.csv"), ("class report", "r.html")], 12.0)
    readme = f"intro\n{readme_sample.START}\n```\nold\n```\n{readme_sample.END}\nrest\n"
    pasted = readme_sample.paste(readme, text)
    assert pasted.startswith("intro\n") and pasted.endswith(f"{readme_sample.END}\nrest\n")
    assert readme_sample.sample(pasted) == text
    header, table_rows = readme_sample.table_lines(text)
    assert readme_sample.columns(header) == readme_sample.expected_columns(master) and len(table_rows) == 2
    assert readme_sample.maximums(text) == [maximum] * 3
    with pytest.raises(ValueError, match="no sample"):
        readme_sample.sample("a README without markers")
