package delayproxy

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestLatenessSettlesOnALowQuantile feeds the estimate wake-ups late by
// 30–60 µs, uniformly: it settles near their 10th percentile, 33 µs.
func TestLatenessSettlesOnALowQuantile(t *testing.T) {
	var l lateness
	r := rand.New(rand.NewPCG(7, 8))
	const n = 20000
	var sum time.Duration // of the estimates over the second half
	for i := range n {
		est := time.Duration(l.est.Load())
		if i >= n/2 {
			sum += est
		}
		l.observe(est, 30*time.Microsecond+time.Duration(r.Int64N(int64(30*time.Microsecond))))
	}
	// Each step down is 1.8 µs, so the estimate moves around its
	// quantile by a few microseconds: look at its mean.
	if mean := sum / (n / 2); mean < 31*time.Microsecond || mean > 35*time.Microsecond {
		t.Fatalf("mean estimate %v, want about 33µs", mean)
	}
}

// TestLatenessNeverEndsAWaitEarly: even with the largest estimate (the
// timer asked for much less than the wait), waitUntil returns only once
// the time is due.
func TestLatenessNeverEndsAWaitEarly(t *testing.T) {
	w, err := newWaiter()
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	var l lateness
	l.est.Store(int64(maxLateness))
	for _, d := range []time.Duration{0, 50 * time.Microsecond, 300 * time.Microsecond, 2 * time.Millisecond} {
		due := time.Now().Add(d)
		if err := l.waitUntil(w, due); err != nil {
			t.Fatal(err)
		}
		if now := time.Now(); now.Before(due) {
			t.Errorf("wait of %v returned %v early", d, due.Sub(now))
		}
	}
}
