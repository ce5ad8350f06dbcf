"""N-1 sweeps: every single failure of a network (its elements chosen by a scenario's
`sweep:` section), the prediction of which flows each failure affects, and the verdict
matrix of a campaign that measured them one after another."""
