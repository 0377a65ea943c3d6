/**
 * The SQL store kit: {@link dev.skydeck.jdbc.JdbcStore} holds every statement of SkyDeck's
 * stores once; a database module supplies a {@link dev.skydeck.jdbc.Dialect} (the few fragments
 * that differ) and a {@link dev.skydeck.jdbc.SqlDatabase} (connections and transactions). Used by
 * {@code skydeck-sqlite} and {@code skydeck-postgres}.
 */
package dev.skydeck.jdbc;
