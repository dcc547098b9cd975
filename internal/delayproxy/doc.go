// Package delayproxy is a TCP proxy on loopback that holds every chunk of
// data for a fixed one-way delay in each direction, so that benchmarks on
// one machine pay for round trips the way a client across a network does.
// Loopback answers in microseconds and hides the difference between a call
// that costs one round trip and a call that costs two; behind this proxy
// each round trip costs at least twice the delay.
//
// # What it does to the stream
//
// Each direction has a reader and a writer. The reader stamps every chunk
// it reads (what one read returns) with the time it arrived and queues it;
// the writer sends each chunk once its arrival time plus the delay has
// passed, in the order the chunks arrived. A chunk is never sent early, so
// a reply can never reach the client before 2×delay after its request left
// it, and nothing is held back waiting for more data: a chunk goes out when
// it is due even if the next one is already queued. The end of a stream
// (the peer's FIN) travels the same way, after the data before it.
//
// The wait is a timerfd on Linux, parked in the Go runtime's network
// poller: Go's own timers round waits under a millisecond up to the poller's
// millisecond tick when the process is idle, which would turn a 250 µs delay
// into more than a millisecond. Elsewhere it is a time.Timer. With a delay
// of 0 the reader writes each chunk itself and nothing is queued, which is
// the proxy's floor: two extra hops through the process per round trip.
//
// # Closing
//
// When one side closes its end, the other side gets the FIN after the data
// still in flight. A read error other than the end of the stream (a reset)
// drops the link at once, both sides. Close stops accepting, drops every
// link without waiting out the delay, and returns when all of the proxy's
// goroutines have finished. A Proxy is safe for concurrent use.
package delayproxy
