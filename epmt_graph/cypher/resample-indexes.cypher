// Have the server sample again every index whose contents changed much since it was last
// sampled (scheduled at once; each index is sampled in the background), so that the planner's
// statistics follow the data: the warm-up runs it after deleting its job, so that a first
// load meets the statistics of the empty graph the warm-up's plans were made for.
// Parameters: none.
CALL db.resampleOutdatedIndexes()
