"""Layer 4, the grader: turning notebooks into scores an instructor can trust.

- `course_dir` (the nbgrader course directory and nbgrader's API on it), `release`
  (`course release`), `selfcheck` (`course check`: one learner's notebook, judged as `course grade` does);
- cohort grading (`course grade`): `submissions` (find and name them, against a roster), `integrity`
  (near-copies, on normalised syntax trees), `cohort` (prepare, run, judge, record), `dask_grading`
  (the same on Dask workers, this process the one writer), `sandbox`
  (the isolation), `kernels` (the kernel servers it starts, reused) with `kernel` (what runs inside:
  one forked kernel per submission) and its protocol
  (`protocol`: plain data only; `remote`: services kept on the trusted side), `results` (one
  file per learner) and `report` (scores, flags, the misconception report).

Answer keys live in `course.checks.keys`, which the sandbox never mounts.
"""
