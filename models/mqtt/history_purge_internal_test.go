package mqtt

// SetPurgeChunk sets purge's chunk size for a test and returns the
// function that restores it.
func SetPurgeChunk(n int) (restore func()) {
	old := purgeChunk
	purgeChunk = n
	return func() { purgeChunk = old }
}
