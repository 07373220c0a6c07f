// The ids of the transactions running now (this one included): a writer waits for those to
// finish before it deletes a version that readers may still be reading.
// Parameters: none.
SHOW TRANSACTIONS
YIELD transactionId
RETURN transactionId
