// Delete reference models (and their BUILT_FROM links) by id; ids without a model are
// skipped. Returns how many were deleted.
// Parameters: $models (list of integers).
UNWIND $models AS id
MATCH (r:RefModel {id: id})
DETACH DELETE r
RETURN count(*) AS deleted
