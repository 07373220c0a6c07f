// The time zones of the loaded jobs (for reading wall-clock times in each job's zone).
// Parameters: none.
MATCH (j:Job)
RETURN DISTINCT coalesce(j.tz, 'UTC') AS zone
