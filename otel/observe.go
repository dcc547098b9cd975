package tenantotel

import (
	"math"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// This file turns a table of instrument definitions over a snapshot type S
// (tenantpath.Stats, tenantpath.PoolStats) into asynchronous instruments
// and observes them from one snapshot per collection, so that the values a
// reader sees together were read together.

type kind uint8

const (
	counter kind = iota // monotonic: an Int64ObservableCounter
	upDown              // a level that goes up and down: an Int64ObservableUpDownCounter
	seconds             // a monotonic total of time, read in nanoseconds: a Float64ObservableCounter in s
)

// instrument defines one instrument and its data points.
type instrument[S any] struct {
	name, unit, description string
	kind                    kind
	series                  []series[S]
}

// series is one data point of an instrument: the attribute that tells it
// from the instrument's other points (none when it has only one), and
// where its value is in the snapshot.
type series[S any] struct {
	attr  attribute.KeyValue
	value func(*S) int64
}

// one is the series of an instrument with a single data point.
func one[S any](value func(*S) int64) []series[S] {
	return []series[S]{{value: value}}
}

// bound is an instrument created on a meter, with each data point's
// attribute set built once.
type bound[S any] struct {
	i64    metric.Int64Observable
	f64    metric.Float64Observable
	points []point[S]
}

type point[S any] struct {
	opts  []metric.ObserveOption
	value func(*S) int64
}

// bind creates defs on m, with base on every data point. It returns them
// and the observables to register the callback for.
func bind[S any](m metric.Meter, defs []instrument[S], base []attribute.KeyValue) ([]bound[S], []metric.Observable, error) {
	out := make([]bound[S], 0, len(defs))
	var all []metric.Observable
	for _, d := range defs {
		b, obs, err := create(m, d)
		if err != nil {
			return nil, nil, err
		}
		for _, s := range d.series {
			attrs := base
			if s.attr.Key != "" {
				attrs = append(append([]attribute.KeyValue(nil), base...), s.attr)
			}
			set := attribute.NewSet(attrs...)
			b.points = append(b.points, point[S]{opts: []metric.ObserveOption{metric.WithAttributeSet(set)}, value: s.value})
		}
		out = append(out, b)
		all = append(all, obs)
	}
	return out, all, nil
}

func create[S any](m metric.Meter, d instrument[S]) (bound[S], metric.Observable, error) {
	var (
		b   bound[S]
		err error
	)
	switch d.kind {
	case counter:
		b.i64, err = m.Int64ObservableCounter(d.name, metric.WithUnit(d.unit), metric.WithDescription(d.description))
	case upDown:
		b.i64, err = m.Int64ObservableUpDownCounter(d.name, metric.WithUnit(d.unit), metric.WithDescription(d.description))
	case seconds:
		b.f64, err = m.Float64ObservableCounter(d.name, metric.WithUnit(d.unit), metric.WithDescription(d.description))
		return b, b.f64, err
	}
	return b, b.i64, err
}

// observe records the instrument's data points from snapshot s.
func (b *bound[S]) observe(o metric.Observer, s *S) {
	for _, p := range b.points {
		v := p.value(s)
		if b.f64 != nil {
			o.ObserveFloat64(b.f64, time.Duration(v).Seconds(), p.opts...)
			continue
		}
		o.ObserveInt64(b.i64, v, p.opts...)
	}
}

// clamp converts a count for an int64 instrument; counts never come near
// the limit, but a wrapped negative value would read as a counter reset.
func clamp(v uint64) int64 {
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}
