package delayproxy

import "time"

// A waiter blocks one goroutine, the writer of one direction, until a
// chunk is due. It is not safe for concurrent waits; interrupt may be
// called from any goroutine, at any time, also after close.
type waiter interface {
	// wait returns after d, or with an error once interrupt was called.
	wait(d time.Duration) error
	interrupt()
	close() error
}
