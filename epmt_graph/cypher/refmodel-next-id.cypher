// The id for a new reference model: one more than the largest in use (1 for the first).
// Run in the write transaction that creates the model; the unique constraint on
// RefModel.id refuses a second model given the same id by a concurrent creator.
// Parameters: none.
MATCH (r:RefModel)
RETURN coalesce(max(r.id), 0) + 1 AS id
