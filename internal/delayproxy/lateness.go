package delayproxy

import (
	"runtime"
	"sync/atomic"
	"time"
)

// lateness learns how late a timer wakes a writer (the kernel's timer
// latency plus the time until the goroutine runs again: 30–60 µs on a
// virtual machine), so that writers can ask to be woken that much before a
// chunk is due and yield the processor for the rest. Without it every
// chunk would leave tens of microseconds after it was due. A chunk is still
// never written before it is due.
//
// The estimate is a low quantile of the observed lateness, kept by the
// usual stochastic update (up by q·step when a wake-up came later than the
// estimate, down by (1−q)·step when it came earlier): only the wake-ups
// earlier than that quantile yield, and only for the difference, so the
// yielding costs about a microsecond of CPU per chunk. One estimate serves
// all of a proxy's writers, so a new link starts with what the others
// learned.
type lateness struct {
	est atomic.Int64 // nanoseconds
}

const (
	latenessQuantile = 0.1
	latenessStep     = 2 * time.Microsecond
	maxLateness      = 200 * time.Microsecond
)

// waitUntil returns once due has passed, or with the waiter's error.
func (l *lateness) waitUntil(w waiter, due time.Time) error {
	d := time.Until(due)
	if d <= 0 {
		return nil
	}
	early := time.Duration(l.est.Load())
	if ask := d - early; ask > 0 {
		if err := w.wait(ask); err != nil {
			return err
		}
		l.observe(early, -time.Until(due.Add(-early)))
	}
	for time.Now().Before(due) {
		runtime.Gosched()
	}
	return nil
}

// observe moves the estimate, which was est when the wait began, by one
// step after a wake-up late by late.
func (l *lateness) observe(est, late time.Duration) {
	step := -time.Duration((1 - latenessQuantile) * float64(latenessStep))
	if late > est {
		step = time.Duration(latenessQuantile * float64(latenessStep))
	}
	for {
		old := l.est.Load()
		next := min(max(time.Duration(old)+step, 0), maxLateness)
		if l.est.CompareAndSwap(old, int64(next)) {
			return
		}
	}
}
