package dev.skydeck.jdbc.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One connection for the length of a transaction (or a read), with its prepared statements
 * cached by SQL text (for this transaction, or kept on the connection for later ones: see
 * {@link StatementCache}) and every execution counted. Every SQL statement SkyDeck runs goes through
 * here; failures leave as {@link SQLException}, translated by the
 * {@link dev.skydeck.jdbc.SqlDatabase}.
 */
final class Session implements AutoCloseable {
    /** Maps the current row. */
    @FunctionalInterface
    interface Row<T> {
        T map(ResultSet rs) throws SQLException;
    }

    private final Connection connection;
    private final StatementCounter statements;
    private final Map<String, PreparedStatement> prepared;
    /** Whether {@link #prepared} outlives this session (kept on the connection). */
    private final boolean kept;
    private boolean closed;

    private Session(Connection connection, StatementCounter statements, Map<String, PreparedStatement> prepared,
                    boolean kept) {
        this.connection = connection;
        this.statements = statements;
        this.prepared = prepared;
        this.kept = kept;
    }

    /** A session on {@code connection}; its statements kept in {@code cache} unless that is {@code null}. */
    static Session open(Connection connection, StatementCounter statements, StatementCache cache) throws SQLException {
        if (cache == null) {
            return new Session(connection, statements, new HashMap<>(), false);
        }
        Connection physical = StatementCache.physical(connection);
        return new Session(physical, statements, cache.on(physical), true);
    }

    /** Rows of a query, mapped. */
    <T> List<T> list(String sql, Row<T> row, Object... params) throws SQLException {
        PreparedStatement ps = bind(sql, params);
        statements.increment();
        List<T> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(row.map(rs));
            }
        }
        return out;
    }

    /** The first row of a query, mapped. */
    <T> Optional<T> first(String sql, Row<T> row, Object... params) throws SQLException {
        PreparedStatement ps = bind(sql, params);
        statements.increment();
        // read the whole result: a RETURNING statement finishes its work only when stepped to the end
        try (ResultSet rs = ps.executeQuery()) {
            T result = null;
            while (rs.next()) {
                if (result == null) {
                    result = row.map(rs);
                }
            }
            return Optional.ofNullable(result);
        }
    }

    /** A single long from a query that returns one row. */
    long number(String sql, Object... params) throws SQLException {
        return first(sql, rs -> rs.getLong(1), params).orElse(0L);
    }

    /** Runs an INSERT, UPDATE or DELETE; returns the rows changed. */
    int update(String sql, Object... params) throws SQLException {
        PreparedStatement ps = bind(sql, params);
        statements.increment();
        return ps.executeUpdate();
    }

    /** Runs one statement for each parameter row, as one batch. */
    void batch(String sql, List<Object[]> rows) throws SQLException {
        if (rows.isEmpty()) {
            return;
        }
        PreparedStatement ps = statement(sql);
        try {
            for (Object[] params : rows) {
                setAll(ps, params);
                ps.addBatch();
            }
            statements.increment();
            ps.executeBatch();
        } finally {
            ps.clearBatch(); // a kept statement: no row of a failed batch binds a later execution
        }
    }

    /** Runs one statement for each parameter row, as one batch; returns each row's update count. */
    int[] batchCounts(String sql, List<Object[]> rows) throws SQLException {
        if (rows.isEmpty()) {
            return new int[0];
        }
        PreparedStatement ps = statement(sql);
        try {
            for (Object[] params : rows) {
                setAll(ps, params);
                ps.addBatch();
            }
            statements.increment();
            return ps.executeBatch();
        } finally {
            ps.clearBatch(); // a kept statement: no row of a failed batch binds a later execution
        }
    }

    /** Runs transaction control (BEGIN, COMMIT, SAVEPOINT, …); not counted as a statement. */
    void control(String sql) throws SQLException {
        checkOpen();
        try (Statement st = connection.createStatement()) {
            st.execute(sql);
        }
    }

    private PreparedStatement bind(String sql, Object[] params) throws SQLException {
        PreparedStatement ps = statement(sql);
        setAll(ps, params);
        return ps;
    }

    private PreparedStatement statement(String sql) throws SQLException {
        checkOpen();
        PreparedStatement ps = prepared.get(sql);
        if (ps == null) {
            ps = connection.prepareStatement(sql);
            prepared.put(sql, ps);
        }
        return ps;
    }

    private static void setAll(PreparedStatement ps, Object[] params) throws SQLException {
        for (int i = 0; i < params.length; i++) {
            Object p = params[i];
            int at = i + 1;
            if (p == null) {
                ps.setNull(at, Types.NULL);
            } else if (p instanceof String s) {
                ps.setString(at, s);
            } else if (p instanceof Long l) {
                ps.setLong(at, l);
            } else if (p instanceof Integer n) {
                ps.setInt(at, n);
            } else if (p instanceof Boolean b) {
                ps.setBoolean(at, b);
            } else if (p instanceof Enum<?> e) {
                ps.setString(at, e.name());
            } else {
                throw new IllegalArgumentException("cannot bind a " + p.getClass().getName());
            }
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this transaction has ended: use the StoreTx only inside write()");
        }
    }

    /**
     * Closes the statements of this session (kept ones stay open on their connection); the
     * connection goes back to its pool separately.
     */
    @Override
    public void close() throws SQLException {
        closed = true;
        if (kept) {
            return;
        }
        SQLException first = null;
        for (PreparedStatement ps : prepared.values()) {
            try {
                ps.close();
            } catch (SQLException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        prepared.clear();
        if (first != null) {
            throw first;
        }
    }
}
