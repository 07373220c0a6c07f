// Write-lock one reference model and return it: the first step of a read-change-write in
// one write transaction (no row if there is no such model).
// Parameters: $model (integer).
MATCH (r:RefModel {id: $model})
SET r.enabled = r.enabled
RETURN r {.*} AS r
