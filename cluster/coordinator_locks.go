package cluster

// The brokers' advisory locks. A broker id that fits PostgreSQL's int4
// is locked with the two-int form (lockClass, id), as since the first
// release, so that instances of neighbouring versions agree on the keys.
// An id beyond 2^31-1 cannot be an int4 key: it takes the one-bigint
// form with the id itself as key. PostgreSQL keeps the two forms apart
// (pg_locks.objsubid 2 and 1), so a big id never collides with a small
// one of our class, whatever its high and low halves; the ids are unique,
// so two big ones never collide either.

import (
	"context"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
)

// tryLock takes the broker's lock on the lock connection, without waiting.
func tryLock(ctx context.Context, conn *pgx.Conn, broker int64) (bool, error) {
	var ok bool
	var err error
	if broker <= math.MaxInt32 {
		err = conn.QueryRow(ctx, sqlTryLock, lockClass, int32(broker)).Scan(&ok)
	} else {
		err = conn.QueryRow(ctx, sqlTryLockBig, broker).Scan(&ok)
	}
	if err != nil {
		return false, fmt.Errorf("lock broker %d: %w", broker, err)
	}
	return ok, nil
}

// unlock releases the broker's lock.
func unlock(ctx context.Context, conn *pgx.Conn, broker int64) error {
	var err error
	if broker <= math.MaxInt32 {
		_, err = conn.Exec(ctx, sqlUnlock, lockClass, int32(broker))
	} else {
		_, err = conn.Exec(ctx, sqlUnlockBig, broker)
	}
	if err != nil {
		return fmt.Errorf("unlock broker %d: %w", broker, err)
	}
	return nil
}
