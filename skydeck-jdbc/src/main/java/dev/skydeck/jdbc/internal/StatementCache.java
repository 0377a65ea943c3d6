package dev.skydeck.jdbc.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Prepared statements kept on each physical connection from one transaction to the next, for
 * dialects that {@linkplain dev.skydeck.jdbc.Dialect#keepsStatements() keep them}. A connection is used
 * by one thread at a time (it is borrowed from a pool for one transaction), so its statements
 * are too. The statements are prepared on the pool's underlying connection, which the pool does
 * not close on return; at most {@link #PER_CONNECTION} are kept per connection, the least recently
 * used closed first (queries with variable {@code IN} lists have many texts).
 */
final class StatementCache {
    /** The most statements kept on one connection. */
    static final int PER_CONNECTION = 128;

    private final Map<Connection, Map<String, PreparedStatement>> byConnection =
            Collections.synchronizedMap(new WeakHashMap<>());

    /** The physical connection under {@code pooled} (itself when it is not a wrapper). */
    static Connection physical(Connection pooled) throws SQLException {
        return pooled.isWrapperFor(Connection.class) ? pooled.unwrap(Connection.class) : pooled;
    }

    private static boolean isClosed(Connection c) {
        try {
            return c.isClosed();
        } catch (SQLException e) {
            return true;
        }
    }

    /** The statements kept on {@code physical}; use them only while holding that connection. */
    Map<String, PreparedStatement> on(Connection physical) {
        Map<String, PreparedStatement> kept = byConnection.get(physical);
        if (kept != null) {
            return kept;
        }
        // a new connection (the pool replaced one?): drop what closed ones kept, whose statements
        // refer to their connection and so would keep the weak keys alive
        synchronized (byConnection) {
            byConnection.keySet().removeIf(StatementCache::isClosed);
        }
        return byConnection.computeIfAbsent(physical, c -> new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, PreparedStatement> eldest) {
                if (size() <= PER_CONNECTION) {
                    return false;
                }
                try {
                    eldest.getValue().close();
                } catch (SQLException e) {
                    // closing a statement of a live connection does not fail; nothing to do if it did
                }
                return true;
            }
        });
    }
}
