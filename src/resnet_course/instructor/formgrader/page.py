"""What the course changes in the formgrader's Manage Submissions page: its note, and a script.

nbgrader's page calls its Autograde route and waits for the whole grading,
then shows the grader's DEBUG log. The course's template
(:data:`MANAGE_SUBMISSIONS_TEMPLATE`, which extends nbgrader's and replaces
it under the same name) says what the button does now, adds "Autograde all"
and a progress area, and loads :data:`AUTOGRADE_SCRIPT`. The script replaces
the row's ``autograde`` method: it queues the grading (``handlers.py``),
polls the progress every two seconds while a run grades or waits (with the
XSRF header, as nbgrader's own requests: JupyterHub refuses a script's GET
without it), marks the rows being graded, and when a run ends refreshes the
rows and shows each student's score, or why their submission could not be
graded.

They are kept here as text, not as files beside the module, so that they
travel with the package without package data.
"""

from __future__ import annotations

#: Name under which nbgrader's own templates stay reachable (``extension.template_loader``).
NBGRADER_PREFIX = "nbgrader"

MANAGE_SUBMISSIONS_TEMPLATE = """\
{%- extends "nbgrader:manage_submissions.tpl" -%}

{%- block head -%}
{{ super() }}
<script src="{{ base_url }}/formgrader/course/autograde.js"></script>
{%- endblock head -%}

{%- block messages -%}
<div class="panel panel-default" id="course-autograde">
  <div class="panel-body">
    <p>
      <b>Autograde</b> (a row's <span class="glyphicon glyphicon-flash" aria-hidden="true"></span>, or
      <button type="button" class="btn btn-primary btn-xs" id="autograde-all">Autograde all</button>)
      hands the collected submissions to the course's sandboxed grader, which grades them in the
      background, several at a time. This page and JupyterLab stay usable meanwhile; the progress
      shows below, then each student's score, or why their submission could not be graded.
    </p>
    <p>
      For a whole class the grader's own command is still the better way: it takes the grader's
      options (<code>--workers</code>, a Dask <code>--scheduler</code>, <code>--timeout</code>,
      <code>--no-training-cache</code>), prints every result and the gradebook check, and its exit
      status can stop a script before feedback is released:
    </p>
    <pre>cd "{{ course_dir }}"
python -m resnet_course.grader autograde "{{ assignment_id }}"</pre>
    <div id="course-grading-progress" role="status" aria-live="polite"></div>
  </div>
</div>
{%- endblock -%}
"""

AUTOGRADE_SCRIPT = """\
// The course's Autograde (resnet_course.instructor.formgrader.page): queue, poll, show a short result.
(function () {
    "use strict";
    var statusUrl = base_url + "/formgrader/api/course/grading";
    var POLL_MS = 2000;
    var timer = null;
    var loaded = false;
    var lastSeen = null;

    function who(run) {
        return run.students ? run.students.join(", ") : "every collected submission";
    }

    function covers(run, student) {
        return run.students === null || run.students.indexOf(student) !== -1;
    }

    function recorded(run, student) {
        return run.results.some(function (result) { return result.student === student; });
    }

    function describe(result) {
        if (result.status !== "graded") {
            return result.student + ": could not be graded: " + result.reason;
        }
        var score = result.score === undefined ? "" : ", " + result.score + " / " + result.max_score;
        return result.student + ": graded" + score;
    }

    function resultList(results) {
        var list = $("<ul/>").addClass("course-grading-results");
        results.forEach(function (result) {
            list.append($("<li/>").text(describe(result)));
        });
        return list;
    }

    function markRows(status) {
        views.forEach(function (view) {
            var student = view.model.get("student");
            var text = null;
            if (status.running && covers(status.running, student) && !recorded(status.running, student)) {
                text = "grading in the background";
            } else if (status.queued.some(function (run) { return covers(run, student); })) {
                text = "queued for grading";
            }
            if (text) {
                view.$status.empty().append($("<span/>").addClass("label label-info").text(text));
            }
        });
    }

    function showProgress(status) {
        var box = $("#course-grading-progress").empty();
        var run = status.running;
        if (run) {
            var count = run.results.length + (run.students ? " of " + run.students.length : "");
            box.append($("<p/>").addClass("text-info course-grading-running").text(
                "Grading " + run.assignment + " (" + who(run) + ") in the background for " +
                Math.round(run.elapsed_s) + " s; " + count + " recorded."));
            box.append(resultList(run.results));
        }
        status.queued.forEach(function (queued) {
            box.append($("<p/>").text("Next: " + queued.assignment + " (" + who(queued) + ")."));
        });
        if (!run && status.last) {
            box.append($("<p/>").addClass("course-grading-last").text(
                "Last grading of " + status.last.assignment + " (" + who(status.last) + "), " +
                status.last.state + ": " + status.last.message));
            box.append(resultList(status.last.results));
        }
        markRows(status);
    }

    function showResult(run) {
        views.forEach(function (view) { view.model.fetch(); });
        var body = $("<div/>")
            .append($("<p/>").text(run.assignment + " (" + who(run) + "), " + run.state + ": " + run.message))
            .append(resultList(run.results));
        createModal("course-grading-result", "Grading " + run.state, body);
    }

    function poll() {
        timer = null;
        // The XSRF header as nbgrader's own requests send it: on a hub, a cookie-authenticated
        // script's GET without it is not logged in (JupyterHub >= 4.1).
        $.ajax({url: statusUrl, dataType: "json", cache: false, headers: {"X-CSRFToken": getCookie("_xsrf")}})
        .done(function (status) {
            showProgress(status);
            var lastId = status.last ? status.last.id : null;
            if (loaded && lastId !== lastSeen) {
                showResult(status.last);
            }
            lastSeen = lastId;
            loaded = true;
            if (status.running || status.queued.length) {
                schedule(POLL_MS);
            }
        }).fail(function () {
            schedule(POLL_MS * 5);
        });
    }

    function schedule(delay) {
        if (timer === null) {
            timer = setTimeout(poll, delay);
        }
    }

    function queue(url, rows) {
        rows.forEach(function (view) {
            view.$status.empty().append($("<span/>").addClass("label label-info").text("queued for grading"));
        });
        $.post(url).done(function () {
            schedule(0);
        }).fail(function (xhr) {
            createModal("error-modal", "Error", "The grader could not be asked to grade (HTTP " + xhr.status + ").");
        });
    }

    SubmissionUI.prototype.autograde = function () {
        var url = base_url + "/formgrader/api/submission/" + encodeURIComponent(this.model.get("name")) +
            "/" + encodeURIComponent(this.model.get("student")) + "/autograde";
        queue(url, [this]);
        return false;
    };

    $(window).on("load", function () {
        $("#autograde-all").click(function () {
            queue(base_url + "/formgrader/api/assignment/" + encodeURIComponent(assignment_id) + "/autograde", views);
        });
        schedule(0);
    });
})();
"""
