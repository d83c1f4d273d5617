"""Grading tools: run student code in a sandboxed child process and grade it with pytest.

- sandbox: Submission / Session / Handle and the SubmissionFailure exceptions
- pytest_plugin: the `submission` and `rng` fixtures, the `points` marker, `Score: X/Y`
- checks: assertion helpers and reference checks shared by the assignment tests
- release, grade, grade_all, autograder: the `cs231n-pool` subcommands
- results: the results model and its writers (Gradescope, PrairieLearn, the local report);
  points_chart: the points-per-test-file chart PrairieLearn shows
- gradescope, prairielearn: each platform's bundle and the driver its container runs;
  bundle: the files both bundles carry; container: grading inside a platform's container
"""
