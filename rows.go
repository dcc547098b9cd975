package tenantpath

import (
	"database/sql/driver"
	"io"
	"reflect"
)

// txRows are the rows of a statement wrapped in a transaction of its own
// (transaction-pooling mode): closing them ends the transaction. Only that
// mode wraps rows; otherwise the base driver's rows are returned as they are.
//
// Every optional Rows interface is implemented and forwarded; where the base
// rows lack one, the answer is the one database/sql gives without it.
type txRows struct {
	driver.Rows
	conn *conn
	tx   driver.Tx
	done bool
}

var (
	_ driver.RowsNextResultSet              = (*txRows)(nil)
	_ driver.RowsColumnTypeScanType         = (*txRows)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*txRows)(nil)
	_ driver.RowsColumnTypeLength           = (*txRows)(nil)
	_ driver.RowsColumnTypeNullable         = (*txRows)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*txRows)(nil)
)

func (r *txRows) Close() error {
	err := r.Rows.Close()
	if r.done {
		return err
	}
	r.done = true
	if err != nil {
		r.conn.rollbackPooled(r.tx)
		return err
	}
	return r.tx.Commit()
}

// Unwrap returns the base driver's rows.
func (r *txRows) Unwrap() driver.Rows { return r.Rows }

func (r *txRows) HasNextResultSet() bool {
	if n, ok := r.Rows.(driver.RowsNextResultSet); ok {
		return n.HasNextResultSet()
	}
	return false
}

func (r *txRows) NextResultSet() error {
	if n, ok := r.Rows.(driver.RowsNextResultSet); ok {
		return n.NextResultSet()
	}
	return io.EOF
}

func (r *txRows) ColumnTypeScanType(i int) reflect.Type {
	if c, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return c.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *txRows) ColumnTypeDatabaseTypeName(i int) string {
	if c, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return c.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *txRows) ColumnTypeLength(i int) (int64, bool) {
	if c, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return c.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *txRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if c, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return c.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *txRows) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	if c, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return c.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}
