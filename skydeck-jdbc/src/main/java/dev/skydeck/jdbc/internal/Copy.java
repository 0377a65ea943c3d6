package dev.skydeck.jdbc.internal;

import dev.skydeck.SkyDeckException;
import dev.skydeck.jdbc.SqlDatabase;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Copies every row of one SkyDeck database into another, empty one, table by table and
 * column by column, ids included: one read snapshot of the source, one write transaction on the
 * target, then the counts compared. Leases (which process drives the engine) are not copied.
 */
public final class Copy {
    /** The tables in the order their references allow. */
    public static final List<String> TABLES = List.of("experiments", "jobs", "experiment_groups", "group_members",
            "checkpoints", "events", "settings", "api_tokens");

    private static final int BATCH = 500;

    private Copy() {
    }

    /**
     * Copies {@code source} into {@code target}.
     *
     * @return the rows copied per table, in {@link #TABLES} order
     * @throws SkyDeckException.InvalidInput when the target holds data already or lacks a column
     *                                       of the source (its schema is older); nothing is written
     * @throws SkyDeckException              when the counts differ after the copy
     */
    public static Map<String, Long> copy(SqlDatabase source, SqlDatabase target) {
        Map<String, Long> copied = source.read(src -> target.write(dst -> {
            for (String table : TABLES) {
                long present = count(dst, table);
                if (present > 0) {
                    throw new SkyDeckException.InvalidInput(target.describe() + " is not empty: its table " + table
                            + " has " + present + " rows. Migrate into an empty database (a new one, or drop"
                            + " SkyDeck's tables first)");
                }
            }
            Map<String, Long> rows = new LinkedHashMap<>();
            for (String table : TABLES) {
                rows.put(table, copyTable(src, dst, table, target.describe()));
            }
            return rows;
        }));
        Map<String, Long> inSource = source.read(c -> counts(c));
        Map<String, Long> inTarget = target.read(c -> counts(c));
        if (!inSource.equals(copied) || !inTarget.equals(copied)) {
            throw new SkyDeckException("the copy does not add up: source " + inSource + ", copied " + copied
                    + ", target " + inTarget + ". Was the source written to meanwhile? Stop every server on it and"
                    + " migrate again into an empty database");
        }
        return copied;
    }

    private static Map<String, Long> counts(Connection c) throws SQLException {
        Map<String, Long> out = new LinkedHashMap<>();
        for (String table : TABLES) {
            out.put(table, count(c, table));
        }
        return out;
    }

    private static long count(Connection c, String table) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static long copyTable(Connection src, Connection dst, String table, String targetName)
            throws SQLException {
        Map<String, Integer> writable = writableColumns(dst, table);
        List<String> columns = new ArrayList<>();
        try (Statement st = src.createStatement(); ResultSet probe = st.executeQuery("SELECT * FROM " + table
                + " WHERE 1 = 0")) {
            ResultSetMetaData md = probe.getMetaData();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                String name = md.getColumnName(i).toLowerCase(Locale.ROOT);
                if (writable.containsKey(name)) {
                    columns.add(name);
                } else if (!generated(dst, table, name)) {
                    throw new SkyDeckException.InvalidInput(targetName + " has no column " + table + "." + name
                            + ": its schema is older than the source's. Open it with this version of SkyDeck once,"
                            + " or upgrade SkyDeck, then migrate again");
                }
            }
        }
        String list = String.join(", ", columns);
        String marks = String.join(", ", columns.stream().map(c -> "?").toList());
        long n = 0;
        try (Statement read = src.createStatement();
             ResultSet rs = read.executeQuery("SELECT " + list + " FROM " + table);
             PreparedStatement insert = dst.prepareStatement("INSERT INTO " + table + " (" + list + ") VALUES ("
                     + marks + ")")) {
            while (rs.next()) {
                for (int i = 0; i < columns.size(); i++) {
                    set(insert, i + 1, rs.getObject(i + 1), writable.get(columns.get(i)));
                }
                insert.addBatch();
                if (++n % BATCH == 0) {
                    insert.executeBatch();
                }
            }
            insert.executeBatch();
        }
        return n;
    }

    private static void set(PreparedStatement st, int index, Object value, int type) throws SQLException {
        if (value == null) {
            st.setNull(index, type);
        } else if ((type == Types.BOOLEAN || type == Types.BIT) && value instanceof Number number) {
            st.setBoolean(index, number.longValue() != 0);
        } else if (type == Types.BIGINT && value instanceof Number number) {
            st.setLong(index, number.longValue());
        } else if ((type == Types.INTEGER || type == Types.SMALLINT) && value instanceof Number number) {
            st.setInt(index, number.intValue());
        } else if (value instanceof Boolean b && (type == Types.INTEGER || type == Types.BIGINT)) {
            st.setInt(index, b ? 1 : 0);
        } else {
            st.setObject(index, value);
        }
    }

    /** The target's columns that take values (generated ones left out), with their JDBC types. */
    private static Map<String, Integer> writableColumns(Connection c, String table) throws SQLException {
        Map<String, Integer> out = new LinkedHashMap<>();
        DatabaseMetaData md = c.getMetaData();
        try (ResultSet rs = md.getColumns(null, null, table, null)) {
            while (rs.next()) {
                if (!"YES".equalsIgnoreCase(rs.getString("IS_GENERATEDCOLUMN"))) {
                    out.put(rs.getString("COLUMN_NAME").toLowerCase(Locale.ROOT), rs.getInt("DATA_TYPE"));
                }
            }
        }
        if (out.isEmpty()) {
            throw new SkyDeckException.InvalidInput("the target has no table " + table + ": is it a SkyDeck database?");
        }
        return out;
    }

    private static boolean generated(Connection c, String table, String column) throws SQLException {
        try (ResultSet rs = c.getMetaData().getColumns(null, null, table, column)) {
            return rs.next() && "YES".equalsIgnoreCase(rs.getString("IS_GENERATEDCOLUMN"));
        }
    }
}
