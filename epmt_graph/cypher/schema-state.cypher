// Every index in the database (a constraint's own index carries its name) and its state:
// what `Graph.ensure_schema` compares with schema.cypher, so that a database set up
// already costs one read, not a statement per index.
// Parameters: none.
SHOW INDEXES YIELD name, state
RETURN name, state
