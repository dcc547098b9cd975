//go:build !linux

package delayproxy

import (
	"errors"
	"sync"
	"time"
)

// timerWaiter waits on a time.Timer. Where the runtime's timers are coarse,
// short delays are rounded up to their tick.
type timerWaiter struct {
	once sync.Once
	stop chan struct{}
}

var errInterrupted = errors.New("delayproxy: wait interrupted")

func newWaiter() (waiter, error) { return &timerWaiter{stop: make(chan struct{})}, nil }

func (w *timerWaiter) wait(d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-w.stop:
		return errInterrupted
	}
}

func (w *timerWaiter) interrupt() { w.once.Do(func() { close(w.stop) }) }

func (w *timerWaiter) close() error { return nil }
