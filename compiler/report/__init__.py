"""Reports for people: the pull-request summary (summary.py) with the schedule
(timeline.py), from the plans' state in built output (state.py)."""
