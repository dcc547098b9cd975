package tenantotel

import (
	"fmt"

	"go.opentelemetry.io/otel/attribute"
)

// PoolNameKey is the attribute that [WithDBName] puts on every data point:
// OpenTelemetry's name for a client-side connection pool, unique within
// the application.
const PoolNameKey = attribute.Key("db.client.connection.pool.name")

// MetricOption configures [RegisterMetrics] and [RegisterConnectorMetrics].
// Options are checked when the metrics are registered.
type MetricOption func(*metricConfig) error

type metricConfig struct {
	attrs []attribute.KeyValue
}

func newMetricConfig(opts []MetricOption) (metricConfig, error) {
	var c metricConfig
	for _, opt := range opts {
		if err := opt(&c); err != nil {
			return metricConfig{}, err
		}
	}
	return c, nil
}

// WithDBName names the *sql.DB (or Connector) on every data point, as the
// attribute db.client.connection.pool.name ([PoolNameKey]). Give each one
// registered on a MeterProvider a name of its own: two registrations with
// the same attributes report the same time series, and one hides the
// other. Without it (and without [WithAttributes]) data points carry no
// attribute but the ones that split an instrument. An empty name is an
// [ErrInvalidArgument].
func WithDBName(name string) MetricOption {
	return func(c *metricConfig) error {
		if name == "" {
			return fmt.Errorf("%w: WithDBName: empty name", ErrInvalidArgument)
		}
		c.attrs = append(c.attrs, PoolNameKey.String(name))
		return nil
	}
}

// WithAttributes adds attributes to every data point, such as
// db.namespace or the service's own. They should be few and fixed:
// never a tenant, whose number has no bound (see the package doc).
func WithAttributes(attrs ...attribute.KeyValue) MetricOption {
	return func(c *metricConfig) error {
		c.attrs = append(c.attrs, attrs...)
		return nil
	}
}
