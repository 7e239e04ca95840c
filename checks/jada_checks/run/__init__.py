"""The run's mechanics, apart from its reports: the items of a profile run (control x
target), sharding, convergence of repeated runs and the time budget."""
