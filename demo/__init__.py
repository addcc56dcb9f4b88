"""`brigada demo`'s mission (mission.py), with its pharmacy and billing steps: the scenario the
command runs, told through the screen the command gives it."""
