/**
 * The PostgreSQL store: {@link dev.skydeck.postgres.PostgresStore}, chosen by
 * {@code SKYDECK_DB_URL=jdbc:postgresql://…} for a deck several SkyDeck processes share.
 */
package dev.skydeck.postgres;
