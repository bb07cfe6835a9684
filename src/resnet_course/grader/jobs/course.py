"""Where a course keeps things, as its ``nbgrader_config.py`` says."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

CONFIG_FILE = "nbgrader_config.py"
REPORTS_FOLDER = Path(".runtime") / "reports"


@dataclasses.dataclass
class Course:
    """The folders and gradebook of one nbgrader course.

    Attributes:
        root: The course root (holds ``nbgrader_config.py``).
        config: The loaded nbgrader configuration.
        coursedir: nbgrader's view of the folders.
    """

    root: Path
    config: Config
    coursedir: CourseDirectory

    @classmethod
    def load(cls, root: Path) -> "Course":
        """Read ``ROOT/nbgrader_config.py`` (nbgrader's defaults where it is absent)."""
        path = Path(root) / CONFIG_FILE
        return cls.from_config(root, read_config(path) if path.exists() else Config())

    @classmethod
    def from_config(cls, root: Path, config: Config) -> "Course":
        """The course at ``root`` as ``config`` lays it out (e.g. another course's file plus overrides)."""
        root = Path(root).resolve()
        config.CourseDirectory.root = str(root)
        return cls(root, config, CourseDirectory(config=config))

    @property
    def course_id(self) -> str:
        return self.coursedir.course_id

    @property
    def db_path(self) -> Path:
        url = self.coursedir.db_url
        if not url.startswith("sqlite:///"):
            raise ValueError(f"the grader merges into sqlite gradebooks only, not {url}")
        return Path(url[len("sqlite:///") :])

    def folder(self, step: str, student: str, assignment: str) -> Path:
        """``submitted``/``autograded``/``source``/``release`` folder of one student and assignment."""
        directory = {
            "submitted": self.coursedir.submitted_directory,
            "autograded": self.coursedir.autograded_directory,
            "source": self.coursedir.source_directory,
            "release": self.coursedir.release_directory,
        }[step]
        return Path(self.coursedir.format_path(directory, student, assignment))

    def students_with_submissions(self, assignment: str) -> list[str]:
        """Students that have a folder for ``assignment`` under the submitted folder."""
        base = Path(self.coursedir.format_path(self.coursedir.submitted_directory, ".", ".")).resolve()
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if p.is_dir() and (p / assignment).is_dir())

    def report_path(self, assignment: str) -> Path:
        """The grading report of an assignment (beside the gradebook, git-ignored)."""
        return self.db_path.parent / REPORTS_FOLDER / f"{assignment}.json"

    def late_penalty(self) -> dict:
        """The late-submission policy of ``nbgrader_config.py`` (nbgrader's defaults where it is silent)."""
        plugin = self.config.get("AssignLatePenalties", {}).get("plugin_class", "nbgrader.plugins.LateSubmissionPlugin")
        method = self.config.get("LateSubmissionPlugin", {}).get("penalty_method", "none")
        return {"plugin_class": str(plugin), "penalty_method": str(method)}

    def judges_limits(self) -> dict:
        """What judging one submission may cost: ``c.TrustedVerdicts.judges_*`` of ``nbgrader_config.py``,
        where set, else the environment's ``RESNET_JUDGES_*`` (or the defaults), as plain data for a job."""
        import dataclasses

        from ..judges.judge_process import JudgesLimits

        section = self.config.get("TrustedVerdicts", {})
        given = {name: section.get(f"judges_{name}") for name in ("cell_seconds", "submission_seconds", "memory_bytes")}
        limits = dataclasses.replace(JudgesLimits.from_env(), **{k: int(v) for k, v in given.items() if v is not None})
        return dataclasses.asdict(limits)

    def execute_timeout(self, default: int = 600) -> int:
        """The per-cell timeout the course configured for nbgrader's Execute step."""
        for section in ("Execute", "ExecutePreprocessor"):
            if section in self.config and "timeout" in self.config[section]:
                return int(self.config[section]["timeout"])
        return default


def read_config(path: Path) -> Config:
    """The configuration an ``nbgrader_config.py`` file sets."""
    path = Path(path).resolve()
    return PyFileConfigLoader(path.name, path=str(path.parent)).load_config()
