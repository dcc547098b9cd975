package tenantotel

import (
	"context"
	"database/sql"
	"fmt"

	"go.opentelemetry.io/otel/metric"

	"github.com/tenantpath/tenantpath"
)

// ScopeName is the instrumentation scope of the meter the instruments are
// created on.
const ScopeName = "github.com/tenantpath/tenantpath/otel"

// source reads the counts of one *sql.DB or Connector.
type source struct {
	stats func() tenantpath.Stats
	// pool reads the pool's counts; nil when there is no pool.
	pool func() (tenantpath.PoolStats, bool)
}

// RegisterMetrics reports the [tenantpath.Stats] of db as asynchronous
// instruments on mp and, when db was opened with [tenantpath.Pool], its
// [tenantpath.PoolStats] too (see the package doc for the instruments).
// The values are read when mp's readers collect, not before. Call
// Unregister on the returned Registration when db is closed: the
// instruments then report nothing.
//
// db must be a *sql.DB that [tenantpath.OpenDB] opened, or sql.OpenDB over
// a tenantpath Connector, or sql.Open over a driver from [tenantpath.Wrap]
// (then the counts are the driver's: every *sql.DB it opened, and the
// pool's are not reported). Any other *sql.DB, including one that another
// package wraps around a tenantpath Connector, gets an error wrapping
// [ErrNotTenantpath]: use [RegisterConnectorMetrics] on the Connector.
func RegisterMetrics(db *sql.DB, mp metric.MeterProvider, opts ...MetricOption) (metric.Registration, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: RegisterMetrics: nil *sql.DB", ErrInvalidArgument)
	}
	if _, ok := tenantpath.StatsOf(db); !ok {
		return nil, fmt.Errorf("%w: its driver is %T; open it with tenantpath.OpenDB, or register the tenantpath Connector beneath it with RegisterConnectorMetrics",
			ErrNotTenantpath, db.Driver())
	}
	src := source{stats: func() tenantpath.Stats {
		st, _ := tenantpath.StatsOf(db)
		return st
	}}
	if _, ok := tenantpath.PoolStatsOf(db); ok {
		src.pool = func() (tenantpath.PoolStats, bool) { return tenantpath.PoolStatsOf(db) }
	}
	return register(src, mp, opts)
}

// RegisterConnectorMetrics is [RegisterMetrics] for a Connector, such as
// one that otelsql or another wrapper opens a *sql.DB over: the Connector
// reports its connections' counts whatever wraps it.
func RegisterConnectorMetrics(c *tenantpath.Connector, mp metric.MeterProvider, opts ...MetricOption) (metric.Registration, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: RegisterConnectorMetrics: nil *tenantpath.Connector", ErrInvalidArgument)
	}
	src := source{stats: c.Stats}
	if _, ok := c.PoolStats(); ok {
		src.pool = c.PoolStats
	}
	return register(src, mp, opts)
}

// register creates the instruments on mp's meter and one callback that
// observes them all from one reading of src.
func register(src source, mp metric.MeterProvider, opts []MetricOption) (metric.Registration, error) {
	if mp == nil {
		return nil, fmt.Errorf("%w: nil MeterProvider", ErrInvalidArgument)
	}
	cfg, err := newMetricConfig(opts)
	if err != nil {
		return nil, err
	}
	meter := mp.Meter(ScopeName)
	stats, observables, err := bind(meter, statsInstruments, cfg.attrs)
	if err != nil {
		return nil, fmt.Errorf("tenantotel: creating instruments: %w", err)
	}
	var pool []bound[tenantpath.PoolStats]
	if src.pool != nil {
		var more []metric.Observable
		if pool, more, err = bind(meter, poolInstruments, cfg.attrs); err != nil {
			return nil, fmt.Errorf("tenantotel: creating pool instruments: %w", err)
		}
		observables = append(observables, more...)
	}
	reg, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st := src.stats()
		for i := range stats {
			stats[i].observe(o, &st)
		}
		if src.pool == nil {
			return nil
		}
		ps, ok := src.pool()
		if !ok {
			return nil
		}
		for i := range pool {
			pool[i].observe(o, &ps)
		}
		return nil
	}, observables...)
	if err != nil {
		return nil, fmt.Errorf("tenantotel: registering the callback: %w", err)
	}
	return reg, nil
}
