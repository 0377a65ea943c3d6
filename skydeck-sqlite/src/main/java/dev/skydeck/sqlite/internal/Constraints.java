package dev.skydeck.sqlite.internal;

import java.sql.SQLException;

/** Recognises SQLite constraint violations by their (stable) result code and message. */
final class Constraints {
    private static final int SQLITE_CONSTRAINT = 19;

    private Constraints() {
    }

    /** A UNIQUE or PRIMARY KEY violation on {@code table.column}. */
    static boolean unique(SQLException e, String tableColumn) {
        String m = e.getMessage();
        return isConstraint(e) && m != null && m.contains("UNIQUE constraint failed: " + tableColumn)
                && (m.endsWith(tableColumn) || m.contains(tableColumn + ",") || m.contains(tableColumn + ")")
                        || m.contains(tableColumn + " "));
    }

    /** A FOREIGN KEY violation. */
    static boolean foreignKey(SQLException e) {
        return isConstraint(e) && e.getMessage() != null && e.getMessage().contains("FOREIGN KEY constraint failed");
    }

    private static boolean isConstraint(SQLException e) {
        return (e.getErrorCode() & 0xff) == SQLITE_CONSTRAINT;
    }
}
